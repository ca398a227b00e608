"""Meeting outcomes: the secretariat records and edits them; the owner country's staff close their own actions;
every member of the coalition reads them (anyone else: 404)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import Reader, is_ministry, is_secretariat
from outcomes import services
from outcomes.api.filters import OutcomeFilterSet
from outcomes.api.serializers import (
    OUTCOME_COLUMNS,
    OutcomeCreateSerializer,
    OutcomeSerializer,
    OutcomeUpdateSerializer,
)
from outcomes.models import Outcome
from outcomes.selectors import outcomes_visible_to
from utilities.api import IF_MATCH_PARAMETER, VersionedObjectMixin, WritesInOneTransaction
from utilities.csv_export import CSVListMixin, CSVRenderer

FORMAT_PARAMETER = OpenApiParameter(
    name="format", type=OpenApiTypes.STR, location=OpenApiParameter.QUERY, required=False, enum=["json", "csv"],
    description="`csv`: every matching outcome (no pages), columns: " + ", ".join(OUTCOME_COLUMNS) + ".",
)


class OutcomeCSVRenderer(CSVRenderer):
    """The outcomes as CSV, columns in OUTCOME_COLUMNS order (cells a spreadsheet would run quoted)."""

    columns = OUTCOME_COLUMNS


def may_write(user: Reader) -> bool:
    """The secretariat records and edits; ministry staff close their own country's actions (the service says
    which)."""
    return is_secretariat(user) or is_ministry(user)


@extend_schema_view(
    list=extend_schema(parameters=[FORMAT_PARAMETER]),
    create=extend_schema(request=OutcomeCreateSerializer, responses={201: OutcomeSerializer}),
    update=extend_schema(request=OutcomeUpdateSerializer, responses={200: OutcomeSerializer},
                         parameters=[IF_MATCH_PARAMETER]),
    partial_update=extend_schema(request=OutcomeUpdateSerializer, responses={200: OutcomeSerializer},
                                 parameters=[IF_MATCH_PARAMETER]),
)
class OutcomeViewSet(CSVListMixin, WritesInOneTransaction, VersionedObjectMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """What meetings decided and who must do what by when: decisions, and actions with their owner (a member
    country, or null for the secretariat), due day and status (open, done, dropped; overdue when open after its
    day). The secretariat records and edits them (If-Match); the owner country's ministry staff set their own
    action's status (done) and note, nothing else; every member of the meeting's coalition reads them.
    `?format=csv` on the list: every matching outcome."""

    serializer_class = OutcomeSerializer
    csv_renderer_class = OutcomeCSVRenderer
    csv_filename = "outcomes.csv"
    filterset_class = OutcomeFilterSet
    may_write = staticmethod(may_write)

    def get_queryset(self) -> QuerySet[Outcome]:
        return outcomes_visible_to(self.request.user).order_by("meeting__starts_at", "meeting_id", "id")

    def _answer(self, outcome_id: int, code: int = status.HTTP_200_OK) -> Response:
        outcome = self.get_queryset().get(pk=outcome_id)
        return self.with_etag(Response(OutcomeSerializer(outcome).data, status=code), outcome)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = OutcomeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = services.outcome_record(actor=request.user, **serializer.validated_data)
        return self._answer(outcome.pk, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        outcome = self.get_object()
        expected, changes = self.changes_asked(outcome, read=OutcomeSerializer, write=OutcomeUpdateSerializer,
                                               defaults={"owner": None, "due_on": None, "note": ""}, partial=partial)
        services.outcome_update(actor=request.user, outcome=outcome, expected_version=expected, **changes)
        return self._answer(outcome.pk)
