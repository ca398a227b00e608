"""How long a spreadsheet import of the largest size (5,000 rows) takes to preview and to apply.

    DATABASE_URL=postgres://... python bench/imports.py [--rows 5000] [--repeats 3]

Runs against the bench database (bench/common.py) as the ministry staff of one member country of the bench
coalition (made if missing), with a workbook of new pledges; each apply is rolled back, so the database is left
as it was. Reports the median of the repeats: reading the file, the preview (the upload's reading and checking
of the file, then, for a file of more than 500 rows, what the worker's task does: services.import_preview_run,
called here synchronously) and the apply (services.import_apply, as the worker's task calls it) — the preview
and the apply of a file this long run in a Celery worker, so this is the worker's time.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_SHORT_NAME, setup_django


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    setup_django()
    from django.db import transaction
    from openpyxl import Workbook

    from accounts.models import Role, User
    from imports import services
    from imports.columns import COLUMNS
    from imports.models import ImportStatus
    from imports.reader import read_rows
    from pledges.models import CapabilityCategory, Coalition

    coalition = Coalition.objects.get(short_name=BENCH_SHORT_NAME)
    country = coalition.members.order_by("code").first()
    user, _ = User.objects.get_or_create(username="bench-importer",
                                         defaults={"role": Role.MINISTRY, "country": country, "is_staff": True})
    category = CapabilityCategory.objects.prefetch_related("units").first()
    assert category is not None
    unit = category.units.first()
    book = Workbook()
    sheet = book.active
    sheet.title = "Pledges"
    names = [column.name for column in COLUMNS]
    sheet.append(names)
    for n in range(args.rows):
        row = {"country": country.code, "category": category.code, "unit": unit.code, "quantity": 10 + n % 90,
               "status": "indicative", "description": f"Bench import row {n}", "location": "Rzeszów",
               "available_from": "2026-06-01"}
        sheet.append([row.get(name) for name in names])
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    timings: dict[str, list[float]] = {"read the file": [], "preview": [], "apply (worker)": []}
    for attempt in range(args.repeats):
        started = time.perf_counter()
        read_rows("bench.xlsx", data)
        timings["read the file"].append(time.perf_counter() - started)
        with transaction.atomic():
            started = time.perf_counter()
            imported = services.import_preview(actor=user, coalition=coalition, filename=f"bench{attempt}.xlsx",
                                               data=data)
            if imported.status == ImportStatus.PREVIEWING:  # a long file: what the worker's task then does
                imported = services.import_preview_run(actor=user, import_id=imported.pk,
                                                       progress=services.progress_in_cache(imported.pk))
            timings["preview"].append(time.perf_counter() - started)
            assert imported.summary["create"] == args.rows, imported.summary
            started = time.perf_counter()
            services.import_apply(actor=user, import_id=imported.pk)
            timings["apply (worker)"].append(time.perf_counter() - started)
            transaction.set_rollback(True)  # leave the bench database as it was
    print(f"{args.rows:,} rows, {len(data) / 1024:.0f} KB workbook, median of {args.repeats}:")
    for name, values in timings.items():
        print(f"  {name}: {statistics.median(values):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
