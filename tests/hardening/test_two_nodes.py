"""Two nodes behind HAProxy, one killed mid-brief and mid-writes (README, "More than one machine").

Two launchers (`python -m coalition.run`, what `make run` calls) start at the same moment against one fresh
database and one throw-away Redis, each with its own local folder and address: both come up and the demo is
loaded once (migrate and the demo run under a PostgreSQL advisory lock). Behind HAProxy (round robin, health
check on /health/): a token made on one node works on the other; with node B's worker stopped a brief starts
compiling on node A; node A is killed, every process of it, while ministry staff write pledges through HAProxy
(each retried with its Idempotency-Key until answered); B's worker, started again, finishes the brief (the
reaper hands it over once A's heartbeat is silent). Then: the PDF downloads through HAProxy, every write is
there exactly once, no 500 was ever answered, one brief-ready mail per recipient, and no file of one node is
in the other's folder or shared (control sockets, beat's schedule).
"""

from __future__ import annotations

import email
import email.policy
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil
import pytest
from django.conf import settings

from tests.hardening.test_fault_redis import ThrowAwayRedis
from tests.hardening.test_make_run import PASSWORD, call, free_port

pytestmark = [pytest.mark.fault, pytest.mark.worker]

ROOT = Path(settings.BASE_DIR)
MINISTRIES = ("ministry-pl", "ministry-fr", "ministry-gb", "ministry-de")


class Node:
    """One launcher: its own local folder and address, the shared database and Redis."""

    def __init__(self, name: str, folder: Path, database_url: str, redis_url: str, secret_key: str) -> None:
        self.name = name
        self.folder = folder / name
        self.local = self.folder / "local"
        self.local.mkdir(parents=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = self.folder / "run.log"
        self.config = self.local / "supervisor" / "supervisord.conf"
        env = {key: value for key, value in os.environ.items()
               if key not in ("COALITION_TESTING", "DJANGO_SETTINGS_MODULE", "EMAIL_URL", "DJANGO_ALLOWED_HOSTS",
                              "COALITION_BASE_URL")}
        self.env = env | {
            "DATABASE_URL": database_url, "REDIS_URL": redis_url, "DJANGO_SECRET_KEY": secret_key,
            "COALITION_LOCAL_DIR": str(self.local), "COALITION_ADDRESS": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": "2",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.known: set[int] = set()  # every process of this node seen so far

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "coalition.run"], cwd=ROOT, env=self.env,
                                        stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def output(self) -> str:
        return f"--- node {self.name} ---\n" + self.log.read_text(errors="replace")[-5000:]

    def ctl(self, *args: str) -> str:
        return subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-c", str(self.config), *args],
                              capture_output=True, text=True, check=False, timeout=60).stdout

    def running(self, program: str) -> bool:
        return "RUNNING" in self.ctl("status", program)

    def processes(self) -> list[psutil.Process]:
        """The launcher and everything under it (supervisord puts each program in a process group of its own,
        so the launcher's group alone is not all of them)."""
        found: list[psutil.Process] = []
        if self.process is not None:
            try:
                root = psutil.Process(self.process.pid)
                found = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
        self.known |= {p.pid for p in found}
        return found

    def kill(self) -> None:
        """SIGKILL every process of the node, again until none is left (supervisord is killed first, so nothing
        is restarted)."""
        deadline = time.monotonic() + 30
        while True:
            alive = self.processes() + [p for p in _living(self.known)]
            if not alive:
                break
            for process in alive:
                try:
                    process.kill()
                except psutil.NoSuchProcess:
                    pass
            psutil.wait_procs(alive, timeout=5)
            assert time.monotonic() < deadline, "node processes survived SIGKILL"
        if self.process is not None:
            self.process.wait(10)

    def stop(self) -> None:
        self.processes()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(90)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


def _living(pids: set[int]) -> list[psutil.Process]:
    living = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE:
                living.append(process)
        except psutil.NoSuchProcess:
            pass
    return living


def wait_for(check: Callable[[], Any], timeout: float, what: str, *nodes: Node) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except (OSError, ValueError, KeyError, TypeError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n"
                         + "\n".join(node.output() for node in nodes))


HAPROXY = """\
global
    maxconn 256

defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout check 2s
    retries 3
    option redispatch
    option httplog

frontend coalition
    bind 127.0.0.1:{port}
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk
    http-check send meth GET uri /health/ ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
{servers}
"""


def send(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, dict[str, str], Any]:
    """call(), with no answer at all (a connection reset or refused, a timeout) as status 0."""
    try:
        return call(method, url, body, headers, timeout)
    except (OSError, http.client.HTTPException):
        return 0, {}, None


def database_url(name: str) -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL") or settings.DATABASE_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


