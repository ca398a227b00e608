from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    MINISTRY = "ministry", "Ministry staff"
    ANALYST = "analyst", "Analyst"
    SECRETARIAT = "secretariat", "Secretariat"
    ADMINISTRATOR = "administrator", "Administrator"


class User(AbstractUser):
    """A person with one role; ministry staff are bound to exactly one country."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ANALYST)
    country = models.ForeignKey(
        "pledges.Country",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        help_text="The country a ministry user works for; empty for every other role.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(role=Role.MINISTRY) & Q(country__isnull=False))
                | (~Q(role=Role.MINISTRY) & Q(country__isnull=True)),
                name="user_country_iff_ministry",
                violation_error_message="Ministry staff need a country; other roles must not have one.",
            ),
        ]
