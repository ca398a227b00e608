"""Pledges, with their caveats and tranches inline: ministry staff enter their own country's; every reader sees
what pledges.visibility allows them. Every write goes through pledges.services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import is_ministry, is_reader
from places.admin import PlaceBox
from pledges import services
from pledges.admin.national import NationalRowsAdmin, may_edit_pledge
from pledges.history import pledge_versions
from pledges.models import Caveat, Coalition, Delivery, Pledge, PledgeStatus
from pledges.selectors import pledge_list
from pledges.visibility import caveats_visible_to, deliveries_visible_to, member_coalitions, pledges_editable_by
from utilities.admin_inlines import LabelledTabularInline
from utilities.service_admin import ServiceModelForm, call_service
from utilities.versioning import Version

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PLEDGE_HISTORY_FIELDS = (
    "status", "category", "unit", "quantity", "description", "available_from", "available_until",
    "notice_to_move_days", "location", "place", "estimated_value_eur", "releasability", "reconfirmed_at",
)


class CaveatInlineForm(forms.ModelForm):
    lift = forms.BooleanField(required=False, label=gettext_lazy("Lift"),
                              help_text=gettext_lazy("Tick to lift this caveat as of today."))

    class Meta:
        model = Caveat
        fields = ("kind", "text", "rationale")
        widgets = {
            "text": forms.Textarea(attrs={"rows": 2, "cols": 40}),
            "rationale": forms.Textarea(attrs={"rows": 2, "cols": 30}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None or not self.instance.is_active:
            self.fields["lift"].disabled = True


class CaveatInline(LabelledTabularInline):
    model = Caveat
    fk_name = "pledge"
    form = CaveatInlineForm
    fields = ("kind", "text", "rationale", "state", "lift")
    readonly_fields = ("state",)
    can_delete = False
    extra = 1
    verbose_name = gettext_lazy("caveat")
    verbose_name_plural = gettext_lazy("caveats (national restrictions and conditions on this pledge)")

    @admin.display(description=gettext_lazy("state"))
    def state(self, obj: Caveat) -> str:
        if obj.pk is None:
            return "new"
        if obj.is_active:
            return f"active since {obj.imposed_on:%d %b %Y}"
        return f"lifted on {obj.lifted_on:%d %b %Y} (imposed {obj.imposed_on:%d %b %Y})"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Caveat]:
        return caveats_visible_to(request.user).order_by("-is_active", "imposed_on", "id")

    def get_extra(self, request: HttpRequest, obj: Pledge | None = None, **kwargs: Any) -> int:
        return 1 if self.has_add_permission(request, obj) else 0

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_reader(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_edit_pledge(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_edit_pledge(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeliveryInline(LabelledTabularInline):
    """The pledge's tranches: planned, then delivered. Saved through pledges.services (PledgeAdmin.save_formset)."""

    model = Delivery
    fields = ("quantity", "planned_on", "delivered_on", "note", "state")
    readonly_fields = ("state",)
    extra = 0
    verbose_name = gettext_lazy("tranche")
    verbose_name_plural = gettext_lazy("tranches (what was planned and what arrived)")

    @admin.display(description=gettext_lazy("state"))
    def state(self, obj: Delivery) -> str:
        if obj.pk is None:
            return "new"
        if obj.delivered_on:
            return f"delivered {obj.delivered_on:%d %b %Y}"
        return "OVERDUE" if obj.is_overdue_on(timezone.localdate()) else f"due {obj.planned_on:%d %b %Y}"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        return deliveries_visible_to(request.user).order_by("planned_on", "id")

    def get_extra(self, request: HttpRequest, obj: Pledge | None = None, **kwargs: Any) -> int:
        return 1 if self.has_add_permission(request, obj) else 0

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_reader(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and obj.pk is not None and obj.is_offered and may_edit_pledge(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)


class _FlagFilter(admin.SimpleListFilter):
    """Yes or no on a flag pledges.selectors.pledge_list annotates (the API's filters of the same names)."""

    flag: str
    yes: StrOrPromise
    no: StrOrPromise

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return [("yes", self.yes), ("no", self.no)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(**{self.flag: self.value() == "yes"})
        return queryset


class StaleFilter(_FlagFilter):
    title = gettext_lazy("reconfirmation")
    parameter_name = "stale"
    flag = "is_stale"
    yes, no = gettext_lazy("Stale (not reconfirmed in time)"), gettext_lazy("Current")


class OverdueFilter(_FlagFilter):
    title = gettext_lazy("tranches")
    parameter_name = "overdue"
    flag = "has_overdue_delivery"
    yes, no = gettext_lazy("With an overdue tranche"), gettext_lazy("None overdue")


PLEDGE_OPTIONAL_FIELDS = (
    "description", "available_from", "available_until", "notice_to_move_days", "place", "location",
    "estimated_value_eur", "releasability", "relieves",
)


class PledgeForm(ServiceModelForm):
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Pledge
        fields = ("coalition", "category", "unit", "quantity", "status", *PLEDGE_OPTIONAL_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self.admin_request, "user", None)
        if self.instance.pk is None:
            if user is not None and is_ministry(user):
                self.instance.country_id = user.country_id  # shown read-only; pledge_create uses the actor's
            if "status" in self.fields:
                initial = [(s, PledgeStatus(s).label) for s in (PledgeStatus.DRAFT, PledgeStatus.INDICATIVE)]
                status_field: Any = self.fields["status"]
                status_field.choices = initial
                self.fields["status"].help_text = _("Draft: seen only by your country. Indicative: offered.")
        else:
            self.fields["seen_version"].initial = self.instance.version
            if "status" in self.fields:
                # Every status is accepted by the field, so an illegal move reaches pledge_transition and
                # comes back with its explanation; the menu offers only the legal moves.
                current = self.instance.status
                legal = [current, *sorted(services.ALLOWED_TRANSITIONS[current])]
                self.fields["status"].widget.choices = [(s, PledgeStatus(s).label) for s in legal]
                self.fields["status"].help_text = _("Only the legal next moves are offered.")


@admin.register(Pledge)
class PledgeAdmin(NationalRowsAdmin):
    form = PledgeForm
    inlines = [CaveatInline, DeliveryInline]
    # Ten columns that fit beside the filters at 1280 px: the amount with its unit, what needs doing in one.
    list_display = ("country", "coalition", "category", "offer", "status", "delivered", "attention", "shared_with",
                    "updated")
    list_display_links = ("country", "category")
    list_filter = (
        ("category", admin.RelatedOnlyFieldListFilter),
        "status",
        StaleFilter,
        OverdueFilter,
        ("coalition", admin.RelatedOnlyFieldListFilter),
    )
    actions = ["reconfirm_selected"]
    # The gazetteer's 69,000 places, found by any of their names; the pledge relieved in a rotation, among those
    # the writer sees (this admin's own queryset answers the autocomplete).
    autocomplete_fields = ("place", "relieves")

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        """A new pledge has no tranches yet: they are planned on its page once it is offered."""
        inlines = super().get_inline_instances(request, obj)
        return [inline for inline in inlines if obj is not None or not isinstance(inline, DeliveryInline)]
    search_fields = ("description", "location", "country__name", "=country__code")
    list_select_related = ("country", "coalition", "category", "unit", "place")
    list_per_page = 100
    history_fields = PLEDGE_HISTORY_FIELDS

    # -- who (with the figures of pledges.selectors: delivered, overdue, stale)
    def get_queryset(self, request: HttpRequest) -> QuerySet[Pledge]:
        return pledge_list(user=request.user)

    @admin.display(description=gettext_lazy("offer"), ordering="quantity")
    def offer(self, obj: Any) -> str:
        return f"{number_format(obj.quantity, force_grouping=True)} {obj.unit.code}"

    @admin.display(description=gettext_lazy("delivered"), ordering="delivered_quantity")
    def delivered(self, obj: Any) -> str:
        if not obj.delivered_quantity:
            return "—"
        return _("%(delivered)s of %(quantity)s") % {
            "delivered": number_format(obj.delivered_quantity, force_grouping=True),
            "quantity": number_format(obj.quantity, force_grouping=True)}

    @admin.display(description=gettext_lazy("to do"), ordering="reconfirmed_at")
    def attention(self, obj: Any) -> str:
        """Stale (not reconfirmed in time) and overdue tranches, in words: the filters of the same names."""
        needs = [str(word) for word, flag in ((_("reconfirm"), obj.is_stale),
                                              (_("tranche overdue"), obj.has_overdue_delivery)) if flag]
        return ", ".join(needs) or "—"

    @admin.display(description=gettext_lazy("shared with"), ordering="releasability")
    def shared_with(self, obj: Any) -> str:
        return obj.get_releasability_display()

    @admin.display(description=gettext_lazy("updated"), ordering="updated_at")
    def updated(self, obj: Any) -> str:
        return date_format(timezone.localtime(obj.updated_at), "j M Y")

    @admin.action(description=gettext_lazy("Reconfirm the selected pledges (the offer still stands)"))
    def reconfirm_selected(self, request: HttpRequest, queryset: QuerySet[Pledge]) -> None:
        own = queryset.filter(pk__in=pledges_editable_by(request.user).values("pk"))
        done = 0
        for pledge in own:
            try:
                services.pledge_reconfirm(actor=request.user, pledge=pledge)
                done += 1
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, f"{pledge}: {' '.join(getattr(error, 'messages', [str(error)]))}")
        if skipped := queryset.count() - own.count():
            messages.warning(request, _("%(count)s pledge(s) belong to another country and were left alone.") % {
                "count": skipped})
        if done:
            messages.success(request, _("Reconfirmed %(count)s pledge(s).") % {"count": done})

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        if not is_ministry(request.user):
            actions.pop("reconfirm_selected", None)
        return actions

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_edit_pledge(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return is_ministry(request.user)
        return obj.status == PledgeStatus.DRAFT and may_edit_pledge(request, obj)

    # -- the form
    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        editing = obj is not None and self.has_change_permission(request, obj)
        offer = ["country", "coalition", "category", "quantity", "unit", "status", "description"]
        if editing:
            offer.append("seen_version")
        fieldsets: list[tuple[str | None, dict[str, Any]]] = [
            (None, {"fields": offer}),
            (_("When and where"), {"fields": ["available_from", "available_until", "relieves", "notice_to_move_days",
                                           "place", "location"]}),
            (_("Value and release"), {"fields": ["estimated_value_eur", "releasability"]}),
        ]
        if obj is not None:
            fieldsets.append((_("Record"), {"fields": ["reconfirmed_at", "version", "created_at", "updated_at",
                                                    "is_illustrative"], "classes": ["collapse"]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("country",)
        return ("country", "coalition", "reconfirmed_at", "version", "created_at", "updated_at", "is_illustrative")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "coalition":
            kwargs["queryset"] = member_coalitions(request.user) if is_ministry(request.user) else Coalition.objects
        if db_field.name == "place":
            kwargs["widget"] = PlaceBox(db_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # -- the writes, all through pledges.services
    def save_model(self, request: HttpRequest, obj: Pledge, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            created = call_service(
                services.pledge_create, actor=request.user, coalition=data["coalition"], category=data["category"],
                unit=data["unit"], quantity=data["quantity"], status=data["status"],
                **{name: data[name] for name in PLEDGE_OPTIONAL_FIELDS if name in data},
            )
            obj.pk = created.pk
        else:
            expected = data.get("seen_version")
            changes = {name: data[name] for name in form.changed_data if name in services.PLEDGE_EDITABLE_FIELDS}
            if changes:
                call_service(services.pledge_update, actor=request.user, pledge=obj, expected_version=expected,
                             **changes)
                expected = None
            if "status" in form.changed_data:
                call_service(services.pledge_transition, actor=request.user, pledge=obj, to_status=data["status"],
                             expected_version=expected)
        obj.refresh_from_db()
        obj._state.adding = False

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is Delivery:
            self._save_tranches(request, form.instance, formset)
            return
        pledge: Pledge = form.instance
        new: list[Caveat] = []
        changed: list[tuple[Caveat, list[str]]] = []
        for caveat_form in formset.forms:
            if not caveat_form.has_changed():
                continue
            data = caveat_form.cleaned_data
            if caveat_form.instance.pk is None:
                new.append(call_service(
                    services.caveat_add, where="Caveat", actor=request.user, pledge=pledge, kind=data["kind"],
                    text=data["text"], rationale=data.get("rationale", ""),
                ))
                continue
            caveat = caveat_form.instance
            edits = {n: data[n] for n in caveat_form.changed_data if n in services.CAVEAT_EDITABLE_FIELDS}
            if edits:
                caveat = call_service(services.caveat_update, where="Caveat", actor=request.user, caveat=caveat,
                                      **edits)
            if data.get("lift"):
                caveat = call_service(services.caveat_lift, where="Caveat", actor=request.user, caveat=caveat)
            changed.append((caveat, list(caveat_form.changed_data)))
        formset.new_objects, formset.changed_objects, formset.deleted_objects = new, changed, []

    def _save_tranches(self, request: HttpRequest, pledge: Pledge, formset: Any) -> None:
        new, changed, deleted = [], [], []
        for tranche_form in formset.forms:
            data = getattr(tranche_form, "cleaned_data", {})
            if not data:
                continue
            if data.get("DELETE") and tranche_form.instance.pk is not None:
                call_service(services.delivery_delete, where="Tranche", actor=request.user,
                             delivery=tranche_form.instance)
                deleted.append(tranche_form.instance)
            elif tranche_form.instance.pk is None and tranche_form.has_changed():
                new.append(call_service(
                    services.delivery_plan, where="Tranche", actor=request.user, pledge=pledge,
                    quantity=data["quantity"], planned_on=data["planned_on"], delivered_on=data.get("delivered_on"),
                    note=data.get("note", ""),
                ))
            elif tranche_form.has_changed():
                edits = {n: data[n] for n in tranche_form.changed_data if n in services.DELIVERY_EDITABLE_FIELDS}
                changed.append((call_service(services.delivery_update, where="Tranche", actor=request.user,
                                             delivery=tranche_form.instance, **edits), list(tranche_form.changed_data)))
        formset.new_objects, formset.changed_objects, formset.deleted_objects = new, changed, deleted

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # A draft's caveats go with it in services.pledge_delete; the caveat admin itself never deletes.
        perms_needed.discard(Caveat._meta.verbose_name)
        return to_delete, model_count, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: Pledge) -> None:
        try:
            services.pledge_delete(actor=request.user, pledge=obj)
        except ValidationError as error:
            raise PermissionDenied(" ".join(error.messages)) from error

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Pledge]) -> None:
        for pledge in queryset:
            self.delete_model(request, pledge)

    def history_versions(self, request: HttpRequest, obj: Pledge) -> list[Version]:
        return pledge_versions(user=request.user, pledge_id=obj.pk)
