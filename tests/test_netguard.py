"""Outbound URLs: volume registration and agent callbacks refuse the site's own network with one answer,
deliveries go to the address that was checked and never follow a redirect."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.urls import reverse

from review import notify, services
from review.models import Delivery, Escalation
from seismic.models import Survey
from vifsite import netguard
from vifsite.errors import InputError

REGISTER = reverse("api:seismic:survey-register")
SUBMIT = reverse("api:review:interpretation-submit")
# Each a host the site itself, its cloud metadata service or its private network answers at.
REFUSED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "169.254.169.254", "10.0.0.1", "192.168.1.1", "172.16.0.1",
                 "100.64.0.1", "0.0.0.0", "224.0.0.1", "[::ffff:127.0.0.1]", "2130706433", "0x7f.0.0.1", "0x7f.1"]
REFUSED_SCHEMES = ["ftp://127.0.0.1:{port}/x", "file:///etc/passwd", "gopher://127.0.0.1:{port}/_x"]
PUBLIC = "93.184.216.34"  # a public address the tests never connect to: connections are redirected to ours


@pytest.fixture
def ports() -> Iterator[tuple[socket.socket, int, int]]:
    """A port on 127.0.0.1 that accepts connections, and one that refuses them (bound, not listening)."""
    with socket.socket() as listening, socket.socket() as bound:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        bound.bind(("127.0.0.1", 0))
        yield listening, listening.getsockname()[1], bound.getsockname()[1]


def assert_never_connected(listening: socket.socket) -> None:
    listening.settimeout(0.3)
    with pytest.raises(TimeoutError):
        listening.accept()


@contextmanager
def http_server(status: int, headers: dict[str, str] | None = None,
                tls: ssl.SSLContext | None = None) -> Iterator[tuple[int, list[dict]]]:
    """A real HTTP(S) server on 127.0.0.1 answering every request with ``status``; yields its port and the
    requests it saw."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                         "body": self.rfile.read(length)})
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = answer  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port, seen
    finally:
        server.shutdown()
        server.server_close()


# --- classification -------------------------------------------------------------------------------

@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1",
                                     "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
                                     "64:ff9b::7f00:1", "2002:7f00:1::", "2001:db8::1"])
def test_it_classifies_the_sites_own_and_special_addresses_as_not_public(address):
    assert not netguard.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_it_classifies_global_unicast_addresses_as_public(address):
    assert netguard.is_public(ipaddress.ip_address(address))


# --- refusals through the real endpoints --------------------------------------------------------

def _urls(form: str, port: int, scheme: str) -> str:
    return form.format(port=port) if "://" in form else f"{scheme}://{form}:{port}/vds"


@pytest.mark.parametrize("form", REFUSED_HOSTS + REFUSED_SCHEMES)
def test_registering_a_volume_url_on_the_sites_network_is_refused_alike_for_open_and_closed_ports(
        manager_agent, ports, form):
    listening, open_port, closed_port = ports
    answers = [manager_agent.post(REGISTER, {"url": _urls(form, port, "http"), "name": "probe"}, format="json")
               for port in (open_port, closed_port)]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()
    if form in REFUSED_HOSTS:
        assert answers[0].json() == {"detail": netguard.VOLUME_REFUSED}
    assert_never_connected(listening)


@pytest.mark.parametrize("form", REFUSED_HOSTS + REFUSED_SCHEMES)
def test_a_callback_url_on_the_sites_network_is_refused_alike_for_open_and_closed_ports(agent, ports, form):
    listening, open_port, closed_port = ports
    body = {"text": "x", "extraction_ids": [1], "model_id": "m", "task_criticality": "routine"}
    answers = [agent.post(SUBMIT, {**body, "callback_url": _urls(form, port, "https")}, format="json")
               for port in (open_port, closed_port)]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json() == {"callback_url": [netguard.CALLBACK_REFUSED]}
    assert_never_connected(listening)


def test_a_plain_http_callback_is_refused_unless_its_host_is_allowed(settings, monkeypatch):
    resolve_to(monkeypatch, {"hooks.example.com": [PUBLIC]})
    with pytest.raises(netguard.URLRefused, match="callbacks must be https"):
        netguard.check_callback_url("http://hooks.example.com/x")
    settings.VIFSITE_CALLBACK_HTTP_HOSTS = ["hooks.example.com:8080"]
    with pytest.raises(netguard.URLRefused):
        netguard.check_callback_url("http://hooks.example.com/x")  # another port than the allowed one
    assert netguard.check_callback_url("http://hooks.example.com:8080/x").addresses == (PUBLIC,)


