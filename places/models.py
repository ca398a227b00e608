"""The gazetteer: named places with coordinates, where a pledge is based or delivered.

Most places are GeoNames cities shipped with the product (their id is the GeoNames id); an administrator may
add one GeoNames lacks (an air base, a port), numbered from ADDED_FROM so the two never collide. Places are
reference data seen by everyone; which pledges are where is the pledges' business, so a place has no reverse
link to them.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from places.gazetteer import validate_country_code
from utilities.text import LINE, single_line_constraints

ADDED_FROM = 1_000_000_000  # GeoNames ids stay far below (13 million in 2026)


class PlaceSource(models.TextChoices):
    GEONAMES = "geonames", _("GeoNames")
    ADDED = "added", _("added by an administrator")


class Place(models.Model):
    id = models.BigAutoField(primary_key=True, verbose_name=_("GeoNames id"))
    name = models.CharField(_("name"), max_length=200, validators=LINE)
    country_code = models.CharField(
        _("country"), max_length=2,
        validators=[RegexValidator(r"^[A-Z]{2}$", _("Two capital letters, e.g. PL.")), validate_country_code],
        help_text=_("ISO 3166-1 alpha-2, e.g. PL."),
    )
    latitude = models.FloatField(_("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)],
                                 help_text=_("Degrees north, -90 to 90."))
    longitude = models.FloatField(_("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)],
                                  help_text=_("Degrees east, -180 to 180."))
    population = models.PositiveIntegerField(_("population"), default=0)
    source = models.CharField(_("source"), max_length=8, choices=PlaceSource.choices, default=PlaceSource.ADDED)
    # Every name (GeoNames' alternate names too) in places.names.search_key form, between "|" separators.
    names = models.TextField(_("names"), editable=False, default="")

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["name", "country_code", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180,
                                               longitude__lte=180),
                                   name="place_coordinates_in_range",
                                   violation_error_message=_("Latitude is -90 to 90 and longitude -180 to 180.")),
            models.CheckConstraint(condition=Q(country_code__regex=r"^[A-Z]{2}$"), name="place_country_iso_alpha2"),
            models.CheckConstraint(condition=Q(source=PlaceSource.ADDED, id__gte=ADDED_FROM)
                                   | Q(source=PlaceSource.GEONAMES, id__lt=ADDED_FROM),
                                   name="place_id_matches_source"),
            *single_line_constraints("place", "name"),
        ]
        indexes = [models.Index(fields=["country_code", "name"], name="place_country_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.country_code})"

    def as_dict(self) -> dict[str, object]:
        """The place as the API shows it."""
        return {"id": self.pk, "name": self.name, "country": self.country_code, "lat": self.latitude,
                "lon": self.longitude}
