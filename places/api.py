"""The gazetteer in the API: `GET /api/v1/places/?search=Kiev` and `GET /api/v1/places/{id}/`, and the field by
which a pledge names its place (a GeoNames id)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from places.models import Place
from places.selectors import places_matching
from utilities.api import WritesInOneTransaction

MAX_ID = 2**63 - 1


class PlaceSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country_code", read_only=True, help_text="ISO 3166-1 alpha-2.")
    lat = serializers.FloatField(source="latitude", read_only=True)
    lon = serializers.FloatField(source="longitude", read_only=True)

    class Meta:
        model = Place
        fields = ("id", "name", "country", "lat", "lon", "population", "source")


@extend_schema_field({
    "oneOf": [
        {"type": "integer", "description": "The place's GeoNames id (GET /api/v1/places/?search=...)."},
        {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"],
         "description": "The place as read (only its id is taken)."},
    ],
    "nullable": True,
})
class PlaceField(serializers.Field):
    """A pledge's place: written as the GeoNames id (or the place object as read, whose id is taken), read as
    {"id", "name", "country", "lat", "lon"}. Coordinates alone are not a place: places come from the gazetteer."""

    default_error_messages = {
        "invalid": gettext_lazy("Give the place as its GeoNames id, a whole number (find it with "
                                "GET /api/v1/places/?search=Kyiv), or null for none."),
        "unknown": gettext_lazy("No place has the id %(id)s; find one with GET /api/v1/places/?search=Kyiv."),
        "range": gettext_lazy("Latitude is -90 to 90 and longitude -180 to 180; and a place is given by its "
                              "GeoNames id, not by coordinates."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Place) -> dict[str, Any]:
        return value.as_dict()

    def to_internal_value(self, data: Any) -> Place:
        if isinstance(data, dict):
            for key, limit in (("lat", 90), ("lon", 180)):
                coordinate = data.get(key)
                if coordinate is not None and (isinstance(coordinate, bool) or not isinstance(coordinate, int | float)
                                               or not -limit <= coordinate <= limit):
                    raise ValidationError(self.error_messages["range"])
            if "id" not in data:
                self.fail("invalid")
            data = data["id"]
        if isinstance(data, bool) or not (
            isinstance(data, int) or (isinstance(data, str) and data.isascii() and data.isdigit())
        ) or not 0 < int(data) <= MAX_ID:
            self.fail("invalid")
        place = Place.objects.filter(pk=int(data)).first()
        if place is None:
            raise ValidationError(self.error_messages["unknown"] % {"id": int(data)})
        return place


class PlaceQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                   help_text="Any of the place's names, accents and case aside: Kiev, Odessa, "
                                             "Rzeszow.")
    country = serializers.RegexField(r"^[A-Za-z]{2}(,[A-Za-z]{2})*$", required=False, max_length=200,
                                     help_text="ISO codes, comma-separated.")


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("search", OpenApiTypes.STR, description="Any of the place's names, accents and case aside."),
    OpenApiParameter("country", OpenApiTypes.STR, description="ISO codes, comma-separated."),
]))
class PlaceViewSet(WritesInOneTransaction, viewsets.ReadOnlyModelViewSet):
    """The gazetteer: GeoNames cities of 5,000 people or more, and places the administrators added. A search
    finds a name's start among all of a place's names, exact names first, then the largest."""

    serializer_class = PlaceSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Place]:
        if self.action != "list":
            return Place.objects.all()
        query = PlaceQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        countries = [code.upper() for code in query.validated_data.get("country", "").split(",") if code]
        text = query.validated_data.get("search", "")
        if text.strip():
            return places_matching(text, countries=countries or None)
        places = Place.objects.order_by("-population", "id")
        return places.filter(country_code__in=countries) if countries else places
