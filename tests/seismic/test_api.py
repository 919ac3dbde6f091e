"""The REST API: authentication everywhere, the section contract, and 4xx for every bad input."""

from datetime import timedelta
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from seismic.models import AppendOnlyError, Extraction, Survey, SurveyImport
from vifsite.vif.models import AgentKey

pytestmark = pytest.mark.django_db


def section_url(survey, kind="inline", number=116, image=False):
    name = "api:seismic:section-image" if image else "api:seismic:section"
    return reverse(name, kwargs={"survey_id": survey.pk, "section_type": kind, "section_number": number})


def all_urls(survey):
    return [
        reverse("api:seismic:survey-list"),
        reverse("api:seismic:survey-detail", args=[survey.pk]),
        section_url(survey),
        section_url(survey, image=True),
        reverse("api:seismic:tools"),
        reverse("api:schema"),
        reverse("api:seismic:survey-import-detail", args=[1]),
    ]


def test_every_endpoint_refuses_anonymous_callers(anonymous, f3):
    for url in all_urls(f3):
        response = anonymous.get(url)
        assert response.status_code in (401, 403), url
    assert anonymous.post(reverse("api:seismic:survey-import-create"), {}).status_code in (401, 403)
    assert anonymous.post(reverse("api:seismic:survey-register"), {}).status_code in (401, 403)
    assert not Extraction.objects.exists()


def test_every_read_endpoint_answers_an_agent_and_a_logged_in_person(agent, reviewer, f3):
    person = APIClient()
    person.force_login(reviewer)
    for client in (agent, person):
        for url in all_urls(f3)[:-1]:
            assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("change", [
    {"expiry_date": timezone.now() - timedelta(minutes=1)},
    {"revoked": True},
])
def test_an_expired_or_revoked_key_is_refused(f3, change):
    key_row, key = AgentKey.objects.create_key(name="old")
    AgentKey.objects.filter(pk=key_row.pk).update(**change)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    response = client.get(reverse("api:seismic:survey-list"))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"] or "revoked" in response.json()["detail"]


def test_a_wrong_key_is_refused(f3):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key abc.def")
    assert client.get(reverse("api:seismic:survey-list")).status_code == 401


def test_keys_are_stored_hashed(agent_key):
    row = AgentKey.objects.get(name="bot")
    assert agent_key not in row.hashed_key and row.is_valid(agent_key)


def test_the_survey_list_runs_one_query_whatever_its_length(agent, register, django_assert_num_queries):
    register("f3")
    agent.get(reverse("api:seismic:survey-list"))  # a key's first use in a minute also records when it was used
    with django_assert_num_queries(2):  # the key lookup, the surveys
        assert len(agent.get(reverse("api:seismic:survey-list")).json()) == 1
    register("f3_sparse")
    register("f3_withdead")
    with django_assert_num_queries(2):
        assert len(agent.get(reverse("api:seismic:survey-list")).json()) == 3


def test_survey_detail_gives_geometry_units_and_coordinate_system(agent, f3):
    body = agent.get(reverse("api:seismic:survey-detail", args=[f3.pk])).json()
    assert body["geometry"]["inline"] == {"first": 111, "last": 133, "step": 1, "count": 23, "unit": "unitless"}
    assert body["geometry"]["sample"]["unit"] == "ms" and body["domain"] == "time"
    assert set(body["coordinate_system"]) >= {"origin", "inlineSpacing", "crosslineSpacing", "unit"}


def test_the_section_answer_keeps_its_contract(agent, f3):
    response = agent.get(section_url(f3))
    assert response.status_code == 200
    body = response.json()
    stats = body["statistics"]
    assert set(stats) >= {"count", "live_traces", "dead_traces", "min", "max", "mean", "median", "std", "rms",
                          "zero_crossings", "data_range", "coefficient_of_variation", "percentiles",
                          "dominant_frequency_hz", "band_hz", "bandwidth_hz", "spectral_centroid_hz"}
    assert set(stats["percentiles"]) == {"p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99"}
    assert len(stats["band_hz"]) == 2
    extraction = Extraction.objects.get(pk=body["extraction_id"])
    assert body["provenance"]["data_sha256"] == extraction.array_sha256
    assert body["provenance"]["survey_data_sha256"] == f3.data_sha256
    assert body["provenance"]["principal"] == extraction.principal == "agent:bot"
    assert body["provenance"]["openvds_version"].startswith("OpenVDS")
    assert body["image_url"].endswith(section_url(f3, image=True))
    assert any("well logs" in item for item in body["cannot_conclude"])


