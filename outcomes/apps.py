from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = _("Meeting outcomes")

    def ready(self) -> None:
        """The changes feed (`/api/v1/pledges/changes/`) gains `outcomes`, walked after the pledges' sections, and
        seed_demo the demo outcomes, the brief its section "Decisions and actions since the previous meeting":
        registered from here, as pledges and meetings import nothing of the floors above them."""
        from meetings.briefs.sections import register_brief_section
        from meetings.demo import meetings_loaded
        from meetings.reminders import register_reminder_section
        from outcomes.api.serializers import OutcomeChangeSerializer
        from outcomes.brief import BRIEF_SECTION
        from outcomes.demo import on_meetings_loaded
        from outcomes.history import outcome_changes
        from outcomes.notices import open_actions_section
        from pledges.api.serializers import register_changes_field
        from pledges.history import register_change_section

        register_change_section("outcomes", outcome_changes, "outcome_id")
        register_changes_field("outcomes", OutcomeChangeSerializer(
            many=True,
            help_text="Meeting outcomes recorded, closed (done or dropped), opened again, changed or removed."))
        register_brief_section(BRIEF_SECTION)
        register_reminder_section(open_actions_section)
        meetings_loaded.connect(on_meetings_loaded, dispatch_uid="outcomes.demo")
