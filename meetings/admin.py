"""Admin screens for meetings and briefs. Every write goes through meetings.services; who may see or change
what comes from meetings.selectors and pledges.visibility (the secretariat changes, others who may see
meetings only look)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy

from accounts.roles import Reader, is_ministry, is_secretariat, sees_all_offered
from meetings import services
from meetings.models import AgendaItem, Brief, BriefStatus, Invitation, InvitationStatus, Meeting
from meetings.selectors import briefs_visible_to, may_see_briefs, meetings_visible_to
from utilities.admin_inlines import LabelledTabularInline


def _may_see_meetings(user: Reader) -> bool:
    return sees_all_offered(user) or is_ministry(user)


class SecretariatWrites:
    """Those who may see meetings look; the secretariat adds and changes; nobody deletes here."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_see_meetings(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_see_meetings(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretariat(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretariat(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InvitationForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["country", "status", "head_of_delegation", "level"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        meeting = getattr(self.instance, "meeting", None)
        if (data.get("status") == InvitationStatus.ATTENDED and meeting is not None and meeting.starts_at
                and meeting.starts_at > timezone.now()):
            raise ValidationError({"status": gettext("A country cannot have attended a meeting that has not started.")})
        return data


class InvitationInline(SecretariatWrites, LabelledTabularInline):
    model = Invitation
    form = InvitationForm
    extra = 0
    ordering = ["country__name"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretariat(request.user)


class AgendaItemInline(SecretariatWrites, LabelledTabularInline):
    model = AgendaItem
    extra = 0
    fields = ["position", "title", "description"]
    ordering = ["position"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretariat(request.user)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.base_fields["position"].required = False
        formset.form.base_fields["position"].help_text = gettext("Empty: at the end.")
        return formset


def _download_links(brief: Brief) -> str:
    if brief.status != BriefStatus.READY:
        return "—"
    return format_html_join(
        " · ", '<a href="{}">{}</a>',
        ((reverse("admin:meetings_brief_download", args=[brief.pk, ext]), ext.upper()) for ext in ("pdf", "xlsx")),
    )


def _progress(brief: Brief) -> str:
    """A <progress> bar coloured by the brief's status (static/coalition/admin.css): no style attribute, which the
    CSP's style-src refuses."""
    return format_html(
        '<progress class="brief-progress brief-{}" max="100" value="{}" title="{}%" aria-label="{}">{}%</progress>',
        brief.status, brief.progress, brief.progress,
        gettext("Brief no. %(number)s compiled") % {"number": brief.number}, brief.progress,
    )


class BriefReadOnlyMixin:
    """Briefs are made by the compile flow only: the secretariat and analysts look, nobody edits."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Brief]:
        return briefs_visible_to(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_see_briefs(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("progress"))
    def progress_bar(self, brief: Brief) -> str:
        return _progress(brief)

    @admin.display(description=gettext_lazy("download"))
    def downloads(self, brief: Brief) -> str:
        return _download_links(brief)


class BriefInline(BriefReadOnlyMixin, LabelledTabularInline):
    model = Brief
    extra = 0
    fields = readonly_fields = ("number", "status", "progress_bar", "as_of", "requested_by", "finished_at",
                                "downloads")
    ordering = ["-number"]
    verbose_name_plural = gettext_lazy("briefs (use the “Compile brief” action for a new one)")



class MeetingForm(forms.ModelForm):
    class Meta:
        model = Meeting
        fields = ["coalition", "title", "kind", "status", "starts_at", "ends_at", "time_zone", "place", "chairs",
                  "outcome_notes"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            services.validate_meeting_times(data.get("starts_at"), data.get("ends_at"))
        except ValidationError as error:
            self.add_error(None, error)
        if data.get("coalition") and data.get("chairs") is not None:
            try:
                services.validate_chairs(data["coalition"], data["chairs"])
            except ValidationError as error:
                self.add_error(None, error)
        return data


@admin.register(Meeting)
class MeetingAdmin(SecretariatWrites, admin.ModelAdmin):
    form = MeetingForm
    list_display = ["title", "coalition", "kind", "starts_at", "place", "status", "chair_list"]
    list_filter = ["coalition", "kind", "status"]
    search_fields = ["title", "place"]
    date_hierarchy = "starts_at"
    filter_horizontal = ["chairs"]
    inlines = [InvitationInline, AgendaItemInline, BriefInline]
    actions = ["compile_brief", "compile_brief_fr"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Meeting]:
        return meetings_visible_to(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Meeting | None = None) -> list[str]:
        return ["coalition"] if obj is not None else []

    @admin.display(description=gettext_lazy("chairs"))
    def chair_list(self, meeting: Meeting) -> str:
        return ", ".join(c.code for c in meeting.chairs.all())

    def save_model(self, request: HttpRequest, obj: Meeting, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            meeting = services.meeting_create(
                actor=request.user, coalition=data["coalition"], title=data["title"], kind=data["kind"],
                status=data["status"], starts_at=data["starts_at"], ends_at=data["ends_at"],
                time_zone=data["time_zone"], place=data["place"], chairs=data["chairs"],
                outcome_notes=data["outcome_notes"],
            )
            obj.pk, obj.version = meeting.pk, meeting.version
            obj._state.adding = False
            return
        changes = {name: data[name] for name in form.changed_data if name in services.MEETING_EDITABLE_FIELDS}
        if changes:
            services.meeting_update(actor=request.user, meeting=obj, **changes)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        # Chairs were set by the service; the inlines go through it form by form.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        meeting = form.instance
        # What the admin's change message reads (ModelAdmin.construct_change_message).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not getattr(inline_form, "cleaned_data", None):
                continue
            instance, data = inline_form.instance, inline_form.cleaned_data
            if formset.can_delete and formset._should_delete_form(inline_form):
                if instance.pk and isinstance(instance, Invitation):
                    services.invitation_remove(actor=request.user, invitation=instance)
                elif instance.pk and isinstance(instance, AgendaItem):
                    services.agenda_item_remove(actor=request.user, item=instance)
                if instance.pk:
                    formset.deleted_objects.append(instance)
                continue
            if not inline_form.has_changed():
                continue
            if instance.pk is None:
                formset.new_objects.append(instance)
            else:
                formset.changed_objects.append((instance, inline_form.changed_data))
            if isinstance(instance, Invitation):
                services.invitation_set(
                    actor=request.user, meeting=meeting, country=data["country"], status=data["status"],
                    head_of_delegation=data.get("head_of_delegation", ""), level=data.get("level", ""),
                )
            elif isinstance(instance, AgendaItem) and instance.pk is None:
                services.agenda_item_add(actor=request.user, meeting=meeting, title=data["title"],
                                         description=data.get("description", ""), position=data.get("position"))
            elif isinstance(instance, AgendaItem):
                services.agenda_item_update(actor=request.user, item=instance, title=data["title"],
                                            description=data.get("description", ""))
                if data.get("position") and "position" in inline_form.changed_data:
                    services.agenda_item_move(actor=request.user, item=instance, position=data["position"])

    def has_compile_permission(self, request: HttpRequest) -> bool:
        return is_secretariat(request.user)

    @admin.action(description=gettext_lazy("Compile brief in English"), permissions=["compile"])
    def compile_brief(self, request: HttpRequest, queryset: QuerySet[Meeting]) -> None:
        self._compile(request, queryset, "en")

    @admin.action(description=gettext_lazy("Compile brief in French"), permissions=["compile"])
    def compile_brief_fr(self, request: HttpRequest, queryset: QuerySet[Meeting]) -> None:
        self._compile(request, queryset, "fr")

    def _compile(self, request: HttpRequest, queryset: QuerySet[Meeting], language: str) -> None:
        for meeting in queryset:
            brief = services.brief_request(actor=request.user, meeting=meeting, language=language)
            url = reverse("admin:meetings_brief_change", args=[brief.pk])
            self.message_user(request, format_html(
                gettext('Brief no. {} for “{}” is queued; <a href="{}">follow its progress</a>.'), brief.number,
                meeting.title, url), messages.SUCCESS)


@admin.register(Brief)
class BriefAdmin(BriefReadOnlyMixin, admin.ModelAdmin):
    list_display = ["__str__", "number", "language", "status", "progress_bar", "as_of", "requested_by", "created_at",
                    "finished_at", "downloads"]
    list_filter = ["status", "meeting__coalition"]
    list_select_related = ["meeting", "requested_by"]
    fields = readonly_fields = ("meeting", "number", "language", "status", "progress_bar", "as_of", "error",
                                "requested_by",
                                "attempts", "created_at", "started_at", "heartbeat_at", "finished_at", "downloads")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_see_briefs(request.user)

    def get_urls(self) -> list[URLPattern]:
        download = path("<int:pk>/download/<str:extension>/", self.admin_site.admin_view(self.download),
                        name="meetings_brief_download")
        return [download, *super().get_urls()]

    def download(self, request: HttpRequest, pk: int, extension: str) -> HttpResponse:
        if extension not in ("pdf", "xlsx"):
            raise PermissionDenied
        brief = get_object_or_404(briefs_visible_to(request.user), pk=pk, status=BriefStatus.READY)
        content = Brief.objects.filter(pk=brief.pk).values_list(extension, flat=True).get()
        content_type = "application/pdf" if extension == "pdf" else (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response = HttpResponse(bytes(content), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{brief.filename(extension)}"'
        return response
