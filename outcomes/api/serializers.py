"""The outcomes as the API shows and takes them: the owner by its country code (null: the secretariat)."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from meetings.models import Meeting
from outcomes.history import OUTCOME_CHANGE_KINDS
from outcomes.models import Outcome, OutcomeKind, OutcomeStatus
from pledges.api.time import DayField
from pledges.models import Country
from utilities.api import IdField, RejectUnknownFieldsMixin
from utilities.text import LONG_TEXT

OUTCOME_FIELDS = ("id", "meeting", "coalition", "kind", "text", "owner", "due_on", "status", "note", "closed_on",
                  "is_overdue", "version", "created_at", "updated_at")
OUTCOME_COLUMNS = OUTCOME_FIELDS  # the CSV's, in this order
_CODE = re.compile(r"^[A-Za-z]{2}$")


@extend_schema_field(OpenApiTypes.STR)
class CountryCodeField(serializers.Field):  # type: ignore[type-arg]
    """A country by its ISO code (any case), or null."""

    default_error_messages = {
        "invalid": gettext_lazy("Give a country's two-letter code, such as PL (null: the secretariat)."),
        "unknown": gettext_lazy("Unknown country code."),
    }

    def to_internal_value(self, data: Any) -> Country:
        if not isinstance(data, str) or not _CODE.match(data):
            self.fail("invalid")
        country = Country.objects.filter(code=data.upper()).first()
        if country is None:
            self.fail("unknown")
        return country

    def to_representation(self, value: Country) -> str:
        return value.code


class OutcomeSerializer(serializers.ModelSerializer):
    meeting = serializers.IntegerField(source="meeting_id", read_only=True)
    coalition = serializers.IntegerField(source="meeting.coalition_id", read_only=True,
                                         help_text="The meeting's coalition.")
    owner = serializers.CharField(source="owner.code", read_only=True, allow_null=True, default=None,
                                  help_text="The country that must act (ISO code); null: the secretariat, or a "
                                            "decision.")
    is_overdue = serializers.BooleanField(read_only=True, help_text="An open action whose due day has passed.")

    class Meta:
        model = Outcome
        fields = OUTCOME_FIELDS
        read_only_fields = OUTCOME_FIELDS


class OutcomeUpdateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    refused_fields = {
        "meeting": gettext_lazy("An outcome cannot move to another meeting."),
        "closed_on": gettext_lazy("Set from the status: the day it is done or dropped."),
    }

    kind = serializers.ChoiceField(choices=OutcomeKind.choices, required=False,
                                   help_text="decision (recorded as said) or action (an owner, a due day, a status).")
    text = serializers.CharField(max_length=LONG_TEXT, help_text="The decision as said, or what must be done.")
    owner = CountryCodeField(required=False, allow_null=True,
                             help_text="Actions only: a member country's ISO code, or null for the secretariat.")
    due_on = DayField(required=False, allow_null=True, help_text="Actions only: the day it is due.")
    status = serializers.ChoiceField(choices=OutcomeStatus.choices, required=False,
                                     help_text="recorded (decisions); open, done or dropped (actions; default open). "
                                               "The owner country's staff may set done, or open again.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=LONG_TEXT,
                                 help_text="How it went; the owner country's staff may write it.")


class OutcomeCreateSerializer(OutcomeUpdateSerializer):
    refused_fields = {"closed_on": OutcomeUpdateSerializer.refused_fields["closed_on"]}

    meeting = IdField(queryset=Meeting.objects.all(), help_text="The meeting's id.")
    kind = serializers.ChoiceField(choices=OutcomeKind.choices,
                                   help_text="decision (recorded as said) or action (an owner, a due day, a status).")


class OutcomeChangeSerializer(serializers.Serializer):
    outcome_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=OUTCOME_CHANGE_KINDS)
    meeting = serializers.IntegerField()
    outcome_kind = serializers.ChoiceField(choices=OutcomeKind.choices)
    text = serializers.CharField()
    owner = serializers.CharField(allow_null=True, help_text="ISO code; null: the secretariat, or a decision.")
    due_on = serializers.DateField(allow_null=True)
    status_before = serializers.CharField(allow_null=True)
    status_after = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField()
