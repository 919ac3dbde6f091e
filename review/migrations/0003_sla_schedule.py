from django.db import migrations


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(name="review SLA sweep", defaults={
        "func": "review.tasks.sla_sweep", "schedule_type": "I", "minutes": 1, "repeats": -1})


class Migration(migrations.Migration):
    dependencies = [("review", "0002_reviewer_groups"),
                    ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]

    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
