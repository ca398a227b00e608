"""Meeting and brief representations; the write serializer only validates input for the services."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from coalition.api import RejectUnknownFieldsMixin
from meetings.models import AgendaItem, Brief, Invitation, Meeting, MeetingKind, MeetingStatus
from pledges.models import Coalition, Country


class InvitationSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", read_only=True)
    country_name = serializers.CharField(source="country.name", read_only=True)

    class Meta:
        model = Invitation
        fields = ["country", "country_name", "status", "head_of_delegation", "level"]


class AgendaItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgendaItem
        fields = ["id", "position", "title", "description"]


class MeetingSerializer(serializers.ModelSerializer):
    chairs = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = Meeting
        fields = ["id", "coalition", "title", "kind", "status", "starts_at", "ends_at", "time_zone", "place",
                  "chairs", "outcome_notes", "version"]


class MeetingDetailSerializer(MeetingSerializer):
    invitations = InvitationSerializer(many=True, read_only=True)
    agenda = AgendaItemSerializer(many=True, read_only=True, source="agenda_items")
    attendance = serializers.SerializerMethodField()

    class Meta(MeetingSerializer.Meta):
        fields = [*MeetingSerializer.Meta.fields, "attendance", "invitations", "agenda"]

    def get_attendance(self, meeting: Meeting) -> dict[str, int]:
        counts = {"invited": 0, "confirmed": 0, "declined": 0, "attended": 0}
        for invitation in meeting.invitations.all():
            counts["invited"] += 1
            if invitation.status in counts and invitation.status != "invited":
                counts[invitation.status] += 1
        return counts


class MeetingWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Input of POST and PATCH; the services validate the rest (end after start, chairs are members...)."""

    coalition = serializers.PrimaryKeyRelatedField(queryset=Coalition.objects.all())
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=MeetingKind.choices, default=MeetingKind.MINISTERIAL)
    status = serializers.ChoiceField(choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    time_zone = serializers.CharField(max_length=64, default="Europe/Brussels")
    place = serializers.CharField(max_length=200, allow_blank=True, default="")
    chairs = serializers.SlugRelatedField(  # type: ignore[var-annotated]
        slug_field="code", many=True, queryset=Country.objects.all(), default=list,  # type: ignore[arg-type]
    )
    outcome_notes = serializers.CharField(allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.partial and "coalition" in attrs:
            raise serializers.ValidationError({"coalition": "A meeting cannot move to another coalition."})
        return attrs


class BriefSerializer(serializers.ModelSerializer):
    meeting_title = serializers.CharField(source="meeting.title", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, default=None)
    pdf_url = serializers.SerializerMethodField()
    xlsx_url = serializers.SerializerMethodField()

    class Meta:
        model = Brief
        fields = ["id", "meeting", "meeting_title", "number", "status", "progress", "as_of", "error",
                  "requested_by", "attempts", "created_at", "started_at", "finished_at", "pdf_url", "xlsx_url"]

    def _url(self, brief: Brief, name: str) -> str | None:
        if not brief.is_ready:
            return None
        path = reverse(name, kwargs={"pk": brief.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_pdf_url(self, brief: Brief) -> str | None:
        return self._url(brief, "brief-pdf")

    def get_xlsx_url(self, brief: Brief) -> str | None:
        return self._url(brief, "brief-xlsx")
