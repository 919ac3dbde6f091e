from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    ("critical", "", "0.95"), ("important", "", "0.85"), ("routine", "", "0.70"), ("low_stakes", "", "0.60"),
    ("critical", "medical", "0.98"), ("critical", "financial", "0.97"), ("routine", "creative", "0.60"),
    ("routine", "data_entry", "0.75"),
]


def seed(apps, schema_editor):
    KappaPolicy = apps.get_model("vif", "KappaPolicy")
    KappaPolicyChange = apps.get_model("vif", "KappaPolicyChange")
    LedgerHead = apps.get_model("vif", "LedgerHead")
    Schedule = apps.get_model("django_q", "Schedule")
    for criticality, domain, threshold in DEFAULTS:
        policy, created = KappaPolicy.objects.get_or_create(
            criticality=criticality, domain=domain,
            defaults={"threshold": Decimal(threshold), "updated_by": "system", "reason": "seeded default"})
        if created:
            KappaPolicyChange.objects.create(policy=policy, changed_by="system", old_threshold=None,
                                             new_threshold=Decimal(threshold), reason="seeded default")
    LedgerHead.objects.get_or_create(pk=1, defaults={"sequence": 0, "head_hash": "0" * 64})
    Schedule.objects.get_or_create(
        name="vif ledger checkpoint",
        defaults={"func": "vifsite.vif.tasks.ledger_checkpoint", "schedule_type": "I", "minutes": 5, "repeats": -1})


class Migration(migrations.Migration):
    dependencies = [
        ("vif", "0002_witness_ledger_kappa_outcomes"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
