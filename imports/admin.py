"""Imports in the admin: upload a spreadsheet, see what it would do, apply it (ministry staff, own country)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.roles import is_ministry
from imports import services
from imports.forms import UploadForm
from imports.models import Import, ImportStatus
from imports.reader import FileRefused
from imports.services import imports_visible_to
from pledges.visibility import coalitions_visible_to


@admin.register(Import)
class ImportAdmin(admin.ModelAdmin):
    list_display = ("id", "filename", "coalition", "status", "rows_summary", "uploaded_by", "created_at")
    list_display_links = ("id", "filename")
    list_filter = ("status",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return imports_visible_to(request.user).select_related("coalition")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_ministry(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_ministry(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_ministry(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("rows"))
    def rows_summary(self, obj: Import) -> str:
        summary = obj.summary or {}
        return ", ".join(f"{summary[key]} {key}" for key in ("create", "update", "unchanged", "error")
                         if summary.get(key)) or "—"

    def get_urls(self) -> list[URLPattern]:
        own = [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="imports_import_upload"),
            path("<int:pk>/preview/", self.admin_view_of(self.preview_view), name="imports_import_preview"),
            path("<int:pk>/apply/", self.admin_view_of(require_POST(self.apply_view)), name="imports_import_apply"),
        ]
        return own + super().get_urls()

    def admin_view_of(self, view: Any) -> Any:
        return self.admin_site.admin_view(view)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:imports_import_upload"))

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: Any = None) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:imports_import_preview", args=[object_id]))

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not is_ministry(request.user):
            raise PermissionDenied(_("Only ministry staff import their country's pledges."))
        coalitions = coalitions_visible_to(request.user).order_by("name")
        form = UploadForm(request.POST or None, request.FILES or None, coalitions=coalitions)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                with transaction.atomic():
                    imported = services.import_preview(actor=request.user, coalition=form.cleaned_data["coalition"],
                                                       filename=upload.name, data=upload.read())
            except FileRefused as refused:
                form.add_error("file", str(refused))
            else:
                return HttpResponseRedirect(reverse("admin:imports_import_preview", args=[imported.pk]))
        return TemplateResponse(request, "admin/imports/upload.html", self._context(
            request, _("Import pledges from a spreadsheet"), form=form, coalitions=coalitions))

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        imported = get_object_or_404(self.get_queryset(request), pk=pk)
        return TemplateResponse(request, "admin/imports/preview.html", self._context(
            request, _("Import #%(id)s: %(file)s") % {"id": imported.pk, "file": imported.filename}, imported=imported,
            may_apply=imported.status in (ImportStatus.PREVIEWED, ImportStatus.FAILED)
            and bool(imported.summary) and not imported.summary.get("error")))

    def apply_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        imported = get_object_or_404(self.get_queryset(request), pk=pk)
        preview = reverse("admin:imports_import_preview", args=[imported.pk])
        try:
            with transaction.atomic():
                if imported.status != ImportStatus.APPLIED and len(imported.rows) > services.QUEUED_ABOVE:
                    services.import_queue(actor=request.user, import_id=imported.pk)
                    messages.info(request, _("The import is being applied by a worker; this page shows when it is "
                                             "done."))
                    return HttpResponseRedirect(preview)
                applied = services.import_apply(actor=request.user, import_id=imported.pk)
        except services.ImportRefused as refused:
            messages.error(request, _("Nothing was applied: %(why)s") % {"why": services.refusal_text(refused.rows)})
            return HttpResponseRedirect(preview)
        except (ValidationError, PermissionDenied) as problem:
            messages.error(request, " ".join(getattr(problem, "messages", [str(problem)])))
            return HttpResponseRedirect(preview)
        summary = applied.summary
        messages.success(request, _("Applied: %(created)s pledge(s) created, %(changed)s changed, %(same)s unchanged.")
                         % {"created": summary.get("create", 0), "changed": summary.get("update", 0),
                            "same": summary.get("unchanged", 0)})
        return HttpResponseRedirect(reverse("admin:pledges_pledge_changelist"))
