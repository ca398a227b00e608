"""Machinery the apps' admins share: forms whose saves go through service functions, and history pages.

- `call_service` / `ServiceModelForm` / `ServiceAdminMixin`: a service's refusal (a ValidationError,
  PermissionDenied or StaleVersion) rolls the whole save back and is shown as a form error on the same page,
  with the user's input.
- `EventHistoryMixin` / `history_rows`: the admin "History" page from the versions a reader could see while
  they were current (pledges.history), each from the moment it became visible to them.
- `guard_admin_input`: two values of a POST Django's admin takes without checking, checked for every
  ModelAdmin and every autocomplete box of the site (ours and the libraries'), so that a forged value is
  answered in words instead of a 500.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Field, Model
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from utilities.versioning import StaleVersion, Version


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
            self.add_error(None, _("Someone else changed this record since you opened it. Nothing was saved; "
                                   "reload the page to see the current version."))
        elif isinstance(error, PermissionDenied):
            self.add_error(None, prefix + (str(error) or _("You may not make this change.")))
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


# --- what Django's admin takes from a POST without checking ----------------------------------------------


def values_naming_rows(field: Field[Any, Any], values: Iterable[Any]) -> list[Any]:
    """The values that can name a row by `field` (an integer for an id); the rest are no row at all (a
    forged "zz" would otherwise reach the query and fail it)."""
    named = []
    for value in values:
        try:
            if "\x00" not in str(value):  # PostgreSQL's text holds no NUL: no row has one
                field.get_prep_value(field.to_python(value))
                named.append(value)
        except (ValidationError, ValueError, TypeError):
            continue
    return named


def guard_admin_input() -> None:
    """Django's admin hands two values of a POST to the database unchecked: the rows an action is asked for
    (`_selected_action`: "zz" fails the query, a 500), and the value an autocomplete box shows again when its
    form comes back with errors. Both are checked here, once for the whole site, ours and the libraries' admins
    alike (no ModelAdmin or widget of the site can miss it): an action on rows that do not exist does nothing and
    says so; a box does not show what names no row."""
    if getattr(admin.ModelAdmin.response_action, "guarded", False):
        return
    response_action = admin.ModelAdmin.response_action
    optgroups = AutocompleteMixin.optgroups

    def response_action_on_rows(self: admin.ModelAdmin[Any], request: HttpRequest, queryset: Any) -> Any:
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if len(values_naming_rows(self.model._meta.pk, selected)) != len(selected):
            self.message_user(request, gettext("Some of the selected rows do not exist; nothing was done."),
                              messages.WARNING)
            return None  # the admin then shows the list again, with the message
        return response_action(self, request, queryset)

    def optgroups_of_rows(self: AutocompleteMixin, name: str, value: list[str], attr: Any = None) -> Any:
        remote = self.field.remote_field
        target = remote.model._meta.get_field(getattr(remote, "field_name", None) or remote.model._meta.pk.name)
        return optgroups(self, name, values_naming_rows(target, value), attr)

    response_action_on_rows.guarded = True  # type: ignore[attr-defined]
    admin.ModelAdmin.response_action = response_action_on_rows  # type: ignore[method-assign,assignment]
    AutocompleteMixin.optgroups = optgroups_of_rows  # type: ignore[method-assign,assignment]


guard_admin_input()  # the apps' admin modules import this one: in force before the admin serves anything
