"""Caveats on their own: country-wide ones, and every caveat in one list. Ministry staff add, change and lift
their own country's (a pledge's own are also on its page, pledges.py); caveats are lifted, never deleted."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import is_ministry
from pledges import services
from pledges.admin.national import NationalRowsAdmin, may_edit_caveat
from pledges.history import caveat_versions
from pledges.models import Caveat, PledgeStatus
from pledges.visibility import (
    caveats_editable_by,
    caveats_visible_to,
    conditions_visible_to,
    member_coalitions,
    pledges_editable_by,
)
from utilities.service_admin import ServiceModelForm, call_service
from utilities.versioning import Version

CAVEAT_HISTORY_FIELDS = ("kind", "text", "rationale", "releasability", "is_active", "imposed_on", "lifted_on")


class CaveatForm(ServiceModelForm):
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    lift = forms.BooleanField(required=False, label=gettext_lazy("Lift this caveat"),
                              help_text=gettext_lazy("Lifted as of today."))

    class Meta:
        model = Caveat
        fields = ("coalition", "pledge", "kind", "text", "rationale", "releasability", "condition")
        widgets = {"text": forms.Textarea(attrs={"rows": 3}), "rationale": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            user = getattr(self.admin_request, "user", None)
            if user is not None and is_ministry(user):
                self.instance.country_id = user.country_id
        else:
            self.fields["seen_version"].initial = self.instance.version
            if not self.instance.is_active:
                self.fields["lift"].disabled = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        pledge, coalition = cleaned.get("pledge"), cleaned.get("coalition")
        if pledge is not None and coalition is not None and pledge.coalition_id != coalition.pk:
            self.add_error("coalition", _("The chosen pledge is to %(coalition)s; choose that coalition.") % {
                "coalition": pledge.coalition})
        return cleaned


@admin.register(Caveat)
class CaveatAdmin(NationalRowsAdmin):
    form = CaveatForm
    list_display = ("country", "coalition", "scope", "kind", "short_text", "rationale_short", "is_active",
                    "imposed_on", "lifted_on")
    list_filter = ("kind", "is_active", ("coalition", admin.RelatedOnlyFieldListFilter))
    search_fields = ("text", "rationale", "country__name", "=country__code")
    list_select_related = ("country", "coalition", "pledge__country", "pledge__category", "pledge__unit")
    actions = ["lift_selected"]
    history_fields = CAVEAT_HISTORY_FIELDS

    @admin.display(description=gettext_lazy("applies to"))
    def scope(self, obj: Caveat) -> str:
        return str(obj.pledge) if obj.pledge_id else _("all pledges to the coalition")

    @admin.display(description=gettext_lazy("text"))
    def short_text(self, obj: Caveat) -> str:
        return Truncator(obj.text).chars(80)

    @admin.display(description=gettext_lazy("rationale"))
    def rationale_short(self, obj: Caveat) -> str:
        return Truncator(obj.rationale).chars(60)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Caveat]:
        return caveats_visible_to(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_edit_caveat(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # caveats are lifted, never deleted (a draft's go with it)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["country", "coalition", "pledge", "kind", "condition", "text", "rationale",
                                       "releasability"]})]
        main = ["country", "coalition", "pledge", "kind", "condition", "text", "rationale", "releasability",
                "is_active", "imposed_on", "lifted_on"]
        if self.has_change_permission(request, obj):
            main += ["lift", "seen_version"]
        return [(None, {"fields": main})]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("country",)
        return ("country", "coalition", "pledge", "is_active", "imposed_on", "lifted_on")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "coalition" and is_ministry(request.user):
            kwargs["queryset"] = member_coalitions(request.user)
        if db_field.name == "pledge":
            kwargs["queryset"] = pledges_editable_by(request.user).exclude(status=PledgeStatus.WITHDRAWN)
        if db_field.name == "condition":  # the named conditions of the coalitions the user sees
            kwargs["queryset"] = conditions_visible_to(request.user).select_related("coalition")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Caveat, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            created = call_service(
                services.caveat_add, actor=request.user, kind=data["kind"], text=data["text"],
                coalition=data["coalition"], pledge=data.get("pledge"), rationale=data.get("rationale", ""),
                releasability=data["releasability"], condition=data.get("condition"),
            )
            obj.pk = created.pk
        else:
            expected = data.get("seen_version")
            edits = {n: data[n] for n in form.changed_data if n in services.CAVEAT_EDITABLE_FIELDS}
            if edits:
                call_service(services.caveat_update, actor=request.user, caveat=obj, expected_version=expected,
                             **edits)
                expected = None
            if data.get("lift"):
                call_service(services.caveat_lift, actor=request.user, caveat=obj, expected_version=expected)
        obj.refresh_from_db()
        obj._state.adding = False

    @admin.action(description=gettext_lazy("Lift the selected caveats (as of today)"))
    def lift_selected(self, request: HttpRequest, queryset: QuerySet[Caveat]) -> None:
        lifted = 0
        for caveat in queryset.filter(pk__in=caveats_editable_by(request.user).values("pk")):
            try:
                services.caveat_lift(actor=request.user, caveat=caveat)
                lifted += 1
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, f"{caveat}: {' '.join(getattr(error, 'messages', [str(error)]))}")
        skipped = queryset.count() - queryset.filter(pk__in=caveats_editable_by(request.user).values("pk")).count()
        if skipped:
            messages.warning(request, _("%(count)s caveat(s) belong to another country and were left alone.") % {
                "count": skipped})
        if lifted:
            messages.success(request, _("Lifted %(count)s caveat(s).") % {"count": lifted})

    def get_actions(self, request: HttpRequest) -> Any:
        return super().get_actions(request) if is_ministry(request.user) else {}

    def history_versions(self, request: HttpRequest, obj: Caveat) -> list[Version]:
        return caveat_versions(user=request.user, caveat_id=obj.pk)
