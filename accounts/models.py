from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from utilities.text import LINE, single_line_constraints


class Role(models.TextChoices):
    MINISTRY = "ministry", _("Ministry staff")
    ANALYST = "analyst", _("Analyst")
    SECRETARIAT = "secretariat", _("Secretariat")
    ADMINISTRATOR = "administrator", _("Administrator")


class User(AbstractUser):
    """A person with one role; ministry staff are bound to exactly one country.

    Names are one line each (utilities.text.LINE), as the username and the address already are by their own
    validators: they are shown in mail and pages; the database refuses a line break in any of the four."""

    first_name = models.CharField(_("first name"), max_length=150, blank=True, validators=LINE)
    last_name = models.CharField(_("last name"), max_length=150, blank=True, validators=LINE)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.ANALYST)
    country = models.ForeignKey(
        "pledges.Country",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("country"),
        help_text=_("The country a ministry user works for; empty for every other role."),
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, blank=True,
        help_text=_("The pages, messages, emails and briefs in this language; empty: the browser's."),
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(role=Role.MINISTRY) & Q(country__isnull=False))
                | (~Q(role=Role.MINISTRY) & Q(country__isnull=True)),
                name="user_country_iff_ministry",
                violation_error_message=_("Ministry staff need a country; other roles must not have one."),
            ),
            *single_line_constraints("user", "username", "first_name", "last_name", "email"),
        ]
