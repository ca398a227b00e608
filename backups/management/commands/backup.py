"""Write the whole database to one file: `python manage.py backup PATH` (pg_dump, custom format)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups import services


class Command(BaseCommand):
    help = "Write the whole database (briefs, imports and history included) to one file with pg_dump."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The file to write (replaced whole once the dump is complete).")
        parser.add_argument("--database", default="default", help="The DATABASES entry (default: default).")

    def handle(self, *args: Any, path: Path, database: str, **options: Any) -> None:
        try:
            outcome = services.backup(path, services.Target.from_settings(database))
        except services.BackupError as problem:
            raise CommandError(str(problem)) from problem
        self.stdout.write(f"Backup written: {outcome.path} ({outcome.size:,} bytes, {outcome.seconds:.1f} s)")
