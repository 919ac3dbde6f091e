"""Site-level pages."""

from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from review.services import is_reviewer


def home(request: HttpRequest) -> HttpResponseRedirect:
    """Where a login lands (LOGIN_REDIRECT_URL): a safe ``?next=`` if given, else reviewers go to the review
    queue and everyone else to the surveys."""
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect("review:queue" if is_reviewer(request.user) else "seismic:survey-list")


class Login(LoginView):
    """The login: a ``next`` that is only the site's front door (where a first visit starts) counts as none,
    so people land where their role works (``home``)."""

    # django-stubs give it a request parameter that Django 5.2's RedirectURLMixin.get_redirect_url does not have.
    def get_redirect_url(self) -> str:  # type: ignore[override]
        target = super().get_redirect_url()
        return "" if target in ("/", reverse("seismic:survey-list")) else target
