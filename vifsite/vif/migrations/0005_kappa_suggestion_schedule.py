from django.db import migrations


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name="vif kappa suggestions",
        defaults={"func": "vifsite.vif.tasks.kappa_suggestions", "schedule_type": "H", "repeats": -1})


class Migration(migrations.Migration):
    dependencies = [("vif", "0004_kappa_suggestions")]

    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
