"""The benchmark, in one command: `python bench/run.py`.

Generates the bench coalition (bench/generate.py) into its own database
(DATABASE_URL, default postgres://postgres@127.0.0.1:5432/coalition_bench_data)
at two sizes, default 100,000 and 200,000 pledges, and at each size measures:

(a) the API's pledge list page (100 rows, filtered and ordered) with Django's
    test client, median of N runs, against the floor: the same 100 rows built
    as JSON by one PostgreSQL query (json_agg, through psycopg); the ratio
    api/floor; the queries per page at two page sizes (constant = no N+1);
(b) requests per second under wrk (or a bounded threaded Python load
    generator when wrk is missing) on loopback against gunicorn, 2 workers;
(c) the force endpoint and a brief compile, and how each grows with size.

Writes bench/RESULTS.md and prints it.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BENCH_PASSWORD,
    BENCH_USER,
    ROOT,
    bench_environment,
    database_name,
    drop_database,
    ensure_database,
    median_ms,
    setup_django,
)

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
LIST_FILTERS = {"status": "confirmed,indicative", "category": "troops"}
ORDERINGS = ["-updated_at", "-id", ""]
GOALS = {"ratio": 3.0, "force_s": 1.0, "brief_s": 2.0}


@dataclass
class Measurement:
    pledges: int
    events: int = 0
    api_list_ms: float | None = None  # the same page again: read back from the answers kept per data version
    api_list_computed_ms: float | None = None  # a new address each time: computed
    floor_ms: float | None = None
    list_rows: int | None = None
    list_url: str = ""
    queries_per_page: dict[int, int] = field(default_factory=dict)
    force_api_ms: float | None = None
    force_selector_ms: float | None = None
    map_api_ms: float | None = None
    map_points: int | None = None
    brief_s: float | None = None
    brief_pages: int | None = None
    brief_note: str = ""
    rps: float | None = None
    load_latency_ms: dict[str, float] = field(default_factory=dict)
    load_non_2xx: int | None = None
    load_tool: str = ""
    notes: list[str] = field(default_factory=list)
    peer: Any = None  # bench.peer.PeerMeasurement, with --peer directus

    @property
    def ratio(self) -> float | None:
        if self.api_list_ms is None or not self.floor_ms:
            return None
        return self.api_list_ms / self.floor_ms


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the API, force picture and brief on a large coalition.")
    parser.add_argument("--sizes", default="100000,200000", help="pledge counts, comma-separated, ascending")
    parser.add_argument("--repeats", type=int, default=21, help="runs per timing (the median is reported)")
    parser.add_argument("--load-seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="reuse the bench database instead of recreating it")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-brief", action="store_true")
    parser.add_argument("--peer", choices=["directus"], help="also measure Directus on the same tables, side by side")
    parser.add_argument("--database-per-size", action="store_true",
                        help="each size in a database of its own, DATABASE_URL + '_<size>' (made, or topped up, "
                             "and kept), so that a large one can be generated ahead of the run")
    return parser.parse_args()


def main() -> int:
    args = _parse()
    sizes = [int(s) for s in args.sizes.split(",")]
    if not args.keep:
        drop_database(bench_environment()["DATABASE_URL"])
    setup_django()
    from bench.generate import generate

    measurements = []
    base_url = os.environ["DATABASE_URL"]
    for size in sizes:
        if args.database_per_size:
            _use_database(f"{base_url}_{size}")
        print(f"\n== {size:,} pledges: generating", flush=True)
        started = time.monotonic()
        summary = generate(pledges=size)
        print(f"   generated in {time.monotonic() - started:.0f} s: {summary}", flush=True)
        measurement = Measurement(pledges=int(summary["pledges"]), events=int(summary["pledge_events"]))
        coalition_id = int(summary["coalition_id"])
        measure_in_process(measurement, coalition_id, args.repeats, skip_brief=args.skip_brief)
        if not args.skip_load:
            measure_load(measurement, args.load_seconds, args.connections)
        if args.peer:
            measure_against_peer(measurement, coalition_id, args.repeats, args.load_seconds, args.connections)
        measurements.append(measurement)
        print(json.dumps(measurement.__dict__ | {"ratio": measurement.ratio}, default=str), flush=True)
    report = render(measurements, args)
    RESULTS.write_text(report)
    print("\n" + report)
    return 0


def _use_database(url: str) -> None:
    """This process, and the servers it starts (gunicorn, Directus), on another database (made and migrated)."""
    from django.core.management import call_command
    from django.db import connections

    os.environ["DATABASE_URL"] = url
    ensure_database(url)
    connections["default"].close()
    connections["default"].settings_dict["NAME"] = database_name(url)
    call_command("migrate", interactive=False, verbosity=0)


# --- (a) and (c): in-process ---------------------------------------------------------------------

def _new_addresses() -> Iterator[str]:
    """Values for `&_=`, a parameter the API ignores: a new address each time, and never one an earlier run
    asked (an answer it kept may still be there), so nothing kept can answer it."""
    run = secrets.token_hex(4)
    return (f"{run}-{n}" for n in itertools.count())


def _token(client: Any) -> str | None:
    response = client.post("/api/v1/auth/token/", {"username": BENCH_USER, "password": BENCH_PASSWORD},
                           content_type="application/json")
    if response.status_code != 200:
        return None
    return str(response.json().get("token"))


def _list_url(coalition_id: int, page_size: int, ordering: str) -> str:
    from urllib.parse import urlencode

    params = {"coalition": coalition_id, **LIST_FILTERS, "page_size": page_size}
    if ordering:
        params["ordering"] = ordering
    return "/api/v1/pledges/?" + urlencode(params)


def _rows(body: Any) -> list[Any]:
    if isinstance(body, dict):
        return list(body.get("results", []))
    return list(body)


FLOOR_SQL = """
SELECT coalesce(json_agg(row_to_json(r)), '[]'::json)::text FROM (
  SELECT p.id, c.code AS country, c.name AS country_name, p.coalition_id AS coalition, cat.code AS category,
         u.code AS unit, p.quantity, p.description, p.available_from, p.available_until, p.notice_to_move_days,
         p.location, p.estimated_value_eur, p.status, p.releasability, p.is_illustrative, p.version,
         p.created_at, p.updated_at,
         EXISTS (SELECT 1 FROM pledges_caveat cv WHERE cv.kind = 'condition' AND cv.is_active
                 AND (cv.pledge_id = p.id OR (cv.pledge_id IS NULL AND cv.country_id = p.country_id
                                              AND cv.coalition_id = p.coalition_id))) AS is_conditional
  FROM pledges_pledge p
  JOIN pledges_country c ON c.id = p.country_id
  JOIN pledges_capabilitycategory cat ON cat.id = p.category_id
  JOIN pledges_unit u ON u.id = p.unit_id
  WHERE p.coalition_id = %(coalition)s AND p.status <> 'draft'
    AND p.status = ANY(%(statuses)s) AND cat.code = %(category)s
  ORDER BY {order} LIMIT %(limit)s
) r
"""
FLOOR_ORDER = {"-updated_at": "p.updated_at DESC, p.id DESC", "-id": "p.id DESC", "": "p.id"}


def measure_floor(coalition_id: int, ordering: str, repeats: int) -> tuple[float, int]:
    import psycopg

    sql = FLOOR_SQL.format(order=FLOOR_ORDER[ordering])
    params = {"coalition": coalition_id, "statuses": LIST_FILTERS["status"].split(","),
              "category": LIST_FILTERS["category"], "limit": 100}
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        def run() -> str:
            return conn.execute(sql, params).fetchone()[0]  # type: ignore[index]

        rows = len(json.loads(run()))
        return median_ms(run, repeats), rows


def measure_in_process(m: Measurement, coalition_id: int, repeats: int, *, skip_brief: bool) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from pledges.models import Coalition
    from pledges.selectors import coalition_force

    client = Client()
    token = _token(client)
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    if not token:
        m.notes.append("token login at /api/v1/auth/token/ not available; API rows skipped")

    ordering = None
    if token:
        for candidate in ORDERINGS:
            response = client.get(_list_url(coalition_id, 100, candidate), **headers)
            if response.status_code == 200:
                ordering = candidate
                m.list_rows = len(_rows(response.json()))
                break
            m.notes.append(f"ordering={candidate!r} answered {response.status_code}")
    if ordering is not None:
        url = _list_url(coalition_id, 100, ordering)
        m.list_url = url
        m.api_list_ms = median_ms(lambda: client.get(url, **headers), repeats)
        addresses = _new_addresses()
        m.api_list_computed_ms = median_ms(lambda: client.get(f"{url}&_={next(addresses)}", **headers), repeats)
        for page_size in (10, 100):  # computed (a new address): what a page costs, not its read-back
            with CaptureQueriesContext(connection) as queries:
                client.get(f"{_list_url(coalition_id, page_size, ordering)}&_={next(addresses)}", **headers)
            m.queries_per_page[page_size] = len(queries)
    m.floor_ms, floor_rows = measure_floor(coalition_id, ordering or "-updated_at", repeats)
    if m.list_rows is not None and m.list_rows != floor_rows:
        m.notes.append(f"API page had {m.list_rows} rows, the floor {floor_rows}")

    force_repeats = max(3, repeats // 4)
    if token:
        force_url = f"/api/v1/coalitions/{coalition_id}/force/"
        if client.get(force_url, **headers).status_code == 200:
            m.force_api_ms = median_ms(lambda: client.get(force_url, **headers), force_repeats)
        else:
            m.notes.append("force endpoint not available; selector timed instead")
        map_url = f"/api/v1/coalitions/{coalition_id}/map/"
        answer = client.get(map_url, **headers)
        if answer.status_code == 200:
            m.map_points = len(answer.json()["features"])
            m.map_api_ms = median_ms(lambda: client.get(map_url, **headers), force_repeats)
    analyst = User.objects.get(username=BENCH_USER)
    coalition = Coalition.objects.get(pk=coalition_id)
    m.force_selector_ms = median_ms(lambda: coalition_force(coalition=coalition, user=analyst, fresh=True),
                                     force_repeats)
    if not skip_brief:
        m.brief_s, m.brief_pages, m.brief_note = measure_brief(coalition_id)


def measure_brief(coalition_id: int) -> tuple[float | None, int | None, str]:
    """Compile a brief for the bench coalition's latest held meeting, in the foreground, once."""
    from django.core.management import call_command, get_commands

    from meetings.models import Brief, Meeting

    meeting = Meeting.objects.filter(coalition_id=coalition_id, status="held").order_by("-starts_at").first()
    if meeting is None:
        return None, None, "no meeting"
    if "compile_brief" not in get_commands():
        return None, None, "compile_brief command not available"
    # A worker is long-lived: the first compile in a process also pays for importing matplotlib and
    # loading fonts. Report the median of three compiles after it, and the first one beside it.
    timings = []
    for _ in range(4):
        started = time.perf_counter()
        try:
            with open(os.devnull, "w") as devnull:
                call_command("compile_brief", str(meeting.pk), stdout=devnull)
        except Exception as error:  # report, do not abort the run
            return None, None, f"compile_brief failed: {type(error).__name__}: {error}"[:200]
        timings.append(time.perf_counter() - started)
    first, warm = timings[0], statistics.median(timings[1:])
    pdf = bytes(Brief.objects.filter(meeting=meeting).order_by("-pk").values_list("pdf", flat=True)[0] or b"")
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    return warm, pages, (f"meeting {meeting.pk}, PDF ({pages} pages) + XLSX; median of 3 after the first, which "
                         f"took {first:.2f} s")


