"""All outside I/O of the review app: signed webhook POSTs and e-mail. One adapter, so tests and
operators have one place to look."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from django.conf import settings
from django.core.mail import send_mail

from vifsite import netguard

SIGNATURE_HEADER = "X-Vifsite-Signature"
TIMESTAMP_HEADER = "X-Vifsite-Timestamp"


def sign(body: bytes, timestamp: str, secret: str | None = None) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>" with the site's webhook secret, as "sha256=<hex>"."""
    key = (secret or settings.VIFSITE_WEBHOOK_SECRET).encode("utf-8")
    return "sha256=" + hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def verify(body: bytes, timestamp: str, signature: str, secret: str | None = None) -> bool:
    return hmac.compare_digest(sign(body, timestamp, secret), signature)


def post_signed(url: str, payload: dict[str, Any], timeout: float = 10.0, *,
                site_configured: bool = False) -> tuple[int | None, str]:
    """POST ``payload`` as JSON with its signature. Returns (status, error text); redirects are not followed.

    An agent's callback URL is checked again here, since its name may resolve elsewhere than at submission,
    and the request goes to the address checked. The reviewer webhooks the site configures are the
    operator's own and may be private, so only they (``site_configured``) skip the public-address check.
    """
    body = json.dumps(payload, sort_keys=True, default=str).encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(body, timestamp),
               "User-Agent": "vifsite-webhook/1"}
    try:
        target = netguard.check_site_url(url) if site_configured else netguard.check_callback_url(url)
    except netguard.URLRefused as exc:
        return None, exc.message
    return netguard.post(target, body, headers, timeout=timeout)


def email(recipients: list[str], subject: str, body: str) -> int:
    recipients = [r for r in recipients if r]
    if not recipients:
        return 0
    return send_mail(subject, body, None, recipients, fail_silently=False)
