"""Adding a place GeoNames lacks (an air base, a port), and correcting it: administrators only."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.roles import Actor, Reader, is_administrator
from places.models import Place, PlaceSource
from places.names import names_key


def _save(actor: Reader | Actor, place: Place) -> Place:
    if not is_administrator(actor):
        raise PermissionDenied(_("Only administrators add or change places."))
    place.names = names_key([place.name])
    place.full_clean()
    place.save()
    return place


@transaction.atomic
def place_add(*, actor: Reader | Actor, name: str, country_code: str, latitude: float, longitude: float) -> Place:
    return _save(actor, Place(name=name, country_code=country_code, latitude=latitude, longitude=longitude,
                              source=PlaceSource.ADDED))


@transaction.atomic
def place_update(*, actor: Reader | Actor, place: Place, name: str, country_code: str, latitude: float,
                 longitude: float) -> Place:
    """An added place may be corrected; a GeoNames place stays as GeoNames has it."""
    locked = Place.objects.select_for_update().get(pk=place.pk)
    if locked.source != PlaceSource.ADDED:
        raise ValidationError(_("A GeoNames place cannot be changed here."))
    locked.name, locked.country_code, locked.latitude, locked.longitude = name, country_code, latitude, longitude
    return _save(actor, locked)
