"""Composite foreign keys that Django cannot declare.

They make two invariants hold in the database itself, whatever writes the rows:
a pledge's or requirement's unit is one its category is counted in, a pledge's
or caveat's country is a member of its coalition, and a caveat on a pledge
names that pledge's own country and coalition.
"""

from django.db import migrations

CONSTRAINTS = [
    ("pledges_pledge", "pledge_unit_of_category", "(category_id, unit_id)",
     "pledges_categoryunit (category_id, unit_id)"),
    ("pledges_pledge", "pledge_country_is_member", "(coalition_id, country_id)",
     "pledges_membership (coalition_id, country_id)"),
    ("pledges_requirement", "requirement_unit_of_category", "(category_id, unit_id)",
     "pledges_categoryunit (category_id, unit_id)"),
    ("pledges_caveat", "caveat_country_is_member", "(coalition_id, country_id)",
     "pledges_membership (coalition_id, country_id)"),
    ("pledges_caveat", "caveat_matches_its_pledge", "(pledge_id, country_id, coalition_id)",
     "pledges_pledge (id, country_id, coalition_id) ON DELETE CASCADE"),
]


class Migration(migrations.Migration):
    dependencies = [("pledges", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql=f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY {columns} REFERENCES {target};",
            reverse_sql=f"ALTER TABLE {table} DROP CONSTRAINT {name};",
        )
        for table, name, columns, target in CONSTRAINTS
    ]
