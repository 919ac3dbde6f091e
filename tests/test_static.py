"""Static files on the async path: every middleware is async-capable (so Django never adapts the chain to sync per
request), and collectstatic's hashed, gzipped files are served with a year's max-age."""

from __future__ import annotations

import gzip
import re

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.management import call_command
from django.template import engines
from django.test import AsyncClient
from django.utils.module_loading import import_string

YEAR = 315360000  # servestatic's max-age for names with a content hash ("forever": ten years)


@pytest.mark.parametrize("path", settings.MIDDLEWARE)
def test_every_middleware_is_async_capable(path):
    # One sync-only middleware makes Django run the whole chain in a thread for every request (and a request
    # thread blocked in AsyncToSync kept a server from exiting at shutdown).
    assert getattr(import_string(path), "async_capable", False), f"{path} is sync-only"


@pytest.fixture
def collected(settings, tmp_path):
    """The production static storage after collectstatic, on the site's own files only (not plotly's 4 MB)."""
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STATICFILES_DIRS = [settings.BASE_DIR / "static"]
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "vifsite.storage.StaticStorage"}}
    call_command("collectstatic", "--noinput", "-v", "0")
    return settings.STATIC_ROOT


def get(path: str, headers: dict[str, str] | None = None):
    # A fresh AsyncClient builds the middleware chain (and servestatic's file table) from the current settings.
    return async_to_sync(AsyncClient().get)(path, headers=headers)


def body(response) -> bytes:
    async def read() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(read)()


def test_a_hashed_file_is_served_with_a_years_max_age_and_gzip_when_asked(collected):
    url = engines["django"].from_string("{% load static %}{% static 'js/section_plot.js' %}").render({})
    assert re.fullmatch(r"/static/js/section_plot\.[0-9a-f]{12}\.js", url), url

    plain = get(url)
    assert plain.status_code == 200
    assert f"max-age={YEAR}" in plain["Cache-Control"] and "immutable" in plain["Cache-Control"]
    assert "Content-Encoding" not in plain
    source = body(plain)
    assert source == (settings.BASE_DIR / "static" / "js" / "section_plot.js").read_bytes()

    zipped = get(url, {"Accept-Encoding": "gzip, deflate"})
    assert zipped.status_code == 200
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert f"max-age={YEAR}" in zipped["Cache-Control"]
    assert gzip.decompress(body(zipped)) == source


def test_an_unhashed_name_is_served_but_only_briefly_cached(collected):
    response = get("/static/js/section_plot.js")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=60, public"


def test_a_page_renders_without_collectstatic(settings, tmp_path):
    # No manifest (a test's own data directory, a developer's shell): the name stays unhashed instead of raising.
    settings.STATIC_ROOT = tmp_path / "empty"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "vifsite.storage.StaticStorage"}}
    url = engines["django"].from_string("{% load static %}{% static 'js/section_plot.js' %}").render({})
    assert url == "/static/js/section_plot.js"


def test_the_wsgi_path_serves_the_same_files(collected):
    """Under WSGI (the test client, vifsite/wsgi.py) the same files come with the same headers."""
    from django.test import Client

    url = engines["django"].from_string("{% load static %}{% static 'js/section_plot.js' %}").render({})
    source = (settings.BASE_DIR / "static" / "js" / "section_plot.js").read_bytes()
    plain = Client().get(url)
    assert plain.status_code == 200 and f"max-age={YEAR}" in plain["Cache-Control"]
    assert b"".join(plain) == source
    zipped = Client().get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped["Content-Encoding"] == "gzip" and gzip.decompress(b"".join(zipped)) == source
    assert Client().get("/static/js/no-such-file.js").status_code == 404


def test_under_wsgi_only_static_files_take_the_event_loop_hop(collected, monkeypatch, client, django_user_model):
    """servestatic is async-only; a sync chain that wrapped it for every request ran each one through an event
    loop in a new thread. Only a static file may start a thread now."""
    import threading

    started = []
    real_start = threading.Thread.start

    def start(thread):
        started.append(thread.name)
        return real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    client.force_login(django_user_model.objects.create_user("viewer", password="pw-viewer-12345"))
    assert client.get("/").status_code == 200
    assert client.get("/accounts/login/").status_code in (200, 302)
    assert started == []
    assert client.get("/static/js/section_plot.js").status_code == 200
    assert started  # the hop to servestatic's async code
