"""The queue page's rendered rows are kept between changes (VIFSITE_QUEUE_CACHE): a page read after a change's
commit shows the change, whichever way the escalation was changed and in whichever process; an unchanged
queue is served without reading the escalations; a cache that fails leaves the page working."""

from __future__ import annotations

import os
import re
import uuid

import pytest
import requests
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from review import queue, services
from review.models import Escalation
from tests.processes import free_port, manage, redis_or_skip, web_server
from tests.review.test_queue_page import _person, make_queue

# Real commits (the generation moves on at a commit); serialized_rollback brings back the migrated groups.
pytestmark = [pytest.mark.usefixtures("own_ledger_no_sampling"),
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "queue-test"}}


@pytest.fixture
def cached(settings):
    settings.VIFSITE_QUEUE_CACHE = True
    settings.CACHES = LOCAL_CACHE
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def people(django_user_model):
    return _person(django_user_model, "rita"), _person(django_user_model, "sam", "senior reviewers")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _open_ids(client: Client) -> set[int]:
    page = client.get(reverse("review:queue")).content.decode()
    return {int(i) for i in re.findall(r'<tr id="item-(\d+)"', page)}


def _escalation_reads(client: Client, **query: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("review:queue"), query).status_code == 200
    return [q["sql"] for q in queries.captured_queries if "review_escalation" in q["sql"]]


def test_an_unchanged_queue_is_served_without_reading_the_escalations(cached, people):
    rita, sam = people
    make_queue(12, rita=rita, sam=sam)
    client = _client(rita)
    assert _escalation_reads(client)  # rendered
    assert _escalation_reads(client) == []  # kept
    assert _escalation_reads(client, criticality="critical")  # other filters: rendered on their own
    assert _escalation_reads(client, fragment="1") == []  # the live refresh shows the same rows


def test_a_decision_is_not_shown_as_open_once_committed(cached, people):
    rita, sam = people
    items = make_queue(12, rita=rita, sam=sam)
    client = _client(rita)
    target = next(e for e in items if e.is_open and e.approvals_needed == 1)
    assert target.pk in _open_ids(client)
    services.escalation_decide(escalation_id=target.pk, reviewer=rita, decision="reject", comment="not so")
    assert target.pk not in _open_ids(client)
    assert Escalation.objects.get(pk=target.pk).status == "rejected"


def test_queryset_updates_and_deletes_retire_the_kept_page(cached, people):
    rita, sam = people
    items = make_queue(12, rita=rita, sam=sam)
    client = _client(rita)
    target = next(e for e in items if e.is_open)
    _open_ids(client)
    Escalation.objects.filter(pk=target.pk).update(status="expired")  # a bulk change, as the SLA sweep makes
    assert target.pk not in _open_ids(client)
    other = next(e for e in items if e.is_open and e.pk != target.pk)
    other.status = "approved"
    other.save(update_fields=["status"])
    assert other.pk not in _open_ids(client)


def test_a_change_inside_a_transaction_shows_after_its_commit_not_before(cached, people):
    from django.db import transaction

    rita, sam = people
    items = make_queue(12, rita=rita, sam=sam)
    client = _client(rita)
    target = next(e for e in items if e.is_open)
    generation = []
    with transaction.atomic():
        Escalation.objects.filter(pk=target.pk).update(status="expired")
        from django.core.cache import cache

        generation.append(cache.get(queue.GENERATION_KEY))
    assert cache.get(queue.GENERATION_KEY) != generation[0]  # moved on at the commit
    assert target.pk not in _open_ids(client)


def test_each_reviewer_sees_their_own_reservation_as_theirs(cached, people):
    rita, sam = people
    items = make_queue(12, rita=rita, sam=sam)
    target = next(e for e in items if e.is_open)
    services.escalation_reserve(target.pk, rita)
    rita_page = _client(rita).get(reverse("review:queue")).content.decode()
    sam_page = _client(sam).get(reverse("review:queue")).content.decode()
    assert "You are on it" in rita_page and "rita is on it" not in rita_page
    assert "rita is on it" in sam_page and "You are on it" not in sam_page


def test_a_cache_that_cannot_answer_leaves_the_queue_page_working(settings, people):
    rita, sam = people
    items = make_queue(6, rita=rita, sam=sam)
    client = _client(rita)
    settings.VIFSITE_QUEUE_CACHE = True
    settings.CACHES = {"default": {"BACKEND": "vifsite.cache.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}  # nothing listens there
    assert _open_ids(client) == {e.pk for e in items if e.is_open}
    target = next(e for e in items if e.is_open)
    Escalation.objects.filter(pk=target.pk).update(status="expired")
    assert target.pk not in _open_ids(client)



SETUP = """
from datetime import timedelta
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone
from review.models import Escalation
from vifsite.vif import services
rita = User.objects.create_user("rita", "rita@example.com", "pw-rita-12345")
rita.groups.add(Group.objects.get(name="reviewers"))
recorded = services.witness_record_many(items=[{"model_id": "m", "prompt": "p", "output": f"o{i}",
    "confidence": 0.2, "task_criticality": "routine"} for i in range(3)], writer="agent:bot")
now = timezone.now()
for i, r in enumerate(recorded):
    e = Escalation.objects.create(witness=r.witness, interpretation=f"Item {i}: a bright spot.", criticality="routine",
        submitted_by="agent:bot", due_at=now + timedelta(hours=i + 1), hard_due_at=now + timedelta(hours=48),
        reasons=[{"code": "gate", "why": "x"}])
    print("item", e.pk)
client = Client()
client.force_login(rita)
print("session", client.cookies["sessionid"].value)
"""


@pytest.mark.slow
def test_a_change_made_by_another_process_retires_the_page_a_web_process_kept(tmp_path, monkeypatch):
    """The worker that expires items and the web processes share only Redis and the database."""
    redis_url = redis_or_skip("the shared queue cache")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    # manage() and the web server: the same cache, under a prefix of this test's own.
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("VIFSITE_CACHE_PREFIX", f"test-{uuid.uuid4().hex}")
    monkeypatch.setenv("VIFSITE_QUEUE_CACHE", "true")
    manage(url, tmp_path, "migrate", "--noinput", "-v", "0")
    out = manage(url, tmp_path, "shell", "-v", "0", "-c", SETUP).stdout.splitlines()
    ids = [int(line.split()[1]) for line in out if line.startswith("item ")]
    session = next(line.split()[1] for line in out if line.startswith("session "))
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "VIFSITE_DATA_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "vifsite.settings"}
    server = web_server(env, port)
    try:
        def shown() -> set[int]:
            page = requests.get(f"http://127.0.0.1:{port}/review/", cookies={"sessionid": session}, timeout=30)
            assert page.status_code == 200
            return {int(i) for i in re.findall(r'<tr id="item-(\d+)"', page.text)}

        assert shown() == set(ids)
        assert shown() == set(ids)  # kept
        manage(url, tmp_path, "shell", "-v", "0", "-c",
               f"from review.models import Escalation; Escalation.objects.filter(pk={ids[0]}).update(status='expired')")
        assert shown() == set(ids[1:])
    finally:
        server.terminate()
        server.wait(timeout=10)
