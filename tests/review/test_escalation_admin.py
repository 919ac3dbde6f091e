"""Escalations in the admin: reassigned under the review rules, and their decisions exported with the witnesses
(CSV and JSON Lines) for audits."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from review import services
from review.models import Escalation, EscalationEvent
from vifsite.vif import services as vif_services

pytestmark = pytest.mark.usefixtures("own_ledger_no_sampling")
CHANGELIST = "/admin/review/escalation/"


def person(django_user_model, name, group=None):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", f"pw-{name}-123")
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def escalate(*, criticality="routine", confidence=0.6, owner=None, model_id="m-esc"):
    [recorded] = vif_services.witness_record_many(items=[{
        "model_id": model_id, "prompt": "Describe inline 120.", "output": "A bright spot at 1200 ms.",
        "confidence": confidence, "task_criticality": criticality}], writer="agent:bot")
    now = timezone.now()
    return Escalation.objects.create(
        witness=recorded.witness, interpretation="A bright spot at 1200 ms.", criticality=criticality,
        approvals_needed=2 if criticality == "critical" else 1, submitted_by="agent:bot", submitted_owner=owner,
        reasons=[{"code": "gate", "why": "below κ"}], due_at=now + timedelta(hours=4),
        hard_due_at=now + timedelta(hours=8))


@pytest.fixture
def team(django_user_model):
    return {"rita": person(django_user_model, "rita", "reviewers"),
            "sam": person(django_user_model, "sam", "reviewers"),
            "sue": person(django_user_model, "sue", "senior reviewers")}


def reassign(client, ids, assignee):
    return client.post(CHANGELIST, {"action": "reassign", "_selected_action": ids, "apply": "1",
                                    "assignee": assignee.pk}, follow=True)


def test_items_are_reassigned_under_the_review_rules(client, admin_user, team):
    rita, sam = team["rita"], team["sam"]
    open_item = escalate()
    closed = escalate()
    services.escalation_decide(escalation_id=closed.pk, reviewer=sam, decision="reject", comment="Not in the data.")
    own = escalate(owner=rita)  # rita's agent submitted it
    critical = escalate(criticality="critical")
    services.escalation_decide(escalation_id=critical.pk, reviewer=rita, decision="approve")  # first of two
    client.force_login(admin_user)
    asked = client.post(CHANGELIST, {"action": "reassign", "_selected_action": [open_item.pk]})
    assert asked.status_code == 200 and 'name="assignee"' in asked.content.decode()
    assert "sue" in asked.content.decode() and "rita" in asked.content.decode()
    page = reassign(client, [open_item.pk, closed.pk, own.pk, critical.pk], rita).content.decode()
    assert f"1 assigned; 3 skipped: #{closed.pk} rejected meanwhile by sam" in page
    assert f"#{own.pk} rita submitted it" in page
    assert f"#{critical.pk} rita gave its first approval; the second must come from someone else" in page
    open_item.refresh_from_db()
    assert open_item.assignee == rita and open_item.version == 2
    event = EscalationEvent.objects.filter(escalation=open_item).last()
    assert event.actor == "user:ada" and event.note == "assigned by ada: rita"
    critical_page = reassign(client, [critical.pk], sam).content.decode()
    assert "1 assigned" in critical_page and "Sam is not a senior reviewer" in critical_page  # (capitalised)
    released = client.post(CHANGELIST, {"action": "release", "_selected_action": [open_item.pk]}, follow=True)
    assert "1 released" in released.content.decode()
    assert Escalation.objects.get(pk=open_item.pk).assignee is None


def test_an_item_is_not_edited_in_the_admin(client, admin_user, team):
    item = escalate()
    services.escalation_decide(escalation_id=item.pk, reviewer=team["sam"], decision="needs_analysis",
                               comment="Need the gathers.")
    client.force_login(admin_user)
    page = client.get(reverse("admin:review_escalation_change", args=[item.pk])).content.decode()
    assert reverse("review:item", args=[item.pk]) in page and 'name="_save"' not in page
    assert "<strong>below κ</strong>: below κ" in page  # the reasons in words, not as JSON
    assert "<td>sam</td><td>request more analysis</td><td>yes</td><td>Need the gathers.</td>" in page
    assert "user:sam" in page  # the history
    item = escalate()
    assert client.post(reverse("admin:review_escalation_change", args=[item.pk]), {"status": "approved"}
                       ).status_code == 403
    assert Escalation.objects.get(pk=item.pk).status == "pending"
    listing = client.get(CHANGELIST, {"open": "open", "criticality": "routine"}).content.decode()
    assert f'value="{item.pk}"' in listing


def exported(client, ids, action):
    response = client.post(CHANGELIST, {"action": action, "_selected_action": ids})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    return response.content.decode()


def test_decisions_are_exported_with_their_witnesses(client, admin_user, team, django_assert_max_num_queries):
    rita, sam, sue = team["rita"], team["sam"], team["sue"]
    rejected = escalate(confidence=0.61)
    services.escalation_decide(escalation_id=rejected.pk, reviewer=sam, decision="reject", comment="=1+1, not there")
    critical = escalate(criticality="critical", confidence=0.9)
    services.escalation_decide(escalation_id=critical.pk, reviewer=rita, decision="approve", comment="Fine.")
    services.escalation_decide(escalation_id=critical.pk, reviewer=sue, decision="approve", comment="Agreed.")
    pending = escalate()
    client.force_login(admin_user)
    ids = [rejected.pk, critical.pk, pending.pk]
    rows = [json.loads(line) for line in exported(client, ids, "export_jsonl").splitlines()]
    assert [(r["escalation_id"], r["decision"], r["final"], r["reviewer"]) for r in rows] == [
        (rejected.pk, "reject", True, "sam"), (critical.pk, "approve", False, "rita"),
        (critical.pk, "approve", True, "sue")]
    witness = rejected.witness
    witness.refresh_from_db()
    first = rows[0]
    assert first["witness_vif_id"] == str(witness.vif_id) and first["sequence"] == witness.sequence
    assert first["entry_hash"] == witness.entry_hash and len(first["entry_hash"]) == 64
    assert first["confidence"] == witness.confidence_micros / 1e6 and first["kappa"] == 0.7
    assert first["gate_verdict"] == "ABSTAIN" and first["reason"] == "=1+1, not there"
    assert first["model_id"] == "m-esc" and first["decided_at"].startswith(str(timezone.now().year))
    assert rows[2]["kappa"] == 0.95 and rows[2]["criticality"] == "critical"
    table = list(csv.DictReader(io.StringIO(exported(client, ids, "export_csv"))))
    assert [dict(r) for r in table] == [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
    for _ in range(5):
        more = escalate()
        services.escalation_decide(escalation_id=more.pk, reviewer=sam, decision="approve")
        ids.append(more.pk)
    with django_assert_max_num_queries(12):  # the session, the user, the selection, one for the rows
        assert len(exported(client, ids, "export_csv").splitlines()) == 1 + 3 + 5
