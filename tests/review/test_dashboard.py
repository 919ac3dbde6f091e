"""The reviewer dashboard: queue, filters, query counts, the item page, the decision form, the feed."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser, Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from review import services
from review.consumers import QueueConsumer
from review.models import Escalation
from vifsite.vif import services as vif_services

pytestmark = pytest.mark.usefixtures("own_ledger_no_sampling")


@pytest.fixture
def rita(django_user_model):
    user = django_user_model.objects.create_user("rita", "rita@example.com", "pw-rita-123")
    user.groups.add(Group.objects.get(name="reviewers"))
    return user


def make_items(n, criticality="routine"):
    recorded = vif_services.witness_record_many(items=[{"model_id": "m", "prompt": "p", "output": f"o{i}",
                                                        "confidence": 0.5, "task_criticality": criticality}
                                                       for i in range(n)], writer="agent:bot")
    now = timezone.now()
    return [Escalation.objects.create(witness=r.witness, interpretation=f"text {i}", criticality=criticality,
                                      submitted_by="agent:bot", due_at=now + timedelta(hours=1 + i),
                                      hard_due_at=now + timedelta(hours=48), reasons=[{"code": "gate", "why": "x"}])
            for i, r in enumerate(recorded)]


def test_the_queue_needs_a_login(client, db):
    response = client.get(reverse("review:queue"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_queue_lists_filters_and_counts(client, rita):
    items = make_items(3) + make_items(2, "critical")
    Escalation.objects.filter(pk=items[0].pk).update(status="approved")
    Escalation.objects.filter(pk=items[1].pk).update(due_at=timezone.now() - timedelta(minutes=5))
    client.force_login(rita)
    page = client.get(reverse("review:queue")).content.decode()
    assert f'id="item-{items[0].pk}"' not in page and f'id="item-{items[1].pk}"' in page
    assert "overdue <span id=\"overdue-count\">1</span>" in page
    critical = client.get(reverse("review:queue"), {"criticality": "critical"}).content.decode()
    assert critical.count('id="item-') == 2
    overdue = client.get(reverse("review:queue"), {"overdue": "1"}).content.decode()
    assert overdue.count('id="item-') == 1
    everything = client.get(reverse("review:queue"), {"status": "all"}).content.decode()
    assert everything.count('id="item-') == 5
    fragment = client.get(reverse("review:queue"), {"fragment": "1"}).content.decode()
    assert "<html" not in fragment and fragment.count('id="item-') == 4


def test_the_queue_costs_the_same_number_of_queries_for_ten_or_sixty_items(client, rita):
    client.force_login(rita)
    make_items(10)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("review:queue"))
    make_items(50)
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse("review:queue"))
    assert response.content.decode().count('id="item-') == 50  # one page
    assert len(large.captured_queries) == len(small.captured_queries)


def test_an_item_page_shows_the_claim_and_takes_a_decision(client, rita, agent, f3):
    section = agent.get(reverse("api:seismic:section", kwargs={"survey_id": f3.pk, "section_type": "inline",
                                                               "section_number": "120"})).json()
    result = services.interpretation_submit(
        writer="agent:bot", key=None, text=f"Inline 120 has an RMS of {section['statistics']['rms'] * 2:.0f}.",
        structured=None, extraction_ids=[section["extraction_id"]], model={"model_id": "m"},
        signals={"confidence": 0.9}, criticality="important")
    item = result["escalation"]["id"]
    client.force_login(rita)
    page = client.get(reverse("review:item", kwargs={"escalation_id": item})).content.decode()
    assert "A number the data do not show" in page and "verifies" in page and "the gate abstained" in page
    assert 'id="decision-form"' in page and " checked" not in page  # nothing chosen for the reviewer
    data = client.get(reverse("review:section-data", kwargs={"escalation_id": item})).json()
    assert data["x"]["name"] == "crossline" and data["z"]["rows"] == data["y"]["count"]
    response = client.post(reverse("review:item", kwargs={"escalation_id": item}),
                           {"decision": "reject", "comment": "the RMS is wrong", "version": "2",
                            "reviewer_confidence": "0.9"})
    assert response.status_code == 302
    escalation = Escalation.objects.get(pk=item)
    assert escalation.status == "rejected"
    stale = client.post(reverse("review:item", kwargs={"escalation_id": item}), {"decision": "approve",
                                                                                   "version": "2"}, follow=True)
    assert "rita already decided it: reject" in stale.content.decode()


def test_the_feed_refuses_anonymous_users_and_tells_reviewers_of_changes(rita, settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

    async def scenario():
        anonymous = WebsocketCommunicator(QueueConsumer.as_asgi(), "/ws/review/queue/")
        anonymous.scope["user"] = AnonymousUser()
        connected, _ = await anonymous.connect()
        assert not connected
        communicator = WebsocketCommunicator(QueueConsumer.as_asgi(), "/ws/review/queue/")
        communicator.scope["user"] = rita
        connected, _ = await communicator.connect()
        assert connected
        from asgiref.sync import sync_to_async

        await sync_to_async(services.broadcast)(42, "approved")
        message = await communicator.receive_json_from(timeout=2)
        await communicator.disconnect()
        return message

    assert async_to_sync(scenario)() == {"type": "queue.changed", "id": 42, "status": "approved"}


def test_the_calibration_and_statistics_pages(client, rita):
    items = make_items(3)
    # Decided two hours after it arrived, an hour ago: in the past whatever the time of day (a decision
    # "two hours after now" falls on tomorrow's date after 22:00 UTC, outside the page's days).
    now = timezone.now()
    Escalation.objects.filter(pk=items[0].pk).update(status="approved", created_at=now - timedelta(hours=3),
                                                     due_at=now - timedelta(hours=2),  # decided late
                                                     decided_at=now - timedelta(hours=1))
    Escalation.objects.filter(pk=items[1].pk).update(due_at=timezone.now() - timedelta(hours=1))
    for item in items:
        vif_services.outcome_record(witness=item.witness, correct=True, source="human", recorded_by="user:rita")
    client.force_login(rita)
    page = client.get(reverse("review:calibration"), {"model": "m"}).content.decode()
    assert "INSUFFICIENT_DATA" in page and "reliability-figure" in page and "reliability.png?model=m" in page
    assert "bad window" not in client.get(reverse("review:calibration"), {"window": "soon"}).content.decode()
    stats = client.get(reverse("review:statistics")).content.decode()
    # decided late, and overdue
    assert "median time to decision 2.00 h" in stats and '<span id="breaches">2</span>' in stats


@pytest.mark.slow
def test_the_queue_stays_fast_with_ten_thousand_items(client, rita):
    import time
    import uuid

    from vifsite.vif.models import Witness

    now = timezone.now()
    witnesses = Witness.objects.bulk_create([
        Witness(vif_id=uuid.uuid4(), schema_version="vif/1", operation="llm", model_id="m", prompt_hash="a" * 64,
                output_hash="b" * 64, confidence_micros=500000, confidence_method="explicit", confidence_band="C",
                writer="agent:bulk", task_criticality="routine", created_at=now, sequence=1_000_000 + i,
                prev_hash="c" * 64, payload_hash="d" * 64, entry_hash=uuid.uuid4().hex * 2, signature="e",
                entry_jcs="{}", payload_jcs="{}") for i in range(10_000)], batch_size=2000)
    Escalation.objects.bulk_create([
        Escalation(witness=w, interpretation="x", criticality="routine", submitted_by="agent:bulk",
                   due_at=now + timedelta(minutes=i), hard_due_at=now + timedelta(days=2),
                   reasons=[{"code": "gate", "why": "x"}]) for i, w in enumerate(witnesses)], batch_size=2000)
    client.force_login(rita)
    client.get(reverse("review:queue"))  # warm
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(reverse("review:queue"), {"page": "100"})
        elapsed = time.perf_counter() - started
    assert response.content.decode().count('id="item-') == 50 and "page 100 of 200" in response.content.decode()
    assert len(queries.captured_queries) <= 12, [q["sql"][:80] for q in queries.captured_queries]
    print(f"10,000 items: page 100 in {elapsed * 1000:.0f} ms, {len(queries.captured_queries)} queries")
    assert elapsed < 1.0, elapsed
