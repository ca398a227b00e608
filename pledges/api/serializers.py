"""JSON shapes of the pledges API. Reading and writing shapes are separate: writes carry only what a service takes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from places.api import PlaceField
from pledges.api.time import ConditionLineSerializer
from pledges.columns import DELIVERY_COLUMNS, PLEDGE_COLUMNS
from pledges.models import (
    CapabilityCategory,
    Caveat,
    CaveatKind,
    Coalition,
    Condition,
    Country,
    Delivery,
    Pledge,
    PledgeStatus,
    Releasability,
    Requirement,
    Unit,
    check_availability_order,
    latest_imposed_on,
)
from pledges.selectors import ForceMap
from pledges.visibility import conditions_visible_to, pledges_editable_by, pledges_visible_to
from utilities.api import IdField, MomentField, RejectUnknownFieldsMixin, WholeNumberField
from utilities.text import LONG_TEXT

MAX_INT = 2_147_483_647
MAX_SMALLINT = 32_767

# Named choice sets, so the OpenAPI enums get stable names (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
NEW_PLEDGE_STATUS_CHOICES = [(PledgeStatus.DRAFT.value, "Draft"), (PledgeStatus.INDICATIVE.value, "Indicative")]
PLEDGE_CHANGE_KINDS = ["new", "raised", "lowered", "withdrawn", "status", "changed", "removed"]
CAVEAT_CHANGE_KINDS = ["added", "lifted"]
DELIVERY_CHANGE_KINDS = ["planned", "delivered", "changed", "removed"]
CONDITION_CHANGE_KINDS = ["named", "decided", "reopened", "changed", "removed"]



class CountrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Country
        fields = ("code", "name")


class CoalitionSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(  # type: ignore[var-annotated]
        slug_field="code", many=True, read_only=True, help_text="ISO codes of the member countries."
    )

    class Meta:
        model = Coalition
        fields = ("id", "name", "short_name", "description", "members")


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ("code", "name")


class CategorySerializer(serializers.ModelSerializer):
    units = UnitSerializer(many=True, read_only=True)

    class Meta:
        model = CapabilityCategory
        fields = ("code", "name", "sort_order", "units")


# --- pledges ---------------------------------------------------------------------------------

class PledgeSerializer(serializers.ModelSerializer):
    """A pledge as read, live or (with as_of) a history snapshot with the same fields."""

    country = serializers.CharField(source="country.code", read_only=True)
    coalition = serializers.IntegerField(source="coalition_id", read_only=True)
    category = serializers.CharField(source="category.code", read_only=True)
    unit = serializers.CharField(source="unit.code", read_only=True)
    is_conditional = serializers.BooleanField(
        read_only=True, default=False, help_text="An active `condition` caveat applies (on the pledge or country-wide)."
    )
    delivered_quantity = serializers.IntegerField(read_only=True, default=0,
                                                  help_text="The sum of its delivered tranches.")
    has_overdue_delivery = serializers.BooleanField(
        read_only=True, default=False, help_text="A tranche's planned day has passed and it has not arrived.")
    is_stale = serializers.BooleanField(
        read_only=True, default=False,
        help_text="Offered, and not reconfirmed within the coalition's reconfirm_days (default 180).")
    place = PlaceField(read_only=True, help_text="Where it is based or delivered: a place of the gazetteer, or null.")
    relieves = serializers.IntegerField(
        source="relieves_seen", read_only=True, allow_null=True, default=None,
        help_text="The pledge this one relieves in a rotation; null when none, or when you may not see that one.")

    class Meta:
        model = Pledge
        fields = PLEDGE_COLUMNS
        read_only_fields = PLEDGE_COLUMNS


# The pledge list (JSON pages and CSV) skips the serializer: 100 model instances through ModelSerializer's field
# machinery cost several times the query. The list reads these columns with values_list() and
# pledge_list_rows() builds exactly what PledgeSerializer gives for them (tests/api/test_list_speed.py compares the
# two over varied pledges, live and as_of); detail, writes and the OpenAPI schema keep PledgeSerializer.
PLEDGE_LIST_FIELDS = (
    "id", "country__code", "coalition_id", "category__code", "unit__code", "quantity", "status", "is_conditional",
    "description", "available_from", "available_until", "notice_to_move_days", "location", "estimated_value_eur",
    "releasability", "is_illustrative", "version", "created_at", "updated_at", "delivered_quantity",
    "has_overdue_delivery", "reconfirmed_at", "is_stale", "relieves_seen",
    "place_id", "place__name", "place__country_code", "place__latitude", "place__longitude",
)
_VALUE_EUR = serializers.DecimalField(max_digits=14, decimal_places=2)  # as ModelSerializer maps the model field


def moment_text(value: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    """As serializers.DateTimeField renders an aware datetime (ISO 8601, UTC as Z)."""
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def pledge_list_rows(rows: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """PledgeSerializer(many=True).data for rows of values_list(*PLEDGE_LIST_FIELDS), keys in PLEDGE_COLUMNS order."""
    zone = timezone.get_current_timezone()
    value_eur = _VALUE_EUR.to_representation
    return [
        {
            "id": pledge_id, "country": country, "coalition": coalition, "category": category, "unit": unit,
            "quantity": quantity, "status": status, "is_conditional": is_conditional,
            "description": description,
            "available_from": available_from.isoformat() if available_from else None,
            "available_until": available_until.isoformat() if available_until else None,
            "notice_to_move_days": notice_to_move_days, "location": location,
            "place": None if place_id is None else {"id": place_id, "name": place_name, "country": place_country,
                                                    "lat": place_lat, "lon": place_lon},
            "estimated_value_eur": None if estimated_value_eur is None else value_eur(estimated_value_eur),
            "releasability": releasability, "is_illustrative": is_illustrative, "version": version,
            "created_at": moment_text(created_at, zone), "updated_at": moment_text(updated_at, zone),
            "delivered_quantity": delivered_quantity, "has_overdue_delivery": has_overdue_delivery,
            "reconfirmed_at": moment_text(reconfirmed_at, zone), "is_stale": is_stale, "relieves": relieves,
        }
        for (
            pledge_id, country, coalition, category, unit, quantity, status, is_conditional, description,
            available_from, available_until, notice_to_move_days, location, estimated_value_eur, releasability,
            is_illustrative, version, created_at, updated_at, delivered_quantity, has_overdue_delivery,
            reconfirmed_at, is_stale, relieves, place_id, place_name, place_country, place_lat, place_lon,
        ) in rows
    ]


class _AvailabilityOrderMixin:
    """The pledge's availability rule (pledges.models.check_availability_order) on the body and the pledge as it
    stands: DRF answers its django ValidationError as a 400 naming available_until."""

    instance: Any

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_availability_order(attrs.get("available_from", getattr(self.instance, "available_from", None)),
                                 attrs.get("available_until", getattr(self.instance, "available_until", None)))
        return attrs


class PledgeUpdateSerializer(RejectUnknownFieldsMixin, _AvailabilityOrderMixin, serializers.Serializer):
    """The fields pledges.services.pledge_update may change. Status moves: POST .../transition/."""

    refused_fields = {
        "status": gettext_lazy("The status moves through POST /api/v1/pledges/{id}/transition/."),
        "country": gettext_lazy("A pledge cannot move to another country."),
        "coalition": gettext_lazy("A pledge cannot move to another coalition."),
    }

    category = serializers.SlugRelatedField(slug_field="code", queryset=CapabilityCategory.objects.all())
    unit = serializers.SlugRelatedField(slug_field="code", queryset=Unit.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_INT)
    description = serializers.CharField(required=False, allow_blank=True, max_length=LONG_TEXT)
    available_from = serializers.DateField(required=False, allow_null=True)
    available_until = serializers.DateField(required=False, allow_null=True)
    notice_to_move_days = serializers.IntegerField(required=False, allow_null=True, min_value=0,
                                                   max_value=MAX_SMALLINT)
    location = serializers.CharField(required=False, allow_blank=True, max_length=200)
    place = PlaceField(required=False, help_text="The place's GeoNames id (GET /api/v1/places/?search=Kyiv), or null; "
                                                 "within the coalition's theatre.")
    estimated_value_eur = serializers.DecimalField(required=False, allow_null=True, max_digits=14, decimal_places=2,
                                                   min_value=0)
    releasability = serializers.ChoiceField(choices=Releasability.choices, required=False)
    is_illustrative = serializers.BooleanField(required=False)
    relieves = IdField(
        queryset=Pledge.objects.none(), required=False, allow_null=True,
        help_text="The pledge this one relieves in a rotation (one you see, offered or withdrawn, of the same "
                  "coalition, category and unit), or null.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["relieves"].queryset = pledges_visible_to(getattr(request, "user", None))  # type: ignore[attr-defined]


class PledgeCreateSerializer(PledgeUpdateSerializer):
    coalition = IdField(queryset=Coalition.objects.all())
    country = serializers.SlugRelatedField(
        slug_field="code", queryset=Country.objects.all(), required=False,
        help_text="Defaults to your own country; ministry staff may pledge for no other.",
    )
    status = serializers.ChoiceField(
        choices=NEW_PLEDGE_STATUS_CHOICES, required=False,
        help_text="A new pledge starts as a draft (default) or is offered straight away as indicative.",
    )


class PledgeTransitionSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    status = serializers.ChoiceField(choices=PledgeStatus.choices, help_text="The status to move to.")


# --- changes ---------------------------------------------------------------------------------

CHANGES_PAGE_SIZE = 500

class ChangesQuerySerializer(serializers.Serializer):
    since = MomentField(required=False, help_text="Required without `cursor`.")
    until = MomentField(required=False, help_text="Default (and at the latest): the latest moment whose history "
                                                  "is final; the answer says which moment it used.")
    coalition = IdField(queryset=Coalition.objects.all(), required=False)
    page_size = WholeNumberField(required=False, min_value=1, max_value=1000, default=CHANGES_PAGE_SIZE,
                                         help_text="Changes per page, pledges first then caveats.")
    cursor = serializers.CharField(required=False, max_length=2000,
                                   help_text="From `next`: the following page of the same window "
                                             "(`since`, `until` and `coalition` are taken from it).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "cursor" not in attrs and "since" not in attrs:
            raise serializers.ValidationError({"since": _("This field is required.")})
        if attrs.get("until") and attrs.get("since") and attrs["until"] < attrs["since"]:
            raise serializers.ValidationError({"until": _("'until' must not be before 'since'.")})
        return attrs


class FieldChangeSerializer(serializers.Serializer):
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class PledgeChangeSerializer(serializers.Serializer):
    pledge_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PLEDGE_CHANGE_KINDS)
    country = serializers.CharField()
    category = serializers.CharField()
    unit = serializers.CharField()
    at = serializers.DateTimeField()
    fields = serializers.DictField(  # type: ignore[assignment]  # a field named "fields", as the API says
        child=FieldChangeSerializer(), help_text="Field name -> before and after."
    )
    quantity_before = serializers.IntegerField(allow_null=True)
    quantity_after = serializers.IntegerField(allow_null=True)
    status_before = serializers.CharField(allow_null=True)
    status_after = serializers.CharField(allow_null=True)


class CaveatChangeSerializer(serializers.Serializer):
    caveat_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CAVEAT_CHANGE_KINDS)
    caveat_kind = serializers.CharField()
    country = serializers.CharField()
    text = serializers.CharField()
    rationale = serializers.CharField(allow_blank=True)
    pledge_id = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField()


class DeliveryChangeSerializer(serializers.Serializer):
    delivery_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DELIVERY_CHANGE_KINDS)
    pledge_id = serializers.IntegerField()
    country = serializers.CharField()
    category = serializers.CharField()
    unit = serializers.CharField()
    quantity_before = serializers.IntegerField(allow_null=True)
    quantity_after = serializers.IntegerField(allow_null=True)
    planned_on = serializers.DateField(allow_null=True)
    delivered_on = serializers.DateField(allow_null=True)
    at = serializers.DateTimeField()


class ConditionChangeSerializer(serializers.Serializer):
    condition_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CONDITION_CHANGE_KINDS)
    coalition = serializers.IntegerField()
    name = serializers.CharField()
    status_before = serializers.CharField(allow_null=True)
    status_after = serializers.CharField(allow_null=True)
    decided_on = serializers.DateField(allow_null=True)
    at = serializers.DateTimeField()


class ChangesSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    pledges = PledgeChangeSerializer(many=True)
    caveats = CaveatChangeSerializer(many=True)
    deliveries = DeliveryChangeSerializer(many=True)
    conditions = ConditionChangeSerializer(many=True, help_text="Named conditions made, decided, opened again, "
                                                                "changed or removed.")
    next = serializers.URLField(allow_null=True, help_text="The next page of the same window, or null.")


def register_changes_field(name: str, field: serializers.Field) -> None:  # type: ignore[type-arg]
    """The changes feed's answer gains a section of a floor above (pledges.history.register_change_section), shown
    before `next`."""
    declared = dict(ChangesSerializer._declared_fields)  # type: ignore[attr-defined]
    following = declared.pop("next")
    declared[name] = field
    declared["next"] = following
    ChangesSerializer._declared_fields = declared  # type: ignore[attr-defined]


# --- force -----------------------------------------------------------------------------------

class ForceLineSerializer(serializers.Serializer):
    category = serializers.CharField()
    category_name = serializers.CharField()
    unit = serializers.CharField()
    requirement = serializers.IntegerField(allow_null=True)
    confirmed = serializers.IntegerField(help_text="Confirmed plus deployed.")
    deployed = serializers.IntegerField()
    indicative = serializers.IntegerField()
    conditional = serializers.IntegerField(help_text="Of everything offered, how much is conditional.")
    conditional_confirmed = serializers.IntegerField(help_text="Of `confirmed`, how much is conditional.")
    gap = serializers.IntegerField(allow_null=True, help_text="Requirement minus confirmed; negative is a surplus.")
    gap_without_conditional = serializers.IntegerField(allow_null=True,
                                                       help_text="The gap if every conditional pledge fell away.")
    pledge_count = serializers.IntegerField()
    delivered = serializers.IntegerField(help_text="Of the offered amount, how much has arrived (delivered tranches).")
    overdue = serializers.IntegerField(help_text="Tranches past their planned day that have not arrived.")
    stale = serializers.IntegerField(help_text="Of the offered amount, how much was not reconfirmed in time.")


class CountryLineSerializer(serializers.Serializer):
    country = serializers.CharField()
    country_name = serializers.CharField()
    category = serializers.CharField()
    unit = serializers.CharField()
    confirmed = serializers.IntegerField()
    indicative = serializers.IntegerField()
    conditional = serializers.IntegerField()
    pledge_count = serializers.IntegerField()
    delivered = serializers.IntegerField()
    overdue = serializers.IntegerField()
    stale = serializers.IntegerField()


class ForceSerializer(serializers.Serializer):
    coalition_id = serializers.IntegerField()
    as_of = serializers.DateTimeField()
    on = serializers.DateField(allow_null=True, help_text="The day counted (only pledges available then), or null.")
    assumed = serializers.DictField(child=serializers.CharField(), help_text="The scenario: condition id -> status.")
    categories = ForceLineSerializer(many=True)
    countries = CountryLineSerializer(many=True)
    conditions = ConditionLineSerializer(many=True)


# --- map ------------------------------------------------------------------------------------

def force_map_geojson(picture: ForceMap) -> dict[str, Any]:
    """The map as a GeoJSON FeatureCollection (RFC 7946): a Point per place, [lon, lat]."""
    features = []
    for point in picture.points:
        place = point.place.as_dict()
        flat = {f"{q.category}_{q.unit}": q.quantity for q in point.quantities}
        features.append({
            "type": "Feature",
            "id": point.place.pk,
            "geometry": {"type": "Point", "coordinates": [point.place.longitude, point.place.latitude]},
            "properties": {
                "place": place, "pledges": point.pledges,
                "quantities": [asdict(q) for q in point.quantities], "weight": point.weight, **flat,
            },
        })
    return {"type": "FeatureCollection", "coalition": picture.coalition_id,
            "as_of": serializers.DateTimeField().to_representation(picture.as_of),
            "unplaced_pledges": picture.unplaced, "features": features}


class MapQuantitySerializer(serializers.Serializer):
    category = serializers.CharField()
    category_name = serializers.CharField()
    unit = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Offered: indicative, confirmed and deployed.")
    confirmed = serializers.IntegerField(help_text="Confirmed or deployed.")


class MapPlaceSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="GeoNames id.")
    name = serializers.CharField()
    country = serializers.CharField()
    lat = serializers.FloatField()
    lon = serializers.FloatField()


class MapPropertiesSerializer(serializers.Serializer):
    place = MapPlaceSerializer()
    pledges = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the pledges there.")
    quantities = MapQuantitySerializer(many=True)
    weight = serializers.FloatField(help_text="The place's share of the offered pledges you see (placed or not), "
                                              "0 to 1. Besides these, one property per category and unit, e.g. "
                                              "troops_personnel: 1200.")


class MapGeometrySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Point"])
    coordinates = serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2,
                                        help_text="[longitude, latitude]")


class MapFeatureSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.IntegerField()
    geometry = MapGeometrySerializer()
    properties = MapPropertiesSerializer()


class ForceMapSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    coalition = serializers.IntegerField()
    as_of = serializers.DateTimeField()
    unplaced_pledges = serializers.IntegerField(help_text="Offered pledges you see that have no place.")
    features = MapFeatureSerializer(many=True)


class AsOfQuerySerializer(serializers.Serializer):
    as_of = MomentField(required=False, help_text="The figures as they stood at this moment (ISO 8601).")


# --- caveats ---------------------------------------------------------------------------------

class CaveatSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", read_only=True)
    coalition = serializers.IntegerField(source="coalition_id", read_only=True)
    pledge = serializers.IntegerField(source="pledge_id", read_only=True, allow_null=True)
    condition = serializers.IntegerField(source="condition_id", read_only=True, allow_null=True,
                                         help_text="The named condition a `condition` caveat waits for, or null.")

    class Meta:
        model = Caveat
        fields = (
            "id", "country", "coalition", "pledge", "kind", "text", "rationale", "releasability", "condition",
            "is_active", "imposed_on", "lifted_on", "version", "created_at", "updated_at",
        )
        read_only_fields = fields


class CaveatUpdateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """The fields pledges.services.caveat_update may change; lifting is POST .../lift/."""

    refused_fields = {
        "pledge": gettext_lazy("A caveat cannot move to another pledge."),
        "country": gettext_lazy("A caveat cannot move to another country."),
        "coalition": gettext_lazy("A caveat cannot move to another coalition."),
        "is_active": gettext_lazy("Lift a caveat with POST /api/v1/caveats/{id}/lift/."),
        "lifted_on": gettext_lazy("Lift a caveat with POST /api/v1/caveats/{id}/lift/."),
        "imposed_on": gettext_lazy("The date a caveat was imposed cannot change."),
    }

    kind = serializers.ChoiceField(choices=CaveatKind.choices)
    text = serializers.CharField(max_length=LONG_TEXT)
    rationale = serializers.CharField(required=False, allow_blank=True, max_length=LONG_TEXT)
    releasability = serializers.ChoiceField(choices=Releasability.choices, required=False)
    condition = IdField(queryset=Condition.objects.none(), required=False, allow_null=True,
                        help_text="Kind `condition` only: the coalition's named condition it waits for "
                                  "(GET /api/v1/conditions/), or null.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["condition"].queryset = conditions_visible_to(getattr(request, "user", None))  # type: ignore[attr-defined]


class CaveatCreateSerializer(CaveatUpdateSerializer):
    pledge = IdField(
        queryset=Pledge.objects.none(), required=False, allow_null=True,
        help_text="The pledge it restricts; leave out for all of the country's pledges to `coalition`.",
    )
    coalition = IdField(queryset=Coalition.objects.all(), required=False)
    country = serializers.SlugRelatedField(slug_field="code", queryset=Country.objects.all(), required=False)
    imposed_on = serializers.DateField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["pledge"].queryset = pledges_visible_to(getattr(request, "user", None))  # type: ignore[attr-defined]
        self.fields["condition"].queryset = conditions_visible_to(getattr(request, "user", None))  # type: ignore[attr-defined]

    def validate_imposed_on(self, value: dt.date) -> dt.date:
        latest = latest_imposed_on()
        if value > latest:
            raise serializers.ValidationError(_("A caveat cannot be imposed later than %(day)s.") % {
                "day": latest.isoformat()})
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        pledge = attrs.get("pledge")
        if not pledge and not attrs.get("coalition"):
            raise serializers.ValidationError({"coalition": _("Give a pledge, or a coalition for a country-wide "
                                                              "caveat.")})
        if pledge and attrs.get("coalition") is not None and attrs["coalition"].pk != pledge.coalition_id:
            raise serializers.ValidationError({"coalition": _("The pledge is to another coalition; leave this out.")})
        if pledge and attrs.get("country") is not None and attrs["country"].pk != pledge.country_id:
            raise serializers.ValidationError({"country": _("The pledge is another country's; leave this out.")})
        return attrs


class CaveatLiftSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    lifted_on = serializers.DateField(required=False, help_text="Defaults to today; not in the future, nor before "
                                                                "the caveat was imposed.")

    def validate_lifted_on(self, value: dt.date) -> dt.date:
        if value > timezone.localdate():
            raise serializers.ValidationError(_("A caveat cannot be lifted on a future date."))
        caveat = self.context.get("caveat")
        if caveat is not None and value < caveat.imposed_on:
            raise serializers.ValidationError(_("A caveat cannot be lifted before it was imposed (%(day)s).") % {
                "day": caveat.imposed_on.isoformat()})
        return value


# --- requirements ----------------------------------------------------------------------------

class RequirementSerializer(serializers.ModelSerializer):
    coalition = serializers.IntegerField(source="coalition_id", read_only=True)
    category = serializers.CharField(source="category.code", read_only=True)
    unit = serializers.CharField(source="unit.code", read_only=True)

    class Meta:
        model = Requirement
        fields = ("id", "coalition", "category", "unit", "quantity", "notes", "version", "updated_at")
        read_only_fields = fields


class RequirementUpdateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_INT)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=LONG_TEXT)


class RequirementSetSerializer(RequirementUpdateSerializer):
    coalition = IdField(queryset=Coalition.objects.all())
    category = serializers.SlugRelatedField(slug_field="code", queryset=CapabilityCategory.objects.all())
    unit = serializers.SlugRelatedField(slug_field="code", queryset=Unit.objects.all())


# --- deliveries (tranches) ------------------------------------------------------------------------



class DeliverySerializer(serializers.ModelSerializer):
    pledge = serializers.IntegerField(source="pledge_id", read_only=True)
    country = serializers.CharField(source="pledge.country.code", read_only=True)
    unit = serializers.CharField(source="pledge.unit.code", read_only=True, help_text="The pledge's unit.")
    is_overdue = serializers.SerializerMethodField(help_text="Planned for a day that has passed, not delivered.")

    class Meta:
        model = Delivery
        fields = DELIVERY_COLUMNS
        read_only_fields = DELIVERY_COLUMNS

    def get_is_overdue(self, delivery: Delivery) -> bool:
        return delivery.is_overdue_on(timezone.localdate())


class DeliveryUpdateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """The fields pledges.services.delivery_update may change (setting delivered_on records it delivered)."""

    refused_fields = {"pledge": gettext_lazy("A tranche cannot move to another pledge.")}

    quantity = serializers.IntegerField(min_value=1, max_value=MAX_INT)
    planned_on = serializers.DateField()
    delivered_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=LONG_TEXT)


class DeliveryCreateSerializer(DeliveryUpdateSerializer):
    pledge = IdField(queryset=Pledge.objects.none(), help_text="One of your country's offered pledges.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        # Only the user's own country's pledges take tranches; any other pledge is "not there" (the view: 404).
        self.fields["pledge"].queryset = pledges_editable_by(getattr(request, "user", None))  # type: ignore[attr-defined]


class ReconfirmSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Nothing to give: the offer still stands, as of now."""
