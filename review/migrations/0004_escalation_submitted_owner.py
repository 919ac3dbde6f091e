import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def owners_from_keys(apps, schema_editor):
    """Items submitted before this migration: the owner of their key, where the key still exists."""
    Escalation = apps.get_model("review", "Escalation")
    AgentKey = apps.get_model("vif", "AgentKey")
    owner = AgentKey.objects.filter(pk=OuterRef("submitted_key_id")).values("owner_id")[:1]
    Escalation.objects.filter(submitted_key__owner__isnull=False).update(submitted_owner_id=Subquery(owner))


class Migration(migrations.Migration):

    dependencies = [
        ("review", "0003_sla_schedule"),
        ("vif", "0005_kappa_suggestion_schedule"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="escalation",
            name="submitted_owner",
            field=models.ForeignKey(blank=True, help_text="Who owned the submitting key then: never their reviewer, "
                                    "whatever later happens to the key.", null=True,
                                    on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                                    to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(owners_from_keys, migrations.RunPython.noop),
    ]
