"""Who may do what: applying κ suggestions in the admin, the review pages and feed, and deciding items
submitted by one's own agent key after the key is gone."""

from datetime import timedelta
from decimal import Decimal
from importlib import import_module

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from review import services
from review import urls as review_urls
from review.consumers import QueueConsumer
from review.models import Escalation
from vifsite.vif.models import AgentKey, KappaPolicy, KappaPolicyChange, KappaSuggestion

pytestmark = pytest.mark.usefixtures("own_ledger_no_sampling")


@pytest.fixture
def own_ledger_no_sampling(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 0.0


def person(django_user_model, name, *, group=None, staff=False, perms=()):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", f"pw-{name}-123", is_staff=staff)
    if group:
        user.groups.add(Group.objects.get(name=group))
    user.user_permissions.add(*(Permission.objects.get(content_type__app_label="vif", codename=p) for p in perms))
    return user


@pytest.fixture
def rita(django_user_model):
    return person(django_user_model, "rita", group="reviewers")


@pytest.fixture
def olga(django_user_model):
    """Logged in, but in no review group and not staff."""
    return person(django_user_model, "olga")


# --- κ suggestions in the admin ---------------------------------------------------------------------

CHANGELIST = "/admin/vif/kappasuggestion/"


@pytest.fixture
def suggestion(db):
    return KappaSuggestion.objects.create(criticality="critical", model_id="m3", suggested=Decimal("0.71"),
                                          evidence={"samples": 400})


def apply(client, suggestion):
    return client.post(CHANGELIST, {"action": "apply_suggestions", "_selected_action": [suggestion.pk],
                                    "apply": "1", "reason": "Q4 calibration samples"}, follow=True)


def test_staff_who_may_only_view_suggestions_are_not_offered_the_apply_action(client, django_user_model,
                                                                               suggestion):
    client.force_login(person(django_user_model, "vic", staff=True, perms=["view_kappasuggestion"]))
    page = client.get(CHANGELIST)
    assert page.status_code == 200 and "0.71" in page.content.decode()
    assert "apply_suggestions" not in page.content.decode()


def test_a_forged_apply_from_a_viewer_is_refused_with_a_message_and_changes_no_kappa(client, django_user_model,
                                                                                     suggestion):
    client.force_login(person(django_user_model, "vic", staff=True,
                              perms=["view_kappasuggestion", "view_kappapolicy"]))
    changes = KappaPolicyChange.objects.count()
    response = apply(client, suggestion)
    assert "needs the permission to change κ policies" in response.content.decode()
    assert str(KappaPolicy.objects.get(criticality="critical", domain="").threshold) == "0.950000"
    assert KappaPolicyChange.objects.count() == changes
    assert KappaSuggestion.objects.get().applied_at is None


def test_staff_who_may_change_kappa_policies_apply_suggestions(client, django_user_model, suggestion):
    client.force_login(person(django_user_model, "kai", staff=True,
                              perms=["view_kappasuggestion", "change_kappapolicy"]))
    assert "apply_suggestions" in client.get(CHANGELIST).content.decode()
    assert "Applied" in apply(client, suggestion).content.decode()
    assert str(KappaPolicy.objects.get(criticality="critical", domain="", model_id="m3").threshold) == "0.710000"


# --- the review pages and the live feed -------------------------------------------------------------

@pytest.fixture
def item(agent, f3):
    section = agent.get(reverse("api:seismic:section", kwargs={"survey_id": f3.pk, "section_type": "inline",
                                                               "section_number": "120"})).json()
    return services.interpretation_submit(
        writer="agent:bot", key=None, text="The bright interval is a gas-charged sand.", structured=None,
        extraction_ids=[section["extraction_id"]], model={"model_id": "m"}, signals={"confidence": 0.9},
        criticality="routine")["escalation"]["id"]


def review_urls_for(item):
    """Every page in review/urls.py, so a page added later without the check fails here."""
    return [reverse(f"review:{p.name}", kwargs={"escalation_id": item} if "escalation_id" in p.pattern.converters
                    else {}) for p in review_urls.urlpatterns]


def test_review_pages_tell_a_logged_in_non_reviewer_why_they_are_refused(client, olga, item):
    client.force_login(olga)
    urls = review_urls_for(item)
    assert len(urls) == len(review_urls.urlpatterns) >= 5
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "ask an admin to add you to the reviewers group" in response.content.decode(), url
        assert 'class="brand"' in response.content.decode()  # the site's page, not a bare error
    decided = client.post(reverse("review:item", kwargs={"escalation_id": item}), {"decision": "approve"})
    assert decided.status_code == 403 and Escalation.objects.get(pk=item).status == "pending"
    surveys = client.get(reverse("seismic:survey-list")).content.decode()
    assert reverse("review:queue") not in surveys  # the navigation offers only what they may open


@pytest.mark.parametrize("role", ["reviewers", "senior reviewers", "staff"])
def test_reviewers_senior_reviewers_and_staff_see_every_review_page(client, django_user_model, item, role):
    client.force_login(person(django_user_model, "ron", group=None if role == "staff" else role,
                              staff=role == "staff"))
    post_only = {reverse("review:bulk"), reverse("review:release", kwargs={"escalation_id": item})}
    for url in review_urls_for(item):
        assert client.get(url).status_code == (405 if url in post_only else 200), url
    assert reverse("review:queue") in client.get(reverse("seismic:survey-list")).content.decode()


def test_the_feed_closes_on_a_non_reviewer_and_opens_for_a_reviewer(olga, rita, settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

    async def connect(user):
        # What channels' WebsocketCommunicator does, without channels.testing (which needs daphne installed).
        scope = {"type": "websocket", "path": "/ws/review/queue/", "headers": [], "subprotocols": [], "user": user}
        communicator = ApplicationCommunicator(QueueConsumer.as_asgi(), scope)
        await communicator.send_input({"type": "websocket.connect"})
        answer = await communicator.receive_output(timeout=2)
        await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await communicator.wait(timeout=2)
        return answer

    assert async_to_sync(connect)(olga) == {"type": "websocket.close", "code": 4403}
    assert async_to_sync(connect)(rita)["type"] == "websocket.accept"


# --- the submitter of an item, whatever happens to the key afterwards ----------------------------------

def submit_with_own_key(owner, f3):
    agent_key, key = AgentKey.objects.create_key(name=f"{owner.username}s-bot", owner=owner,
                                                 expiry_date=timezone.now() + timedelta(days=1))
    own = APIClient()
    own.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    section = own.get(reverse("api:seismic:section", kwargs={"survey_id": f3.pk, "section_type": "inline",
                                                             "section_number": "120"})).json()
    data = own.post(reverse("api:review:interpretation-submit"),
                    {"text": "The bright interval is a gas-charged sand.", "extraction_ids": [section["extraction_id"]],
                     "model_id": "gpt-test", "confidence": 0.97, "task_criticality": "routine"}, format="json").json()
    return data["escalation"]["id"], agent_key


def decide(user, item):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(reverse("api:review:escalation-decision", kwargs={"escalation_id": item}),
                       {"decision": "approve"}, format="json")


def test_deleting_the_key_does_not_let_its_owner_decide_or_get_assigned_what_it_submitted(f3, rita):
    item, key = submit_with_own_key(rita, f3)
    assert Escalation.objects.get(pk=item).assignee is None  # rita is the only reviewer, and the submitter
    key.delete()
    response = decide(rita, item)
    assert response.status_code == 403 and "your own agent key" in response.json()["detail"]
    Escalation.objects.filter(pk=item).update(due_at=timezone.now() - timedelta(minutes=1))
    rita.groups.add(Group.objects.get(name="senior reviewers"))
    assert services.sla_sweep()["moved"] == 1
    escalation = Escalation.objects.get(pk=item)
    assert escalation.assignee is None and escalation.status == "pending"


def test_rotating_the_key_does_not_let_its_owner_decide_what_the_old_key_submitted(f3, rita, django_user_model):
    item, old = submit_with_own_key(rita, f3)
    AgentKey.objects.create_key(name="ritas-new-bot", owner=rita)  # the new key
    old.revoked = True
    old.owner = person(django_user_model, "tom")  # the retired key is handed on (or its owner cleared)
    old.save()
    response = decide(rita, item)
    assert response.status_code == 403 and "your own agent key" in response.json()["detail"]
    assert decide(person(django_user_model, "sam", group="reviewers"), item).status_code == 200


def test_a_reviewer_who_submits_with_their_session_cannot_decide_it(f3, rita, django_user_model):
    own = APIClient()
    own.force_login(rita)
    section = own.get(reverse("api:seismic:section", kwargs={"survey_id": f3.pk, "section_type": "inline",
                                                             "section_number": "120"})).json()
    data = own.post(reverse("api:review:interpretation-submit"),
                    {"text": "The bright interval is a gas-charged sand.", "extraction_ids": [section["extraction_id"]],
                     "model_id": "gpt-test", "confidence": 0.97, "task_criticality": "routine"}, format="json").json()
    item = data["escalation"]["id"]
    assert Escalation.objects.get(pk=item).submitted_owner == rita
    detail = reverse("api:review:escalation-detail", kwargs={"escalation_id": item})
    assert own.get(detail).status_code == 200  # the submitter follows it
    rita.groups.clear()
    assert own.get(detail).status_code == 200
    outsider = APIClient()
    outsider.force_login(person(django_user_model, "olaf"))
    refused = outsider.get(detail)
    assert refused.status_code == 403 and "for reviewers" in refused.json()["detail"]
    rita.groups.add(Group.objects.get(name="reviewers"))
    assert decide(rita, item).status_code == 403
    assert decide(person(django_user_model, "sam", group="reviewers"), item).status_code == 200


def test_the_migration_fills_the_submitter_from_the_keys_of_earlier_items(rita):
    from vifsite.vif import services as vif_services

    key, _ = AgentKey.objects.create_key(name="old-bot", owner=rita)
    [recorded] = vif_services.witness_record_many(items=[{"model_id": "m", "prompt": "p", "output": "o",
                                                          "confidence": 0.5, "task_criticality": "routine"}],
                                                  writer="agent:old-bot")
    escalation = Escalation.objects.create(witness=recorded.witness, interpretation="x", criticality="routine",
                                           submitted_by="agent:old-bot", submitted_key=key, due_at=timezone.now(),
                                           hard_due_at=timezone.now())
    import_module("review.migrations.0004_escalation_submitted_owner").owners_from_keys(apps, None)
    assert Escalation.objects.get(pk=escalation.pk).submitted_owner == rita
