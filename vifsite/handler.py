"""Django's ASGI handler with the synchronous part of each request run in long-lived threads.

Django's own ASGI handler runs the synchronous part of every request (the request_started signal, the
middleware and view, closing the response) in a thread started for that request, and hops between it and
the event loop several times on the way. A new thread also means a new database connection per request
(connections belong to threads). Here a request's body is read on the event loop as before, then the whole
synchronous part runs in one call on one of a fixed set of threads, as a WSGI server runs it; the threads
and their database connections (``CONN_MAX_AGE``) outlive the request. The answer is sent from the event
loop. A streaming answer built from a synchronous iterator is produced whole in the view's thread (as
Django's own ASGI handler produces it whole), then sent. ``async_to_sync`` in a view runs its coroutine on
the server's event loop, as it does under Django's handler.

Static files never leave the event loop: they go through Django's handler as before, where servestatic's
middleware answers them before any synchronous code runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import SyncToAsync
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import HttpResponseBase
from django.urls import set_script_prefix

from vifsite import staticfiles


class ThreadPoolASGIHandler(ASGIHandler):
    """An ASGI application for Django's HTTP requests: see the module's description."""

    def __init__(self, threads: int) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="request")
        self._static = ASGIHandler()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        path, root = scope["path"], scope.get("root_path", "")
        if staticfiles.is_static(path[len(root):] if root and path.startswith(root) else path):
            return await self._static(scope, receive, send)
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        loop = asyncio.get_running_loop()
        # The caller's context goes along (as sync_to_async takes it), and the thread's future is kept: if this
        # task is cancelled (the server stopping), the view may still be reading the body, which is closed
        # only once it is done.
        done = self._pool.submit(contextvars.copy_context().run, self._respond, scope, body_file, loop)
        try:
            response, closed = await asyncio.wrap_future(done)
        except BaseException:
            done.add_done_callback(lambda _: body_file.close())
            raise
        try:
            await self.send_response(response, send)
        finally:
            body_file.close()
            if not closed:  # an asynchronous stream, sent now
                await loop.run_in_executor(self._pool, response.close)

    def _respond(self, scope: dict[str, Any], body_file: Any,
                 loop: asyncio.AbstractEventLoop) -> tuple[HttpResponseBase, bool]:
        """The synchronous part of a request, in one of the threads: the answer and whether it was closed (all
        but those whose parts come from an asynchronous iterator)."""
        # async_to_sync in a view (the live queue's broadcasts) runs its coroutine on the server's event loop,
        # as under sync_to_async, not on a loop of its own in another thread.
        SyncToAsync.threadlocal.main_event_loop = loop
        SyncToAsync.threadlocal.main_event_loop_pid = os.getpid()
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error = self.create_request(scope, body_file)
        if request is None:
            assert error is not None  # noqa: S101  Django answers either a request or its error response
            response: HttpResponseBase = error
        else:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
        if response.streaming and not response.is_async:  # type: ignore[attr-defined]
            # Produced whole here, in the view's thread (its cursors and connection are this thread's), as
            # Django's own ASGI handler produces a synchronous stream whole; then sent from memory.
            response.streaming_content = _from_memory(list(response.streaming_content))  # type: ignore[attr-defined]
        elif response.streaming:
            return response, False
        response.close()  # request_finished: this thread's connections are released or kept (CONN_MAX_AGE)
        return response, True


async def _from_memory(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
