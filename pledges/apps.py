from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PledgesConfig(AppConfig):
    name = "pledges"
    verbose_name = _("Pledges")

    def ready(self) -> None:
        from pledges.metrics import DataVersionCollector
        from utilities.metrics import at_scrape

        at_scrape(DataVersionCollector())
