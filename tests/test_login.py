"""Password guessing: failed logins lock the account from that address (django-axes), X-Forwarded-For
counts only behind the configured number of trusted proxies."""

import runpy
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from vifsite import settings as settings_module

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture
def rita(django_user_model):
    return django_user_model.objects.create_user("rita", "rita@example.com", "pw-rita-123")


@pytest.fixture
def sam(django_user_model):
    return django_user_model.objects.create_user("sam", "sam@example.com", "pw-sam-123")


def log_in(client, name, password, url=LOGIN, **meta):
    return client.post(url, {"username": name, "password": password}, **meta)


def logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.wsgi_request.session


def guess(client, name, times=30, **meta):
    for i in range(times):
        meta_i = {"HTTP_X_FORWARDED_FOR": f"198.51.100.{i + 1}", **meta}
        assert not logged_in(log_in(client, name, f"guess-{i}", **meta_i))


def from_environment(monkeypatch, settings, **env):
    """Settings as vifsite/settings.py derives them from these environment variables, put in place."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    derived = runpy.run_path(settings_module.__file__)
    for name in ("AXES_FAILURE_LIMIT", "AXES_COOLOFF_TIME", "AXES_IPWARE_META_PRECEDENCE_ORDER",
                 "AXES_IPWARE_PROXY_COUNT", "IPWARE_STRICT", "VIFSITE_LOGIN_COOLOFF_MINUTES"):
        setattr(settings, name, derived[name])
    return derived


def test_thirty_guesses_with_rotating_forwarded_for_lock_the_account_and_the_right_password_is_refused(client, rita):
    guess(client, "rita")
    response = log_in(client, "rita", "pw-rita-123", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429 and not logged_in(response)
    page = response.content.decode()
    assert "locked for 15 minutes" in page and "from your address" in page and 'class="brand"' in page


def test_others_are_not_locked_out_by_someone_elses_guessing(client, rita, sam):
    guess(client, "rita")
    assert logged_in(log_in(client, "sam", "pw-sam-123", REMOTE_ADDR="192.0.2.20"))
    # Locking per account and address: a guesser elsewhere cannot lock rita out of her own desk.
    assert logged_in(log_in(client, "rita", "pw-rita-123", REMOTE_ADDR="192.0.2.21"))


def test_the_admin_login_is_locked_the_same_way(client, django_user_model):
    django_user_model.objects.create_superuser("ada", "ada@example.com", "pw-ada-123")
    admin_login = reverse("admin:login")
    guess(client, "ada", times=5)
    response = log_in(client, "ada", "pw-ada-123", url=admin_login)
    assert response.status_code == 429 and not logged_in(response)


def test_a_right_password_clears_earlier_failures(client, rita):
    guess(client, "rita", times=4)
    assert logged_in(log_in(client, "rita", "pw-rita-123"))
    client.logout()
    guess(client, "rita", times=4)
    assert logged_in(log_in(client, "rita", "pw-rita-123"))


def test_the_lock_ends_after_the_cool_off_or_with_axes_reset(client, rita):
    guess(client, "rita", times=5)
    assert log_in(client, "rita", "pw-rita-123").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert logged_in(log_in(client, "rita", "pw-rita-123"))
    client.logout()
    guess(client, "rita", times=5)
    call_command("axes_reset", verbosity=0)
    assert logged_in(log_in(client, "rita", "pw-rita-123"))


def test_a_session_from_the_login_form_works_for_the_api(client, rita):
    assert logged_in(log_in(client, "rita", "pw-rita-123"))
    assert client.get(reverse("api:seismic:survey-list")).status_code == 200


def test_limit_and_cool_off_come_from_the_environment(monkeypatch, settings, client, rita):
    derived = from_environment(monkeypatch, settings, VIFSITE_LOGIN_FAILURE_LIMIT="3",
                               VIFSITE_LOGIN_COOLOFF_MINUTES="2")
    assert derived["AXES_COOLOFF_TIME"] == timedelta(minutes=2)
    guess(client, "rita", times=3)
    response = log_in(client, "rita", "pw-rita-123")
    assert response.status_code == 429 and "locked for 2 minutes" in response.content.decode()
    monkeypatch.setenv("VIFSITE_LOGIN_FAILURE_LIMIT", "0")
    with pytest.raises(ImproperlyConfigured, match="VIFSITE_LOGIN_FAILURE_LIMIT"):
        runpy.run_path(settings_module.__file__)


def test_behind_one_trusted_proxy_the_forwarded_address_counts(monkeypatch, settings, client, rita):
    from_environment(monkeypatch, settings, VIFSITE_TRUSTED_PROXY_COUNT="1")
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    guess(client, "rita", times=5, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert log_in(client, "rita", "pw-rita-123", HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy).status_code == 429
    # The proxy appends the address it saw; what the client wrote to the left of it does not count.
    spoofed = log_in(client, "rita", "pw-rita-123", HTTP_X_FORWARDED_FOR="198.51.100.8, 198.51.100.7", **proxy)
    assert spoofed.status_code == 429
    assert logged_in(log_in(client, "rita", "pw-rita-123", HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy))


def test_the_client_address_is_the_nth_entry_from_the_right(monkeypatch, settings, rf):
    from axes.helpers import get_client_ip_address

    def address(forwarded):
        return get_client_ip_address(rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.1"))

    assert address("198.51.100.1, 198.51.100.2") == "10.0.0.1"  # by default the header is ignored
    from_environment(monkeypatch, settings, VIFSITE_TRUSTED_PROXY_COUNT="2")
    assert address("198.51.100.1, 198.51.100.2, 10.0.0.9") == "198.51.100.2"
    # Fewer entries than proxies: the request did not come through them all, so no address in it is trusted
    # (such requests count per username together).
    assert address("10.0.0.9") is None
