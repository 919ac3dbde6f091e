"""Site-level behaviour: settings from the environment, login everywhere, the pages."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from seismic import services
from seismic.models import SurveyImport
from vifsite import env


@pytest.mark.parametrize("helper,value", [
    (lambda: env.env_bool("X_TEST", False), "maybe"),
    (lambda: env.env_int("X_TEST", 1), "12abc"),
    (lambda: env.env_int("X_TEST", 1, minimum=1), "0"),
    (lambda: env.env_float("X_TEST", 1.0), "nan"),
    (lambda: env.env_rate("X_TEST", "1/min"), "lots"),
])
def test_settings_helpers_refuse_bad_values(monkeypatch, helper, value):
    monkeypatch.setenv("X_TEST", value)
    with pytest.raises(ImproperlyConfigured, match="X_TEST"):
        helper()


def test_settings_helpers_read_good_values_and_defaults(monkeypatch):
    monkeypatch.setenv("X_TEST", "yes")
    assert env.env_bool("X_TEST", False) is True
    monkeypatch.setenv("X_TEST", "a, b,,c")
    assert env.env_list("X_TEST", []) == ["a", "b", "c"]
    monkeypatch.delenv("X_TEST")
    assert env.env_int("X_TEST", 7) == 7


def test_sqlite_runs_in_wal_with_immediate_transactions(settings):
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE" and options["timeout"] >= 1
    assert "journal_mode=WAL" in options["init_command"]


@pytest.mark.django_db
@pytest.mark.parametrize("url_name,args", [("seismic:survey-list", []), ("admin:index", [])])
def test_pages_need_a_login(client, url_name, args):
    response = client.get(reverse(url_name, args=args))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db
def test_a_logged_in_reviewer_sees_the_surveys_and_a_survey_page(client, reviewer, f3):
    client.force_login(reviewer)
    page = client.get(reverse("seismic:survey-list")).content.decode()
    assert "f3" in page and "414 of 414" in page
    detail = client.get(reverse("seismic:survey-detail", args=[f3.pk]))
    assert detail.status_code == 200 and b"survey-config" in detail.content
    assert client.get(reverse("seismic:survey-detail", args=[999])).status_code == 404


@pytest.mark.django_db
def test_a_queued_import_runs_once_even_if_delivered_twice(segy_dir, tmp_path):
    source = tmp_path / "f3.sgy"
    source.write_bytes((segy_dir / "f3.sgy").read_bytes())
    job = SurveyImport.objects.create(name="twice", source_path=str(source))
    services.survey_import_run(survey_import_id=job.pk)
    services.survey_import_run(survey_import_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.survey.name == "twice"
    assert SurveyImport.objects.count() == 1


@pytest.mark.django_db
def test_create_agent_key_prints_a_working_key_once(capsys):
    from django.core.management import call_command
    from rest_framework.test import APIClient

    call_command("create_agent_key", "cli-bot", expires=2)
    key = capsys.readouterr().out.strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.get(reverse("api:seismic:survey-list")).status_code == 200


@pytest.mark.django_db
def test_bootstrap_creates_the_demo_survey_and_accounts_once(capsys, django_user_model):
    from django.core.management import call_command

    call_command("bootstrap_demo", size="20x18x100")
    out = capsys.readouterr().out
    assert "admin" in out and "reviewer" in out
    assert django_user_model.objects.count() == 4  # admin, reviewer, reviewer2, senior
    from seismic.models import Survey

    assert Survey.objects.get().ground_truth is not None
    call_command("bootstrap_demo", size="20x18x100")
    assert "Accounts created" not in capsys.readouterr().out
    assert Survey.objects.count() == 1 and django_user_model.objects.count() == 4


def test_the_openapi_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "ApiKeyAuth" in (tmp_path / "schema.yml").read_text()


@pytest.mark.django_db
def test_models_and_migrations_agree():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