def test_a_name_resolving_to_a_public_and_a_private_address_is_refused(monkeypatch):
    resolve_to(monkeypatch, {"hooks.example.com": [PUBLIC, "10.0.0.1"]})
    with pytest.raises(netguard.URLRefused):
        netguard.check_callback_url("https://hooks.example.com/x")


def test_cloud_buckets_pass_but_an_endpoint_override_is_checked_like_a_host(settings):
    settings.VIFSITE_VDS_OPEN_BUCKETS = ["s3://bucket", "gs://bucket"]
    netguard.check_volume_url("s3://bucket/survey.vds")
    netguard.check_volume_url("gs://bucket/survey.vds")
    for url in ("s3://user@127.0.0.1/x", "s3://bucket/x?EndpointOverride=http://127.0.0.1:9000",
                "azureSAS://127.0.0.1/container/blob"):
        with pytest.raises(netguard.URLRefused):
            netguard.check_volume_url(url)
    with pytest.raises(netguard.URLRefused):
        netguard.check_volume_url("s3://bucket/x", connection="Region=eu;EndpointOverride=http://169.254.169.254")


@pytest.mark.parametrize("url", ["s3://bucket/survey.vds", "gs://other/survey.vds", "azure://container/x",
                                 "dms://sd/tenant/x", "s3://bucket-b/x", "s3://bucket/../bucket-b/x",
                                 "s3://bucket/%2e%2e/bucket-b/x", "s3://bucketx"])
def test_a_bucket_under_no_configured_store_is_refused_before_anything_opens_it(settings, url):
    """Without a connection string OpenVDS opens a bucket with whatever credentials the site's environment
    holds, so only the operator's prefixes are opened that way."""
    settings.VIFSITE_VDS_OPEN_BUCKETS = ["s3://bucket"] if "bucket-b" in url or url == "s3://bucketx" else []
    with pytest.raises(InputError) as refused:
        netguard.check_volume_url(url)
    assert refused.value.message == netguard.BUCKET_REFUSED


