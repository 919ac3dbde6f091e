"""The web process's ASGI handler (vifsite.handler): each request's synchronous part runs on one of a few kept
threads, which keep their database connections, with Django's signals in the same thread as the view; answers
are Django's; streaming answers are sent whole and closed after; static files never reach the threads."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.contrib.auth.decorators import login_not_required
from django.core import signals
from django.core.handlers.asgi import ASGIHandler
from django.db import connection
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from vifsite.handler import ThreadPoolASGIHandler

events: list[tuple[str, int]] = []
streamed = threading.Event()


@login_not_required
def where(request):
    with connection.cursor() as cursor:  # opens this thread's connection if it has none
        cursor.execute("SELECT 1")
    events.append(("view", threading.get_ident()))
    # Names, not idents: an ident is reused once its thread has ended, a name (numbered) is not.
    return JsonResponse({"thread": threading.current_thread().name, "connection": id(connection.connection)})


@csrf_exempt
@login_not_required
def echo(request):
    return HttpResponse(f"{request.method} {len(request.body)} {request.GET.get('q', '')}", content_type="text/plain")


@login_not_required
def fails(request):
    raise ValueError("a bug in a view")


@login_not_required
def stream(request):
    def parts():
        try:
            for _ in range(3):
                yield threading.current_thread().name.encode() + b","
        finally:
            events.append(("stream closed", threading.get_ident()))

    events.append(("view", threading.get_ident()))
    return StreamingHttpResponse(parts(), content_type="text/plain")


async def _running_loop() -> int:
    return id(asyncio.get_running_loop())


@login_not_required
def which_loop(request):
    # What the live queue's broadcasts do: async_to_sync from a view.
    return JsonResponse({"loop": async_to_sync(_running_loop)()})


read: dict[str, int] = {}
read_done = threading.Event()


@csrf_exempt
@login_not_required
def slow_reader(request):
    time.sleep(0.5)
    try:
        read["bytes"] = len(request.body)
    finally:
        read_done.set()
    return HttpResponse("read")


urlpatterns = [path("where/", where), path("echo/", echo), path("fails/", fails), path("stream/", stream),
               path("loop/", which_loop), path("slow/", slow_reader)]


loops: list[int] = []


def request(app, path: str, *, method: str = "GET", body: list[bytes] | None = None, query: bytes = b"",
            headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request through an ASGI app, the body in the given pieces: (status, headers, body)."""

    async def run():
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
                 "root_path": "", "headers": [(b"host", b"testserver"), *(headers or [])],
                 "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
        communicator = ApplicationCommunicator(app, scope)
        pieces = body or [b""]
        for i, piece in enumerate(pieces):
            await communicator.send_input({"type": "http.request", "body": piece, "more_body": i < len(pieces) - 1})
        start = await communicator.receive_output(10)
        assert start["type"] == "http.response.start", start
        content = b""
        while True:
            message = await communicator.receive_output(10)
            content += message.get("body", b"")
            if not message.get("more_body"):
                break
        await communicator.wait(10)
        loops.append(id(asyncio.get_running_loop()))
        return start["status"], dict(start["headers"]), content

    return async_to_sync(run)()


@pytest.fixture
def urls(settings):
    settings.ROOT_URLCONF = __name__
    events.clear()


@pytest.fixture
def signal_threads():
    def started(**kwargs):
        events.append(("started", threading.get_ident()))

    def finished(**kwargs):
        events.append(("finished", threading.get_ident()))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


@pytest.mark.django_db(transaction=True)
def test_requests_run_on_a_few_kept_threads_that_keep_their_connections(urls, signal_threads):
    app = ThreadPoolASGIHandler(threads=2)
    answers = []
    for _ in range(8):
        status, _, content = request(app, "/where/")
        assert status == 200
        answers.append(json.loads(content))
    threads = {answer["thread"] for answer in answers}
    assert 1 <= len(threads) <= 2 and threading.current_thread().name not in threads
    for thread in threads:  # one connection per thread, kept from request to request
        assert len({answer["connection"] for answer in answers if answer["thread"] == thread}) == 1
    # Each request's signals run in its view's thread (they close or keep that thread's connections).
    assert [kind for kind, _ in events] == ["started", "view", "finished"] * 8
    for i in range(0, len(events), 3):
        assert len({ident for _, ident in events[i:i + 3]}) == 1


