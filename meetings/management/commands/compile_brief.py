"""Compile a meeting's brief in the foreground: `python manage.py compile_brief MEETING_ID`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from meetings import services
from meetings.briefs import pipeline
from meetings.models import Brief, BriefStatus, Meeting


class Command(BaseCommand):
    help = "Compile a new brief for a meeting now (no worker needed) and write its PDF and XLSX to a folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("meeting_id", type=int)
        parser.add_argument("--out", type=Path, default=None,
                            help="Folder for the files (default: MEDIA_ROOT/briefs).")

    def handle(self, *args: Any, meeting_id: int, out: Path | None, **options: Any) -> None:
        meeting = Meeting.objects.filter(pk=meeting_id).first()
        if meeting is None:
            raise CommandError(f"There is no meeting {meeting_id}.")
        brief = services.brief_request(actor=None, meeting=meeting, system=True, queue=False)
        pipeline.brief_compile(brief_id=brief.pk)
        brief = Brief.objects.defer("snapshot").get(pk=brief.pk)  # the files only (the snapshot is 10 MB of JSON)
        if brief.status != BriefStatus.READY:
            raise CommandError(f"Brief {brief.pk} {brief.status}: {brief.error}")
        folder = out or Path(settings.MEDIA_ROOT) / "briefs"
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for extension, content in (("pdf", brief.pdf), ("xlsx", brief.xlsx)):
            path = folder / brief.filename(extension)
            path.write_bytes(bytes(content or b""))
            paths.append(path)
        self.stdout.write(f"Brief {brief.pk} (no. {brief.number}) ready, data as of {brief.as_of:%Y-%m-%d %H:%M} UTC")
        for path in paths:
            self.stdout.write(str(path.resolve()))