def sql(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.execute(query, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def test_two_nodes_behind_haproxy_one_killed_mid_brief_and_mid_writes() -> None:
    haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if haproxy is None:
        pytest.skip("Debian's haproxy is not installed (make system-deps)")
    folder = Path(tempfile.mkdtemp(prefix="nodes-", dir="/tmp"))  # short: unix socket paths are limited
    name = f"coalition_nodes_{uuid.uuid4().hex[:10]}"
    admin_url, url = database_url("postgres"), database_url(name)
    redis = ThrowAwayRedis(folder)
    nodes: list[Node] = []
    proxy: subprocess.Popen[bytes] | None = None
    try:
        sql(admin_url, f'CREATE DATABASE "{name}"')
        redis.start()
        secret = uuid.uuid4().hex * 2  # one secret key for every node (an environment setting, not a file)
        nodes += [Node(n, folder, url, redis.url, secret) for n in ("a", "b")]
        a, b = nodes
        port = free_port()
        (folder / "haproxy.cfg").write_text(HAPROXY.format(port=port, servers="\n".join(
            f"    server {n.name} 127.0.0.1:{n.port} check" for n in nodes)))
        proxy = subprocess.Popen([haproxy, "-db", "-f", str(folder / "haproxy.cfg")],
                                 stdout=(folder / "haproxy.log").open("wb"), stderr=subprocess.STDOUT,
                                 start_new_session=True)
        front = f"http://127.0.0.1:{port}"

        # Both at the same moment: one migrates and loads the demo, the other waits on the lock, then finds it done.
        a.start()
        b.start()
        for node in nodes:
            wait_for(lambda n=node: call("GET", n.base + "/health/")[0] == 200, 420, f"node {node.name}", *nodes)
        for node in nodes:
            wait_for(lambda n=node: all(n.running(p) for p in ("web", "worker", "imports-worker", "beat")), 120,
                     f"every process of node {node.name}", *nodes)
            assert node.process is not None and node.process.poll() is None, node.output()
            assert "Traceback" not in node.log.read_text(errors="replace"), node.output()
        print("lock waits:", ["waiting for it" in n.log.read_text() for n in nodes])
        assert sql(url, "SELECT title, count(*) FROM meetings_meeting GROUP BY title HAVING count(*) > 1") == []
        assert sql(url, "SELECT count(*) FROM meetings_brief")[0][0] == 1, "the demo brief queued twice"
        assert sql(url, "SELECT count(*) FROM accounts_user WHERE username = 'secretariat'")[0][0] == 1

        # Nothing of one node's files is another's: each has its own control socket, schedule, supervisor.
        for node in nodes:
            for path in ("gunicorn.ctl", "celerybeat-schedule", "supervisor/supervisor.sock",
                         "supervisor/supervisord.pid"):
                wait_for(lambda n=node, p=path: list(n.local.glob(p + "*")), 60, f"{path} in {node.local}", *nodes)
            other = next(n for n in nodes if n is not node)
            for process in node.processes():
                for opened in process.open_files():
                    assert not opened.path.startswith(str(other.folder)), (node.name, opened.path)
                # The unix sockets it binds (gunicorn's control socket, supervisord's) are in its own folder, not in
                # a home folder every node on the machine shares.
                for connection in process.net_connections(kind="unix"):
                    if connection.laddr and connection.laddr.startswith("/"):
                        assert connection.laddr.startswith(str(node.local)), (node.name, connection.laddr)

        # A token made through one node works through the other.
        status, _, body = call("POST", a.base + "/api/v1/auth/token/",
                               {"username": "secretariat", "password": PASSWORD})
        assert status == 200, body
        secretariat = {"Authorization": f"Token {body['token']}"}
        assert call("GET", b.base + "/api/v1/meetings/", headers=secretariat)[0] == 200
        wait_for(lambda: call("GET", front + "/health/")[0] == 200, 60, "HAProxy", *nodes)
        meetings = call("GET", front + "/api/v1/meetings/", headers=secretariat)[2]["results"]
        nato = next(m for m in meetings if "NATO" in m["title"] or "ministers" in m["title"])
        ministries: dict[str, dict[str, str]] = {}
        for username in MINISTRIES:
            status, _, body = call("POST", front + "/api/v1/auth/token/", {"username": username, "password": PASSWORD})
            assert status == 200, body
            ministries[username] = {"Authorization": f"Token {body['token']}"}

        # Node B's worker stopped: the brief asked for through HAProxy compiles on node A.
        b.ctl("stop", "worker")
        wait_for(lambda: "STOPPED" in b.ctl("status", "worker"), 90, "node B's worker stopped", *nodes)

        # Writes through HAProxy from now until well after node A died.
        killed = threading.Event()
        done: dict[str, tuple[int, Any]] = {}  # key -> (status, answer) of the answered write
        statuses: list[int] = []
        failures: list[BaseException] = []
        texts: dict[str, str] = {}

        def writer(username: str) -> None:
            try:
                after = 0
                i = 0
                while after < 10:
                    key, text = str(uuid.uuid4()), f"two-nodes {username} {i}"
                    texts[key] = text
                    body = {"coalition": nato["coalition"], "category": "medical", "unit": "personnel",
                            "quantity": 10 + i, "description": text}
                    deadline = time.monotonic() + 180
                    while True:
                        status, _, answer = send("POST", front + "/api/v1/pledges/", body,
                                                 {**ministries[username], "Idempotency-Key": key}, timeout=30)
                        statuses.append(status)
                        if status == 201:
                            done[key] = (status, answer)
                            break
                        assert status in (0, 502, 503, 504), (status, answer)
                        assert time.monotonic() < deadline, f"write {key} never answered"
                        time.sleep(0.2)
                    if killed.is_set():
                        after += 1
                    i += 1
                    time.sleep(0.05)
            except BaseException as error:  # reported by the test's thread
                failures.append(error)

        threads = [threading.Thread(target=writer, args=(username,)) for username in MINISTRIES]
        for thread in threads:
            thread.start()
        wait_for(lambda: len(done) >= 8 or failures, 120, "writes before the kill", *nodes)

        status, _, brief = call("POST", front + f"/api/v1/meetings/{nato['id']}/briefs/", headers=secretariat)
        assert status == 202, brief

        def state() -> dict[str, Any]:
            return call("GET", front + f"/api/v1/briefs/{brief['id']}/", headers=secretariat)[2]

        wait_for(lambda: state()["status"] == "running", 180, "the brief running on node A's worker", *nodes)
        a.kill()  # every process of node A, at once
        killed.set()
        assert state()["status"] == "running", "the brief finished before node A was killed: nothing was shown"
        died = time.monotonic()
        assert not _living(a.known)
        b.ctl("start", "worker")

        ready = wait_for(lambda: (s := state())["status"] == "ready" and s, 240,
                         "node B's worker finishing the brief", b)
        print(f"brief ready {time.monotonic() - died:.1f} s after node A died")
        assert sql(url, "SELECT attempts FROM meetings_brief WHERE id = %s", brief["id"])[0][0] >= 2, ready

        for thread in threads:
            thread.join(300)
        assert not failures, failures
        assert not any(t.is_alive() for t in threads)

        # The PDF through HAProxy (node B alone is left).
        import urllib.request

        request = urllib.request.Request(front + f"/api/v1/briefs/{brief['id']}/pdf", headers=secretariat)
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200 and response.read(5) == b"%PDF-"

        # Every write there exactly once; none answered 500.
        assert 500 not in statuses and set(statuses) <= {0, 201, 502, 503, 504}, sorted(set(statuses))
        assert len(done) >= 40, len(done)
        rows = dict(sql(url, "SELECT description, count(*) FROM pledges_pledge WHERE description LIKE 'two-nodes %%' "
                             "GROUP BY description"))
        assert rows == {texts[key]: 1 for key in done}, {t: c for t, c in rows.items() if c != 1}
        ids = {answer["id"] for _, answer in done.values()}
        assert len(ids) == len(done)
        print(f"{len(done)} writes, {len(statuses)} sent, statuses {sorted(set(statuses))}")

        # One brief-ready mail per recipient, whichever node sent it.
        def notices() -> list[tuple[Any, ...]]:
            return sql(url, "SELECT key, sent_at FROM meetings_notification WHERE brief_id = %s", brief["id"])

        wait_for(lambda: notices() and all(sent for _, sent in notices()), 120, "the brief-ready notices", b)
        subject = f"Brief no. {ready['number']} for {nato['title']} is ready"
        mails = []
        for node in nodes:
            for path in (node.local / "mail").glob("*.eml"):
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if str(message["Subject"]) == subject:
                    mails.append((node.name, str(message["To"])))
        recipients = [to for _, to in mails]
        assert mails and len(recipients) == len(set(recipients)) == len(notices()), (mails, notices())
    finally:
        for node in nodes:
            node.stop()
        if proxy is not None:
            proxy.kill()
            proxy.wait(10)
        if redis.process is not None and redis.process.poll() is None:
            redis.process.kill()
            redis.process.wait(10)
        sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)


def test_haproxy_example_in_readme_is_valid(tmp_path: Path) -> None:
    """The README's HAProxy example and deploy/haproxy.cfg are configurations HAProxy accepts."""
    haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if haproxy is None:
        pytest.skip("Debian's haproxy is not installed (make system-deps)")
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## More than one machine", 1)[1]
    example = section.split("```haproxy\n", 1)[1].split("```", 1)[0]
    (tmp_path / "haproxy.cfg").write_text(example)
    result = subprocess.run([haproxy, "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    # And docker-compose.yml's, which finds the web replicas through Docker's DNS.
    result = subprocess.run([haproxy, "-c", "-f", str(ROOT / "deploy" / "haproxy.cfg")], capture_output=True,
                            text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
