"""An uploaded spreadsheet of one country's pledges to one coalition: previewed, then applied whole or not at all."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from pledges.models import Coalition, Country


class ImportStatus(models.TextChoices):
    PREVIEWING = "previewing", "Being previewed"
    PREVIEWED = "previewed", "Previewed (nothing changed yet)"
    APPLYING = "applying", "Being applied"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Not applied (nothing changed)"


class RowAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    UNCHANGED = "unchanged", "Unchanged"
    ERROR = "error", "Error"


class Import(models.Model):
    """The file itself is not kept: `rows` holds what was read from it (the values to write, per row) and what
    the preview found (the action, the fields that change, the errors), so applying writes exactly what was
    previewed. `digest` (SHA-256 of the file) keeps the same file from being applied twice."""

    coalition = models.ForeignKey(Coalition, on_delete=models.PROTECT, related_name="imports")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="imports")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="imports")
    filename = models.CharField(max_length=255)
    digest = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED)
    rows = models.JSONField(default=list)
    summary = models.JSONField(default=dict, help_text="How many rows create, update, are unchanged, have errors.")
    error = models.TextField(blank=True, help_text="Why applying failed (nothing was changed).")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
