"""Two reviewers deciding the same items at once, in separate processes: exactly one decision and
one history row per item, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import json

import pytest

from tests.processes import manage, pg_url  # noqa: F401  (pg_url is a fixture)

pytestmark = pytest.mark.slow
ITEMS = 40

SETUP = f"""
from datetime import timedelta
from django.contrib.auth.models import Group, User
from django.utils import timezone
from review.models import Escalation, EscalationEvent
from vifsite.vif import services
group = Group.objects.get(name="reviewers")
for name in ("ann", "bob"):
    User.objects.create_user(name, password="pw-" + name + "-123").groups.add(group)
recorded = services.witness_record_many(items=[{{"model_id": "m", "prompt": "p", "output": f"o{{i}}",
    "confidence": 0.5, "task_criticality": "routine"}} for i in range({ITEMS})], writer="agent:race")
for r in recorded:
    e = Escalation.objects.create(witness=r.witness, interpretation="x", criticality="routine",
                                  submitted_by="agent:race", due_at=timezone.now() + timedelta(hours=24),
                                  hard_due_at=timezone.now() + timedelta(hours=48))
    EscalationEvent.objects.create(escalation=e, actor="agent:race", to_status="pending", version=1)
"""
DECIDE = """
import json
from django.contrib.auth.models import User
from review import services
from review.models import Escalation
from vifsite.errors import Conflict
user = User.objects.get(username="{name}")
wins = conflicts = 0
for pk in Escalation.objects.order_by("pk").values_list("pk", flat=True):
    try:
        services.escalation_decide(escalation_id=pk, reviewer=user, decision="{decision}", comment="race", version=1)
        wins += 1
    except Conflict:
        conflicts += 1
print(json.dumps({{"wins": wins, "conflicts": conflicts}}))
"""
COUNT = """
import json
from django.db.models import Count
from review.models import Decision, Escalation, EscalationEvent
from vifsite.vif.models import Outcome
decisions = list(Escalation.objects.annotate(n=Count("decisions")).values_list("n", flat=True))
finals = list(Escalation.objects.annotate(n=Count("events")).values_list("n", flat=True))
print(json.dumps({"decisions": decisions, "events": finals, "outcomes": Outcome.objects.count(),
                  "open": Escalation.objects.filter(status__in=["pending", "in_review"]).count()}))
"""


def race(url, data_dir):
    manage(url, data_dir, "migrate", "--noinput")
    manage(url, data_dir, "shell", "-v", "0", "-c", SETUP)
    racers = [manage(url, data_dir, "shell", "-v", "0", "-c", DECIDE.format(name=name, decision=decision),
                     background=True) for name, decision in (("ann", "approve"), ("bob", "reject"))]
    results = []
    for racer in racers:
        out, err = racer.communicate(timeout=300)
        assert racer.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(r["wins"] for r in results) == ITEMS
    assert sum(r["conflicts"] for r in results) == ITEMS
    counted = json.loads(manage(url, data_dir, "shell", "-v", "0", "-c", COUNT).stdout)
    assert counted["decisions"] == [1] * ITEMS
    assert counted["events"] == [2] * ITEMS  # created + decided: exactly one decision row in the history
    assert counted["outcomes"] == ITEMS and counted["open"] == 0
    return results


def test_racing_reviewers_on_sqlite(tmp_path):
    race(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path)


@pytest.mark.postgres
def test_racing_reviewers_on_postgresql(pg_url, tmp_path):  # noqa: F811
    race(pg_url, tmp_path)
