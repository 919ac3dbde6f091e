"""Witnesses are queued as leaves (no sequence yet) and integrated into the chain in batches; a task
integrates leaves left behind by a request that died between the two steps, another prunes expired
idempotency keys."""

from django.db import migrations, models


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name="vif ledger integrate",
        defaults={"func": "vifsite.vif.tasks.ledger_integrate", "schedule_type": "I", "minutes": 1, "repeats": -1})
    Schedule.objects.get_or_create(
        name="vif idempotency prune",
        defaults={"func": "vifsite.vif.tasks.idempotency_prune", "schedule_type": "H", "repeats": -1})


class Migration(migrations.Migration):

    dependencies = [
        ('vif', '0007_idempotent_request'),
        ('django_q', '0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more'),
    ]

    operations = [
        migrations.AlterField(
            model_name='witness',
            name='entry_hash',
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='witness',
            name='entry_jcs',
            field=models.TextField(blank=True, help_text='The exact signed bytes of the ledger entry (RFC 8785 JSON).'),
        ),
        migrations.AlterField(
            model_name='witness',
            name='prev_hash',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='witness',
            name='sequence',
            field=models.BigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='witness',
            name='signature',
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.RunPython(schedule, migrations.RunPython.noop),
    ]
