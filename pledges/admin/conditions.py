"""The coalitions' named conditions: the secretariat names and decides them; every reader sees them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy

from pledges import services
from pledges.admin.national import SecretariatKeptAdmin
from pledges.models import Condition, ConditionStatus
from pledges.visibility import conditions_visible_to
from utilities.service_admin import ServiceModelForm, call_service


class ConditionForm(ServiceModelForm):
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Condition
        fields = ("coalition", "name", "description", "status", "decided_on")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["seen_version"].initial = self.instance.version
        if "decided_on" in self.fields:
            self.fields["decided_on"].help_text = gettext_lazy(
                "The day it was met or failed; empty: today when decided. Emptied when opened again.")

    def clean(self) -> dict[str, Any]:
        """As condition_update decides the day (today unless given; none while open), before the model's own
        check that a decided condition has one."""
        data = super().clean() or {}
        status = data.get("status", self.instance.status)
        if status == ConditionStatus.OPEN:
            data["decided_on"] = None
        elif not data.get("decided_on"):
            keeps = status == self.instance.status and self.instance.decided_on
            data["decided_on"] = self.instance.decided_on if keeps else timezone.localdate()
        self.instance.decided_on = data["decided_on"]
        return data


@admin.register(Condition)
class ConditionAdmin(SecretariatKeptAdmin):
    form = ConditionForm
    list_display = ("name", "coalition", "status", "decided_on", "updated_at")
    list_filter = ("coalition", "status")
    list_select_related = ("coalition",)
    search_fields = ("name", "description")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Condition]:
        return conditions_visible_to(request.user).select_related("coalition")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a condition is decided, never deleted: caveats and history name it

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["coalition", "name", "description", "status", "decided_on"]
        if obj is not None and self.has_change_permission(request, obj):
            fields.append("seen_version")
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else ("coalition",)

    def save_model(self, request: HttpRequest, obj: Condition, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            saved = call_service(services.condition_create, actor=request.user, coalition=data["coalition"],
                                 name=data["name"], description=data.get("description", ""),
                                 status=data["status"], decided_on=data.get("decided_on"))
        else:
            changes = {name: data[name] for name in form.changed_data if name in services.CONDITION_EDITABLE_FIELDS}
            saved = call_service(services.condition_update, actor=request.user, condition=obj,
                                 expected_version=data.get("seen_version"), **changes) if changes else obj
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False
