from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = _("Meeting outcomes")

    def ready(self) -> None:
        """The changes feed (`/api/v1/pledges/changes/`) gains `outcomes`, walked after the pledges' sections:
        registered from here, as pledges imports nothing of the floors above it."""
        from outcomes.api.serializers import OutcomeChangeSerializer
        from outcomes.history import outcome_changes
        from pledges.api.serializers import register_changes_field
        from pledges.history import register_change_section

        register_change_section("outcomes", outcome_changes, "outcome_id")
        register_changes_field("outcomes", OutcomeChangeSerializer(
            many=True,
            help_text="Meeting outcomes recorded, closed (done or dropped), opened again, changed or removed."))
