"""The brief at scale: `python bench/brief.py [--repeats 3] [--dump DIR --brief ID]`.

Times, on the bench coalition's latest held meeting (bench/generate.py loads it; this script does not):

- the whole command, `manage.py compile_brief` in a process of its own (start-up, imports, fonts, the compile and
  the files written), median of `--repeats`;
- the warm compile (call_command in this process after one untimed compile: what a long-lived worker pays),
  median of `--repeats`;
- where one warm compile's time goes: each part of the gathering (meetings.briefs.snapshot and the modules it
  calls), the PDF and the XLSX.

`--dump DIR --brief ID` writes what a reader sees of brief ID compiled again as of its own moment, without storing
it: the snapshot (JSON), the PDF's text (pdftotext -layout), the page count, the PDF's SHA-256 (made in reportlab's
invariant mode), and every cell of the XLSX with its style, sheet by sheet, so that two versions of the code can be
compared with `diff -r`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_SHORT_NAME, ROOT, bench_environment, setup_django

# The parts of a compile timed separately: (module, function).
PARTS = [
    ("meetings.briefs.snapshot", "coalition_force"),
    ("meetings.briefs.snapshot", "_caveats"),
    ("meetings.briefs.snapshot", "_delivery"),
    ("meetings.briefs.snapshot", "_places"),
    ("meetings.briefs.snapshot", "force_over_time"),
    ("meetings.briefs.snapshot", "conditions"),
    ("meetings.briefs.snapshot", "_changes"),
    ("meetings.briefs.snapshot", "gather_sections"),
    ("meetings.briefs.snapshot", "build_snapshot"),
    ("meetings.briefs.pdf", "render_pdf"),
    ("meetings.briefs.xlsx", "render_xlsx"),
]


@contextlib.contextmanager
def timed_parts(spent: dict[str, list[float]]) -> Iterator[None]:
    """Wrap each of PARTS with a timer for the duration (the modules are left as they were)."""
    import importlib

    saved = []
    for module_name, name in PARTS:
        module = importlib.import_module(module_name)
        original = getattr(module, name)

        def wrapper(*args: Any, _original: Callable[..., Any] = original, _name: str = name, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_name].append(time.perf_counter() - started)

        setattr(module, name, wrapper)
        saved.append((module, name, original))
    try:
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def _xlsx_cells(content: bytes) -> dict[str, Any]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content))
    sheets: dict[str, Any] = {}
    for sheet in book.worksheets:
        rows = []
        for row in sheet.iter_rows():
            rows.append([[repr(cell.value), cell.data_type, bool(cell.font.b), str(cell.font.color.rgb)
                          if cell.font.color is not None else None, str(cell.fill.fgColor.rgb), cell.number_format,
                          bool(cell.alignment.wrap_text)] for cell in row])
        sheets[sheet.title] = {
            "freeze": sheet.freeze_panes, "filter": sheet.auto_filter.ref,
            "widths": {key: dim.width for key, dim in sorted(sheet.column_dimensions.items()) if dim.width},
            "rows": rows,
        }
    return sheets


def dump(brief_id: int, folder: Path) -> None:
    from django.utils import translation
    from reportlab import rl_config

    from meetings.briefs import pdf as pdf_module
    from meetings.briefs import snapshot as snapshot_module
    from meetings.briefs import xlsx as xlsx_module
    from meetings.models import Brief

    rl_config.invariant = 1  # no dates or random ids in the PDF: two versions of the code compare byte for byte
    brief = Brief.objects.defer("pdf", "xlsx", "snapshot").get(pk=brief_id)
    spent: dict[str, list[float]] = defaultdict(list)
    with timed_parts(spent), translation.override("fr" if brief.language == "fr" else "en-gb"):
        snap = snapshot_module.build_snapshot(brief)
        pdf = pdf_module.render_pdf(snap)
        xlsx = xlsx_module.render_xlsx(snap)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "snapshot.json").write_text(json.dumps(snap, indent=1, sort_keys=True, ensure_ascii=False))
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        text = subprocess.run(["pdftotext", "-layout", file.name, "-"], capture_output=True, check=True,
                              text=True).stdout
    (folder / "pdf.txt").write_text(text)
    (folder / "pages.txt").write_text(f"{text.count(chr(12))}\n")
    (folder / "pdf.sha256").write_text(hashlib.sha256(pdf).hexdigest() + "\n")
    for title, sheet in _xlsx_cells(xlsx).items():
        (folder / f"xlsx-{title.replace('/', '_')}.json").write_text(json.dumps(sheet, indent=0, ensure_ascii=False))
    print(f"brief {brief_id} written to {folder}: {text.count(chr(12))} pages")
    for name, times in spent.items():
        print(f"  {name:18} {sum(times):6.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dump", type=Path, default=None)
    parser.add_argument("--brief", type=int, default=None)
    parser.add_argument("--meeting", type=int, default=None, help="default: the bench coalition's latest held one")
    parser.add_argument("--skip-command", action="store_true")
    args = parser.parse_args()
    os.environ.update(bench_environment())
    setup_django(migrate=False)
    if args.dump is not None:
        if args.brief is None:
            parser.error("--dump needs --brief")
        dump(args.brief, args.dump)
        return 0

    from django.core.management import call_command

    from meetings.models import Brief, Meeting
    from pledges.models import Pledge

    meeting = (Meeting.objects.get(pk=args.meeting) if args.meeting else
               Meeting.objects.filter(coalition__short_name=BENCH_SHORT_NAME, status="held")
               .order_by("-starts_at").first())
    if meeting is None:
        raise SystemExit("No held meeting of the bench coalition: run bench/generate.py first.")
    pledges = Pledge.objects.filter(coalition_id=meeting.coalition_id).count()
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, str(ROOT / "manage.py"), "compile_brief", str(meeting.pk), "--out", out]
        whole = []
        for _ in range(0 if args.skip_command else args.repeats):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=os.environ)
            whole.append(time.perf_counter() - started)
        spent: dict[str, list[float]] = defaultdict(list)
        with open(os.devnull, "w") as devnull:
            call_command("compile_brief", str(meeting.pk), "--out", out, stdout=devnull)  # the first, untimed
            warm = []
            with timed_parts(spent):
                for _ in range(args.repeats):
                    started = time.perf_counter()
                    call_command("compile_brief", str(meeting.pk), "--out", out, stdout=devnull)
                    warm.append(time.perf_counter() - started)
    brief = Brief.objects.filter(meeting=meeting).defer("pdf", "xlsx", "snapshot").order_by("-pk").first()
    pdf = bytes(Brief.objects.filter(pk=brief.pk).values_list("pdf", flat=True)[0] or b"") if brief else b""
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    print(f"{pledges:,} pledges; meeting {meeting.pk}; brief {brief.pk if brief else '-'} ({pages} pages); "
          f"medians of {args.repeats}; {dt.datetime.now():%H:%M}")
    if whole:
        print(f"| whole command (manage.py compile_brief) | {statistics.median(whole):.2f} s | "
              f"{', '.join(f'{t:.2f}' for t in whole)} |")
    print(f"| warm compile (call_command) | {statistics.median(warm):.2f} s | {', '.join(f'{t:.2f}' for t in warm)} |")
    for name, times in spent.items():
        print(f"| {name} | {statistics.median(times):.3f} s | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
