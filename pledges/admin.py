"""The admin screens: ministry staff enter pledges and caveats, the secretariat sets requirements,
administrators keep the reference data.

Who sees and changes what is decided by role in pledges.visibility, never by
Django's per-model permission table; every write to a pledge, caveat or
requirement goes through pledges.services. A service's refusal (a
ValidationError, PermissionDenied or StaleVersion) rolls the whole save back and
is shown as a form error on the same page (see ServiceAdminMixin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.text import Truncator, capfirst

from pledges import services
from pledges.history import Version, caveat_versions, pledge_versions
from pledges.models import (
    CapabilityCategory,
    CategoryUnit,
    Caveat,
    Coalition,
    Country,
    Membership,
    Pledge,
    PledgeStatus,
    Requirement,
    Unit,
)
from pledges.services import StaleVersion
from pledges.visibility import (
    caveats_editable_by,
    caveats_visible_to,
    coalitions_visible_to,
    is_administrator,
    is_ministry,
    is_reader,
    is_secretariat,
    member_coalitions,
    pledges_editable_by,
    pledges_visible_to,
    requirements_visible_to,
)


def _may_edit(request: HttpRequest, queryset: QuerySet[Any], obj: Model) -> bool:
    """Whether `obj` is in `queryset` (an *_editable_by set), asked once per request and object."""
    cache: dict[tuple[str, int], bool] = request.__dict__.setdefault("_editable_cache", {})
    key = (obj._meta.label, obj.pk)
    if key not in cache:
        cache[key] = queryset.filter(pk=obj.pk).exists()
    return cache[key]


def may_edit_pledge(request: HttpRequest, pledge: Pledge | None) -> bool:
    if not is_ministry(request.user):
        return False
    if pledge is None or pledge.pk is None:
        return True
    return pledge.status != PledgeStatus.WITHDRAWN and _may_edit(request, pledges_editable_by(request.user), pledge)


def may_edit_caveat(request: HttpRequest, caveat: Caveat | None) -> bool:
    if not is_ministry(request.user):
        return False
    if caveat is None or caveat.pk is None:
        return True
    return _may_edit(request, caveats_editable_by(request.user), caveat)


# --- services behind forms ---------------------------------------------------------------


class ServiceRefused(Exception):
    """A service refused a write during save; carries the error back to the form."""

    def __init__(self, error: Exception, where: str = "") -> None:
        super().__init__(str(error))
        self.error = error
        self.where = where


def call_service(service: Any, /, where: str = "", **kwargs: Any) -> Any:
    try:
        return service(**kwargs)
    except (ValidationError, PermissionDenied, StaleVersion) as error:
        raise ServiceRefused(error, where) from error


class ServiceModelForm(forms.ModelForm):
    """A model form that shows a service's refusal, stashed on the request, as its own errors."""

    admin_request: HttpRequest | None = None

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        refusal: ServiceRefused | None = getattr(self.admin_request, "_service_refusal", None)
        if refusal is not None:
            self._show_refusal(refusal)
        return cleaned

    def _show_refusal(self, refusal: ServiceRefused) -> None:
        error, prefix = refusal.error, f"{refusal.where}: " if refusal.where else ""
        if isinstance(error, StaleVersion):
            self.add_error(None, "Someone else changed this record since you opened it. Nothing was saved; "
                                 "reload the page to see the current version.")
        elif isinstance(error, PermissionDenied):
            self.add_error(None, prefix + (str(error) or "You may not make this change."))
        elif hasattr(error, "error_dict") and isinstance(error, ValidationError):
            for field, errors in error.message_dict.items():
                if field in self.fields and not prefix:
                    self.add_error(field, errors)
                else:
                    label = "" if field == "__all__" else f"{field.replace('_', ' ')}: "
                    self.add_error(None, [f"{prefix}{label}{message}" for message in errors])
        else:
            assert isinstance(error, ValidationError)
            self.add_error(None, [prefix + message for message in error.messages])


