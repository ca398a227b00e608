"""The meetings API: viewsets, thin callers of meetings.selectors (reads) and meetings.services (writes).

A meeting's invitations, agenda and briefs are viewsets of their own under `meetings/{pk}/` (meetings.api.urls).
Changing an invitation or an agenda item raises the meeting's version, so their If-Match takes the meeting's ETag.
In the OpenAPI schema a viewset's docstring describes its collection; extend_schema_view describes one object's
operations.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from accounts.roles import is_secretariat
from meetings import services
from meetings.api.serializers import (
    AgendaItemSerializer,
    AgendaItemWriteSerializer,
    BriefRequestSerializer,
    BriefSerializer,
    InvitationChangeSerializer,
    InvitationSerializer,
    InvitationWriteSerializer,
    MeetingDetailSerializer,
    MeetingSerializer,
    MeetingWriteSerializer,
)
from meetings.models import AgendaItem, Brief, Invitation, Meeting
from meetings.selectors import briefs_visible_to, may_see_briefs, meeting_detail_queryset, meetings_visible_to
from utilities.api import (
    IF_MATCH_PARAMETER,
    VersionedObjectMixin,
    WritesInOneTransaction,
    as_read,
    writable_fields,
)
from utilities.versioning import check_version


class BriefNotReady(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The brief is not ready yet.")
    default_code = "not_ready"


# --- meetings ----------------------------------------------------------------------------------

MEETING = "One meeting with its invitations and agenda; the secretariat changes it, PATCH or PUT (If-Match honoured)."


@extend_schema_view(
    create=extend_schema(request=MeetingWriteSerializer, responses={201: MeetingDetailSerializer}),
    retrieve=extend_schema(description=MEETING),
    partial_update=extend_schema(request=MeetingWriteSerializer, responses={200: MeetingDetailSerializer},
                                 parameters=[IF_MATCH_PARAMETER], description=MEETING),
    update=extend_schema(request=MeetingWriteSerializer, responses={200: MeetingDetailSerializer},
                         parameters=[IF_MATCH_PARAMETER],
                         description="Replace the meeting: what the body leaves out takes its default (PATCH keeps "
                         "it)."),
)
class MeetingViewSet(WritesInOneTransaction, VersionedObjectMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Meetings the user may see (newest first); the secretariat creates them."""

    lookup_value_converter = "int"
    may_write = staticmethod(is_secretariat)

    def get_queryset(self) -> QuerySet[Meeting]:
        if self.detail:  # by URL, not action: OPTIONS (no action) reads the URL's own
            return meeting_detail_queryset(self.request.user)
        return meetings_visible_to(self.request.user).order_by("-starts_at", "id")

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return MeetingDetailSerializer if self.detail else MeetingSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = MeetingWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = services.meeting_create(actor=request.user, **data.validated_data)
        meeting = meeting_detail_queryset(request.user).get(pk=meeting.pk)
        return self.with_etag(Response(MeetingDetailSerializer(meeting).data, status=status.HTTP_201_CREATED), meeting)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.change(request, partial=False)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.change(request, partial=True)

    def change(self, request: Request, *, partial: bool) -> Response:
        meeting = self.get_object()
        expected = self.expected_version(meeting)
        body = as_read(request.data, read=MeetingDetailSerializer(meeting).data,
                       writable=writable_fields(MeetingWriteSerializer) - {"coalition"})
        if not partial and isinstance(body, dict):
            body = {"coalition": meeting.coalition_id, **body}  # a whole meeting names its (unchanging) coalition
        data = MeetingWriteSerializer(data=body, partial=partial)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if changes.get("coalition") == meeting.coalition:
            del changes["coalition"]  # another one is refused by the service, naming it
        services.meeting_update(actor=request.user, meeting=meeting, expected_version=expected, **changes)
        meeting = self.get_queryset().get(pk=meeting.pk)
        return self.with_etag(Response(MeetingDetailSerializer(meeting).data), meeting)


# --- a meeting's invitations and agenda --------------------------------------------------------

class _MeetingPartViewSet(WritesInOneTransaction, VersionedObjectMixin, viewsets.GenericViewSet):
    """A part of a meeting (its invitations, its agenda): everyone who sees the meeting reads it; the secretariat
    changes it. A change raises the meeting's version, so If-Match takes the meeting's ETag."""

    may_write = staticmethod(is_secretariat)

    def meeting(self) -> Meeting:
        if not hasattr(self, "_meeting"):
            visible = meetings_visible_to(self.request.user).prefetch_related(None)
            self._meeting: Meeting = get_object_or_404(visible, pk=self.kwargs["pk"])
        return self._meeting

    @contextmanager
    def meeting_write(self) -> Iterator[Meeting]:
        """One transaction with the meeting locked and If-Match checked against its version."""
        with transaction.atomic():
            locked = Meeting.objects.select_for_update().get(pk=self.meeting().pk)
            check_version(locked, self.expected_version(locked))
            yield locked

    def with_meeting_etag(self, response: Response) -> Response:
        return self.with_etag(response, Meeting.objects.only("version").get(pk=self.meeting().pk))


