"""Named conditions, caveats naming them, and rotations (a pledge relieves another).

Besides the generated operations: composite foreign keys that keep a caveat's condition in the caveat's coalition
and a relieved pledge in the relieving one's coalition, category and unit (MATCH SIMPLE: an empty `relieves` or
`condition` is not checked), and pledges_data_version() counting the conditions' history too (kept answers of the
force change when a condition is decided).
"""

from importlib import import_module

import django.core.validators
import django.db.models.deletion
import django.db.models.functions.datetime
import django.db.models.functions.text
import django.db.models.lookups
import pgtrigger.compiler
import pgtrigger.migrations
import utilities.text
from django.db import migrations, models


OLD_FUNCTION = import_module("pledges.migrations.0018_reference_version").FUNCTION
FUNCTION = OLD_FUNCTION.replace(
    "OUT requirements bigint, OUT writers boolean", "OUT requirements bigint, OUT conditions bigint, OUT writers boolean"
).replace(
    "SELECT max(pgh_id) INTO requirements FROM pledges_requirementevent;",
    "SELECT max(pgh_id) INTO requirements FROM pledges_requirementevent;\n"
    "    SELECT max(pgh_id) INTO conditions FROM pledges_conditionevent;",
)


class Migration(migrations.Migration):

    dependencies = [
        ('pghistory', '0007_auto_20250421_0444'),
        ('places', '0005_one_line_fields_refuse_control_characters'),
        ('pledges', '0020_one_line_fields_refuse_control_characters'),
    ]

    operations = [
        migrations.CreateModel(
            name='Condition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200, validators=[utilities.text.validate_single_line], verbose_name='name')),
                ('description', models.TextField(blank=True, validators=[django.core.validators.MaxLengthValidator(10000), utilities.text.validate_plain_text], verbose_name='description')),
                ('status', models.CharField(choices=[('open', 'Open'), ('met', 'Met'), ('failed', 'Failed')], default='open', max_length=8, verbose_name='status')),
                ('decided_on', models.DateField(blank=True, help_text='The day it was met or failed; empty while open.', null=True, verbose_name='decided on')),
                ('version', models.PositiveIntegerField(default=1, editable=False, verbose_name='version')),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False, verbose_name='updated at')),
            ],
            options={
                'verbose_name': 'condition',
                'verbose_name_plural': 'conditions',
                'ordering': ['coalition', 'name', 'id'],
            },
        ),
        migrations.CreateModel(
            name='ConditionEvent',
            fields=[
                ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                ('pgh_label', models.TextField(help_text='The event label.')),
                ('pgh_superseded_at', models.DateTimeField(editable=False, help_text='When the next event replaced this one (empty: still current).', null=True)),
                ('id', models.BigIntegerField()),
                ('name', models.CharField(max_length=200, validators=[utilities.text.validate_single_line], verbose_name='name')),
                ('description', models.TextField(blank=True, validators=[django.core.validators.MaxLengthValidator(10000), utilities.text.validate_plain_text], verbose_name='description')),
                ('status', models.CharField(choices=[('open', 'Open'), ('met', 'Met'), ('failed', 'Failed')], default='open', max_length=8, verbose_name='status')),
                ('decided_on', models.DateField(blank=True, help_text='The day it was met or failed; empty while open.', null=True, verbose_name='decided on')),
                ('version', models.PositiveIntegerField(default=1, editable=False, verbose_name='version')),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False, verbose_name='updated at')),
            ],
            options={
                'abstract': False,
            },
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='caveat',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='caveat',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='caveat',
            name='delete_delete',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='pledge',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='pledge',
            name='update_update',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='pledge',
            name='delete_delete',
        ),
        migrations.AddField(
            model_name='pledge',
            name='relieves',
            field=models.ForeignKey(blank=True, help_text='The pledge this one takes over from in a rotation (same coalition, category and unit).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='relieved_by', to='pledges.pledge', verbose_name='relieves'),
        ),
        migrations.AddField(
            model_name='pledgeevent',
            name='relieves',
            field=models.ForeignKey(blank=True, db_constraint=False, help_text='The pledge this one takes over from in a rotation (same coalition, category and unit).', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='pledges.pledge', verbose_name='relieves'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='caveat',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "pledges_caveatevent" ("coalition_id", "condition_id", "country_id", "created_at", "id", "imposed_on", "is_active", "kind", "lifted_on", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pledge_id", "rationale", "releasability", "text", "updated_at", "version") VALUES (NEW."coalition_id", NEW."condition_id", NEW."country_id", NEW."created_at", NEW."id", NEW."imposed_on", NEW."is_active", NEW."kind", NEW."lifted_on", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."pledge_id", NEW."rationale", NEW."releasability", NEW."text", NEW."updated_at", NEW."version"); RETURN NULL;', hash='a88fef34c332935ffebe6eb0b19c735af30c7e74', operation='INSERT', pgid='pgtrigger_insert_insert_1aa42', table='pledges_caveat', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='caveat',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "pledges_caveatevent" ("coalition_id", "condition_id", "country_id", "created_at", "id", "imposed_on", "is_active", "kind", "lifted_on", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pledge_id", "rationale", "releasability", "text", "updated_at", "version") VALUES (NEW."coalition_id", NEW."condition_id", NEW."country_id", NEW."created_at", NEW."id", NEW."imposed_on", NEW."is_active", NEW."kind", NEW."lifted_on", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."pledge_id", NEW."rationale", NEW."releasability", NEW."text", NEW."updated_at", NEW."version"); RETURN NULL;', hash='25138e37c93fec9536a01cc46b71fad8b891faf1', operation='UPDATE', pgid='pgtrigger_update_update_87963', table='pledges_caveat', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='caveat',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "pledges_caveatevent" ("coalition_id", "condition_id", "country_id", "created_at", "id", "imposed_on", "is_active", "kind", "lifted_on", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pledge_id", "rationale", "releasability", "text", "updated_at", "version") VALUES (OLD."coalition_id", OLD."condition_id", OLD."country_id", OLD."created_at", OLD."id", OLD."imposed_on", OLD."is_active", OLD."kind", OLD."lifted_on", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."pledge_id", OLD."rationale", OLD."releasability", OLD."text", OLD."updated_at", OLD."version"); RETURN NULL;', hash='2dae820f71cf9518d6f1ef4917d533a08a0b5925', operation='DELETE', pgid='pgtrigger_delete_delete_75527', table='pledges_caveat', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='pledge',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "pledges_pledgeevent" ("available_from", "available_until", "category_id", "coalition_id", "country_id", "created_at", "description", "estimated_value_eur", "id", "is_illustrative", "location", "notice_to_move_days", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "place_id", "quantity", "reconfirmed_at", "releasability", "relieves_id", "status", "unit_id", "updated_at", "version") VALUES (NEW."available_from", NEW."available_until", NEW."category_id", NEW."coalition_id", NEW."country_id", NEW."created_at", NEW."description", NEW."estimated_value_eur", NEW."id", NEW."is_illustrative", NEW."location", NEW."notice_to_move_days", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."place_id", NEW."quantity", NEW."reconfirmed_at", NEW."releasability", NEW."relieves_id", NEW."status", NEW."unit_id", NEW."updated_at", NEW."version"); RETURN NULL;', hash='3a7458d65108c6209d190b0a662706aab5fbb156', operation='INSERT', pgid='pgtrigger_insert_insert_899e9', table='pledges_pledge', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='pledge',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "pledges_pledgeevent" ("available_from", "available_until", "category_id", "coalition_id", "country_id", "created_at", "description", "estimated_value_eur", "id", "is_illustrative", "location", "notice_to_move_days", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "place_id", "quantity", "reconfirmed_at", "releasability", "relieves_id", "status", "unit_id", "updated_at", "version") VALUES (NEW."available_from", NEW."available_until", NEW."category_id", NEW."coalition_id", NEW."country_id", NEW."created_at", NEW."description", NEW."estimated_value_eur", NEW."id", NEW."is_illustrative", NEW."location", NEW."notice_to_move_days", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."place_id", NEW."quantity", NEW."reconfirmed_at", NEW."releasability", NEW."relieves_id", NEW."status", NEW."unit_id", NEW."updated_at", NEW."version"); RETURN NULL;', hash='5cd4fcf6660a6e7aa7f01b18ec5648eae6f68c8c', operation='UPDATE', pgid='pgtrigger_update_update_f4121', table='pledges_pledge', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='pledge',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "pledges_pledgeevent" ("available_from", "available_until", "category_id", "coalition_id", "country_id", "created_at", "description", "estimated_value_eur", "id", "is_illustrative", "location", "notice_to_move_days", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "place_id", "quantity", "reconfirmed_at", "releasability", "relieves_id", "status", "unit_id", "updated_at", "version") VALUES (OLD."available_from", OLD."available_until", OLD."category_id", OLD."coalition_id", OLD."country_id", OLD."created_at", OLD."description", OLD."estimated_value_eur", OLD."id", OLD."is_illustrative", OLD."location", OLD."notice_to_move_days", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."place_id", OLD."quantity", OLD."reconfirmed_at", OLD."releasability", OLD."relieves_id", OLD."status", OLD."unit_id", OLD."updated_at", OLD."version"); RETURN NULL;', hash='9d087ea8e49e2aea62d87445f738e50435731b3f', operation='DELETE', pgid='pgtrigger_delete_delete_f2946', table='pledges_pledge', when='AFTER')),
        ),
        migrations.AddConstraint(
            model_name='pledge',
            constraint=models.UniqueConstraint(fields=('id', 'coalition', 'category', 'unit'), name='pledge_id_coalition_category_unit'),
        ),
        migrations.AddConstraint(
            model_name='pledge',
            constraint=models.CheckConstraint(condition=models.Q(('relieves', models.F('id')), _negated=True), name='pledge_not_relieving_itself', violation_error_message='A pledge cannot relieve itself.'),
        ),
        migrations.AddField(
            model_name='condition',
            name='coalition',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='conditions', to='pledges.coalition', verbose_name='coalition'),
        ),
        migrations.AddField(
            model_name='caveat',
            name='condition',
            field=models.ForeignKey(blank=True, help_text="For a caveat of kind condition: the coalition's named condition it waits for.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='caveats', to='pledges.condition', verbose_name='named condition'),
        ),
        migrations.AddField(
            model_name='caveatevent',
            name='condition',
            field=models.ForeignKey(blank=True, db_constraint=False, help_text="For a caveat of kind condition: the coalition's named condition it waits for.", null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='pledges.condition', verbose_name='named condition'),
        ),
        migrations.AddConstraint(
            model_name='caveat',
            constraint=models.CheckConstraint(condition=models.Q(('condition__isnull', True), ('kind', 'condition'), _connector='OR'), name='caveat_condition_only_on_condition_kind', violation_error_message='Only a caveat of kind condition names a condition.'),
        ),
        migrations.AddField(
            model_name='conditionevent',
            name='coalition',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='pledges.coalition', verbose_name='coalition'),
        ),
        migrations.AddField(
            model_name='conditionevent',
            name='pgh_context',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context'),
        ),
        migrations.AddField(
            model_name='conditionevent',
            name='pgh_obj',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='events', to='pledges.condition'),
        ),
        migrations.AddConstraint(
            model_name='condition',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['open', 'met', 'failed'])), name='condition_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='condition',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('decided_on__isnull', True), ('status', 'open')), models.Q(models.Q(('status', 'open'), _negated=True), ('decided_on__isnull', False)), _connector='OR'), name='condition_decided_on_iff_decided', violation_error_message='A met or failed condition needs the day it was decided; an open one has none.'),
        ),
        migrations.AddConstraint(
            model_name='condition',
            constraint=models.CheckConstraint(condition=models.Q(('name', ''), _negated=True), name='condition_name_not_empty', violation_error_message='A condition needs a name.'),
        ),
        migrations.AddConstraint(
            model_name='condition',
            constraint=models.CheckConstraint(condition=models.Q(django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('description'), 10000)), name='condition_description_length'),
        ),
        migrations.AddConstraint(
            model_name='condition',
            constraint=models.UniqueConstraint(fields=('coalition', 'name'), name='condition_unique_name', violation_error_message='This coalition already has a condition of this name.'),
        ),
        migrations.AddConstraint(
            model_name='condition',
            constraint=models.UniqueConstraint(fields=('id', 'coalition'), name='condition_id_coalition'),
        ),
        migrations.AddConstraint(
            model_name='condition',
            constraint=models.CheckConstraint(condition=models.Q(('name__regex', '[\\x01-\\x1f\\x7f-\\x9f\\u2028\\u2029]'), _negated=True), name='condition_name_single_line', violation_error_message='Keep this on one line: no line breaks or control characters.'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='condition',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "pledges_conditionevent" ("coalition_id", "created_at", "decided_on", "description", "id", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "status", "updated_at", "version") VALUES (NEW."coalition_id", NEW."created_at", NEW."decided_on", NEW."description", NEW."id", NEW."name", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."status", NEW."updated_at", NEW."version"); RETURN NULL;', hash='b83e722b6f0b74a3e30c2c9c760643490ce0b79f', operation='INSERT', pgid='pgtrigger_insert_insert_7e759', table='pledges_condition', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='condition',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "pledges_conditionevent" ("coalition_id", "created_at", "decided_on", "description", "id", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "status", "updated_at", "version") VALUES (NEW."coalition_id", NEW."created_at", NEW."decided_on", NEW."description", NEW."id", NEW."name", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."status", NEW."updated_at", NEW."version"); RETURN NULL;', hash='4fdc05894a66bcb0ae61fe36ef37bb8dcc1c8d15', operation='UPDATE', pgid='pgtrigger_update_update_df371', table='pledges_condition', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='condition',
            trigger=pgtrigger.compiler.Trigger(name='delete_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "pledges_conditionevent" ("coalition_id", "created_at", "decided_on", "description", "id", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "status", "updated_at", "version") VALUES (OLD."coalition_id", OLD."created_at", OLD."decided_on", OLD."description", OLD."id", OLD."name", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."status", OLD."updated_at", OLD."version"); RETURN NULL;', hash='027b64ec073908bee27b785dc168778553c159b7', operation='DELETE', pgid='pgtrigger_delete_delete_052e8', table='pledges_condition', when='AFTER')),
        ),
        migrations.AddIndex(
            model_name='conditionevent',
            index=models.Index(condition=models.Q(('pgh_superseded_at__isnull', True)), fields=['pgh_obj_id'], name='conditionevent_current'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='conditionevent',
            trigger=pgtrigger.compiler.Trigger(name='supersede_previous', sql=pgtrigger.compiler.UpsertTriggerSql(func='UPDATE pledges_conditionevent SET pgh_superseded_at = NEW.pgh_created_at WHERE pgh_obj_id = NEW.pgh_obj_id AND pgh_superseded_at IS NULL; RETURN NEW;', hash='cb98a90530ddd292dc3be3264fd87bca0966deea', operation='INSERT', pgid='pgtrigger_supersede_previous_d6072', table='pledges_conditionevent', when='BEFORE')),
        ),
            migrations.RunSQL(
            "ALTER TABLE pledges_caveat ADD CONSTRAINT caveat_condition_in_its_coalition FOREIGN KEY "
            "(condition_id, coalition_id) REFERENCES pledges_condition (id, coalition_id);",
            reverse_sql="ALTER TABLE pledges_caveat DROP CONSTRAINT caveat_condition_in_its_coalition;",
        ),
        migrations.RunSQL(
            "ALTER TABLE pledges_pledge ADD CONSTRAINT pledge_relieves_same_capability FOREIGN KEY "
            "(relieves_id, coalition_id, category_id, unit_id) "
            "REFERENCES pledges_pledge (id, coalition_id, category_id, unit_id);",
            reverse_sql="ALTER TABLE pledges_pledge DROP CONSTRAINT pledge_relieves_same_capability;",
        ),
        migrations.RunSQL("DROP FUNCTION pledges_data_version()", reverse_sql=OLD_FUNCTION),
        migrations.RunSQL(FUNCTION, reverse_sql="DROP FUNCTION pledges_data_version()"),
    ]
