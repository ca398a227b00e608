"""Load a backup into an empty database: `python manage.py restore PATH` (pg_restore, one transaction)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups import services


class Command(BaseCommand):
    help = ("Load a backup made by `backup` into an empty database (refused, nothing changed, when the database "
            "holds tables already).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The backup file.")
        parser.add_argument("--database", default="default", help="The DATABASES entry (default: default).")

    def handle(self, *args: Any, path: Path, database: str, **options: Any) -> None:
        try:
            outcome = services.restore(path, services.Target.from_settings(database))
        except services.BackupError as problem:
            raise CommandError(str(problem)) from problem
        self.stdout.write(f"Restored {outcome.path} into database {services.Target.from_settings(database).name!r} "
                          f"({outcome.seconds:.1f} s)")
