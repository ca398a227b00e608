"""The secretariat's statement of requirements."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.roles import is_secretariat
from pledges import services
from pledges.admin.national import SecretariatKeptAdmin
from pledges.models import (
    Requirement,
)
from pledges.visibility import requirements_visible_to
from utilities.service_admin import ServiceModelForm, call_service

# --- requirements: the secretariat's statement of requirements ----------------------------------


class RequirementForm(ServiceModelForm):
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Requirement
        fields = ("coalition", "category", "unit", "quantity", "notes")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["seen_version"].initial = self.instance.version


@admin.register(Requirement)
class RequirementAdmin(SecretariatKeptAdmin):
    form = RequirementForm
    list_display = ("coalition", "category", "quantity", "unit", "updated_at")
    list_filter = ("coalition", "category")
    list_select_related = ("coalition", "category", "unit")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Requirement]:
        return requirements_visible_to(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretariat(request.user)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["coalition", "category", "unit", "quantity", "notes"]
        if obj is not None and self.has_change_permission(request, obj):
            fields.append("seen_version")
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else ("coalition", "category", "unit")

    def save_model(self, request: HttpRequest, obj: Requirement, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = call_service(
            services.requirement_set, actor=request.user,
            coalition=data["coalition"] if not change else obj.coalition,
            category=data["category"] if not change else obj.category,
            unit=data["unit"] if not change else obj.unit,
            quantity=data["quantity"], notes=data.get("notes", ""),
            expected_version=data.get("seen_version") if change else None,
        )
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Requirement) -> None:
        services.requirement_delete(actor=request.user, requirement=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Requirement]) -> None:
        for requirement in queryset:
            self.delete_model(request, requirement)