@pytest.mark.django_db(transaction=True)
def test_djangos_own_handler_starts_a_thread_per_request(urls):
    # What the handler replaces (the comparison above would fail with it): a new thread and connection each time.
    app = ASGIHandler()
    threads = {json.loads(request(app, "/where/")[2])["thread"] for _ in range(4)}
    assert len(threads) == 4


@pytest.mark.django_db(transaction=True)
def test_bodies_queries_and_errors_are_djangos(urls):
    app = ThreadPoolASGIHandler(threads=2)
    assert request(app, "/echo/", method="POST", body=[b"x" * 70000, b"y" * 5, b""], query=b"q=a%20b",
                   headers=[(b"content-type", b"application/octet-stream")])[2] == b"POST 70005 a b"
    status, headers, content = request(app, "/fails/")
    assert status == 500 and b"Server Error" in content
    status, headers, _ = request(app, "/nowhere/")
    assert status == 404
    assert request(app, "/echo/", headers=[(b"cookie", b"\xff=\xfe")])[0] == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("error")  # Django's own handler warns that it reads a synchronous stream whole
@pytest.mark.django_db(transaction=True)
def test_a_streaming_answer_is_produced_and_closed_in_the_views_thread(urls, signal_threads):
    app = ThreadPoolASGIHandler(threads=3)
    status, headers, content = request(app, "/stream/")
    assert status == 200
    produced_in = set(content.decode().rstrip(",").split(","))
    assert len(produced_in) == 1 and produced_in.pop().startswith("request"), content
    assert [kind for kind, _ in events] == ["started", "view", "stream closed", "finished"]
    assert len({ident for _, ident in events}) == 1  # its cursors and connection stay the view thread's


@pytest.mark.django_db(transaction=True)
def test_async_to_sync_in_a_view_runs_on_the_servers_loop(urls):
    # Not on a loop of its own in another thread: the in-memory channel layer is not thread-safe.
    app = ThreadPoolASGIHandler(threads=2)
    status, _, content = request(app, "/loop/")
    assert status == 200 and json.loads(content)["loop"] == loops[-1]


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_request_leaves_the_body_open_until_its_view_is_done(urls):
    # The server cancels requests still running when it stops; the view goes on in its thread.
    app = ThreadPoolASGIHandler(threads=2)
    read.clear()
    read_done.clear()

    async def run():
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/slow/", "raw_path": b"/slow/", "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"testserver"), (b"content-length", b"5000")],
                 "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
        communicator = ApplicationCommunicator(app, scope)
        await communicator.send_input({"type": "http.request", "body": b"x" * 5000})
        await asyncio.sleep(0.2)
        communicator.future.cancel()
        with pytest.raises(asyncio.CancelledError):
            await communicator.future

    async_to_sync(run)()
    assert read_done.wait(10)
    assert read == {"bytes": 5000}


@pytest.mark.django_db(transaction=True)
def test_site_pages_and_api_answer_through_it(client, django_user_model):
    app = ThreadPoolASGIHandler(threads=2)
    status, headers, content = request(app, "/accounts/login/")
    assert status == 200 and b"<form" in content and headers[b"Content-Type"].startswith(b"text/html")
    assert b"csrftoken" in b"".join(value for name, value in headers.items() if name.lower() == b"set-cookie") \
        or any(b"csrftoken" in value for value in headers.values())
    status, headers, content = request(app, "/api/v1/surveys/")
    assert status in (401, 403) and headers[b"Content-Type"] == b"application/json"


def test_static_files_never_reach_the_threads(settings, tmp_path, monkeypatch):
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STATICFILES_DIRS = [settings.BASE_DIR / "static"]
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "vifsite.storage.StaticStorage"}}
    from django.core.management import call_command
    from django.template import engines

    call_command("collectstatic", "--noinput", "-v", "0")
    app = ThreadPoolASGIHandler(threads=2)
    ran = []
    monkeypatch.setattr(app, "_respond", lambda *args: ran.append(args))
    url = engines["django"].from_string("{% load static %}{% static 'js/section_plot.js' %}").render({})
    status, headers, content = request(app, url)
    assert status == 200 and content == (settings.BASE_DIR / "static" / "js" / "section_plot.js").read_bytes()
    assert ran == []