INVITATION = ("One country's invitation: PATCH (or PUT) changes its answer, head of delegation or level; DELETE "
              "un-invites.")


@extend_schema_view(
    create=extend_schema(request=InvitationWriteSerializer,
                         responses={201: InvitationSerializer, 200: OpenApiResponse(InvitationSerializer, "Changed.")},
                         parameters=[IF_MATCH_PARAMETER]),
    retrieve=extend_schema(description=INVITATION),
    partial_update=extend_schema(request=InvitationChangeSerializer, responses={200: InvitationSerializer},
                                 parameters=[IF_MATCH_PARAMETER], description=INVITATION),
    update=extend_schema(request=InvitationChangeSerializer, responses={200: InvitationSerializer},
                         parameters=[IF_MATCH_PARAMETER],
                         description="Replace the invitation: what the body leaves out takes its default (PATCH keeps "
                         "it)."),
    destroy=extend_schema(request=None, responses={204: None}, parameters=[IF_MATCH_PARAMETER],
                          description=INVITATION),
)
class MeetingInvitationViewSet(mixins.ListModelMixin, _MeetingPartViewSet):
    """The countries invited to a meeting (by name); POST invites a member country or changes its invitation."""

    serializer_class = InvitationSerializer
    lookup_url_kwarg = "country_code"
    lookup_value_converter = "str"

    def get_queryset(self) -> QuerySet[Invitation]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no meeting id
            return Invitation.objects.none()
        return Invitation.objects.filter(meeting=self.meeting()).select_related("country").order_by("country__name")

    def get_object(self) -> Invitation:
        """The invitation of the country whose code (in either case) is in the URL."""
        code = str(self.kwargs["country_code"])
        if not (len(code) == 2 and code.isascii() and code.isalpha()):
            raise exceptions.NotFound(_("No such country."))
        return get_object_or_404(self.get_queryset(), country__code=code.upper())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = InvitationWriteSerializer(data=request.data, context={"meeting": self.meeting()})
        data.is_valid(raise_exception=True)
        with self.meeting_write() as meeting:
            existed = Invitation.objects.filter(meeting=meeting, country=data.validated_data["country"]).exists()
            invitation = services.invitation_set(actor=request.user, meeting=meeting, **data.validated_data)
        invitation = self.get_queryset().get(pk=invitation.pk)
        answer = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return self.with_meeting_etag(Response(InvitationSerializer(invitation).data, status=answer))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(InvitationSerializer(self.get_object()).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.change(request, partial=False)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.change(request, partial=True)

    def change(self, request: Request, *, partial: bool) -> Response:
        invitation = self.get_object()
        body = as_read(request.data, read=InvitationSerializer(invitation).data,
                       writable=writable_fields(InvitationChangeSerializer))
        data = InvitationChangeSerializer(data=body, partial=partial, context={"meeting": self.meeting()})
        data.is_valid(raise_exception=True)
        values = {"status": invitation.status, "head_of_delegation": invitation.head_of_delegation,
                  "level": invitation.level, **data.validated_data}  # a PUT's are all there, defaults included
        with self.meeting_write() as meeting:
            services.invitation_set(actor=request.user, meeting=meeting, country=invitation.country, **values)
        return self.with_meeting_etag(Response(InvitationSerializer(self.get_object()).data))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        invitation = self.get_object()
        with self.meeting_write():
            services.invitation_remove(actor=request.user, invitation=invitation)
        return self.with_meeting_etag(Response(status=status.HTTP_204_NO_CONTENT))


AGENDA_ITEM = ("One agenda item: PATCH (or PUT) changes its title or description, or moves it (`position`); DELETE "
               "removes it.")


@extend_schema_view(
    create=extend_schema(request=AgendaItemWriteSerializer, responses={201: AgendaItemSerializer},
                         parameters=[IF_MATCH_PARAMETER]),
    retrieve=extend_schema(description=AGENDA_ITEM),
    partial_update=extend_schema(request=AgendaItemWriteSerializer, responses={200: AgendaItemSerializer},
                                 parameters=[IF_MATCH_PARAMETER], description=AGENDA_ITEM),
    update=extend_schema(request=AgendaItemWriteSerializer, responses={200: AgendaItemSerializer},
                         parameters=[IF_MATCH_PARAMETER],
                         description="Replace the item's title and description (an empty one if left out); "
                         "`position` moves it, or it stays where it is."),
    destroy=extend_schema(request=None, responses={204: None}, parameters=[IF_MATCH_PARAMETER],
                          description=AGENDA_ITEM),
)
class MeetingAgendaViewSet(mixins.ListModelMixin, _MeetingPartViewSet):
    """A meeting's agenda in order; POST adds an item (last, or at `position`, moving the rest down)."""

    serializer_class = AgendaItemSerializer
    lookup_url_kwarg = "item_id"
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[AgendaItem]:
        if getattr(self, "swagger_fake_view", False):
            return AgendaItem.objects.none()
        return AgendaItem.objects.filter(meeting=self.meeting()).order_by("position")

    def get_object(self) -> AgendaItem:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["item_id"])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.meeting()
        data = AgendaItemWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with self.meeting_write() as meeting:
            item = services.agenda_item_add(actor=request.user, meeting=meeting, **data.validated_data)
        item.refresh_from_db()
        response = Response(AgendaItemSerializer(item).data, status=status.HTTP_201_CREATED)
        return self.with_meeting_etag(response)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(AgendaItemSerializer(self.get_object()).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.change(request, partial=False)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.change(request, partial=True)

    def change(self, request: Request, *, partial: bool) -> Response:
        item = self.get_object()
        body = as_read(request.data, read=AgendaItemSerializer(item).data,
                       writable=writable_fields(AgendaItemWriteSerializer))
        data = AgendaItemWriteSerializer(data=body, partial=partial)
        data.is_valid(raise_exception=True)
        changes = data.validated_data
        with self.meeting_write():
            if "title" in changes or "description" in changes:
                item = services.agenda_item_update(
                    actor=request.user, item=item, title=changes.get("title", item.title),
                    description=changes.get("description", item.description),
                )
            if "position" in changes:
                item = services.agenda_item_move(actor=request.user, item=item, position=changes["position"])
        return self.with_meeting_etag(Response(AgendaItemSerializer(self.get_object()).data))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        with self.meeting_write():
            services.agenda_item_remove(actor=request.user, item=item)
        return self.with_meeting_etag(Response(status=status.HTTP_204_NO_CONTENT))


# --- briefs ------------------------------------------------------------------------------------

@extend_schema_view(create=extend_schema(request=BriefRequestSerializer, responses={202: BriefSerializer}))
class MeetingBriefViewSet(WritesInOneTransaction, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A meeting's briefs (secretariat and analysts); POST asks for a new one, compiled in the background."""

    serializer_class = BriefSerializer
    may_write = staticmethod(is_secretariat)

    def meeting(self) -> Meeting:
        return get_object_or_404(meetings_visible_to(self.request.user), pk=self.kwargs["pk"])

    def get_queryset(self) -> QuerySet[Brief]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no meeting id
            return Brief.objects.none()
        meeting = self.meeting()
        if not may_see_briefs(self.request.user):
            raise exceptions.PermissionDenied(_("Briefs are for the secretariat and analysts."))
        return briefs_visible_to(self.request.user).filter(meeting=meeting).order_by("-number")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Queue a new brief. `language`: "en" or "fr" (default: yours)."""
        asked = BriefRequestSerializer(data=request.data or {})
        asked.is_valid(raise_exception=True)
        brief = services.brief_request(actor=request.user, meeting=self.meeting(),
                                       language=asked.validated_data.get("language"))
        brief = briefs_visible_to(request.user).get(pk=brief.pk)
        response = Response(BriefSerializer(brief, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = request.build_absolute_uri(reverse("brief-detail", kwargs={"pk": brief.pk}))
        return response


BRIEF_FILES = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@extend_schema_view(
    retrieve=extend_schema(description="A brief's status (queued, running, ready, failed), progress in per cent and "
                           "error."),
)
class BriefViewSet(WritesInOneTransaction, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """All briefs you may see, newest first (secretariat and analysts; ministry staff get 403, as for a
    meeting's briefs)."""

    serializer_class = BriefSerializer
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Brief]:
        if self.detail:  # one brief (its status or a file): one the user may see, else a 404
            return briefs_visible_to(self.request.user)
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no user
            return Brief.objects.none()
        if not may_see_briefs(self.request.user):
            raise exceptions.PermissionDenied(_("Briefs are for the secretariat and analysts."))
        return briefs_visible_to(self.request.user).order_by("-created_at", "-id")

    @extend_schema(responses={(200, BRIEF_FILES["pdf"]): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
                              409: OpenApiResponse(description="Not ready yet.")})
    def pdf(self, request: Request, pk: int) -> HttpResponse:
        """Download the brief as PDF (secretariat and analysts)."""
        return self.download(pk, "pdf")

    @extend_schema(responses={
        (200, BRIEF_FILES["xlsx"]): OpenApiResponse(OpenApiTypes.BINARY, description="The XLSX data annex."),
        409: OpenApiResponse(description="Not ready yet."),
    })
    def xlsx(self, request: Request, pk: int) -> HttpResponse:
        """Download the brief's XLSX data annex (secretariat and analysts)."""
        return self.download(pk, "xlsx")

    def download(self, pk: int, extension: str) -> HttpResponse:
        brief = get_object_or_404(self.get_queryset(), pk=pk)
        if not brief.is_ready:
            raise BriefNotReady(_("Brief %(id)s is %(status)s; download it when it is ready.") % {
                "id": brief.pk, "status": brief.status})
        content = Brief.objects.filter(pk=brief.pk).values_list(extension, flat=True).get()
        response = HttpResponse(bytes(content), content_type=BRIEF_FILES[extension])
        response["Content-Disposition"] = f'attachment; filename="{brief.filename(extension)}"'
        return response
