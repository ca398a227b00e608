"""Place the pledges whose free-text location names exactly one place of the gazetteer (accents and case aside,
within the coalition's theatre when it has one): the one place with that among its names, or else the one place
whose own name it is ("Odesa": a Spanish town also lists it among its other names). The rest keep their text and no place; the
text stays in either case. The change is a change like any other: a new version in the pledge's history."""

import pghistory
from django.db import migrations
from django.db.models import F
from django.db.models.functions import Now


def place_locations(apps, schema_editor):
    from places.names import SEPARATOR, search_key

    Pledge = apps.get_model("pledges", "Pledge")
    Place = apps.get_model("places", "Place")
    pending = (Pledge.objects.filter(place__isnull=True).exclude(location="")
               .values_list("location", "coalition__theatre").distinct())
    with pghistory.context(user=None, username="system", action="place_from_location"):
        for location, theatre in pending:
            key = search_key(location)
            if not key:
                continue
            candidates = Place.objects.filter(names__contains=SEPARATOR + key + SEPARATOR)
            if theatre:
                candidates = candidates.filter(country_code__in=theatre)
            found = list(candidates.values_list("pk", flat=True)[:2])
            if len(found) > 1:
                found = list(candidates.filter(names__startswith=SEPARATOR + key + SEPARATOR)
                             .values_list("pk", flat=True)[:2])
            if len(found) == 1:
                (Pledge.objects.filter(place__isnull=True, location=location, coalition__theatre=theatre)
                 .update(place_id=found[0], version=F("version") + 1, updated_at=Now()))


class Migration(migrations.Migration):
    dependencies = [("pledges", "0016_places")]
    operations = [migrations.RunPython(place_locations, migrations.RunPython.noop)]