def test_the_image_url_of_a_cut_section_carries_its_ranges(agent, f3):
    body = agent.get(section_url(f3), {"crossline_min": 880, "sample_max": 200}).json()
    assert "crossline_min=880" in body["image_url"] and "sample_max=200" in body["image_url"]
    assert body["axes"][0]["first"] == 880 and body["axes"][1]["last"] == 200
    assert body["statistics"]["count"] == 13 * 50


def test_the_png_is_a_picture_of_the_section(agent, f3):
    response = agent.get(section_url(f3, image=True), {"clip": 95})
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    image = Image.open(BytesIO(response.content))
    assert image.format == "PNG" and image.width > 18 and image.height > 75
    pixels = np.asarray(image.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # a colormap, not a blank


@pytest.mark.parametrize("kind,number,query,status,words", [
    ("inline", 1000, {}, 400, "valid inline numbers are 111 to 133 in steps of 1"),
    ("crossline", 874, {}, 400, "valid crossline numbers are 875 to 892"),
    ("timeslice", 102, {}, 400, "valid times are 4 to 300 in steps of 4"),
    ("inline", "abc", {}, 400, "section_number must be a number"),
    ("inline", "nan", {}, 400, "finite"),
    ("diagonal", 116, {}, 400, "section_type must be one of"),
    ("inline", 116, {"crossline_min": "x"}, 400, "valid number"),
    ("inline", 116, {"crossline_min": 890, "crossline_max": 880}, 400, "range is empty"),
    ("inline", 116, {"crossline_min": 800}, 400, "outside the survey"),
    ("inline", 116, {"inline_min": 111}, 400, "fixes the inline"),
    ("inline", 116, {"sample_min": 5, "sample_max": 7}, 400, "holds no sample"),
])
def test_bad_section_requests_get_a_message_an_agent_can_act_on(agent, f3, kind, number, query, status, words):
    response = agent.get(section_url(f3, kind, number), query)
    assert response.status_code == status
    assert words in str(response.json())
    assert not Extraction.objects.exists()


def test_an_unknown_survey_is_404(agent):
    response = agent.get(reverse("api:seismic:section", kwargs={"survey_id": 999, "section_type": "inline",
                                                                 "section_number": 1}))
    assert response.status_code == 404 and "No survey with id 999" in response.json()["detail"]
    assert agent.get(reverse("api:seismic:survey-detail", args=[999])).status_code == 404


def test_image_clip_out_of_bounds_is_400(agent, f3):
    assert agent.get(section_url(f3, image=True), {"clip": 10}).status_code == 400


def test_extractions_are_append_only(agent, f3):
    extraction = Extraction.objects.get(pk=agent.get(section_url(f3)).json()["extraction_id"])
    extraction.principal = "someone else"
    with pytest.raises(AppendOnlyError):
        extraction.save()
    with pytest.raises(AppendOnlyError):
        extraction.delete()
    with pytest.raises(AppendOnlyError):
        Extraction.objects.filter(pk=extraction.pk).update(principal="x")
    with pytest.raises(AppendOnlyError):
        Extraction.objects.all().delete()
    assert Extraction.objects.get(pk=extraction.pk).principal == "agent:bot"


def test_the_tool_manifest_describes_limits_in_function_calling_shape(agent):
    tools = agent.get(reverse("api:seismic:tools")).json()["tools"]
    names = {tool["function"]["name"] for tool in tools}
    assert names >= {"list_surveys", "get_survey", "extract_section", "get_section_image"}
    for tool in tools:
        assert tool["type"] == "function"
        description = tool["function"]["description"]
        for limit in ("well logs", "AVO", "velocity model", "biostratigraphy", "rock physics", "drilling"):
            assert limit in description
        assert tool["function"]["parameters"]["type"] == "object"
    extract = next(t for t in tools if t["function"]["name"] == "extract_section")
    assert extract["function"]["parameters"]["required"] == ["survey_id", "section_type", "section_number"]


def test_the_openapi_schema_carries_the_same_descriptions(agent):
    response = agent.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "extract_section" in text and "needs petrophysics and AVO analysis" in text
    assert "ApiKeyAuth" in text


def test_importing_through_the_api_needs_permission_and_queues_the_import(agent, manager_agent, segy_dir,
                                                                         django_capture_on_commit_callbacks):
    url = reverse("api:seismic:survey-import-create")
    with open(segy_dir / "f3.sgy", "rb") as handle:
        assert agent.post(url, {"file": handle, "name": "f3"}, format="multipart").status_code == 403
    with open(segy_dir / "f3.sgy", "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = manager_agent.post(url, {"file": handle, "name": "f3 upload"}, format="multipart")
    assert response.status_code == 202 and response.json()["status"] == "pending"
    job_id = response.json()["id"]
    status = manager_agent.get(reverse("api:seismic:survey-import-detail", args=[job_id])).json()
    # Tests run django-q2 synchronously: the task has run by the time the transaction committed.
    assert status["status"] == "succeeded" and status["progress"] == 100.0
    assert Survey.objects.get(pk=status["survey"]).name == "f3 upload"


def test_a_bad_upload_fails_its_import_and_registers_nothing(manager_agent, tmp_path,
                                                            django_capture_on_commit_callbacks):
    bad = tmp_path / "bad.sgy"
    bad.write_bytes(b"junk" * 2000)
    with open(bad, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = manager_agent.post(reverse("api:seismic:survey-import-create"),
                                      {"file": handle, "name": "bad"}, format="multipart")
    job = SurveyImport.objects.get(pk=response.json()["id"])
    assert job.status == "failed" and "Not a SEG-Y file" in job.error
    assert not Survey.objects.exists()
    assert not __import__("pathlib").Path(job.source_path).exists()


def test_an_import_error_names_the_uploaded_file_never_the_server_path(manager_agent, segy_dir, settings,
                                                                       django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("my survey.sgy", (segy_dir / "f3.sgy").read_bytes())
    with django_capture_on_commit_callbacks(execute=True):  # swapped key bytes: SEGYImport refuses, in its words
        response = manager_agent.post(reverse("api:seismic:survey-import-create"),
                                      {"file": upload, "name": "swapped", "inline_byte": 193, "crossline_byte": 189},
                                      format="multipart")
    status = manager_agent.get(reverse("api:seismic:survey-import-detail", args=[response.json()["id"]]))
    job = SurveyImport.objects.get()
    assert status.json()["status"] == "failed"
    assert "my survey.sgy: Primary key values are not sorted" in status.json()["error"]
    server_paths = (str(settings.VIFSITE_UPLOAD_DIR), str(settings.VIFSITE_SURVEY_DIR), Path(job.source_path).name)
    assert not any(path in status.content.decode() or path in job.log for path in server_paths)


def test_upload_options_are_validated_before_anything_is_stored(manager_agent, segy_dir):
    with open(segy_dir / "f3.sgy", "rb") as handle:
        response = manager_agent.post(reverse("api:seismic:survey-import-create"),
                                      {"file": handle, "name": "x", "inline_byte": 400}, format="multipart")
    assert response.status_code == 400 and "inline_byte" in response.json()
    assert not SurveyImport.objects.exists()


def test_register_through_the_api(manager_agent, vds_dir):
    response = manager_agent.post(reverse("api:seismic:survey-register"), {"url": str(vds_dir / "f3.vds"),
                                                                           "name": "x"}, format="json")
    assert response.status_code == 400 and "outside the folders" in response.json()["detail"]
    response = manager_agent.post(reverse("api:seismic:survey-register"), {"url": "s3x://b/f3", "name": "x"},
                                  format="json")
    assert response.status_code == 400


def test_a_volume_gone_from_disk_is_503_not_a_crash(agent, vds_dir, tmp_path):
    from seismic import services, vds

    copy = tmp_path / "gone.vds"
    copy.write_bytes((vds_dir / "f3.vds").read_bytes())
    survey = services.survey_register_vds(url=str(copy), name="gone", restrict_to_roots=False)
    vds.close(str(copy))
    copy.unlink()
    response = agent.get(section_url(survey))
    assert response.status_code == 503 and "cannot be read now" in response.json()["detail"]
    assert str(tmp_path) not in response.json()["detail"]  # the server's paths stay in its log
    assert not Extraction.objects.exists()
