"""Faults injected into a running `make run` under mixed load; what every client saw.

    make run            # in one terminal
    .venv/bin/python bench/faults.py --minutes 4    # in another

Load (demo accounts): 3 analysts reading the pledge list, the force picture and the changes; six ministries
each changing their pledges (If-Match) and adding caveats, every write with an Idempotency-Key; the secretariat
asking for a brief every 30 s. Faults, through supervisord: PostgreSQL restarted a quarter of the way in; the
Celery worker killed (SIGKILL, its whole process group) while a brief compiles, half way; Redis restarted at
three quarters. At the end every write answered 503 (or not at all) is retried with its key, and each caveat
written is checked to be there exactly once. Prints a summary (Markdown).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "coalition-demo-2025"
MINISTRIES = ("pl", "fr", "gb", "de", "it", "gr")


class Client:
    def __init__(self, base: str, username: str) -> None:
        self.base = base
        status, _, body = self.call("POST", "/api/v1/auth/token/", {"username": username, "password": PASSWORD},
                                    auth=False)
        if status != 200:
            raise SystemExit(f"cannot log in as {username}: {status} {body}")
        self.token = body["token"]

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             auth: bool = True) -> tuple[int, dict[str, str], Any]:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if auth:
            all_headers["Authorization"] = f"Token {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, dict(response.headers), json.loads(raw) if raw[:1] in (b"{", b"[") else raw
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, dict(error.headers), json.loads(raw)
            except ValueError:
                return error.code, dict(error.headers), raw[:200]
        except OSError:
            return 0, {}, None


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_status: collections.Counter[int] = collections.Counter()
        self.writes: list[tuple[str, str, str, Any, int]] = []  # user, method, path, body, status (+ key in body)
        self.errors: list[str] = []

    def add(self, status: int) -> None:
        with self.lock:
            self.by_status[status] += 1


def supervisorctl(config: Path, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-c", str(config), *args],
                          capture_output=True, text=True, check=False).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--config", type=Path, default=ROOT / ".local" / "supervisor" / "supervisord.conf")
    parser.add_argument("--minutes", type=float, default=4)
    args = parser.parse_args()
    duration = args.minutes * 60
    tally = Tally()
    stop = threading.Event()
    analyst = Client(args.base, "analyst")
    secretariat = Client(args.base, "secretariat")
    ministries = {code: Client(args.base, f"ministry-{code}") for code in MINISTRIES}
    coalition = analyst.call("GET", "/api/v1/coalitions/")[2]["results"][0]["id"]
    meetings = secretariat.call("GET", "/api/v1/meetings/")[2]["results"]
    meeting = next(m for m in meetings if m["coalition"] == coalition)["id"]
    started = time.monotonic()
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))

    def reader(number: int) -> None:
        paths = ["/api/v1/pledges/?page_size=100", f"/api/v1/coalitions/{coalition}/force/",
                 f"/api/v1/pledges/changes/?since={since}&page_size=200"]
        i = number
        while not stop.is_set():
            tally.add(analyst.call("GET", paths[i % len(paths)])[0])
            i += 1
            time.sleep(0.25)

    def ministry(code: str) -> None:
        client = ministries[code]
        own = [p for p in client.call("GET", f"/api/v1/pledges/?country={code.upper()}&page_size=100")[2]["results"]
               if p["status"] != "withdrawn"]
        i = 0
        while not stop.is_set():
            if own and i % 2:
                pledge = own[i % len(own)]
                status, headers, _ = client.call("GET", f"/api/v1/pledges/{pledge['id']}/")
                tally.add(status)
                key = str(uuid.uuid4())
                body = {"description": f"Revised by {code} at step {i}"}
                status, _, _ = client.call("PATCH", f"/api/v1/pledges/{pledge['id']}/", body,
                                           {"If-Match": headers.get("ETag", "*"), "Idempotency-Key": key})
                tally.add(status)
            else:
                key = str(uuid.uuid4())
                body = {"coalition": coalition, "kind": "other", "text": f"Load caveat {code}-{i}-{key[:8]}"}
                status, _, _ = client.call("POST", "/api/v1/caveats/", body, {"Idempotency-Key": key})
                tally.add(status)
                with tally.lock:
                    tally.writes.append((code, key, "/api/v1/caveats/", body, status))
            i += 1
            time.sleep(0.5)

    briefs: list[int] = []

    def secretary() -> None:
        while not stop.is_set():
            status, _, body = secretariat.call("POST", f"/api/v1/meetings/{meeting}/briefs/")
            tally.add(status)
            if status == 202:
                briefs.append(body["id"])
            stop.wait(30)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=ministry, args=(code,)) for code in MINISTRIES]
    threads.append(threading.Thread(target=secretary))
    for thread in threads:
        thread.start()
    faults: list[str] = []
    try:
        time.sleep(duration / 4)
        before = sum(tally.by_status.values())
        t0 = time.monotonic()
        supervisorctl(args.config, "restart", "postgres")
        faults.append(f"PostgreSQL restarted at {t0 - started:.0f} s ({before} requests before)")
        time.sleep(duration / 4 - (time.monotonic() - t0))
        # The worker killed while a brief compiles.
        status, _, brief = secretariat.call("POST", f"/api/v1/meetings/{meeting}/briefs/")
        brief_id = brief["id"] if status == 202 else None
        deadline = time.monotonic() + 30
        while brief_id and time.monotonic() < deadline:
            if secretariat.call("GET", f"/api/v1/briefs/{brief_id}/")[2].get("status") == "running":
                break
            time.sleep(0.05)
        pid = int(supervisorctl(args.config, "pid", "worker") or 0)
        if pid:
            os.killpg(pid, signal.SIGKILL)
        killed = time.monotonic()
        ready_after = None
        while brief_id and time.monotonic() - killed < 120:
            if secretariat.call("GET", f"/api/v1/briefs/{brief_id}/")[2].get("status") == "ready":
                ready_after = time.monotonic() - killed
                break
            time.sleep(0.5)
        faults.append(f"worker SIGKILLed while brief {brief_id} compiled: ready "
                      + (f"{ready_after:.0f} s after the kill" if ready_after is not None else "NOT within 120 s"))
        time.sleep(max(0.0, duration * 3 / 4 - (time.monotonic() - started)))
        supervisorctl(args.config, "restart", "redis")
        faults.append(f"Redis restarted at {time.monotonic() - started:.0f} s")
        time.sleep(max(0.0, duration - (time.monotonic() - started)))
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)

    # Every write not answered 2xx, retried with its key; then every caveat written is there exactly once.
    unknown = [w for w in tally.writes if not 200 <= w[4] < 300]
    for code, key, path, body, _ in unknown:
        for _ in range(30):
            status = ministries[code].call("POST", path, body, {"Idempotency-Key": key})[0]
            if 200 <= status < 300:
                break
            time.sleep(1)
    present: collections.Counter[str] = collections.Counter()
    for code, client in ministries.items():
        page = f"/api/v1/caveats/?country={code.upper()}&page_size=1000"
        while page:
            status, _, body = client.call("GET", page)
            present.update(row["text"] for row in body["results"] if row["text"].startswith("Load caveat"))
            page = body["next"].replace(args.base, "") if body.get("next") else None
    written = [w[3]["text"] for w in tally.writes]
    missing = [text for text in written if present[text] == 0]
    doubled = [text for text in written if present[text] > 1]
    ready = sum(1 for b in briefs if secretariat.call("GET", f"/api/v1/briefs/{b}/")[2].get("status") == "ready")
    total = sum(tally.by_status.values())
    print(f"\n## Faults under load ({args.minutes:g} min, {len(threads)} clients)\n")
    print(f"- requests: {total}; by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(tally.by_status.items())))
    print(f"- 5xx other than 503: {sum(v for k, v in tally.by_status.items() if k >= 500 and k != 503)}; "
          f"no answer at all: {tally.by_status[0]}")
    print(f"- caveats written with a key: {len(written)}; answered other than 2xx and retried: {len(unknown)}; "
          f"missing after retries: {len(missing)}; present twice: {len(doubled)}")
    print(f"- briefs asked for by the secretariat: {len(briefs)}, ready now: {ready}")
    for fault in faults:
        print(f"- {fault}")
    return 1 if missing or doubled or any(k >= 500 and k != 503 for k in tally.by_status) else 0


if __name__ == "__main__":
    sys.exit(main())