class ServiceAdminMixin:
    """Re-render the form with the service's errors when a save is refused.

    The first pass runs inside the admin's transaction; a refusal raises
    ServiceRefused, which rolls every write of that save back. The second pass
    validates the same POST with the refusal attached, so the form is invalid
    and the page comes back with the error and the user's input.
    """

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        except ServiceRefused as refusal:
            request._service_refusal = refusal  # type: ignore[attr-defined]
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)  # type: ignore[misc]
        return type(form.__name__, (form,), {"admin_request": request})


# --- history -----------------------------------------------------------------------------


@dataclass
class HistoryRow:
    when: Any
    who: str
    action: str
    changes: list[tuple[str, str, str]]


def _display(model: type[Model], name: str, event: Any) -> str:
    field: Any = model._meta.get_field(name)
    if field.is_relation:
        value = getattr(event, name) if getattr(event, field.attname) is not None else None
    else:
        value = getattr(event, name)
    if value is None or value == "":
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _action(event: Any) -> str:
    context = event.pgh_context.metadata if event.pgh_context_id else {}
    label = {"insert": "created", "update": "changed", "delete": "deleted"}.get(event.pgh_label, event.pgh_label)
    return str(context.get("action") or label)


def history_rows(model: type[Model], versions: list[Version], fields: tuple[str, ...]) -> list[HistoryRow]:
    """Newest first: who acted, when the reader could first see the version, and every field that changed
    since the version they saw before it, before -> after."""
    rows: list[HistoryRow] = []
    previous = None
    for version in versions:
        event = version.row
        changes = []
        for name in fields:
            field: Any = model._meta.get_field(name)
            attname = field.attname
            if previous is not None and getattr(previous, attname) == getattr(event, attname):
                continue
            after = _display(model, name, event)
            before = _display(model, name, previous) if previous is not None else "—"
            if previous is None and after == "—":
                continue
            changes.append((capfirst(str(field.verbose_name)), before, after))
        context = event.pgh_context.metadata if event.pgh_context_id else {}
        who = context.get("username") or (f"user #{context['user']}" if context.get("user") else "system")
        actions = dict.fromkeys(_action(made) for made in version.events)  # one save may do several
        rows.append(HistoryRow(when=version.shown_from, who=who, action=", ".join(actions), changes=changes))
        previous = event
    return list(reversed(rows))


PLEDGE_HISTORY_FIELDS = (
    "status", "category", "unit", "quantity", "description", "available_from", "available_until",
    "notice_to_move_days", "location", "estimated_value_eur", "releasability",
)
CAVEAT_HISTORY_FIELDS = ("kind", "text", "rationale", "releasability", "is_active", "imposed_on", "lifted_on")


class EventHistoryMixin:
    """The admin "History" page: the versions the reader could see while they were current
    (pledges.history), each from the moment it became visible to them."""

    history_fields: tuple[str, ...] = ()

    def history_versions(self, request: HttpRequest, obj: Any) -> list[Version]:
        raise NotImplementedError

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        model_admin: Any = self
        obj = model_admin.get_object(request, unquote(object_id))
        if obj is None:
            return model_admin._get_obj_does_not_exist_redirect(request, model_admin.opts, object_id)
        if not model_admin.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **model_admin.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "rows": history_rows(model_admin.model, self.history_versions(request, obj), self.history_fields),
            "module_name": str(capfirst(model_admin.opts.verbose_name_plural)),
            "object": obj,
            "opts": model_admin.opts,
            "preserved_filters": model_admin.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = model_admin.admin_site.name
        return TemplateResponse(request, "admin/pledges/event_history.html", context)


# --- pledges and their caveats -----------------------------------------------------------


class CaveatInlineForm(forms.ModelForm):
    lift = forms.BooleanField(required=False, label="Lift", help_text="Tick to lift this caveat as of today.")

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


