"""Errors an outsider's input can cause. Each carries the HTTP status and a message an agent can act on."""

from __future__ import annotations

from typing import Any


class InputError(Exception):
    """Bad input from a user or agent: reported as a 4xx with ``message`` and optional details."""

    status_code = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"detail": self.message, **self.details}


class NotFound(InputError):
    status_code = 404


class Conflict(InputError):
    status_code = 409


class Unavailable(InputError):
    """Not the caller's fault: a resource the request needs (a volume) cannot be reached now."""

    status_code = 503


class Forbidden(InputError):
    """The caller is known but may not do this."""

    status_code = 403
