"""An uploaded spreadsheet of one country's pledges to one coalition: previewed, then applied whole or not at all."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from pledges.models import Coalition, Country


class ImportStatus(models.TextChoices):
    PREVIEWING = "previewing", _("Being previewed")
    PREVIEWED = "previewed", _("Previewed (nothing changed yet)")
    APPLYING = "applying", _("Being applied")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Not applied (nothing changed)")


class RowAction(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    UNCHANGED = "unchanged", _("Unchanged")
    ERROR = "error", _("Error")


class Import(models.Model):
    """The file itself is not kept: `rows` holds what was read from it (the values to write, per row) and what
    the preview found (the action, the fields that change, the errors), so applying writes exactly what was
    previewed. `digest` (SHA-256 of the file) keeps the same file from being applied twice."""

    coalition = models.ForeignKey(Coalition, verbose_name=_("coalition"), on_delete=models.PROTECT,
                                  related_name="imports")
    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.PROTECT, related_name="imports")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"),
                                    on_delete=models.PROTECT, related_name="imports")
    filename = models.CharField(_("filename"), max_length=255)
    digest = models.CharField(_("digest"), max_length=64)
    status = models.CharField(_("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED)
    rows = models.JSONField(_("rows"), default=list)
    summary = models.JSONField(_("summary"), default=dict,
                               help_text=_("How many rows create, update, are unchanged, have errors."))
    error = models.TextField(_("error"), blank=True, help_text=_("Why applying failed (nothing was changed)."))
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="import_status_valid"),
            models.CheckConstraint(condition=~Q(status=ImportStatus.APPLIED) | Q(applied_at__isnull=False),
                                   name="import_applied_has_time"),
            # One file is applied once per country and coalition: uploading it again cannot create its rows twice.
            models.UniqueConstraint(fields=["country", "coalition", "digest"], condition=Q(status="applied"),
                                    name="import_file_applied_once"),
        ]
        indexes = [models.Index(fields=["country", "coalition", "digest"], name="import_digest")]

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.filename})"
