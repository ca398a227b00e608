"""Rows stored before the one-line rule: each line break or other control character in a one-line field becomes a
space, so that the next migration's CHECK constraints (utilities.text.single_line_constraints) never fail on a live
database."""

from django.db import migrations

from utilities.text import single_line_cleanup


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_preferred_language")]
    operations = [single_line_cleanup(
        "accounts.User.username",
        "accounts.User.first_name",
        "accounts.User.last_name",
        "accounts.User.email",
    )]
