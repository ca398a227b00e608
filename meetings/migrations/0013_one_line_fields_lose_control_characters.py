"""Rows stored before the one-line rule: each line break or other control character in a one-line field becomes a
space, so that the next migration's CHECK constraints (utilities.text.single_line_constraints) never fail on a live
database."""

from django.db import migrations

from utilities.text import single_line_cleanup


class Migration(migrations.Migration):
    dependencies = [("meetings", "0012_model_names_translatable")]
    operations = [single_line_cleanup(
        "meetings.Meeting.title",
        "meetings.Meeting.time_zone",
        "meetings.Meeting.place",
        "meetings.Invitation.head_of_delegation",
        "meetings.AgendaItem.title",
    )]
