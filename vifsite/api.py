"""Shared pieces of the REST API: the base view and the exception handler."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler as drf_exception_handler

from vifsite.errors import InputError


class ApiView(APIView):
    """An API view: DRF authenticates it (API key or session), so the site-wide
    login redirect does not apply; anonymous callers get 401/403 from DRF instead."""

    @classmethod
    def as_view(cls, **initkwargs: Any):  # type: ignore[override]
        return login_not_required(super().as_view(**initkwargs))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, InputError):
        return Response(exc.as_dict(), status=exc.status_code)
    return drf_exception_handler(exc, context)
