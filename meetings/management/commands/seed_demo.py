"""Load the demo coalition; idempotent. Demo accounts only with DEBUG on or --with-demo-users."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.models import Role, User
from meetings.demo import load_meetings, meetings_loaded
from meetings.models import AgendaItem, Invitation, Meeting
from pledges.demo import SEED_ACTOR, load_pledges, load_reference_data
from pledges.models import Caveat, Country, Pledge, Requirement
from utilities.db import refresh_planner_statistics
from utilities.versioning import history_context

DEMO_PASSWORD = "coalition-demo-2025"  # noqa: S105 - documented in the README; demo accounts only
DEMO_MINISTRY_COUNTRIES = ["PL", "FR", "GB", "DE", "IT", "GR"]
DEMO_MAIL_DOMAIN = "demo.coalition.example"  # a reserved name: nothing is ever delivered there


class Command(BaseCommand):
    help = "Load the demo coalition (real countries and formats, illustrative figures). Safe to run twice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--with-demo-users", action="store_true", help="Create the demo accounts even with DEBUG off."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with history_context(SEED_ACTOR, "seed_demo"):
            self._load(**options)
        refresh_planner_statistics(Pledge, Caveat, Requirement, Meeting, Invitation, AgendaItem)

    def _load(self, **options: Any) -> None:
        cotw, _ = load_reference_data()
        new_pledges = load_pledges(cotw)
        meetings = load_meetings(cotw)
        for _receiver, said in meetings_loaded.send(sender=self.__class__, meetings=meetings):
            if said:
                self.stdout.write(str(said))
        self.stdout.write(f"Demo coalition loaded: {new_pledges} new pledges, {len(meetings)} meetings.")
        if settings.DEBUG or options["with_demo_users"]:
            created = create_demo_users()
            self.stdout.write(f"Demo accounts ready ({created} new); password: {DEMO_PASSWORD}")


@transaction.atomic
def create_demo_users() -> int:
    accounts: list[tuple[str, dict[str, Any]]] = [
        ("admin", {"role": Role.ADMINISTRATOR, "is_staff": True, "is_superuser": True}),
        ("secretariat", {"role": Role.SECRETARIAT, "is_staff": True}),
        ("analyst", {"role": Role.ANALYST, "is_staff": True}),
    ]
    for code in DEMO_MINISTRY_COUNTRIES:
        accounts.append((f"ministry-{code.lower()}", {"role": Role.MINISTRY, "is_staff": True,
                                                      "country": Country.objects.get(code=code)}))
    created = 0
    for username, fields in accounts:
        user, was_created = User.objects.get_or_create(username=username, defaults=fields)
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created += 1
        if not user.email:  # reminders and brief notices go to it (.local/mail/ without EMAIL_URL)
            user.email = f"{username}@{DEMO_MAIL_DOMAIN}"
            user.save(update_fields=["email"])
    return created
