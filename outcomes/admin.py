"""The outcomes in the admin: inline on the meeting's page (the secretariat records and edits them, whoever sees
the meeting reads them), and "Our actions" for ministry staff, who mark their country's actions done and write
their note. Every write goes through outcomes.services; a refusal comes back on the page in words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.roles import is_ministry
from meetings.admin import MeetingAdmin, MeetingForm, SecretariatWrites
from meetings.models import Meeting
from outcomes import services
from outcomes.models import OurAction, Outcome, OutcomeStatus, is_overdue
from outcomes.selectors import outcome_visibility_q, outcomes_visible_to, with_overdue
from utilities.admin_inlines import LabelledTabularInline
from utilities.service_admin import ServiceAdminMixin, ServiceModelForm, call_service

INLINE_FIELDS = ("kind", "text", "owner", "due_on", "status", "note")


class OutcomeInlineForm(forms.ModelForm):
    class Meta:
        model = Outcome
        fields = INLINE_FIELDS
        widgets = {"text": forms.Textarea(attrs={"rows": 2, "cols": 40}),
                   "note": forms.Textarea(attrs={"rows": 2, "cols": 30})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].required = False
        self.fields["status"].help_text = gettext_lazy("Empty: recorded (a decision) or open (an action).")

    def _post_clean(self) -> None:
        """The rules are the service's (outcome_record / outcome_update), run when the meeting saves."""


class OutcomeInline(SecretariatWrites, LabelledTabularInline):
    model = Outcome
    form = OutcomeInlineForm
    extra = 0
    fields = (*INLINE_FIELDS, "closed_on", "overdue")
    readonly_fields = ("closed_on", "overdue")
    verbose_name = gettext_lazy("decision or action")
    verbose_name_plural = gettext_lazy("decisions and actions")

    @admin.display(description=gettext_lazy("overdue"), boolean=True)
    def overdue(self, outcome: Outcome) -> bool:
        return outcome.pk is not None and is_overdue(outcome)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Outcome]:
        return outcomes_visible_to(request.user).order_by("id")


class MeetingOutcomesForm(ServiceModelForm, MeetingForm):
    class Meta(MeetingForm.Meta):
        pass


class MeetingWithOutcomesAdmin(ServiceAdminMixin, MeetingAdmin):
    """The meeting's page, with its decisions and actions below the agenda."""

    form = MeetingOutcomesForm
    inlines = [*MeetingAdmin.inlines, OutcomeInline]

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        if formset.model is not Outcome:
            super().save_formset(request, form, formset, change)
            return
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for number, inline_form in enumerate(formset.forms, start=1):
            data = getattr(inline_form, "cleaned_data", None)
            if not data or not inline_form.has_changed():
                continue
            where = str(gettext_lazy("Decision or action %(number)s") % {"number": number})
            instance = inline_form.instance
            if instance.pk is None:
                saved = call_service(services.outcome_record, where=where, actor=request.user, meeting=form.instance,
                                     kind=data["kind"], text=data["text"], owner=data.get("owner"),
                                     due_on=data.get("due_on"), status=data.get("status") or None,
                                     note=data.get("note", ""))
                formset.new_objects.append(saved)
            else:
                changes = {name: data[name] for name in inline_form.changed_data if name in INLINE_FIELDS}
                if "status" in changes and not changes["status"]:
                    del changes["status"]
                current = Outcome.objects.get(pk=instance.pk)
                call_service(services.outcome_update, where=where, actor=request.user, outcome=current, **changes)
                formset.changed_objects.append((instance, inline_form.changed_data))


admin.site.unregister(Meeting)
admin.site.register(Meeting, MeetingWithOutcomesAdmin)


class OurActionForm(ServiceModelForm):
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    status = forms.ChoiceField(label=gettext_lazy("status"), choices=[
        (OutcomeStatus.OPEN, OutcomeStatus.OPEN.label), (OutcomeStatus.DONE, OutcomeStatus.DONE.label)])

    class Meta:
        model = OurAction
        fields = ("status", "note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["seen_version"].initial = self.instance.version

    def _post_clean(self) -> None:
        """The rules are outcome_update's, run on save."""


@admin.register(OurAction)
class OurActionAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """A ministry's own country's actions, overdue first: mark one done (or open again) and write how it went."""

    form = OurActionForm
    list_display = ("text", "meeting", "due_on", "status", "overdue", "closed_on")
    list_filter = ("status",)
    list_select_related = ("meeting",)
    readonly_fields = ("meeting", "text", "due_on", "closed_on")

    @admin.display(description=gettext_lazy("overdue"), boolean=True, ordering="overdue")
    def overdue(self, action: Outcome) -> bool:
        return bool(getattr(action, "overdue", is_overdue(action)))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        if not is_ministry(request.user):
            return OurAction.objects.none()
        rows = OurAction.objects.filter(outcome_visibility_q(request.user), kind="action",
                                        owner_id=request.user.country_id)
        return with_overdue(rows, timezone.localdate()).select_related("meeting").order_by(
            "-overdue", "status", "due_on", "id")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_ministry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_ministry(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_ministry(request.user) and (obj is None or obj.status != OutcomeStatus.DROPPED)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["meeting", "text", "due_on", "status", "note", "closed_on"]
        if obj is not None and self.has_change_permission(request, obj):
            fields.append("seen_version")
        return fields

    def save_model(self, request: HttpRequest, obj: OurAction, form: Any, change: bool) -> None:
        data = form.cleaned_data
        changes = {name: data[name] for name in form.changed_data if name in services.OWNER_EDITABLE_FIELDS}
        if changes:
            current = Outcome.objects.get(pk=obj.pk)
            call_service(services.outcome_update, actor=request.user, outcome=current,
                         expected_version=data.get("seen_version"), **changes)
        obj.refresh_from_db()
