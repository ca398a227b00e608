"""The peak memory of previewing a file, measured in a process of its own (`python -m tests.imports.memory`).

What is measured is resident memory (RSS), which counts every allocation, Python's and C's (zlib, expat,
psycopg) alike: the peak-RSS mark (VmHWM) is reset through /proc/self/clear_refs just before the preview and read
just after it; the growth is that peak minus the RSS at the reset. One process is set up as a web worker that has
served imports before (modules loaded, a small XLSX and CSV previewed), then forks a child per file: each file is
measured from that same warm state, never in memory a previous file freed (which it could reuse unseen).

Arguments: USER_ID COALITION_ID FILE [FILE...]; one JSON line per file. Environment: DATABASE_URL and REDIS_URL
as the test's; MEMORY_CAP_MB (optional) caps each child's address space above its start, so that measuring the
old reader on a 5 GB bomb ends in MemoryError instead of taking the machine.
"""

from __future__ import annotations

import gc
import json
import os
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _status(field: str) -> int:
    """A /proc/self/status figure, in bytes."""
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    assert match, field
    return int(match.group(1)) * 1024


def _preview(user: Any, coalition: Any, name: str, data: bytes) -> str:
    from django.db import transaction

    from imports import services
    from imports.reader import FileRefused

    try:
        with transaction.atomic():
            imported = services.import_preview(actor=user, coalition=coalition, filename=name, data=data)
            transaction.set_rollback(True)  # as the API's transaction would not: nothing kept between files
            return f"previewed ({imported.status}, {imported.summary or len(imported.rows)})"
    except FileRefused as refused:
        return f"refused: {refused}"
    except MemoryError:
        return "MemoryError (the address-space cap was reached)"
    except Exception as error:  # what would have been a 500
        return f"500: {type(error).__name__}: {str(error)[:200]}"


def warm_up(user_id: int, coalition_id: int) -> tuple[Any, Any]:
    import django

    django.setup()
    from django.db import connections

    from accounts.models import User
    from pledges.models import Coalition
    from tests.imports.helpers import workbook
    from tests.imports.hostile import VALID_ROW
    from tests.imports.test_api import HEADER

    user = User.objects.select_related("country").get(pk=user_id)
    coalition = Coalition.objects.get(pk=coalition_id)
    csv = ",".join(HEADER[:7]) + "\n" + ",".join("" if v is None else str(v) for v in VALID_ROW) + "\n"
    for name, warm in (("warm.xlsx", workbook([HEADER, VALID_ROW])), ("warm.csv", csv.encode())):
        _preview(user, coalition, name, warm)
    connections.close_all()  # each child opens its own
    return user, coalition


def measure(user: Any, coalition: Any, path: Path) -> dict[str, Any]:
    """In a forked child: the preview of one file, from the warm state."""
    from django.db import connection

    connection.ensure_connection()
    data = path.read_bytes()
    if cap := os.environ.get("MEMORY_CAP_MB"):
        limit = _status("VmSize") + int(cap) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS mark to the present RSS
    baseline = _status("VmRSS")
    started = time.monotonic()
    outcome = _preview(user, coalition, path.name, data)
    seconds = time.monotonic() - started
    peak = _status("VmHWM")
    return {"file": path.name, "size": len(data), "baseline_mb": round(baseline / 2**20, 1),
            "growth_mb": round((peak - baseline) / 2**20, 1), "seconds": round(seconds, 2), "outcome": outcome}


def main(user_id: int, coalition_id: int, files: list[str]) -> None:
    user, coalition = warm_up(user_id, coalition_id)
    for file in files:
        reading, writing = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(reading)
            try:
                result = measure(user, coalition, Path(file))
            except BaseException as error:  # reported to the parent, whatever it was
                result = {"file": Path(file).name, "outcome": f"measuring failed: {error!r}"}
            os.write(writing, json.dumps(result).encode())
            os._exit(0)
        os.close(writing)
        with os.fdopen(reading, "rb") as answer:
            report = answer.read()
        os.waitpid(child, 0)
        print(report.decode() or json.dumps({"file": Path(file).name, "outcome": "the child died"}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:])
