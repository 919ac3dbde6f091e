"""Request size limits on the real web server (``python -m vifsite.serve``, as ``make run`` starts
it): oversized bodies get a 413 before they are read, uploads stream to disk with bounded memory."""

from __future__ import annotations

import http.client
import json
import os
import uuid
from pathlib import Path

import pytest

from tests.processes import free_port, manage, web_server

pytestmark = [pytest.mark.slow]
MB = 1024 * 1024

SETUP = """
from django.contrib.auth.models import User
from vifsite.vif.models import AgentKey
User.objects.create_user("ivy", "ivy@example.com", "pw-ivy-12345", is_staff=True)
User.objects.create_user("nora", "nora@example.com", "pw-nora-12345")
print(AgentKey.objects.create_key(name="loader", can_manage_surveys=True)[1])
print(AgentKey.objects.create_key(name="reader")[1])
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("limits")
    url = f"sqlite:///{data / 'db.sqlite3'}"
    manage(url, data, "migrate", "--noinput")
    loader, reader = manage(url, data, "shell", "-v", "0", "-c", SETUP).stdout.split()[-2:]
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "VIFSITE_DATA_DIR": str(data),
           "DJANGO_SETTINGS_MODULE": "vifsite.settings",
           "VIFSITE_MAX_REQUEST_BYTES": str(1 * MB)}
    process = web_server(env, port)
    try:
        yield {"port": port, "pid": process.pid, "loader": loader, "reader": reader, "data": data}
    finally:
        process.terminate()
        process.wait(timeout=15)


def peak_rss(pid: int) -> int:
    """The process's peak resident memory (VmHWM) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def post(site, path: str, size: int, *, headers: dict[str, str] | None = None, chunked: bool = False,
         multipart: bool = False) -> tuple[int, bytes, int]:
    """POST ``size`` bytes (zeros; or a file field of that size), streamed. Returns (status, body, bytes sent)."""
    connection = http.client.HTTPConnection("127.0.0.1", site["port"], timeout=120)
    boundary = uuid.uuid4().hex
    head = tail = b""
    if multipart:
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nbig\r\n--{boundary}\r\n"
                f"Content-Disposition: form-data; name=\"file\"; filename=\"big.sgy\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
    sent = 0

    def body():
        nonlocal sent
        yield head
        block = bytes(MB)
        left = size
        while left > 0:
            piece = block[:min(left, MB)]
            left -= len(piece)
            sent += len(piece)
            yield piece
        yield tail

    all_headers = {"Content-Type": f"multipart/form-data; boundary={boundary}" if multipart
                   else "application/json", **(headers or {})}
    if not chunked:
        all_headers["Content-Length"] = str(len(head) + size + len(tail))
    try:
        connection.request("POST", path, body=body(), headers=all_headers, encode_chunked=chunked)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed before the whole body was sent
    response = connection.getresponse()
    answer = response.read()
    connection.close()
    return response.status, answer, sent


def test_an_anonymous_large_body_is_refused_with_413_json_before_it_is_read(site):
    before = peak_rss(site["pid"])
    status, body, sent = post(site, "/api/v1/surveys/imports/", 200 * MB, multipart=True)
    assert status == 413
    answer = json.loads(body)
    assert "larger than this site accepts (1 MB)" in answer["detail"] and answer["limit_bytes"] == MB
    assert sent < 200 * MB  # refused from the declared length: the server did not wait for the body
    assert peak_rss(site["pid"]) - before < 20 * MB


def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit(site):
    status, body, _ = post(site, "/api/v1/witnesses/", 5 * MB, chunked=True,
                           headers={"Authorization": f"Api-Key {site['reader']}"})
    assert status == 413 and "larger than this site accepts" in json.loads(body)["detail"]


def test_pages_get_a_page_not_json(site):
    status, body, _ = post(site, "/accounts/login/", 3 * MB)
    assert status == 413 and body.startswith(b"<!doctype html>") and b"larger than this site accepts" in body


def test_a_key_without_survey_management_gets_the_small_limit_on_the_upload_path(site):
    status, body, _ = post(site, "/api/v1/surveys/imports/", 3 * MB, multipart=True,
                           headers={"Authorization": f"Api-Key {site['reader']}"})
    assert status == 413 and "allowed to manage surveys" in json.loads(body)["detail"]


def test_a_1_gb_upload_streams_to_disk_with_bounded_server_memory(site):
    before = peak_rss(site["pid"])
    status, body, _ = post(site, "/api/v1/surveys/imports/", 1024 * MB, multipart=True,
                           headers={"Authorization": f"Api-Key {site['loader']}"})
    assert status == 202, body
    job = json.loads(body)
    assert job["original_filename"] == "big.sgy" and job["status"] == "pending"
    peak = peak_rss(site["pid"])
    print(f"server peak memory: {before / MB:.0f} MB before, {peak / MB:.0f} MB after a 1 GB upload")
    assert peak < 300 * MB and peak - before < 64 * MB
    stored = list((site["data"] / "uploads").glob("*.sgy"))
    assert [p.stat().st_size for p in stored] == [1024 * MB]


def scope_for(client) -> dict:
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    return {"type": "http", "headers": [(b"cookie", cookie.encode())]}


def test_only_staff_sessions_and_managing_keys_may_upload(client, django_user_model, agent_key):
    from vifsite.limits import may_upload
    from vifsite.vif.models import AgentKey

    staff = django_user_model.objects.create_user("ivy", password="pw-ivy-12345", is_staff=True)
    django_user_model.objects.create_user("nora", password="pw-nora-12345")
    assert not may_upload({"type": "http", "headers": []})
    client.force_login(staff)
    assert may_upload(scope_for(client))
    staff.set_password("another-pw-12345")
    staff.save()
    assert not may_upload(scope_for(client))  # a password change ends the session, as in Django
    client.force_login(django_user_model.objects.get(username="nora"))
    assert not may_upload(scope_for(client))
    _, managing = AgentKey.objects.create_key(name="loader", can_manage_surveys=True)
    for key, allowed in ((managing, True), (agent_key, False), ("not-a-key", False)):
        assert may_upload({"type": "http", "headers": [(b"authorization", f"Api-Key {key}".encode())]}) is allowed
