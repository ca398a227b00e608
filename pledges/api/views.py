"""The pledges API: thin callers of pledges.visibility / pledges.selectors (reads) and pledges.services (writes).

Reads never start from Pledge.objects or Caveat.objects: every list and detail
comes from pledge_list / caveats_visible_to, so an object a user may not see
answers 404. Writes pass the If-Match version to the service, which checks it
under a row lock (412 when stale). CSV: `?format=csv` on the pledge list, with
the columns of pledges.columns.PLEDGE_CSV_COLUMNS in that order, unpaginated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, cast
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import is_ministry, is_secretariat
from pledges import answer_cache, services
from pledges.api import serializers as s
from pledges.api.filters import CaveatFilterSet, DeliveryFilterSet, PledgeFilterSet, RequirementFilterSet
from pledges.api.page_sql import count_and_page, writes_like_the_serializer
from pledges.api.rows import DELIVERY_LIST_FIELDS, delivery_list_rows
from pledges.api.time import ForceQuerySerializer, TimelineCSVRenderer, TimelineQuerySerializer, TimelineSerializer
from pledges.columns import DELIVERY_COLUMNS, PLEDGE_COLUMNS, PLEDGE_CSV_COLUMNS
from pledges.history import ChangesWindow
from pledges.models import CapabilityCategory, Coalition, Country, Delivery, Releasability, Requirement
from pledges.selectors import coalition_force, coalition_map, pledge_list
from pledges.timeline import coalition_timeline
from pledges.visibility import (
    caveats_visible_to,
    coalitions_visible_to,
    deliveries_editable_by,
    deliveries_visible_to,
    requirements_visible_to,
)
from utilities.api import (
    IF_MATCH_PARAMETER,
    MOMENT_HELP,
    PageNumberPagination,
    VersionedObjectMixin,
    WritesInOneTransaction,
    as_read,
    query_moment,
    writable_fields,
)
from utilities.api_renderers import PassThroughJSONRenderer, with_results
from utilities.csv_export import CSVListMixin, CSVRenderer, in_chunks
from utilities.kept_answers import KeptAnswers

AS_OF_PARAMETER = OpenApiParameter(
    name="as_of", type=OpenApiTypes.DATETIME, location=OpenApiParameter.QUERY, required=False,
    description=f"The pledge as it stood at this moment, from its history: {MOMENT_HELP}",
)
FORMAT_PARAMETER = OpenApiParameter(
    name="format", type=OpenApiTypes.STR, location=OpenApiParameter.QUERY, required=False, enum=["json", "csv"],
    description="`csv`: every matching pledge (no pages), columns: " + ", ".join(PLEDGE_COLUMNS) + ".",
)


# --- reference data --------------------------------------------------------------------------

class CountryViewSet(WritesInOneTransaction, viewsets.ReadOnlyModelViewSet):
    """Countries, looked up by ISO code."""

    queryset = Country.objects.order_by("name")
    serializer_class = s.CountrySerializer
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z]{2}"

    def get_object(self) -> Country:
        self.kwargs["code"] = self.kwargs["code"].upper()
        return super().get_object()


class CategoryViewSet(WritesInOneTransaction, viewsets.ReadOnlyModelViewSet):
    """Capability categories with the units each is counted in, looked up by code."""

    queryset = CapabilityCategory.objects.prefetch_related("units").order_by("sort_order", "code")
    serializer_class = s.CategorySerializer
    lookup_field = "code"


# What the force picture, the map and the timeline read from the query (kept answers are kept per these).
FORCE_READS = frozenset(ForceQuerySerializer().fields)
TIMELINE_READS = frozenset(TimelineQuerySerializer().fields)


class GeoJSONRenderer(JSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"


class CoalitionViewSet(KeptAnswers, WritesInOneTransaction, viewsets.ReadOnlyModelViewSet):
    """Coalitions (formats) with their member countries; `force/` gives totals and gaps."""

    serializer_class = s.CoalitionSerializer
    answer_clock = answer_cache.PLEDGE_DATA

    def get_queryset(self) -> QuerySet[Coalition]:
        coalitions = coalitions_visible_to(self.request.user).order_by("name")
        # Only the coalition's own answers list its members; force/ and map/ need the row alone.
        return coalitions.prefetch_related("members") if self.action in ("list", "retrieve") else coalitions

    @extend_schema(parameters=[ForceQuerySerializer], responses={200: s.ForceSerializer})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def force(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        """Requirement, confirmed, deployed, indicative and conditional amounts and the gap, per category and unit
        and per country, among the pledges you may see; `on` a day, `as_of` a moment, with conditions `assume`d;
        and per named condition, what hangs on it."""
        coalition = self.get_object()
        query = ForceQuerySerializer(data=request.query_params, context={"coalition": coalition})
        query.is_valid(raise_exception=True)
        read = query.validated_data
        if read.get("as_of") is None and (kept := self.kept_answer(request, reads=FORCE_READS, scope=coalition.pk)):
            return kept
        picture = coalition_force(coalition=coalition, user=request.user, as_of=read.get("as_of"),
                                  on=read.get("on"), assume=read["assume"])
        return Response(s.ForceSerializer(picture.as_dict()).data)

    @extend_schema(parameters=[TimelineQuerySerializer], responses={200: TimelineSerializer})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None,
            renderer_classes=[JSONRenderer, TimelineCSVRenderer])
    def timeline(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        """Month by month from `start`: per capability the requirement and the LOWEST daily offered, committed
        and conditional totals of each month (a one-day hole shows) and the gap; the handovers between rotations
        and the pledges ending with nobody relieving them. `?format=csv`: one row per capability and month."""
        coalition = self.get_object()
        query = TimelineQuerySerializer(data=request.query_params, context={"coalition": coalition})
        query.is_valid(raise_exception=True)
        read = query.validated_data
        if read.get("as_of") is None and (kept := self.kept_answer(request, reads=TIMELINE_READS,
                                                                   scope=coalition.pk)):
            return kept
        timeline = coalition_timeline(coalition=coalition, user=request.user, start=read.get("start"),
                                      months=read["months"], as_of=read.get("as_of"), assume=read["assume"])
        response = Response(TimelineSerializer(timeline.as_dict()).data)
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'attachment; filename="timeline-{coalition.pk}.csv"'
        return response

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if getattr(self.request, "accepted_renderer", None) is not None and \
                self.request.accepted_renderer.format == "csv":  # errors are JSON, even for ?format=csv
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return response

    @extend_schema(parameters=[ForceQuerySerializer], responses={200: s.ForceMapSerializer})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None, url_path="map",
            renderer_classes=[GeoJSONRenderer, JSONRenderer])
    def force_map(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        """Where the force stands, as GeoJSON: one Point per place with the offered pledges you may see there and
        the amounts per capability (live, or as of a moment)."""
        coalition = self.get_object()
        query = ForceQuerySerializer(data=request.query_params, context={"coalition": coalition})
        query.is_valid(raise_exception=True)
        read = query.validated_data
        if read.get("as_of") is None and (kept := self.kept_answer(request, reads=FORCE_READS, scope=coalition.pk)):
            return kept
        picture = coalition_map(coalition=coalition, user=request.user, as_of=read.get("as_of"), on=read.get("on"),
                                assume=read["assume"], with_ids=True)
        return Response(s.force_map_geojson(picture))


# --- pledges ---------------------------------------------------------------------------------

class PledgeCSVRenderer(CSVRenderer):
    """The pledge list as CSV, columns in PLEDGE_CSV_COLUMNS order; the place as its id and name."""

    columns = PLEDGE_CSV_COLUMNS

    def values(self, row: Mapping[str, Any]) -> list[Any]:
        place = row.get("place") or {}
        flat = {**row, "place": place.get("id"), "place_name": place.get("name")}
        return [flat.get(column) for column in self.columns]


class DeliveryCSVRenderer(CSVRenderer):
    """The tranches as CSV, columns in DELIVERY_COLUMNS order."""

    columns = DELIVERY_COLUMNS


class CountedRows:
    """values_list() rows for the paginator, counted by the model queryset: a COUNT over the values query would
    keep its joins and compute `is_conditional` for every matching pledge (20 ms instead of 1 at 200,000)."""

    def __init__(self, rows: QuerySet[Any], *, count: Callable[[], int]) -> None:
        self.rows, self._count = rows, count

    def count(self) -> int:
        return self._count()

    def __len__(self) -> int:
        return self._count()

    def __getitem__(self, key: slice) -> QuerySet[Any]:
        return self.rows[key]


# What a PUT that leaves them out sets.
CAVEAT_DEFAULTS: dict[str, Any] = {"rationale": "", "releasability": Releasability.SECRETARIAT, "condition": None}
PLEDGE_DEFAULTS: dict[str, Any] = {
    "description": "", "available_from": None, "available_until": None, "notice_to_move_days": None,
    "location": "", "place": None, "estimated_value_eur": None, "releasability": Releasability.SECRETARIAT,
    "is_illustrative": False, "relieves": None,
}


@extend_schema_view(
    list=extend_schema(parameters=[FORMAT_PARAMETER]),
    retrieve=extend_schema(parameters=[AS_OF_PARAMETER]),
    create=extend_schema(request=s.PledgeCreateSerializer, responses={201: s.PledgeSerializer}),
    update=extend_schema(request=s.PledgeUpdateSerializer, responses={200: s.PledgeSerializer},
                         parameters=[IF_MATCH_PARAMETER]),
    partial_update=extend_schema(request=s.PledgeUpdateSerializer, responses={200: s.PledgeSerializer},
                                 parameters=[IF_MATCH_PARAMETER]),
    destroy=extend_schema(parameters=[IF_MATCH_PARAMETER], description="Delete a draft; withdraw an offered pledge."),
)
class PledgeViewSet(CSVListMixin, KeptAnswers, WritesInOneTransaction, VersionedObjectMixin, viewsets.ModelViewSet):
    """Pledges you may see; ministry staff create and change their own country's."""

    serializer_class = s.PledgeSerializer
    csv_renderer_class = PledgeCSVRenderer
    csv_filename = "pledges.csv"
    json_renderer_class = PassThroughJSONRenderer
    answer_clock = answer_cache.PLEDGE_DATA
    filterset_class = PledgeFilterSet
    lookup_field = "id"  # the pledge's id, also on history rows (whose pk is the event's)
    may_write = staticmethod(is_ministry)

    def get_queryset(self) -> QuerySet[Any]:
        as_of = None
        if self.action in ("list", "retrieve"):
            as_of = query_moment(self.request.query_params.get("as_of"), "as_of")
        return pledge_list(user=self.request.user, as_of=as_of).order_by(
            "country__name", "category__sort_order", "id"
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        """The rows as PledgeSerializer gives them, built from values_list() (serializers.pledge_list_rows); a
        live JSON page is kept per data version (KeptAnswers); CSV is streamed (CSVListMixin)."""
        if self.is_csv():
            return self.csv_response(self.filter_queryset(self.get_queryset()))
        if not request.query_params.get("as_of", "").strip() and (
                kept := self.kept_answer(request, reads=self.list_parameters())) is not None:
            return kept
        pledges = self.filter_queryset(self.get_queryset())
        paginator = cast(PageNumberPagination, self.paginator)
        if (asked := paginator.requested_page(request)) is not None and writes_like_the_serializer():
            number, size = asked  # the count and the page's JSON from PostgreSQL, in one statement
            count, results = count_and_page(pledges, (number - 1) * size, number * size)
            paginator.paginate_counted(count, request, self)
            return Response(with_results({"count": count, "next": paginator.get_next_link(),
                                          "previous": paginator.get_previous_link()}, results))
        rows = pledges.values_list(*s.PLEDGE_LIST_FIELDS)
        page = self.paginate_queryset(CountedRows(rows, count=pledges.count))
        assert page is not None  # JSON lists are paged (DEFAULT_PAGINATION_CLASS)
        return self.get_paginated_response(s.pledge_list_rows(page))

    def csv_rows(self, queryset: QuerySet[Any]) -> Iterator[Iterable[Mapping[str, Any]]]:
        size = self.csv_chunk_rows
        rows = queryset.values_list(*s.PLEDGE_LIST_FIELDS).iterator(chunk_size=size)
        return (s.pledge_list_rows(chunk) for chunk in in_chunks(rows, size))

    def list_parameters(self) -> set[str]:
        """What the list reads from its query: the filters (ordering included) and the page."""
        paginator: Any = self.paginator
        return {*self.filterset_class.base_filters, paginator.page_query_param, paginator.page_size_query_param}

    def _answer(self, pledge_id: int, code: int = status.HTTP_200_OK) -> Response:
        pledge = pledge_list(user=self.request.user).get(pk=pledge_id)
        return self.with_etag(Response(s.PledgeSerializer(pledge).data, status=code), pledge)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.PledgeCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        pledge = services.pledge_create(actor=request.user, **serializer.validated_data)
        return self._answer(pledge.pk, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        pledge = self.get_object()
        expected, changes = self.changes_asked(pledge, read=s.PledgeSerializer, write=s.PledgeUpdateSerializer,
                                               defaults=PLEDGE_DEFAULTS, partial=partial, with_instance=True)
        services.pledge_update(actor=request.user, pledge=pledge, expected_version=expected, **changes)
        return self._answer(pledge.pk)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pledge = self.get_object()
        services.pledge_delete(actor=request.user, pledge=pledge, expected_version=self.expected_version(pledge))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.PledgeTransitionSerializer, responses={200: s.PledgeSerializer},
                   parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"], filter_backends=[])
    def transition(self, request: Request, id: str | None = None) -> Response:
        """Move the pledge to another status: draft -> indicative -> confirmed -> deployed, or withdrawn."""
        pledge = self.get_object()
        expected = self.expected_version(pledge)
        serializer = s.PledgeTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.pledge_transition(actor=request.user, pledge=pledge, to_status=serializer.validated_data["status"],
                                   expected_version=expected)
        return self._answer(pledge.pk)

    @extend_schema(request=s.ReconfirmSerializer, responses={200: s.PledgeSerializer},
                   parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"], filter_backends=[])
    def reconfirm(self, request: Request, id: str | None = None) -> Response:
        """The offer still stands: `reconfirmed_at` becomes now, and the pledge is no longer stale."""
        pledge = self.get_object()
        expected = self.expected_version(pledge)
        s.ReconfirmSerializer(data=request.data).is_valid(raise_exception=True)
        services.pledge_reconfirm(actor=request.user, pledge=pledge, expected_version=expected)
        return self._answer(pledge.pk)

    @extend_schema(parameters=[s.ChangesQuerySerializer], responses={200: s.ChangesSerializer})
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def changes(self, request: Request) -> Response:
        """What changed between `since` and `until` in the pledges, caveats, tranches, named conditions and meeting
        outcomes you may see, in pages (pledges by id, then caveats, then tranches, then conditions, then
        outcomes); `next` continues the same window. The window ends at the latest moment whose history is final,
        so walking the pages while others write skips and repeats nothing."""
        query = s.ChangesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        window = ChangesWindow.from_cursor(params["cursor"]) if "cursor" in params else ChangesWindow.start(
            since=params["since"], until=params.get("until"), coalition=params.get("coalition"))
        coalition = Coalition.objects.filter(pk=window.coalition).first() if window.coalition else None
        page, following = window.page(user=request.user, coalition=coalition, size=params["page_size"])
        data: dict[str, Any] = {"since": window.since, "until": window.until, "next": None, **page,
                                "pledges": [change.as_dict() for change in page["pledges"]]}
        if following is not None:
            data["next"] = request.build_absolute_uri(
                f"{request.path}?{urlencode({'cursor': following.cursor(), 'page_size': params['page_size']})}")
        return Response(s.ChangesSerializer(data).data)


# --- caveats ---------------------------------------------------------------------------------

@extend_schema_view(
    create=extend_schema(request=s.CaveatCreateSerializer, responses={201: s.CaveatSerializer}),
    update=extend_schema(request=s.CaveatUpdateSerializer, responses={200: s.CaveatSerializer},
                         parameters=[IF_MATCH_PARAMETER]),
    partial_update=extend_schema(request=s.CaveatUpdateSerializer, responses={200: s.CaveatSerializer},
                                 parameters=[IF_MATCH_PARAMETER]),
)
class CaveatViewSet(WritesInOneTransaction, VersionedObjectMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                    viewsets.ReadOnlyModelViewSet):
    """Caveats you may see; ministry staff add, change and lift their own country's."""

    serializer_class = s.CaveatSerializer
    filterset_class = CaveatFilterSet
    may_write = staticmethod(is_ministry)

    def get_queryset(self) -> QuerySet[Any]:
        return caveats_visible_to(self.request.user).order_by("country__name", "id")

    def _answer(self, caveat_id: int, code: int = status.HTTP_200_OK) -> Response:
        caveat = caveats_visible_to(self.request.user).get(pk=caveat_id)
        return self.with_etag(Response(s.CaveatSerializer(caveat).data, status=code), caveat)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.CaveatCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        caveat = services.caveat_add(actor=request.user, **serializer.validated_data)
        return self._answer(caveat.pk, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        caveat = self.get_object()
        expected, changes = self.changes_asked(caveat, read=s.CaveatSerializer, write=s.CaveatUpdateSerializer,
                                               defaults=CAVEAT_DEFAULTS, partial=partial, with_instance=True)
        services.caveat_update(actor=request.user, caveat=caveat, expected_version=expected, **changes)
        return self._answer(caveat.pk)

    @extend_schema(request=s.CaveatLiftSerializer, responses={200: s.CaveatSerializer},
                   parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"], filter_backends=[])
    def lift(self, request: Request, pk: str | None = None) -> Response:
        """Lift the caveat (on `lifted_on`, default today)."""
        caveat = self.get_object()
        expected = self.expected_version(caveat)
        serializer = s.CaveatLiftSerializer(data=request.data, context={"caveat": caveat})
        serializer.is_valid(raise_exception=True)
        services.caveat_lift(actor=request.user, caveat=caveat, expected_version=expected,
                             lifted_on=serializer.validated_data.get("lifted_on"))
        return self._answer(caveat.pk)


# --- deliveries (tranches) ----------------------------------------------------------------------

@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter(
        name="format", type=OpenApiTypes.STR, location=OpenApiParameter.QUERY, required=False, enum=["json", "csv"],
        description="`csv`: every matching tranche (no pages), columns: " + ", ".join(DELIVERY_COLUMNS) + ".")]),
    create=extend_schema(request=s.DeliveryCreateSerializer, responses={201: s.DeliverySerializer}),
    update=extend_schema(request=s.DeliveryUpdateSerializer, responses={200: s.DeliverySerializer},
                         parameters=[IF_MATCH_PARAMETER]),
    partial_update=extend_schema(request=s.DeliveryUpdateSerializer, responses={200: s.DeliverySerializer},
                                 parameters=[IF_MATCH_PARAMETER]),
    destroy=extend_schema(parameters=[IF_MATCH_PARAMETER]),
)
class DeliveryViewSet(CSVListMixin, WritesInOneTransaction, VersionedObjectMixin, viewsets.ModelViewSet):
    """Tranches of the pledges you may see; a pledge's own ministry staff plan and record them."""

    serializer_class = s.DeliverySerializer
    csv_renderer_class = DeliveryCSVRenderer
    csv_filename = "tranches.csv"
    filterset_class = DeliveryFilterSet
    may_write = staticmethod(is_ministry)

    def get_queryset(self) -> QuerySet[Delivery]:
        tranches = deliveries_visible_to(self.request.user)
        if self.request.method not in SAFE_METHODS:  # another country's tranche is not there to change: 404
            tranches = tranches.filter(pk__in=deliveries_editable_by(self.request.user).values("pk"))
        return tranches.order_by("pledge_id", "planned_on", "id")

    def csv_rows(self, queryset: QuerySet[Any]) -> Iterator[Iterable[Mapping[str, Any]]]:
        size = self.csv_chunk_rows
        rows = queryset.values_list(*DELIVERY_LIST_FIELDS).iterator(chunk_size=size)
        return (delivery_list_rows(chunk) for chunk in in_chunks(rows, size))

    def _answer(self, delivery_id: int, code: int = status.HTTP_200_OK) -> Response:
        delivery = self.get_queryset().get(pk=delivery_id)
        return self.with_etag(Response(s.DeliverySerializer(delivery).data, status=code), delivery)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.DeliveryCreateSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            if any(getattr(error, "code", "") == "does_not_exist" for error in serializer.errors.get("pledge", [])):
                raise NotFound(_("None of your country's pledges has this id."))
            raise ValidationError(serializer.errors)
        delivery = services.delivery_plan(actor=request.user, **serializer.validated_data)
        return self._answer(delivery.pk, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        delivery = self.get_object()
        expected, changes = self.changes_asked(delivery, read=s.DeliverySerializer, write=s.DeliveryUpdateSerializer,
                                               defaults={"delivered_on": None, "note": ""}, partial=partial)
        services.delivery_update(actor=request.user, delivery=delivery, expected_version=expected, **changes)
        return self._answer(delivery.pk)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        delivery = self.get_object()
        services.delivery_delete(actor=request.user, delivery=delivery,
                                 expected_version=self.expected_version(delivery))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- requirements ----------------------------------------------------------------------------

@extend_schema_view(
    create=extend_schema(
        request=s.RequirementSetSerializer, responses={200: s.RequirementSerializer, 201: s.RequirementSerializer},
        description="Set the coalition's requirement for a category in a unit: 201 when new, 200 when changed.",
    ),
    update=extend_schema(request=s.RequirementUpdateSerializer, responses={200: s.RequirementSerializer},
                         parameters=[IF_MATCH_PARAMETER]),
    partial_update=extend_schema(request=s.RequirementUpdateSerializer, responses={200: s.RequirementSerializer},
                                 parameters=[IF_MATCH_PARAMETER]),
    destroy=extend_schema(parameters=[IF_MATCH_PARAMETER]),
)
class RequirementViewSet(WritesInOneTransaction, VersionedObjectMixin, viewsets.ModelViewSet):
    """The statement of requirements; the secretariat sets and deletes them."""

    serializer_class = s.RequirementSerializer
    filterset_class = RequirementFilterSet
    may_write = staticmethod(is_secretariat)

    def get_queryset(self) -> QuerySet[Requirement]:
        return requirements_visible_to(self.request.user).order_by(
            "coalition_id", "category__sort_order", "unit__code", "id"
        )

    def _answer(self, requirement: Requirement, code: int = status.HTTP_200_OK) -> Response:
        return self.with_etag(Response(s.RequirementSerializer(requirement).data, status=code), requirement)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.RequirementSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        requirement, created = services.requirement_set_with_created(actor=request.user, **serializer.validated_data)
        return self._answer(requirement, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        requirement = self.get_object()
        expected = self.expected_version(requirement)
        body = as_read(request.data, read=s.RequirementSerializer(requirement).data,
                       writable=writable_fields(s.RequirementUpdateSerializer))
        serializer = s.RequirementUpdateSerializer(instance=requirement, data=body, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        requirement = services.requirement_set(
            actor=request.user, coalition=requirement.coalition, category=requirement.category,
            unit=requirement.unit, quantity=data.get("quantity", requirement.quantity),
            notes=data.get("notes", requirement.notes if partial else ""), expected_version=expected,
        )
        return self._answer(requirement)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        requirement = self.get_object()
        services.requirement_delete(actor=request.user, requirement=requirement,
                                    expected_version=self.expected_version(requirement))
        return Response(status=status.HTTP_204_NO_CONTENT)
