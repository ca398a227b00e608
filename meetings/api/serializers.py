"""Meeting and brief representations; the write serializer only validates input for the services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from meetings.models import (
    AgendaItem,
    Brief,
    DelegationLevel,
    Invitation,
    InvitationStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
)
from pledges.models import Coalition, Country, Membership
from utilities.api import IdField, RejectUnknownFieldsMixin
from utilities.text import LINE, LONG_TEXT

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class InvitationSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", read_only=True)
    country_name = serializers.CharField(source="country.name", read_only=True)

    class Meta:
        model = Invitation
        fields = ["country", "country_name", "status", "head_of_delegation", "level"]
        read_only_fields = fields  # a reading shape: writes have their own (InvitationWriteSerializer)


class AgendaItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgendaItem
        fields = ["id", "position", "title", "description"]
        read_only_fields = fields


class MeetingSerializer(serializers.ModelSerializer):
    chairs = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = Meeting
        fields = ["id", "coalition", "title", "kind", "status", "starts_at", "ends_at", "time_zone", "place",
                  "chairs", "outcome_notes", "version"]
        read_only_fields = fields  # writes: MeetingWriteSerializer


class MeetingDetailSerializer(MeetingSerializer):
    invitations = InvitationSerializer(many=True, read_only=True)
    agenda = AgendaItemSerializer(many=True, read_only=True, source="agenda_items")
    attendance = serializers.SerializerMethodField()

    class Meta(MeetingSerializer.Meta):
        fields = [*MeetingSerializer.Meta.fields, "attendance", "invitations", "agenda"]
        read_only_fields = fields

    def get_attendance(self, meeting: Meeting) -> dict[str, int]:
        counts = {"invited": 0, "confirmed": 0, "declined": 0, "attended": 0}
        for invitation in meeting.invitations.all():
            counts["invited"] += 1
            if invitation.status in counts and invitation.status != "invited":
                counts[invitation.status] += 1
        return counts


class MeetingWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Input of POST and PATCH; the services validate the rest (end after start, chairs are members...)."""

    coalition = IdField(queryset=Coalition.objects.all())
    title = serializers.CharField(max_length=200, validators=LINE)
    kind = serializers.ChoiceField(choices=MeetingKind.choices, default=MeetingKind.MINISTERIAL)
    status = serializers.ChoiceField(choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    time_zone = serializers.CharField(max_length=64, default="Europe/Brussels", validators=LINE)
    place = serializers.CharField(max_length=200, allow_blank=True, default="", validators=LINE)
    chairs = serializers.SlugRelatedField(  # type: ignore[var-annotated]
        slug_field="code", many=True, queryset=Country.objects.all(), default=list,  # type: ignore[arg-type]
    )
    outcome_notes = serializers.CharField(allow_blank=True, default="", max_length=LONG_TEXT)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.partial and "coalition" in attrs:
            raise serializers.ValidationError({"coalition": _("A meeting cannot move to another coalition.")})
        return attrs


class CountryCodeField(serializers.SlugRelatedField):  # type: ignore[type-arg]
    """A country by its ISO code, in either case."""

    def to_internal_value(self, data: Any) -> Country:
        return super().to_internal_value(data.upper() if isinstance(data, str) else data)  # type: ignore[no-any-return]


class InvitationWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Input of POST .../invitations/ (and, without `country`, of PATCH): the services validate the rest.

    The meeting is in the context (`meeting`); the country must be a member of its coalition.
    """

    country = CountryCodeField(slug_field="code", queryset=Country.objects.all())
    status = serializers.ChoiceField(choices=InvitationStatus.choices, default=InvitationStatus.INVITED)
    head_of_delegation = serializers.CharField(max_length=200, allow_blank=True, default="", validators=LINE)
    level = serializers.ChoiceField(choices=DelegationLevel.choices, allow_blank=True, default="")

    def validate_country(self, country: Country) -> Country:
        meeting: Meeting = self.context["meeting"]
        if not Membership.objects.filter(coalition_id=meeting.coalition_id, country=country).exists():
            raise serializers.ValidationError(_("%(country)s is not a member of %(coalition)s.") % {
                "country": country.name, "coalition": meeting.coalition})
        return country


class InvitationChangeSerializer(InvitationWriteSerializer):
    """Input of PATCH .../invitations/{country_code}/: the country is the one in the URL."""

    refused_fields: ClassVar[dict[str, StrOrPromise]] = {
        "country": _("The country is the one in the URL; remove this invitation and invite the other country."),
    }

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        del fields["country"]
        return fields


class AgendaItemWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Input of POST .../agenda/ and PATCH .../agenda/{item_id}/ (where `position` moves the item)."""

    title = serializers.CharField(max_length=300, validators=LINE)
    description = serializers.CharField(allow_blank=True, default="", max_length=LONG_TEXT)
    position = serializers.IntegerField(
        min_value=1, max_value=32767, required=False, help_text="1 = first; by default the item goes last.",
    )


class BriefRequestSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    language = serializers.ChoiceField(
        choices=["en", "fr"], required=False,
        error_messages={"invalid_choice": _("A brief is written in English (en) or French (fr).")},
        help_text="The brief's language: headings, labels, dates and numbers (default: the requesting user's).")


class BriefSerializer(serializers.ModelSerializer):
    meeting_title = serializers.CharField(source="meeting.title", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, default=None)
    pdf_url = serializers.SerializerMethodField()
    xlsx_url = serializers.SerializerMethodField()

    class Meta:
        model = Brief
        fields = ["id", "meeting", "meeting_title", "number", "language", "status", "progress", "as_of", "error",
                  "requested_by", "attempts", "created_at", "started_at", "finished_at", "pdf_url", "xlsx_url"]
        read_only_fields = fields  # briefs are made by the compile flow only

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
