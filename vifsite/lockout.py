"""The page a locked-out login gets: django-axes answers with it instead of the login form."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
               credentials: dict[str, Any] | None = None) -> HttpResponse:
    return render(request, "registration/locked_out.html", {"minutes": settings.VIFSITE_LOGIN_COOLOFF_MINUTES,
                                                             "failure_limit": settings.AXES_FAILURE_LIMIT},
                  status=429)
