"""What a CSV export of the whole bench coalition costs the web worker: time to the first byte, time to the last,
size, and the worker's peak memory (VmHWM) before and after.

    DATABASE_URL=postgres://... python bench/export.py [--exports 3]

Runs against the bench database (bench/common.py; bench/generate.py fills it) with gunicorn and ONE sync worker on
loopback, so every export lands in the same process and its peak memory is the export's. Asks, as the bench
analyst, `GET /api/v1/pledges/?format=csv&coalition=<bench>` and `GET /api/v1/deliveries/?format=csv`,
`--exports` times each, one after the other, reading the answer as it comes in.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_SHORT_NAME, bench_environment, setup_django


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak so far) of a process, in kB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    [child] = children
    return int(child)


def export(url: str, token: str) -> tuple[float, float, int]:
    """Seconds to the first byte, seconds to the last, bytes."""
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    started = time.perf_counter()
    size, first = 0, None
    with urllib.request.urlopen(request, timeout=300) as response:
        while piece := response.read(65536):
            first = first if first is not None else time.perf_counter() - started
            size += len(piece)
    return first or 0.0, time.perf_counter() - started, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exports", type=int, default=3)
    args = parser.parse_args()
    import os

    os.environ.update(bench_environment())
    setup_django()
    from bench.run import gunicorn_serving
    from pledges.models import Coalition

    coalition = Coalition.objects.get(short_name=BENCH_SHORT_NAME)
    with gunicorn_serving(workers=1) as (base, token, master):
        worker = worker_pid(master)
        print(f"worker at start: {memory_kb(worker)} kB")
        for path in (f"/api/v1/pledges/?format=csv&coalition={coalition.pk}",
                     f"/api/v1/deliveries/?format=csv&coalition={coalition.pk}"):
            for _ in range(args.exports):
                first, last, size = export(base + path, token)
                print(f"{path}: {size / 1e6:.1f} MB, first byte {first * 1000:.0f} ms, last {last:.2f} s, "
                      f"worker {memory_kb(worker)} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