# --- (b): load on loopback against gunicorn ---------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer at {url}")


@contextlib.contextmanager
def _gunicorn(workers: int = 2) -> Iterator[tuple[str, str]]:
    """The product under gunicorn on a free loopback port: (base URL, an analyst's token)."""
    with gunicorn_serving(workers) as (base, token, _):
        yield base, token


@contextlib.contextmanager
def gunicorn_serving(workers: int = 2) -> Iterator[tuple[str, str, int]]:
    """The product under gunicorn on a free loopback port: (base URL, an analyst's token, the master's pid)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "coalition.wsgi:application", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=dict(os.environ),
    )
    try:
        _wait_until_up(base + "/admin/login/")
        request = urllib.request.Request(
            base + "/api/v1/auth/token/", method="POST",
            data=json.dumps({"username": BENCH_USER, "password": BENCH_PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            token = json.loads(response.read())["token"]
        yield base, token, gunicorn.pid
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=15)


FORCE_FLOOR_SQL = """
SELECT coalesce(json_agg(row_to_json(r)), '[]'::json)::text FROM (
  SELECT category_id, unit_id, status, sum(quantity) AS quantity FROM pledges_pledge
  WHERE coalition_id = %(coalition)s AND status IN ('indicative', 'confirmed', 'deployed')
  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
) r
"""


def measure_against_peer(m: Measurement, coalition_id: int, repeats: int, seconds: int, connections: int) -> None:
    """The product (gunicorn, 2 workers), the SQL floor and Directus in one interleaved loop, then wrk both ways."""
    import psycopg

    from bench import peer
    from pledges.models import CapabilityCategory

    result = peer.PeerMeasurement()
    m.peer = result
    if not m.list_url:
        result.notes.append("no API list page: peer not measured")
        return
    category_id = CapabilityCategory.objects.get(code=LIST_FILTERS["category"]).pk
    statuses = LIST_FILTERS["status"].split(",")
    peer_list = peer.list_paths(coalition_id, category_id, statuses)
    peer_force = peer.force_path(coalition_id)
    force_path = f"/api/v1/coalitions/{coalition_id}/force/"
    floor_sql = FLOOR_SQL.format(order=FLOOR_ORDER["-updated_at"])
    floor_params = {"coalition": coalition_id, "statuses": statuses, "category": LIST_FILTERS["category"],
                    "limit": 100}
    with _gunicorn() as (base, token), peer.directus(os.environ["DATABASE_URL"], _free_port()) as (
            peer_base, peer_token), psycopg.connect(os.environ["DATABASE_URL"]) as floor:
        product = peer.Client(base, {"Authorization": f"Token {token}"})
        other = peer.Client(peer_base, {"Authorization": f"Bearer {peer_token}"})
        _status, body = product.get(m.list_url)
        ours = [row["id"] for row in json.loads(body)["results"]]
        status_peer, body_peer = other.get(peer_list)
        if status_peer != 200:
            result.notes.append(f"Directus answered {status_peer}: {body_peer[:300]!r}")
            return
        theirs = [int(row["id"]) for row in json.loads(body_peer)["data"]]  # Directus gives bigints as text
        result.same_rows = ours == theirs and len(ours) == 100
        if not result.same_rows:
            result.notes.append(f"the pages differ: ours {ours[:5]}…, Directus {theirs[:5]}…")
        # The product three ways: the same page asked again (read back from the answers kept per data version),
        # a new address each time (computed: `&_=n`, which the API ignores, makes every request a new answer),
        # and asked with the ETag it gave (a 304, as a browser or a polling script holding it gets).
        etag = product.ask(m.list_url)[2].get("ETag", "")
        addresses = _new_addresses()
        lists = peer.interleaved({
            "product": lambda: product.get(m.list_url),
            "computed": lambda: product.get(f"{m.list_url}&_={next(addresses)}"),
            "not_modified": lambda: _expect(product.get(m.list_url, **{"If-None-Match": etag}), 304),
            "floor": lambda: floor.execute(floor_sql, floor_params).fetchone(),
            "peer": lambda: other.get(peer_list),
        }, repeats)
        result.list_product, result.list_floor, result.list_peer = lists["product"], lists["floor"], lists["peer"]
        result.list_computed, result.list_not_modified = lists["computed"], lists["not_modified"]
        forces = peer.interleaved({
            "product": lambda: product.get(force_path),
            "computed": lambda: product.get(f"{force_path}?_={next(addresses)}"),
            "floor": lambda: floor.execute(FORCE_FLOOR_SQL, {"coalition": coalition_id}).fetchone(),
            "peer": lambda: other.get(peer_force),
        }, max(5, repeats // 2), warmup=2)
        result.force_product, result.force_floor, result.force_peer = (
            forces["product"], forces["floor"], forces["peer"])
        result.force_computed = forces["computed"]
        result.rps_product = peer.wrk_rps(base + m.list_url, f"Authorization: Token {token}", seconds, connections)
        result.rps_computed = peer.wrk_rps(base + m.list_url, f"Authorization: Token {token}", seconds,
                                           connections, new_address_each_time=True)
        result.rps_peer = peer.wrk_rps(peer_base + peer_list, f"Authorization: Bearer {peer_token}", seconds,
                                       connections)
        # The same page again while a ministry changes one of its pledges twice a second: every write moves the
        # data version, so the page is computed again after each.
        stop, written = threading.Event(), []
        writer = threading.Thread(target=_write_twice_a_second, args=(coalition_id, stop, written))
        writer.start()
        try:
            result.rps_under_writes = peer.wrk_rps(base + m.list_url, f"Authorization: Token {token}", seconds,
                                                   connections)
        finally:
            stop.set()
            writer.join()
        result.notes.append(f"under writes: {len(written)} writes in the {seconds} s of wrk")


def _write_twice_a_second(coalition_id: int, stop: threading.Event, written: list[int]) -> None:
    """A ministry's staff changing the quantity of one of their country's offered pledges, twice a second,
    through the pledge service, until `stop`."""
    from django.db import connection

    from accounts.models import Role, User
    from pledges import services
    from pledges.models import Pledge

    try:
        pledge = Pledge.objects.filter(coalition_id=coalition_id, status="indicative").order_by("id").first()
        assert pledge is not None
        staff, _ = User.objects.get_or_create(username=f"bench-writer-{pledge.country.code}", defaults={
            "role": Role.MINISTRY, "country": pledge.country, "is_staff": True})
        while not stop.wait(0.5):
            pledge.refresh_from_db()
            services.pledge_update(actor=staff, pledge=pledge, expected_version=pledge.version,
                                   quantity=pledge.quantity % 1000 + 1)
            written.append(pledge.pk)
    finally:
        connection.close()


def _expect(answer: tuple[int, bytes], status: int) -> None:
    if answer[0] != status:
        raise RuntimeError(f"expected {status}, got {answer[0]}: {answer[1][:200]!r}")


def measure_load(m: Measurement, seconds: int, connections: int) -> None:
    if not m.list_url:
        m.notes.append("load test skipped: no API list page")
        return
    with _gunicorn() as (base, token):
        url = base + m.list_url
        if shutil.which("wrk"):
            _wrk(m, url, token, seconds, connections)
        else:
            _python_load(m, url, token, seconds, connections)


def _wrk(m: Measurement, url: str, token: str, seconds: int, connections: int) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.headers["Authorization"] = "Token {token}"\n')
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    m.load_tool = f"wrk -t2 -c{connections} -d{seconds}s"
    m.rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        found = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        if found:
            value, unit = float(found.group(1)), found.group(2)
            m.load_latency_ms[f"p{pct}"] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    m.load_non_2xx = int(non_2xx.group(1)) if non_2xx else 0


def _python_load(m: Measurement, url: str, token: str, seconds: int, connections: int) -> None:
    """A bounded load generator: `connections` threads, for `seconds`, at most 100,000 requests."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def worker() -> None:
        request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
        while time.monotonic() < deadline and len(latencies) < 100_000:
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    response.read()
                    ok = 200 <= response.status < 400
            except OSError:
                ok = False
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                failures[0] += not ok

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    m.load_tool = f"python threads x{connections}, {seconds}s"
    m.rps = len(latencies) / elapsed
    for pct in (50, 90, 99):
        m.load_latency_ms[f"p{pct}"] = latencies[min(len(latencies) - 1, len(latencies) * pct // 100)]
    m.load_non_2xx = failures[0]


# --- the report ----------------------------------------------------------------------------------------

def _fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{unit}"


def render(ms: list[Measurement], args: argparse.Namespace) -> str:
    heads = " | ".join(f"{m.pledges:,} pledges" for m in ms)
    first, last = ms[0], ms[-1]

    def growth(attr: str) -> str:
        a, b = getattr(first, attr), getattr(last, attr)
        return "n/a" if a is None or b is None or len(ms) < 2 else f"x{b / a:.2f}"

    def ok(value: float | None, goal: float) -> str:
        return "" if value is None else (" ✅" if value < goal else " ❌")

    rows = [
        ("pledge events (history rows)", [f"{m.events:,}" for m in ms], "", ""),
        ("API list page, 100 rows, kept (asked again), median", [_fmt(m.api_list_ms, " ms") for m in ms],
         growth("api_list_ms"), ""),
        ("floor: one json_agg query, median", [_fmt(m.floor_ms, " ms", 2) for m in ms], growth("floor_ms"), ""),
        ("ratio API / floor", [_fmt(m.ratio, "x") + ok(m.ratio, GOALS["ratio"]) for m in ms], "", "< 3x"),
        ("API list page, computed (a new address each time), median",
         [_fmt(m.api_list_computed_ms, " ms") for m in ms], growth("api_list_computed_ms"), ""),
        ("ratio computed / floor",
         [_fmt(None if m.api_list_computed_ms is None or not m.floor_ms else m.api_list_computed_ms / m.floor_ms,
               "x") for m in ms], "", ""),
        ("queries per page (page_size 10 / 100)",
         [" / ".join(str(m.queries_per_page.get(s, "n/a")) for s in (10, 100)) for m in ms], "", "constant"),
        ("requests/s, gunicorn 2 workers", [_fmt(m.rps, "", 0) for m in ms], "", ""),
        ("latency under load p50 / p99",
         [" / ".join(_fmt(m.load_latency_ms.get(p), " ms") for p in ("p50", "p99")) for m in ms], "", ""),
        ("non-2xx under load", [str(m.load_non_2xx) if m.load_non_2xx is not None else "n/a" for m in ms], "", "0"),
        ("force endpoint, kept (asked again), median",
         [_fmt(m.force_api_ms, " ms") + ok(None if m.force_api_ms is None else m.force_api_ms / 1000,
                                           GOALS["force_s"]) for m in ms], growth("force_api_ms"), "< 1 s"),
        ("force selector (coalition_force), median", [_fmt(m.force_selector_ms, " ms") for m in ms],
         growth("force_selector_ms"), ""),
        ("map endpoint (GeoJSON), median", [_fmt(m.map_api_ms, " ms") + (f" ({m.map_points} places)"
                                                                       if m.map_points is not None else "")
                                            for m in ms], growth("map_api_ms"), ""),
        ("brief compile (compile_brief), warm median",
         [_fmt(m.brief_s, " s", 2) + ok(m.brief_s, GOALS["brief_s"])
          + (f" ({m.brief_pages} pages)" if m.brief_pages else "") for m in ms],
         growth("brief_s"), "128 pages < 2 s"),
    ]
    lines = [
        "# Benchmark results",
        "",
        f"`python bench/run.py --sizes {args.sizes}` on {os.cpu_count()} CPUs, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; database "
        f"`{os.environ['DATABASE_URL'].rsplit('/', 1)[-1]}`, DEBUG off; medians of {args.repeats} runs "
        f"(force: {max(3, args.repeats // 4)}; brief: one compile).",
        "",
        f"| measure | {heads} | growth | goal |",
        "|---|" + "---|" * len(ms) + "---|---|",
    ]
    lines += [f"| {name} | {' | '.join(values)} | {grow} | {goal} |" for name, values, grow, goal in rows]
    lines += ["", f"List page: `{first.list_url or 'n/a'}` as an analyst, token auth.",
              f"Load: {first.load_tool or 'n/a'} on loopback.", ""]
    lines += render_peer(ms)
    for m in ms:
        for note in m.notes + ([f"brief: {m.brief_note}"] if m.brief_note else []):
            lines.append(f"- {m.pledges:,}: {note}")
    return "\n".join(lines) + "\n"


PEER_GOALS = {"list_floor": 2.5, "list_peer": 2.0, "force_peer": 1.0, "rps_peer": 2.0}  # issue 26's goals


def render_peer(ms: list[Measurement]) -> list[str]:
    measured = [m for m in ms if m.peer is not None and m.peer.list_product is not None]
    if not measured:
        return []

    def t(timing: Any) -> str:
        return "n/a" if timing is None else f"{timing.median:.1f} ms (p95 {timing.p95:.1f})"

    def x(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None or b == 0 else a / b

    def mark(ratio: float | None, met: bool) -> str:
        return "" if ratio is None else (" ✅" if met else " ❌")

    lines = ["## Against the peer: Directus 12 on the same tables", "",
             "One interleaved loop per size (each call in turn; same keep-alive client; warm-up first); the product "
             "under gunicorn (2 sync workers), Directus 12.4.0 on Node 22 with its cache off; `wrk -t2 -c8` both "
             "ways on the list page. The product is measured three ways: *kept*, the same page asked again (read "
             "back from the answers kept per data version and reader, `pledges/answer_cache.py`: what a second "
             "reader, a refresh or a polling script gets while nothing changed); *computed*, a new address each "
             "time (`&_=<run>-n`, a parameter the API ignores: nothing kept can answer, what the first request "
             "after a write costs); *304*, asked with the ETag it gave.", "",
             "| pledges | measure | product | floor (SQL) | Directus | product / floor | Directus / product | goal |",
             "|---|---|---|---|---|---|---|---|"]
    for m in measured:
        p = m.peer
        same = " (same ids)" if p.same_rows else " (ids differ!)"
        for label, timing in (("kept", p.list_product), ("computed", p.list_computed),
                              ("304, ETag sent back", p.list_not_modified)):
            if timing is None:
                continue
            floor_ratio = x(timing.median, p.list_floor.median)
            peer_ratio = x(p.list_peer.median, timing.median)
            lines.append(
                f"| {m.pledges:,} | list page, 100 rows{same}, {label} | {t(timing)} | {t(p.list_floor)} | "
                f"{t(p.list_peer)} | {_fmt(floor_ratio, 'x', 2)}"
                f"{mark(floor_ratio, bool(floor_ratio and floor_ratio <= PEER_GOALS['list_floor']))} | "
                f"{_fmt(peer_ratio, 'x', 2)}"
                f"{mark(peer_ratio, bool(peer_ratio and peer_ratio >= PEER_GOALS['list_peer']))}"
                f" | within 2.5x of the floor; 2x faster than Directus |")
        for label, timing in (("kept", p.force_product),
                              ("new address (the picture read back, the answer made again)", p.force_computed)):
            if timing is None:
                continue
            force_ratio = x(p.force_peer.median if p.force_peer else None, timing.median)
            lines.append(f"| {m.pledges:,} | force picture, {label} (Directus: sum per category, unit, status) | "
                         f"{t(timing)} | {t(p.force_floor)} | {t(p.force_peer)} | "
                         f"{_fmt(x(timing.median, p.force_floor.median), 'x', 2)} | {_fmt(force_ratio, 'x', 2)}"
                         f"{mark(force_ratio, bool(force_ratio and force_ratio >= 1))} | faster than Directus |")
        for label, rps in (("kept", p.rps_product), ("computed", p.rps_computed),
                           ("kept, a ministry writing twice a second", p.rps_under_writes)):
            rps_ratio = x(rps, p.rps_peer)
            lines.append(f"| {m.pledges:,} | list page, requests/s under wrk -c8, {label} | {_fmt(rps, '', 0)} | | "
                         f"{_fmt(p.rps_peer, '', 0)} | | {_fmt(rps_ratio, 'x', 2)} product/Directus"
                         f"{mark(rps_ratio, bool(rps_ratio and rps_ratio >= PEER_GOALS['rps_peer']))} | 2x Directus |")
        lines += [f"- {m.pledges:,}: {note}" for note in p.notes]
    return [*lines, ""]


if __name__ == "__main__":
    sys.exit(main())
