"""The force in time and under conditions, as the API reads and answers it: `on`, `assume`, the timeline."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer

from pledges.models import ConditionStatus
from pledges.scenarios import NO_ASSUMPTIONS, Assumptions, parse_assumptions
from pledges.timeline import MAX_MONTHS
from utilities.api import MomentField

FIRST_DAY, LAST_DAY = dt.date(1990, 1, 1), dt.date(2100, 12, 31)  # outside them a day is a typo
ASSUME_HELP = ("A scenario: the force as if these conditions had this status, `ID:met,ID:failed` (ids of the "
               "coalition's conditions; `open` too). Nothing is written.")


class AssumeField(serializers.CharField):
    """`assume=ID:met,ID:failed`, checked against the coalition of the view (context `coalition`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_blank=True, max_length=2000, help_text=ASSUME_HELP, **kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Assumptions:  # type: ignore[override]
        text = super().run_validation(data)  # a string of at most max_length
        try:
            return parse_assumptions(text, coalition=self.context["coalition"])
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


class DayField(serializers.DateField):
    def to_internal_value(self, value: Any) -> dt.date:
        day = super().to_internal_value(value)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise serializers.ValidationError(_("Give a day from %(first)s to %(last)s.") % {
                "first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()})
        return day


class MonthField(serializers.CharField):
    """`YYYY-MM` -> the first day of that month."""

    def to_internal_value(self, data: Any) -> dt.date:  # type: ignore[override]
        text = super().to_internal_value(data).strip()
        try:
            month = dt.datetime.strptime(text, "%Y-%m").date()  # noqa: DTZ007 (a month, no time of day)
        except ValueError:
            raise serializers.ValidationError(_("Give a month as YYYY-MM, e.g. 2026-03.")) from None
        if not FIRST_DAY <= month <= LAST_DAY or len(text) != 7:
            raise serializers.ValidationError(_("Give a month as YYYY-MM, e.g. 2026-03."))
        return month


class ForceQuerySerializer(serializers.Serializer):
    as_of = MomentField(required=False, help_text="The figures as they had been recorded by this moment (ISO 8601).")
    on = DayField(required=False, help_text="Count only the offered pledges available on this day (YYYY-MM-DD): "
                                            "from `available_from` to `available_until`, an empty bound open.")
    assume = AssumeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("assume", NO_ASSUMPTIONS)
        return attrs


class TimelineQuerySerializer(ForceQuerySerializer):
    on = None  # type: ignore[assignment]  # a timeline covers its months, not one day
    start = MonthField(required=False, help_text="The first month, YYYY-MM (default: the current month).")
    months = serializers.IntegerField(required=False, default=12, min_value=1, max_value=MAX_MONTHS,
                                      help_text=f"How many months, 1 to {MAX_MONTHS} (default 12).")
    format = serializers.ChoiceField(choices=["json", "csv"], required=False,
                                     help_text="`csv`: one row per capability and month.")


class ConditionAmountSerializer(serializers.Serializer):
    category = serializers.CharField()
    category_name = serializers.CharField()
    unit = serializers.CharField()
    offered = serializers.IntegerField(help_text="Offered (and available that day) under a caveat naming it.")
    committed = serializers.IntegerField(help_text="Of those, confirmed or deployed.")
    pledge_count = serializers.IntegerField()


class ConditionLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=ConditionStatus.choices, help_text="As counted: recorded or assumed.")
    recorded_status = serializers.ChoiceField(choices=ConditionStatus.choices)
    decided_on = serializers.DateField(allow_null=True)
    assumed = serializers.BooleanField(help_text="The scenario assumes a status other than the recorded one.")
    capabilities = ConditionAmountSerializer(many=True, help_text="What hangs on it per capability: counted while "
                                                                  "open or met, fallen with it when failed.")


class MonthFiguresSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    offered = serializers.IntegerField(help_text="The lowest daily total offered (indicative, confirmed, deployed).")
    committed = serializers.IntegerField(help_text="The lowest daily total confirmed or deployed.")
    conditional = serializers.IntegerField(help_text="The lowest daily total of the offered that is conditional.")
    gap = serializers.IntegerField(allow_null=True, help_text="Requirement minus `committed`; null without one.")


class CapabilityTimelineSerializer(serializers.Serializer):
    category = serializers.CharField()
    category_name = serializers.CharField()
    unit = serializers.CharField()
    requirement = serializers.IntegerField(allow_null=True)
    months = MonthFiguresSerializer(many=True)


class HandoverSerializer(serializers.Serializer):
    relieved = serializers.IntegerField(help_text="The pledge that ends.")
    relieving = serializers.IntegerField(help_text="The pledge that takes over.")
    ends_on = serializers.DateField(allow_null=True)
    starts_on = serializers.DateField(allow_null=True)
    uncovered_days = serializers.IntegerField(allow_null=True, help_text="Days with neither; negative: overlap.")
    category = serializers.CharField()
    unit = serializers.CharField()
    relieved_country = serializers.CharField()
    relieving_country = serializers.CharField()


class EndingUnrelievedSerializer(serializers.Serializer):
    pledge = serializers.IntegerField()
    country = serializers.CharField()
    category = serializers.CharField()
    unit = serializers.CharField()
    quantity = serializers.IntegerField()
    ends_on = serializers.DateField()


class TimelineSerializer(serializers.Serializer):
    coalition = serializers.IntegerField()
    as_of = serializers.DateTimeField()
    start = serializers.CharField(help_text="YYYY-MM")
    months = serializers.IntegerField()
    assumed = serializers.DictField(child=serializers.CharField(), help_text="The scenario: condition id -> status.")
    capabilities = CapabilityTimelineSerializer(many=True)
    handovers = HandoverSerializer(many=True)
    ending_unrelieved = EndingUnrelievedSerializer(many=True)


TIMELINE_CSV_COLUMNS = ("category", "unit", "month", "requirement", "offered", "committed", "conditional", "gap")


class TimelineCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(TIMELINE_CSV_COLUMNS)
        for line in (data or {}).get("capabilities", []):
            for month in line["months"]:
                row = {**line, **month}
                writer.writerow(["" if row[name] is None else row[name] for name in TIMELINE_CSV_COLUMNS])
        return out.getvalue().encode("utf-8")