def test_registering_a_bucket_under_no_store_is_a_400_naming_the_rule_and_writes_nothing(manager_agent):
    before = Survey.objects.count()
    response = manager_agent.post(REGISTER, {"url": "s3://someone-elses-bucket/f3", "name": "f3"}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"] == netguard.BUCKET_REFUSED
    assert Survey.objects.count() == before


def test_an_allowed_storage_host_is_opened_and_its_failures_answer_like_refusals(manager_agent, settings, ports):
    _, _, closed_port = ports
    with http_server(404) as (port, seen):
        settings.VIFSITE_STORAGE_HOSTS = [f"127.0.0.1:{port}", f"127.0.0.1:{closed_port}"]
        netguard.check_volume_url(f"http://127.0.0.1:{port}/vds")
        found = manager_agent.post(REGISTER, {"url": f"http://127.0.0.1:{port}/vds", "name": "minio"}, format="json")
        assert seen and seen[0]["path"].startswith("/vds/")  # the check let OpenVDS through to the allowed host
    closed = manager_agent.post(REGISTER, {"url": f"http://127.0.0.1:{closed_port}/vds", "name": "minio"},
                                format="json")
    assert found.status_code == closed.status_code == 400
    assert found.json() == closed.json() == {"detail": netguard.VOLUME_REFUSED}  # no curl error, no address


# --- deliveries -----------------------------------------------------------------------------------

def resolve_to(monkeypatch, answers: dict[str, list[str]], *, then: dict[str, list[str]] | None = None) -> list[str]:
    """Answer DNS look-ups of the given names with ``answers``, and with ``then`` from the second look-up on
    (a rebinding name); other names resolve as usual. Returns the names looked up, in order."""
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        looked_up.append(host)
        addresses = answers[host] if then is None or looked_up.count(host) == 1 else then[host]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


def dial_local(monkeypatch, port: int) -> list[tuple[str, int]]:
    """Send every connection to 127.0.0.1:``port`` and record the address it was meant for."""
    real = socket.create_connection
    dialled: list[tuple[str, int]] = []

    def create_connection(address, *args, **kwargs):
        dialled.append(address)
        return real(("127.0.0.1", port), *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return dialled


@pytest.fixture
def tls_for_hooks(tmp_path, monkeypatch) -> ssl.SSLContext:
    """A server context with a certificate for hooks.example.com, trusted by the site's client contexts."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(hours=1))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.com")]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    real = ssl.create_default_context

    def trusting(*args, **kwargs):
        context = real(*args, **kwargs)
        context.load_verify_locations(tmp_path / "cert.pem")
        return context

    monkeypatch.setattr(ssl, "create_default_context", trusting)
    return server


def test_a_callback_connects_to_the_address_it_checked_however_dns_answers_later(monkeypatch, tls_for_hooks):
    server_names: list[str] = []
    tls_for_hooks.sni_callback = lambda _sock, name, _ctx: server_names.append(name)
    with http_server(204, tls=tls_for_hooks) as (port, seen):
        looked_up = resolve_to(monkeypatch, {"hooks.example.com": [PUBLIC]}, then={"hooks.example.com": ["127.0.0.1"]})
        dialled = dial_local(monkeypatch, port)
        assert notify.post_signed("https://hooks.example.com/done?run=1", {"event": "test"}) == (204, "")
    assert looked_up == ["hooks.example.com"]  # one look-up: the check's; the connection used its answer
    assert dialled == [(PUBLIC, 443)]
    assert server_names == ["hooks.example.com"]  # SNI and the verified certificate are the name's
    assert seen[0]["headers"]["Host"] == "hooks.example.com" and seen[0]["path"] == "/done?run=1"


def test_a_certificate_for_another_name_fails_the_delivery(monkeypatch, tls_for_hooks):
    with http_server(204, tls=tls_for_hooks) as (port, seen):
        resolve_to(monkeypatch, {"other.example.com": [PUBLIC]})
        dial_local(monkeypatch, port)
        assert notify.post_signed("https://other.example.com/x", {}) == (None, netguard.DELIVERY_FAILED)
    assert not seen


def test_a_callback_whose_name_now_resolves_to_the_site_is_not_delivered(monkeypatch, ports):
    listening, open_port, _ = ports
    resolve_to(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    assert notify.post_signed(f"https://hooks.example.com:{open_port}/x", {}) == (None, netguard.CALLBACK_REFUSED)
    assert_never_connected(listening)


def test_a_redirecting_callback_is_not_followed_and_counts_as_a_failed_attempt(agent, f3, settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"
    settings.VIFSITE_CALIBRATION_SAMPLE_RATE = 0.0
    settings.VIFSITE_CALLBACK_HTTP_HOSTS = ["127.0.0.1"]
    with http_server(200) as (inner_port, inner_seen):
        with http_server(302, {"Location": f"http://127.0.0.1:{inner_port}/inner"}) as (port, seen):
            url = f"http://127.0.0.1:{port}/hook"
            escalation = Escalation.objects.get(pk=_escalate(agent, f3, callback_url=url))
            services.deliveries_queue(escalation, "callback", [url], {"event": "test"})
            delivery = Delivery.objects.get()
            services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert [r["method"] for r in seen] == ["POST"] and not inner_seen
    assert delivery.attempts == 1 and delivery.last_status == 302 and delivery.delivered_at is None


def test_site_configured_webhooks_may_be_private_but_are_not_redirected(settings):
    with http_server(200) as (inner_port, inner_seen), \
            http_server(307, {"Location": f"http://127.0.0.1:{inner_port}/inner"}) as (port, seen):
        webhook = f"http://127.0.0.1:{port}/hook"
        assert notify.post_signed(webhook, {})[0] is None  # an agent's callback: a private URL is refused
        assert notify.post_signed(webhook, {}, site_configured=True) == (307, "HTTP 307")
    assert len(seen) == 1 and not inner_seen


def _escalate(agent, f3, **extra) -> int:
    url = reverse("api:seismic:section", kwargs={"survey_id": f3.pk, "section_type": "inline", "section_number": "120"})
    section = agent.get(url).json()
    body = {"text": "The bright interval is a gas-charged sand.", "extraction_ids": [section["extraction_id"]],
            "model_id": "m", "confidence": 0.9, "task_criticality": "routine", **extra}
    return agent.post(SUBMIT, body, format="json").json()["escalation"]["id"]
