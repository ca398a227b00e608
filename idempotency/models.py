"""The first answer to a write sent with an `Idempotency-Key`, kept for a day, so that a retry gets it again."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class IdempotentRequest(models.Model):
    """One user's write under one key: what was asked (a fingerprint) and what was answered.

    Written in the same transaction as the write itself: if the write committed, so did its answer; if not,
    neither did, and a retry performs the write.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=68, help_text="SHA-256 of what was asked: the method, path, query and parsed body, files by their "
        "digests (services.fingerprint); 'raw:' and the SHA-256 of the raw bytes for answers kept before 0002.")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    status_code = models.PositiveSmallIntegerField(null=True, help_text="Empty while the write is running.")
    body = models.TextField(null=True, help_text="The JSON answered, as sent (key order kept).")
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_unique_key_per_user"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotent_request_created")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
