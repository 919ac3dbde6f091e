"""SLAs with time travel, assignment, signed callbacks with retries, and notifications."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule
from rest_framework.test import APIClient

from review import notify, services
from review.models import Delivery, Escalation
from vifsite.vif.models import Outcome

SUBMIT = reverse("api:review:interpretation-submit")


@pytest.fixture(autouse=True)
def quiet(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 0.0
    settings.VIFSITE_CALLBACK_HTTP_HOSTS = ["127.0.0.1"]  # the receivers below: plain http on the loopback


@pytest.fixture
def receiver():
    """A real HTTP endpoint on 127.0.0.1 that records what it is sent and answers with ``status``."""
    received, state = [], {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"headers": dict(self.headers), "body": body})
            self.send_response(state["status"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received, state
    server.shutdown()


def people(django_user_model):
    made = {}
    for name, group in (("rita", "reviewers"), ("sam", "reviewers"), ("sue", "senior reviewers")):
        user = django_user_model.objects.create_user(name, f"{name}@example.com", f"pw-{name}-123")
        user.groups.add(Group.objects.get(name=group))
        client = APIClient()
        client.force_authenticate(user)
        made[name] = (user, client)
    return made


def escalate(agent, f3, criticality="routine", **extra):
    url = reverse("api:seismic:section", kwargs={"survey_id": f3.pk, "section_type": "inline", "section_number": "120"})
    section = agent.get(url).json()
    body = {"text": "The bright interval is a gas-charged sand.", "extraction_ids": [section["extraction_id"]],
            "model_id": "m", "confidence": 0.9, "task_criticality": criticality, **extra}
    return agent.post(SUBMIT, body, format="json").json()["escalation"]["id"]


def test_items_are_assigned_to_the_least_recently_assigned_reviewer(agent, f3, django_user_model):
    people(django_user_model)
    first, second, third = (Escalation.objects.get(pk=escalate(agent, f3)) for _ in range(3))
    assert [first.assignee.username, second.assignee.username, third.assignee.username] == ["rita", "sam", "rita"]
    critical = Escalation.objects.get(pk=escalate(agent, f3, "critical"))
    assert critical.assignee.username == "sue" and critical.approvals_needed == 2


def test_the_sla_timeline_reminds_moves_to_a_senior_and_expires_without_approving(
        agent, f3, django_user_model, receiver, django_capture_on_commit_callbacks):
    people(django_user_model)
    url, received, _ = receiver
    item = escalate(agent, f3, "important", callback_url=url)  # 4 h SLA, hard deadline 8 h
    created = Escalation.objects.get(pk=item).created_at
    assert services.sla_sweep(now=created + timedelta(hours=2)) == {"reminded": 0, "moved": 0, "expired": 0}
    mail.outbox.clear()
    assert services.sla_sweep(now=created + timedelta(hours=3, minutes=30))["reminded"] == 1
    assert mail.outbox[-1].to == ["rita@example.com"] and "due soon" in mail.outbox[-1].subject
    assert services.sla_sweep(now=created + timedelta(hours=3, minutes=40))["reminded"] == 0  # once only
    assert services.sla_sweep(now=created + timedelta(hours=4, minutes=1))["moved"] == 1
    escalation = Escalation.objects.get(pk=item)
    assert escalation.assignee.username == "sue" and escalation.status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sla_sweep(now=created + timedelta(hours=8, minutes=1))["expired"] == 1
    escalation.refresh_from_db()
    assert escalation.status == "expired" and not escalation.decisions.exists()
    assert not Outcome.objects.filter(witness=escalation.witness).exists()  # an abstention, never an approval
    [call] = received
    payload = json.loads(call["body"])
    assert payload["escalation"]["status"] == "expired"
    assert notify.verify(call["body"], call["headers"]["X-Vifsite-Timestamp"], call["headers"]["X-Vifsite-Signature"])
    late = reverse("api:review:escalation-decision", kwargs={"escalation_id": item})
    reviewer = APIClient()
    reviewer.force_authenticate(django_user_model.objects.get(username="rita"))
    assert reviewer.post(late, {"decision": "approve"}, format="json").status_code == 409


def test_a_decision_is_posted_to_the_callback_signed_and_retried_with_backoff(
        agent, f3, django_user_model, receiver, django_capture_on_commit_callbacks):
    made = people(django_user_model)
    url, received, state = receiver
    state["status"] = 503
    item = escalate(agent, f3, callback_url=url)
    decide = reverse("api:review:escalation-decision", kwargs={"escalation_id": item})
    with django_capture_on_commit_callbacks(execute=True):
        assert made["rita"][1].post(decide, {"decision": "reject", "comment": "no"}, format="json").status_code == 200
    delivery = Delivery.objects.get(kind="callback")
    assert delivery.attempts == 1 and delivery.last_status == 503 and delivery.delivered_at is None
    retry = Schedule.objects.get(name=f"retry delivery {delivery.pk} #2")
    assert timedelta(seconds=50) < retry.next_run - timezone.now() <= timedelta(minutes=1)
    state["status"] = 200
    services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.delivered_at is not None
    body = received[-1]["body"]
    assert json.loads(body)["escalation"]["decision"]["decision"] == "reject"
    tampered = body.replace(b"reject", b"approve")
    assert not notify.verify(tampered, received[-1]["headers"]["X-Vifsite-Timestamp"],
                             received[-1]["headers"]["X-Vifsite-Signature"])
    services.delivery_attempt(delivery_id=delivery.pk)  # a second run of the task does nothing
    assert len(received) == 2


def test_giving_up_after_the_last_attempt(agent, f3, django_user_model, settings):
    people(django_user_model)
    settings.VIFSITE_CALLBACK_MAX_ATTEMPTS = 2
    item = escalate(agent, f3, callback_url="http://127.0.0.1:9/nothing-listens")
    escalation = Escalation.objects.get(pk=item)
    services.deliveries_queue(escalation, "callback", [escalation.callback_url], {"event": "test"})
    delivery = Delivery.objects.get()
    services.delivery_attempt(delivery_id=delivery.pk)
    services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.gave_up_at is not None and delivery.last_error


def test_new_critical_items_are_emailed_and_posted_to_reviewer_webhooks(agent, f3, django_user_model, receiver,
                                                                         settings, django_capture_on_commit_callbacks):
    people(django_user_model)
    url, received, _ = receiver
    settings.VIFSITE_REVIEW_WEBHOOKS = [url]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        item = escalate(agent, f3, "critical")
    [message] = mail.outbox
    assert sorted(message.to) == ["rita@example.com", "sam@example.com", "sue@example.com"]
    assert json.loads(received[0]["body"])["escalation"]["id"] == item
    with django_capture_on_commit_callbacks(execute=True):
        escalate(agent, f3, "routine")
    assert len(received) == 1  # routine items are not broadcast
