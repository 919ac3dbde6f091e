"""A volume in an S3-compatible object store: moto's S3 server on 127.0.0.1, with credentials checked, plays the
operator's private store (VIFSITE_VDS_CONNECTION_SECRETS). The synthetic volume is copied into it with VDSCopy,
registered by URL through the API, read as inline, crossline and timeslice through the API and compared with
the same volume on disk, witnessed and replayed; unconfigured endpoints are refused, missing objects and bad
credentials get a 400 that says so, and the secret key never leaves the settings."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from seismic import services, vds
from seismic.models import Extraction, Survey
from vifsite import netguard
from vifsite import settings as site_settings
from vifsite.vif import ledger
from vifsite.vif.models import Witness

REGISTER = reverse("api:seismic:survey-register")
BUCKET, PREFIX = "vifsite-test", "s3://vifsite-test"


@dataclass(frozen=True)
class Store:
    endpoint: str
    port: int
    access_key: str
    secret_key: str
    local: str  # the same volume on disk
    url: str  # its copy in the store

    def connection(self, *, secret: str | None = None) -> str:
        return (f"Region=us-east-1;EndpointOverride={self.endpoint};AccessKeyId={self.access_key};"
                f"SecretKey={self.secret_key if secret is None else secret}")


def _moto_api(endpoint: str, path: str, body: str = "") -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/{path}", data=body.encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


def _set_auth(endpoint: str, count: str) -> None:
    """moto checks signatures against its IAM users once this many requests have passed (``inf``: never)."""
    _moto_api(endpoint, "reset-auth", count)


@pytest.fixture(scope="module")
def store(small_synthetic) -> Iterator[Store]:
    """moto's S3 server on a free port of 127.0.0.1 with a bucket, a reader whose keys it checks, and the small
    synthetic volume copied in with VDSCopy. Skips, saying why, if moto or VDSCopy is missing or fails."""
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        pytest.skip(f"moto[server] is not installed (requirements.txt pins it): {exc}")
    try:
        copier = vds.tool_path("VDSCopy")
    except vds.ImportFailed as exc:
        pytest.skip(f"VDSCopy is not available: {exc}")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - whatever stops the server, the reason is the skip's
        pytest.skip(f"moto's S3 server could not start on 127.0.0.1: {exc}")
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        # moto keeps its users and buckets in this process, also from an earlier server (pytest may set this
        # fixture up twice in one run, when it orders tests by the session fixtures they share): start empty.
        _set_auth(endpoint, "inf")
        _moto_api(endpoint, "reset")
        admin = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "admin",
                 "aws_secret_access_key": "admin"}
        iam = boto3.client("iam", **admin)
        iam.create_user(UserName="reader")
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        iam.put_user_policy(UserName="reader", PolicyName="s3", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        boto3.client("s3", **admin).create_bucket(Bucket=BUCKET)
        _set_auth(endpoint, "0")  # from now on every request must be signed with the reader's keys
        _, _, local = small_synthetic
        found = Store(endpoint=endpoint, port=port, access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"],
                      local=str(local), url=f"{PREFIX}/synthetic")
        copy = subprocess.run([copier, "-d", found.connection(), found.local, found.url], capture_output=True,
                              text=True, timeout=120)
        if copy.returncode != 0:
            pytest.skip(f"VDSCopy could not copy the volume into moto's S3: {copy.stdout[-500:]}")
        yield found
    finally:
        vds.close_all()
        _set_auth(endpoint, "inf")
        server.stop()


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path) -> Iterator[None]:
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"
    yield
    vds.close_all()  # a handle keeps the connection string it was opened with


@pytest.fixture
def configured(settings, store) -> Store:
    settings.VIFSITE_VDS_CONNECTION_SECRETS = {PREFIX: store.connection()}
    return store


def _section_url(survey: Survey, kind: str, number: float) -> str:
    return reverse("api:seismic:section", kwargs={"survey_id": survey.pk, "section_type": kind,
                                                  "section_number": f"{number:g}"})


def _middle(survey: Survey) -> dict[str, float]:
    geometry = survey.geometry()
    return {"inline": geometry.inline.value(geometry.inline.count // 2),
            "crossline": geometry.crossline.value(geometry.crossline.count // 2),
            "timeslice": geometry.sample.value(geometry.sample.count // 2)}


def _everything_recorded() -> str:
    """Every survey, extraction and witness row as text: where a leaked secret would be kept."""
    rows = [*Survey.objects.values(), *Extraction.objects.values(), *Witness.objects.values()]
    return json.dumps(rows, default=str)


def test_a_volume_in_the_operators_store_is_registered_read_witnessed_and_replayed(
        configured, manager_agent, agent, caplog):
    caplog.set_level(logging.INFO)
    answer = manager_agent.post(REGISTER, {"url": configured.url, "name": "in the store"}, format="json")
    assert answer.status_code == 201, answer.content
    cloud = Survey.objects.get(pk=answer.json()["id"])
    local = services.survey_register_vds(url=configured.local, name="on disk", restrict_to_roots=False)
    assert cloud.vds_url == configured.url
    assert (cloud.data_sha256, cloud.live_traces) == (local.data_sha256, local.live_traces)
    assert cloud.geometry() == local.geometry()
    texts = [answer.content.decode()]
    for kind, number in _middle(cloud).items():
        read = agent.get(_section_url(cloud, kind, number))
        assert read.status_code == 200, read.content
        body = read.json()
        reference = agent.get(_section_url(local, kind, number)).json()
        # The same float32 samples bit for bit (the hash is of the exact array), and the same statistics.
        assert body["provenance"]["data_sha256"] == reference["provenance"]["data_sha256"]
        assert body["statistics"] == reference["statistics"]
        from_store = services.section_read(survey=cloud, kind=kind, number=number)
        on_disk = services.section_read(survey=local, kind=kind, number=number)
        assert from_store.data.shape == on_disk.data.shape and from_store.data.size > 1
        assert np.array_equal(from_store.data, on_disk.data) and np.array_equal(from_store.live, on_disk.live)
        witness = Witness.objects.get(vif_id=body["provenance"]["vif_id"])
        assert witness.tool_ids == ["extract_section"] and witness.tool_parameters["survey_id"] == cloud.pk
        assert Extraction.objects.get(pk=body["extraction_id"]).survey_id == cloud.pk
        vds.close_all()  # the replay opens the volume afresh, as another process would: from the settings alone
        replay = agent.post(reverse("api:vif:witness-replay", kwargs={"vif_id": witness.vif_id}), {}, format="json")
        assert replay.status_code == 200 and replay.json()["matches"], replay.content
        texts += [read.content.decode(), replay.content.decode()]
    assert ledger.verify().ok
    for text in [*texts, _everything_recorded(), caplog.text]:
        assert configured.secret_key not in text and configured.access_key not in text and "SecretKey" not in text
    for text in [*texts, _everything_recorded()]:
        assert configured.endpoint not in text  # where the store is stays with the operator too


def test_the_store_checks_the_credentials_and_a_refusal_names_no_secret(settings, store, manager_agent, caplog):
    caplog.set_level(logging.INFO)
    wrong = "W" * len(store.secret_key)
    settings.VIFSITE_VDS_CONNECTION_SECRETS = {PREFIX: store.connection(secret=wrong)}
    answer = manager_agent.post(REGISTER, {"url": store.url, "name": "wrong key"}, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"detail": f"The store {PREFIX} refused to let the site read {store.url}: the "
                                       "credentials configured for it do not allow it."}
    assert not Survey.objects.exists()
    for text in (answer.content.decode(), caplog.text):
        assert wrong not in text and store.secret_key not in text and "SecretKey" not in text


@pytest.mark.parametrize("url", [f"{PREFIX}/nothing-here", "s3://vifsite-missing/synthetic"])
def test_a_missing_object_or_bucket_in_a_configured_store_is_a_clear_400(settings, store, manager_agent, url):
    settings.VIFSITE_VDS_CONNECTION_SECRETS = {PREFIX: store.connection(), "s3://vifsite-missing": store.connection()}
    answer = manager_agent.post(REGISTER, {"url": url, "name": "missing"}, format="json")
    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert detail.startswith(f"No volume at {url}: the store ") and "no such bucket or object" in detail
    assert store.endpoint not in detail and store.secret_key not in detail
    assert not Survey.objects.exists()


def test_an_endpoint_the_operator_did_not_configure_is_refused(settings, store, manager_agent):
    """The same store, named by the agent instead of the operator, is the site's own network: refused with the
    one answer, before OpenVDS is asked. So is a path climbing out of a configured prefix."""
    settings.VIFSITE_VDS_CONNECTION_SECRETS = {f"{PREFIX}/synthetic": store.connection()}
    settings.VIFSITE_VDS_OPEN_BUCKETS = [PREFIX]  # so that the endpoint override is what refuses s3://…/other
    for url in (f"http://127.0.0.1:{store.port}/{BUCKET}/synthetic",
                f"http://localhost:{store.port}/{BUCKET}/synthetic",
                f"s3://{BUCKET}/other?EndpointOverride={store.endpoint}",
                f"{PREFIX}/synthetic/../other", f"{PREFIX}/synthetic/%2e%2e/other"):
        answer = manager_agent.post(REGISTER, {"url": url, "name": "probe"}, format="json")
        assert answer.status_code == 400 and answer.json() == {"detail": netguard.VOLUME_REFUSED}, url
    assert not Survey.objects.exists()


def test_without_keys_in_the_connection_string_openvds_takes_the_standard_aws_variables(store, tmp_path):
    """What the README promises for S3: keys may come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead
    (in a process of its own: the AWS SDK reads its environment when it starts)."""
    opener = "import openvds, sys; openvds.open(sys.argv[1], sys.argv[2]); print('opened')"
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base.update(HOME=str(tmp_path), AWS_EC2_METADATA_DISABLED="true")  # no profile, no instance role
    keys = {"AWS_ACCESS_KEY_ID": store.access_key, "AWS_SECRET_ACCESS_KEY": store.secret_key}
    connection = f"Region=us-east-1;EndpointOverride={store.endpoint}"
    runs = [subprocess.run([sys.executable, "-c", opener, store.url, connection], env=env, capture_output=True,
                           text=True, timeout=60) for env in ({**base, **keys}, base)]
    assert runs[0].returncode == 0 and runs[0].stdout.strip() == "opened", runs[0].stderr
    assert runs[1].returncode != 0 and "signing" in runs[1].stderr, runs[1].stderr  # without them: no signature


def test_a_store_prefix_ends_at_a_slash(settings):
    settings.VIFSITE_VDS_CONNECTION_SECRETS = {"s3://vols": "Region=a", "s3://vols/deep": "Region=b"}
    assert netguard.volume_store("s3://vols/x") == ("s3://vols", "Region=a")
    assert netguard.volume_store("s3://vols/deep/x") == ("s3://vols/deep", "Region=b")
    assert netguard.volume_store("s3://vols/deeper") == ("s3://vols", "Region=a")
    assert netguard.volume_store("s3://vols-other/x") is None
    assert netguard.volume_store("gs://vols/x") is None


@pytest.mark.parametrize("value,words", [
    ("not json", "is not JSON"),
    ('["s3://a"]', "must be a JSON object"),
    ('{"http://10.0.0.5/vols": "SecretKey=hunter2"}', "'http://10.0.0.5/vols' is not an s3://"),
    ('{"s3://": "SecretKey=hunter2"}', "'s3:' is not an s3://"),
    ('{"s3://vols": ""}', "must be a non-empty string"),
])
def test_a_bad_store_setting_stops_the_site_without_showing_a_secret(monkeypatch, value, words):
    monkeypatch.setenv("VIFSITE_VDS_CONNECTION_SECRETS", value)
    with pytest.raises(ImproperlyConfigured, match=words) as raised:
        site_settings._vds_connection_secrets("VIFSITE_VDS_CONNECTION_SECRETS")
    assert "hunter2" not in str(raised.value)


def test_a_good_store_setting_is_read(monkeypatch):
    monkeypatch.setenv("VIFSITE_VDS_CONNECTION_SECRETS", '{"s3://vols/": "Region=eu-north-1;SecretKey=x"}')
    assert site_settings._vds_connection_secrets("VIFSITE_VDS_CONNECTION_SECRETS") == {
        "s3://vols": "Region=eu-north-1;SecretKey=x"}


@pytest.mark.parametrize("value", ["http://10.0.0.5/vols", "s3://", "azureSAS://host/container", "vols"])
def test_a_bad_open_bucket_setting_stops_the_site(monkeypatch, value):
    monkeypatch.setenv("VIFSITE_VDS_OPEN_BUCKETS", f"s3://open-data,{value}")
    with pytest.raises(ImproperlyConfigured, match="is not an s3://, gs://, azure:// or dms:// URL prefix"):
        site_settings._vds_open_buckets("VIFSITE_VDS_OPEN_BUCKETS")
    monkeypatch.setenv("VIFSITE_VDS_OPEN_BUCKETS", "s3://open-data/, gs://bucket/folder")
    assert site_settings._vds_open_buckets("VIFSITE_VDS_OPEN_BUCKETS") == ["s3://open-data", "gs://bucket/folder"]


def test_django_error_reports_hide_the_store_setting(settings):
    from django.views.debug import SafeExceptionReporterFilter

    settings.VIFSITE_VDS_CONNECTION_SECRETS = {PREFIX: "Region=us-east-1;SecretKey=hunter2"}
    shown = SafeExceptionReporterFilter().get_safe_settings()["VIFSITE_VDS_CONNECTION_SECRETS"]
    assert "hunter2" not in str(shown)


def test_secret_values_are_masked_in_openvds_messages():
    connection = "Region=us-east-1;EndpointOverride=http://10.0.0.5:9000;AccessKeyId=AKIA1;SecretKey=s3cr3t/x+y"
    masked = vds._without_secrets("signing with AKIA1 and s3cr3t/x+y failed at us-east-1", connection)
    assert masked == "signing with *** and *** failed at us-east-1"
