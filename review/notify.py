"""All outside I/O of the review app: signed webhook POSTs and e-mail. One adapter, so tests and
operators have one place to look."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.mail import send_mail

SIGNATURE_HEADER = "X-Vifsite-Signature"
TIMESTAMP_HEADER = "X-Vifsite-Timestamp"


def sign(body: bytes, timestamp: str, secret: str | None = None) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>" with the site's webhook secret, as "sha256=<hex>"."""
    key = (secret or settings.VIFSITE_WEBHOOK_SECRET).encode("utf-8")
    return "sha256=" + hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def verify(body: bytes, timestamp: str, signature: str, secret: str | None = None) -> bool:
    return hmac.compare_digest(sign(body, timestamp, secret), signature)


def post_signed(url: str, payload: dict[str, Any], timeout: float = 10.0) -> tuple[int | None, str]:
    """POST ``payload`` as JSON with its signature. Returns (status, error text)."""
    body = json.dumps(payload, sort_keys=True, default=str).encode("utf-8")
    timestamp = str(int(time.time()))
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(body, timestamp),
        "User-Agent": "vifsite-webhook/1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http/https only, checked)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))


def email(recipients: list[str], subject: str, body: str) -> int:
    recipients = [r for r in recipients if r]
    if not recipients:
        return 0
    return send_mail(subject, body, None, recipients, fail_silently=False)
