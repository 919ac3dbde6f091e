"""The κ pages: every tier's policies and suggestions, and one page per suggestion (its scope, the
risk–coverage curve, the preview on the last 30 days, the warnings, apply with a reason). Staff who may view
κ suggestions see them; applying takes the change permission on κ policies, as in the admin."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_http_methods

from vifsite.errors import InputError
from vifsite.vif import kappa_page, services
from vifsite.vif.auth import principal_of
from vifsite.vif.models import KappaPolicy, KappaSuggestion

NOT_ALLOWED = "The κ pages are for staff who may view κ suggestions: ask an admin for that permission."
NOT_ALLOWED_TO_APPLY = "Applying a κ suggestion needs the permission to change κ policies."


def can_view(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False) and user.has_perm("vif.view_kappasuggestion"))


def can_apply(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False) and user.has_perm("vif.change_kappapolicy"))


def kappa_viewer(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_view(request.user):
            raise PermissionDenied(NOT_ALLOWED)
        return view(request, *args, **kwargs)

    return checked


def _csv(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# Pages gzipped (Django adds random bytes to each, against BREACH; the CSRF token is masked per request too).
@kappa_viewer
@gzip_page
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "vif/kappa_index.html", {"tiers": kappa_page.index_rows(),
                                                    "can_apply": can_apply(request.user)})


@kappa_viewer
def index_csv(request: HttpRequest) -> HttpResponse:
    return _csv(kappa_page.index_csv(kappa_page.index_rows()), "kappa-suggestions.csv")


@kappa_viewer
@gzip_page
@require_http_methods(["GET", "HEAD", "POST"])
def suggestion(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    """A suggestion's page; POST applies it with a reason (to exactly its scope) and comes back here."""
    found = get_object_or_404(KappaSuggestion, pk=suggestion_id)
    form = {"reason": ""}
    error: dict[str, Any] | None = None
    if request.method == "POST":
        if not can_apply(request.user):
            raise PermissionDenied(NOT_ALLOWED_TO_APPLY)
        form["reason"] = request.POST.get("reason", "")
        try:
            expected = Decimal(request.POST.get("expected", ""))
        except InvalidOperation:
            expected = None
        before = services.kappa_policy_pick(KappaPolicy.objects.filter(criticality=found.criticality),
                                            domain=found.domain, model_id=found.model_id)
        try:
            policy = services.kappa_suggestion_apply(suggestion=found, reason=form["reason"],
                                                     changed_by=principal_of(request.user), expected=expected)
        except InputError as exc:
            error = {"message": exc.message, "status": exc.status_code}
        else:
            was = f"it was {kappa_page.kappa_text(before.threshold)} ({before.key})" if before else "it had none"
            scope = kappa_page.scope_words(policy.criticality, policy.domain, policy.model_id)
            messages.success(request, f"κ for {scope} is now {kappa_page.kappa_text(policy.threshold)}; {was}. "
                                      "The gate uses it from now on.")
            return redirect("kappa:suggestion", suggestion_id=found.pk)
        found.refresh_from_db()
    context = kappa_page.suggestion_page(found)
    return render(request, "vif/kappa_suggestion.html",
                  {**context, "can_apply": can_apply(request.user), "form": form, "error": error,
                   "not_allowed_to_apply": NOT_ALLOWED_TO_APPLY},
                  status=200 if error is None else error["status"])


@kappa_viewer
def table_csv(request: HttpRequest, suggestion_id: int, table: str) -> HttpResponse:
    if table not in kappa_page.CSV_TABLES:
        raise Http404(f"No table {table!r}: one of {', '.join(kappa_page.CSV_TABLES)}.")
    found = get_object_or_404(KappaSuggestion, pk=suggestion_id)
    text = kappa_page.CSV_TABLES[table](kappa_page.suggestion_page(found))
    return _csv(text, f"kappa-{found.criticality}-{found.pk}-{table}.csv")