class CaveatInline(admin.TabularInline):
    model = Caveat
    fk_name = "pledge"
    form = CaveatInlineForm
    fields = ("kind", "text", "rationale", "state", "lift")
    readonly_fields = ("state",)
    can_delete = False
    extra = 1
    verbose_name = "caveat"
    verbose_name_plural = "caveats (national restrictions and conditions on this pledge)"

    @admin.display(description="state")
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


PLEDGE_OPTIONAL_FIELDS = (
    "description", "available_from", "available_until", "notice_to_move_days", "location",
    "estimated_value_eur", "releasability",
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
                self.fields["status"].help_text = "Draft: seen only by your country. Indicative: offered."
        else:
            self.fields["seen_version"].initial = self.instance.version
            if "status" in self.fields:
                # Every status is accepted by the field, so an illegal move reaches pledge_transition and
                # comes back with its explanation; the menu offers only the legal moves.
                current = self.instance.status
                legal = [current, *sorted(services.ALLOWED_TRANSITIONS[current])]
                self.fields["status"].widget.choices = [(s, PledgeStatus(s).label) for s in legal]
                self.fields["status"].help_text = "Only the legal next moves are offered."


class NationalRowsAdmin(ServiceAdminMixin, EventHistoryMixin, admin.ModelAdmin):
    """Pledges and caveats: every reader sees the rows pledges.visibility allows them; ministry staff add
    (for their own country); who may change a row is each admin's `has_change_permission`."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_reader(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_reader(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_ministry(request.user)


@admin.register(Pledge)
class PledgeAdmin(NationalRowsAdmin):
    form = PledgeForm
    inlines = [CaveatInline]
    list_display = ("country", "coalition", "category", "quantity", "unit", "status", "releasability", "updated_at")
    list_display_links = ("country", "category")
    list_filter = (
        ("category", admin.RelatedOnlyFieldListFilter),
        "status",
        ("coalition", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("description", "location", "country__name", "=country__code")
    list_select_related = ("country", "coalition", "category", "unit")
    list_per_page = 100
    history_fields = PLEDGE_HISTORY_FIELDS

    # -- who
    def get_queryset(self, request: HttpRequest) -> QuerySet[Pledge]:
        return pledges_visible_to(request.user)

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
            ("When and where", {"fields": ["available_from", "available_until", "notice_to_move_days", "location"]}),
            ("Value and release", {"fields": ["estimated_value_eur", "releasability"]}),
        ]
        if obj is not None:
            fieldsets.append(("Record", {"fields": ["version", "created_at", "updated_at", "is_illustrative"],
                                         "classes": ["collapse"]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("country",)
        return ("country", "coalition", "version", "created_at", "updated_at", "is_illustrative")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "coalition":
            kwargs["queryset"] = member_coalitions(request.user) if is_ministry(request.user) else Coalition.objects
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


# --- caveats on their own (country-wide ones, and every caveat in one list) --------------------


class CaveatForm(ServiceModelForm):
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    lift = forms.BooleanField(required=False, label="Lift this caveat", help_text="Lifted as of today.")

    class Meta:
        model = Caveat
        fields = ("coalition", "pledge", "kind", "text", "rationale", "releasability")
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
            self.add_error("coalition", f"The chosen pledge is to {pledge.coalition}; choose that coalition.")
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

    @admin.display(description="applies to")
    def scope(self, obj: Caveat) -> str:
        return str(obj.pledge) if obj.pledge_id else "all pledges to the coalition"

    @admin.display(description="text")
    def short_text(self, obj: Caveat) -> str:
        return Truncator(obj.text).chars(80)

    @admin.display(description="rationale")
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
            return [(None, {"fields": ["country", "coalition", "pledge", "kind", "text", "rationale",
                                       "releasability"]})]
        main = ["country", "coalition", "pledge", "kind", "text", "rationale", "releasability",
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
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Caveat, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            created = call_service(
                services.caveat_add, actor=request.user, kind=data["kind"], text=data["text"],
                coalition=data["coalition"], pledge=data.get("pledge"), rationale=data.get("rationale", ""),
                releasability=data["releasability"],
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

    @admin.action(description="Lift the selected caveats (as of today)")
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
            messages.warning(request, f"{skipped} caveat(s) belong to another country and were left alone.")
        if lifted:
            messages.success(request, f"Lifted {lifted} caveat(s).")

    def get_actions(self, request: HttpRequest) -> Any:
        return super().get_actions(request) if is_ministry(request.user) else {}

    def history_versions(self, request: HttpRequest, obj: Caveat) -> list[Version]:
        return caveat_versions(user=request.user, caveat_id=obj.pk)


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
class RequirementAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = RequirementForm
    list_display = ("coalition", "category", "quantity", "unit", "updated_at")
    list_filter = ("coalition", "category")
    list_select_related = ("coalition", "category", "unit")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Requirement]:
        return requirements_visible_to(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_reader(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_reader(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_secretariat(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretariat(request.user)

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


# --- reference data: administrators change it, every role reads it -------------------------------


class AdministeredMixin:
    """Every role reads; administrators add, change and delete."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_reader(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_reader(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)


class ReferenceDataAdmin(AdministeredMixin, admin.ModelAdmin):
    pass


class InUseInlineFormSet(BaseInlineFormSet):
    """Refuse to remove a link (membership, category unit) that pledges still rest on, with a clear error."""

    def in_use(self, instance: Any) -> str | None:
        raise NotImplementedError

    def clean(self) -> None:
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk is not None and (reason := self.in_use(form.instance)):
                raise ValidationError(reason)


class MembershipFormSet(InUseInlineFormSet):
    def in_use(self, instance: Membership) -> str | None:
        filters = {"country_id": instance.country_id, "coalition_id": instance.coalition_id}
        if Pledge.objects.filter(**filters).exists() or Caveat.objects.filter(**filters).exists():
            return f"{instance.country} has pledges or caveats in this coalition, so it stays a member."
        return None


class CategoryUnitFormSet(InUseInlineFormSet):
    def in_use(self, instance: CategoryUnit) -> str | None:
        filters = {"category_id": instance.category_id, "unit_id": instance.unit_id}
        if Pledge.objects.filter(**filters).exists() or Requirement.objects.filter(**filters).exists():
            return f"Pledges or requirements are counted in {instance.unit}, so it stays a unit of this category."
        return None


class AdministeredInline(AdministeredMixin, admin.TabularInline):
    extra = 0


class MembershipInline(AdministeredInline):
    model = Membership
    formset = MembershipFormSet
    autocomplete_fields = ("country",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("country")


class CategoryUnitInline(AdministeredInline):
    model = CategoryUnit
    formset = CategoryUnitFormSet
    verbose_name = "unit"
    verbose_name_plural = "units this category is counted in"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return CategoryUnit.objects.select_related("unit", "category")


@admin.register(Country)
class CountryAdmin(ReferenceDataAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Coalition)
class CoalitionAdmin(ReferenceDataAdmin):
    list_display = ("short_name", "name", "member_count")
    search_fields = ("name", "short_name")
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Coalition]:
        return coalitions_visible_to(request.user).annotate(member_count=Count("memberships"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj: Any) -> int:
        return int(obj.member_count)


@admin.register(Unit)
class UnitAdmin(ReferenceDataAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(CapabilityCategory)
class CapabilityCategoryAdmin(ReferenceDataAdmin):
    list_display = ("name", "code", "sort_order", "unit_list")
    search_fields = ("code", "name")
    inlines = [CategoryUnitInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CapabilityCategory]:
        return super().get_queryset(request).prefetch_related("units")

    @admin.display(description="units")
    def unit_list(self, obj: CapabilityCategory) -> str:
        return ", ".join(unit.code for unit in obj.units.all())
