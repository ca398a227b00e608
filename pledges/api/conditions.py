"""Named conditions: the secretariat names and decides them; every member of the coalition reads them."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.roles import is_secretariat
from pledges import services
from pledges.api.time import DayField
from pledges.models import Coalition, Condition, ConditionStatus
from pledges.visibility import conditions_visible_to
from utilities.api import (
    IF_MATCH_PARAMETER,
    IdField,
    RejectUnknownFieldsMixin,
    VersionedObjectMixin,
    WritesInOneTransaction,
)
from utilities.text import LONG_TEXT

CONDITION_FIELDS = ("id", "coalition", "name", "description", "status", "decided_on", "version", "created_at",
                    "updated_at")


class ConditionSerializer(serializers.ModelSerializer):
    coalition = serializers.IntegerField(source="coalition_id", read_only=True)

    class Meta:
        model = Condition
        fields = CONDITION_FIELDS
        read_only_fields = CONDITION_FIELDS


class ConditionUpdateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    refused_fields = {"coalition": gettext_lazy("A condition cannot move to another coalition.")}

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=LONG_TEXT)
    status = serializers.ChoiceField(choices=ConditionStatus.choices, required=False,
                                     help_text="open, met or failed.")
    decided_on = DayField(required=False, allow_null=True,
                          help_text="The day it was met or failed (default: today when decided); null while open.")


class ConditionCreateSerializer(ConditionUpdateSerializer):
    coalition = IdField(queryset=Coalition.objects.all())


class ConditionFilterSet(django_filters.FilterSet):
    coalition = django_filters.NumberFilter(field_name="coalition_id", help_text="Coalition id.")
    status = django_filters.ChoiceFilter(choices=ConditionStatus.choices)

    class Meta:
        model = Condition
        fields = ("coalition", "status")


CONDITION_DEFAULTS = {"description": "", "status": ConditionStatus.OPEN}  # what a PUT leaving them out sets


@extend_schema_view(
    create=extend_schema(request=ConditionCreateSerializer, responses={201: ConditionSerializer}),
    update=extend_schema(request=ConditionUpdateSerializer, responses={200: ConditionSerializer},
                         parameters=[IF_MATCH_PARAMETER]),
    partial_update=extend_schema(request=ConditionUpdateSerializer, responses={200: ConditionSerializer},
                                 parameters=[IF_MATCH_PARAMETER]),
)
class ConditionViewSet(WritesInOneTransaction, VersionedObjectMixin, mixins.CreateModelMixin,
                       mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The coalitions' named conditions ("United States backstop"), open, met or failed: a pledge under a caveat
    naming a failed one counts nowhere, one whose condition caveats all name met ones is not conditional. The
    secretariat names and decides them (If-Match); every member of the coalition reads them."""

    serializer_class = ConditionSerializer
    filterset_class = ConditionFilterSet
    may_write = staticmethod(is_secretariat)

    def get_queryset(self) -> QuerySet[Condition]:
        return conditions_visible_to(self.request.user).order_by("coalition_id", "name", "id")

    def _answer(self, condition_id: int, code: int = status.HTTP_200_OK) -> Response:
        condition = self.get_queryset().get(pk=condition_id)
        return self.with_etag(Response(ConditionSerializer(condition).data, status=code), condition)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ConditionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        condition = services.condition_create(actor=request.user, **serializer.validated_data)
        return self._answer(condition.pk, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        condition = self.get_object()
        expected, changes = self.changes_asked(condition, read=ConditionSerializer, write=ConditionUpdateSerializer,
                                               defaults=CONDITION_DEFAULTS, partial=partial)
        services.condition_update(actor=request.user, condition=condition, expected_version=expected, **changes)
        return self._answer(condition.pk)
