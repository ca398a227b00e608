"""An index on each history table's event time: "did anything change after this moment?" and the
changes since a moment read a few index entries instead of the whole history."""

from django.db import migrations

TABLES = ["pledges_pledgeevent", "pledges_caveatevent", "pledges_requirementevent"]


class Migration(migrations.Migration):
    dependencies = [("pledges", "0005_caveat_releasability_help")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX {table}_created_at ON {table} (pgh_created_at);",
            reverse_sql=f"DROP INDEX {table}_created_at;",
        )
        for table in TABLES
    ]
