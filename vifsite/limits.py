"""Request size limits enforced at the ASGI layer, before Django reads a byte of the body.

Every HTTP request may carry at most ``VIFSITE_MAX_REQUEST_BYTES``. Only SEG-Y uploads (the import
endpoint of the API and the admin's import form) may carry up to ``VIFSITE_MAX_UPLOAD_BYTES``, and
only from a caller allowed to import: an agent key with ``can_manage_surveys`` or a staff session.
Anyone else, anonymous callers included, gets the small limit. A body over its limit is refused
with 413 (JSON under ``/api/``) from its declared ``Content-Length`` without reading it, or, when no
length is declared (chunked), as soon as the bytes received pass the limit.

The server (uvicorn) reads the body only as the application asks for it, so a refused body is
never buffered, and an accepted upload flows through Django's spooled body file and multipart
parser to disk with bounded memory. A request still running when the server's shutdown grace period
ends is answered 503 (retry) rather than failing as a server error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

UPLOAD_PATHS = ("/api/v1/surveys/imports/", "/admin/seismic/surveyimport/add/")


class BodyTooLarge(Exception):
    pass


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    from http.cookies import CookieError, SimpleCookie

    raw = _header(scope, b"cookie")
    if not raw:
        return None
    try:
        cookie = SimpleCookie(raw)
    except CookieError:
        return None
    return cookie[name].value if name in cookie else None


def may_upload(scope: Scope) -> bool:
    """Whether the caller's credentials allow a SEG-Y upload: checked from the headers alone."""
    authorization = _header(scope, b"authorization") or ""
    scheme, _, key = authorization.partition(" ")
    if scheme == "Api-Key" and key.strip():
        from rest_framework.exceptions import AuthenticationFailed

        from vifsite.vif.auth import agent_key_check

        try:
            return agent_key_check(key.strip()).can_manage_surveys
        except AuthenticationFailed:
            return False
    session_key = _cookie(scope, settings.SESSION_COOKIE_NAME)
    if not session_key:
        return False
    from importlib import import_module

    from django.contrib.auth import get_user_model
    from django.utils.crypto import constant_time_compare

    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user_id = session.get("_auth_user_id")
    if user_id is None:
        return False
    user = get_user_model().objects.filter(pk=user_id, is_active=True, is_staff=True).first()
    # As Django's own session check: a password change since the login ends the session.
    return user is not None and constant_time_compare(session.get("_auth_user_hash", ""),
                                                      user.get_session_auth_hash())


def describe(limit: int) -> str:
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("kB", 1024)):
        if limit >= size:
            return f"{limit / size:g} {unit}"
    return f"{limit} bytes"


async def refuse(scope: Scope, send: Send, limit: int, upload: bool) -> None:
    message = f"The request body is larger than this site accepts ({describe(limit)})."
    if not upload and any(scope["path"].startswith(p) for p in UPLOAD_PATHS):
        message += " Larger SEG-Y uploads need a staff account or an agent key allowed to manage surveys."
    elif upload:
        message += (" Register a volume that is already on the server or in object storage instead "
                    "(POST /api/v1/surveys/register/ or manage.py register_vds).")
    if scope["path"].startswith("/api/"):
        body, kind = json.dumps({"detail": message, "limit_bytes": limit}).encode(), b"application/json"
    else:
        from django.utils.html import escape

        body = f"<!doctype html><title>Too large</title><h1>Too large</h1><p>{escape(message)}</p>".encode()
        kind = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class RequestSizeLimit:
    """ASGI middleware: see the module's description."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:  # any ASGI app (Django's types scope as a dict)
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = settings.VIFSITE_MAX_REQUEST_BYTES
        declared = _header(scope, b"content-length")
        try:
            length = int(declared) if declared is not None else None
        except ValueError:
            length = None
        upload = False
        if (scope["method"] == "POST" and scope["path"] in UPLOAD_PATHS and (length is None or length > limit)
                and await database_sync_to_async(may_upload)(scope)):
            limit, upload = settings.VIFSITE_MAX_UPLOAD_BYTES, True
        if length is not None and length > limit:
            return await refuse(scope, send, limit, upload)
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started:
                await refuse(scope, send, limit, upload)
        except asyncio.CancelledError:
            # The server is stopping and its grace period is over (a client still sending, say): answer
            # 503 if nothing was answered yet, and end the request quietly instead of as a server error.
            if not started:
                await unavailable(scope, send)


async def unavailable(scope: Scope, send: Send) -> None:
    body = json.dumps({"detail": "The site is restarting: retry in a moment."}).encode()
    with contextlib.suppress(Exception):  # the client may be gone already
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", b"application/json"), (b"retry-after", b"5"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class ConcurrencyLimit:
    """ASGI middleware: at most ``limit`` HTTP requests of this process inside Django at once; the others
    wait their turn in the event loop, first come first served, holding no thread. Each request's synchronous
    code runs in a thread (vifsite.handler), and fifty threads contending for one interpreter lock make every
    database round trip wait for the lock again: the slowest requests then take seconds. A few at a time
    keep the processor as busy and answer in order. Uploads (long, and waiting on the network, not the
    processor) and websockets are not counted."""

    def __init__(self, app: Callable[..., Awaitable[None]], limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots = asyncio.Semaphore(limit) if limit > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._slots is None or scope["type"] != "http" or scope["path"] in UPLOAD_PATHS:
            return await self.app(scope, receive, send)
        async with self._slots:
            await self.app(scope, receive, send)
