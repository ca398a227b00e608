"""Rows stored before the one-line rule: each line break or other control character in a one-line field becomes a
space, so that the next migration's CHECK constraints (utilities.text.single_line_constraints) never fail on a live
database."""

from django.db import migrations

from utilities.text import single_line_cleanup


class Migration(migrations.Migration):
    dependencies = [("pledges", "0018_reference_version")]
    operations = [single_line_cleanup(
        "pledges.Country.name",
        "pledges.Coalition.name",
        "pledges.Coalition.short_name",
        "pledges.Unit.code",
        "pledges.Unit.name",
        "pledges.CapabilityCategory.code",
        "pledges.CapabilityCategory.name",
        "pledges.Pledge.location",
    )]
