"""Static files for both kinds of request handler.

servestatic's middleware is async-only. Under ASGI (the web server) that is what the chain wants. Under WSGI
(the test client, the WSGI entry point) Django would wrap it in AsyncToSync for every request, static or not:
an event loop in a new thread per request, which cost more than many views. Here a sync chain looks the path
up in the same file table and takes that hop for static files only; every other request goes straight on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync, iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest
from servestatic.middleware import ServeStaticMiddleware

# The servestatic middleware of the latest chain built (every chain of a process builds the same table), for
# ``is_static``.
_latest: ServeStaticMiddleware | None = None


def _serves(static: ServeStaticMiddleware, path_info: str) -> bool:
    # With autorefresh (DEBUG) servestatic looks each path up on disk and explains a missing static file:
    # every static URL goes to it. Otherwise its table of files answers without it.
    return path_info.startswith(static.static_prefix) if static.autorefresh else path_info in static.files


def is_static(path_info: str) -> bool:
    """Whether the static files middleware answers this path (False before any chain was built)."""
    return _latest is not None and _serves(_latest, path_info)


class StaticFilesMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
            self.static = ServeStaticMiddleware(get_response)
        else:
            self.static = ServeStaticMiddleware(sync_to_async(get_response, thread_sensitive=True))
        global _latest
        _latest = self.static

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.static(request)
        if _serves(self.static, request.path_info):
            return async_to_sync(self.static)(request)
        return self.get_response(request)
