"""The admin: SEG-Y upload with its queued import, and read-only audit rows."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from seismic.models import Extraction, Survey, SurveyImport

pytestmark = pytest.mark.django_db


def upload(client, segy_dir, name, content=None, **extra):
    data = {"name": name, "description": "", "inline_byte": 189, "crossline_byte": 193, "cdp_byte": 21,
            "sample_unit": "ms", **extra}
    data["file"] = SimpleUploadedFile("upload.sgy", content or (segy_dir / "f3.sgy").read_bytes())
    return client.post(reverse("admin:seismic_surveyimport_add"), data)


def test_an_admin_uploads_a_segy_file_and_watches_its_import(client, admin_user, segy_dir,
                                                              django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, segy_dir, "uploaded f3")
    job = SurveyImport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/change/")
    job.refresh_from_db()
    assert job.status == "succeeded" and job.progress == 100.0 and job.survey.name == "uploaded f3"
    page = client.get(response["Location"]).content.decode()
    assert "succeeded" in page and "100 % done" in page and 'http-equiv="refresh"' not in page


def test_a_running_import_page_refreshes_itself(client, admin_user):
    client.force_login(admin_user)
    job = SurveyImport.objects.create(name="x", source_path="/nowhere", status="running", progress=42)
    page = client.get(reverse("admin:seismic_surveyimport_change", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' in page and "42 % done" in page


def test_a_bad_upload_shows_why_and_registers_nothing(client, admin_user, segy_dir,
                                                      django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, segy_dir, "junk", content=b"junk" * 1000)
    job = SurveyImport.objects.get()
    assert job.status == "failed" and "Not a SEG-Y file" in job.error
    assert not Survey.objects.exists()


def test_an_upload_with_a_taken_name_is_refused_at_once(client, admin_user, segy_dir, f3):
    client.force_login(admin_user)
    response = upload(client, segy_dir, "f3")
    assert response.status_code == 302 and response["Location"].endswith("/add/")
    messages = [m.message for m in response.wsgi_request._messages]
    assert any("already exists" in m for m in messages)
    assert not SurveyImport.objects.exists()


def test_a_reviewer_cannot_reach_the_admin(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("admin:seismic_surveyimport_add")).status_code == 302


def test_extractions_cannot_be_changed_or_deleted_in_the_admin(client, admin_user, f3):
    from seismic import services

    _, extraction = services.section_extract(survey=f3, kind="inline", number=120, principal="t")
    client.force_login(admin_user)
    url = reverse("admin:seismic_extraction_delete", args=[extraction.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Extraction.objects.filter(pk=extraction.pk).exists()
