"""Fingerprints of what a request means replace those of its raw bytes: the answers kept until now (a day at
most) are marked 'raw:' so that a retry sent across the upgrade is still compared as it was made."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('idempotency', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='idempotentrequest',
            name='fingerprint',
            field=models.CharField(help_text="SHA-256 of what was asked: the method, path, query and parsed body, files by their digests (services.fingerprint); 'raw:' and the SHA-256 of the raw bytes for answers kept before 0002.", max_length=68),
        ),
        migrations.RunSQL(
            "UPDATE idempotency_idempotentrequest SET fingerprint = 'raw:' || fingerprint",
            # back: the marked ones as they were; newer ones no longer match anything (a 422, never a second write)
            reverse_sql="UPDATE idempotency_idempotentrequest SET fingerprint = substr(fingerprint, 5) "
                        "WHERE left(fingerprint, 4) = 'raw:'",
        ),
    ]
