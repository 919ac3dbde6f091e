"""Template context of the review app: whether the signed-in user works the review queue (the
navigation shows the review pages only to those who may open them)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def roles(request: HttpRequest) -> dict[str, Any]:
    from review.services import is_reviewer

    return {"is_reviewer": SimpleLazyObject(lambda: is_reviewer(getattr(request, "user", None)))}
