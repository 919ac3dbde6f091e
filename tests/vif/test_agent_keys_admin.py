"""Agent keys in the admin: one "API keys" section, a 90-day expiry by default, when each key was last used
(written at most once a minute), and revoking several at once."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from vifsite.vif.auth import agent_key_note_use
from vifsite.vif.models import AgentKey

CHANGELIST = "/admin/vif/agentkey/"


def test_the_admin_has_one_api_keys_section(client, admin_user):
    client.force_login(admin_user)
    index = client.get(reverse("admin:index")).content.decode()  # the admin loads with the URLs
    assert not admin.site.is_registered(APIKey) and admin.site.is_registered(AgentKey)
    assert "/admin/rest_framework_api_key/" not in index and CHANGELIST in index
    assert index.count("API keys") == 1  # "Agent API keys"


def test_a_key_issued_in_the_admin_expires_in_90_days_unless_changed(client, admin_user):
    client.force_login(admin_user)
    form = client.get(reverse("admin:vif_agentkey_add")).context["adminform"].form
    expected = timezone.now() + timedelta(days=90)
    assert abs(form.initial["expiry_date"] - expected) < timedelta(minutes=1)
    response = client.post(reverse("admin:vif_agentkey_add"), {
        "name": "survey-bot", "expiry_date_0": "", "expiry_date_1": "", "_save": "Save"}, follow=True)
    assert response.status_code == 200 and "you will not be able to see it again" in response.content.decode()
    assert AgentKey.objects.get(name="survey-bot").expiry_date is None  # cleared on purpose: no expiry


def test_last_used_is_recorded_at_most_once_a_minute(db):
    agent_key, secret = AgentKey.objects.create_key(name="bot", expiry_date=timezone.now() + timedelta(days=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert agent_key.last_used_at is None
    api.get(reverse("api:vif:kappa-list"))
    first = AgentKey.objects.get(pk=agent_key.pk).last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=5)
    with CaptureQueriesContext(connection) as again:
        api.get(reverse("api:vif:kappa-list"))
    assert not [q for q in again.captured_queries if q["sql"].startswith("UPDATE")]  # within the minute: no write
    assert AgentKey.objects.get(pk=agent_key.pk).last_used_at == first
    stale = AgentKey.objects.get(pk=agent_key.pk)
    assert not agent_key_note_use(stale, now=first + timedelta(seconds=59))
    assert agent_key_note_use(stale, now=first + timedelta(seconds=61))
    assert AgentKey.objects.get(pk=agent_key.pk).last_used_at == first + timedelta(seconds=61)
    racing = AgentKey.objects.get(pk=agent_key.pk)
    racing.last_used_at = first  # a request that read the row before another wrote it
    assert not agent_key_note_use(racing, now=first + timedelta(seconds=62))  # the conditional UPDATE finds nothing


def test_keys_are_revoked_in_bulk(client, admin_user):
    keys = [AgentKey.objects.create_key(name=f"bot{i}")[0] for i in range(3)]
    AgentKey.objects.filter(pk=keys[2].pk).update(revoked=True)
    client.force_login(admin_user)
    listing = client.get(CHANGELIST).content.decode()
    assert "Revoke the selected keys" in listing and "Last used" in listing
    done = client.post(CHANGELIST, {"action": "revoke_keys", "_selected_action": [k.pk for k in keys]}, follow=True)
    assert "Revoked 2 keys; 1 was revoked already." in done.content.decode()
    assert AgentKey.objects.filter(revoked=True).count() == 3
