"""How agents authenticate: hashed, expiring API keys sent as ``Authorization: Api-Key <key>``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from vifsite.cache import rate_log_take
from vifsite.db.compiled import CompiledQuery
from vifsite.vif.models import AgentKey

KEYWORD = "Api-Key"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentPrincipal:
    """``request.user`` for a request made with an agent key."""

    key: AgentKey
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    is_superuser: bool = False
    is_active: bool = True

    @property
    def username(self) -> str:
        return self.key.principal

    @property
    def pk(self) -> str:
        return self.key.principal

    def __str__(self) -> str:
        return self.key.principal


class AgentKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme != KEYWORD:
            return None
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed("Api-Key header without a key.")
        agent_key = agent_key_check(key)
        return AgentPrincipal(agent_key), agent_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


_USABLE_KEY_BY_PREFIX = CompiledQuery(lambda prefix: AgentKey.objects.get_usable_keys().filter(prefix=prefix),
                                      probes=["\x00probe\x00"])


def agent_key_check(key: str) -> AgentKey:
    """The valid, unexpired, unrevoked agent key for ``key``, or AuthenticationFailed saying why."""
    # The library's get_from_key, with its lookup compiled once per connection (vifsite/db/compiled.py): the
    # usable key of the prefix, then the hash of the whole key compared.
    agent_key = _USABLE_KEY_BY_PREFIX.first(key.partition(".")[0])
    if agent_key is None or not agent_key.is_valid(key):
        revoked = AgentKey.objects.filter(prefix=key.partition(".")[0], revoked=True).first()
        if revoked is not None and revoked.is_valid(key):
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        raise exceptions.AuthenticationFailed("Unknown API key.")
    if agent_key.has_expired:
        raise exceptions.AuthenticationFailed("This API key has expired.")
    agent_key_note_use(agent_key)
    return agent_key


LAST_USED_EVERY = timedelta(minutes=1)


def agent_key_note_use(agent_key: AgentKey, *, now: datetime | None = None) -> bool:
    """Record when a key was used, at most once a minute per key: the row just read says whether the minute has
    passed, so most requests write nothing; the conditional UPDATE lets one of several racing requests write.
    A failed write (a busy database) never fails the request. True if this call wrote."""
    now = now or timezone.now()
    last = agent_key.last_used_at
    if last is not None and now - last < LAST_USED_EVERY:
        return False
    due = AgentKey.objects.filter(pk=agent_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY))
    try:
        if transaction.get_connection().in_atomic_block:  # a savepoint, so a failure leaves the caller's intact
            with transaction.atomic():
                wrote = due.update(last_used_at=now)
        else:  # one statement, atomic by itself
            wrote = due.update(last_used_at=now)
    except DatabaseError:
        logger.warning("could not record the use of agent key %s", agent_key.prefix)
        return False
    agent_key.last_used_at = now
    return bool(wrote)


def agent_key_recheck(agent_key: AgentKey) -> None:
    """Raise AuthenticationFailed (the messages of ``agent_key_check``) if a key accepted earlier has since
    been revoked, has expired or was deleted: for long-lived sessions such as the MCP server's."""
    current = AgentKey.objects.filter(pk=agent_key.pk).first()
    if current is None:
        raise exceptions.AuthenticationFailed("Unknown API key.")
    if current.revoked:
        raise exceptions.AuthenticationFailed("This API key has been revoked.")
    if current.has_expired:
        raise exceptions.AuthenticationFailed("This API key has expired.")
    agent_key_note_use(current)


def principal_of(user: object) -> str:
    """A stable label of who made a request, for provenance."""
    if isinstance(user, AgentPrincipal):
        return user.key.principal
    username = getattr(user, "username", "")
    return f"user:{username}" if username else "anonymous"


class PrincipalRateThrottle(SimpleRateThrottle):
    """Per agent key or per logged-in person (DRF has no throttling by default): at most the rate's number of
    requests in any window of its period, as DRF's SimpleRateThrottle, its log kept atomically and read in
    constant size (vifsite.cache.rate_log_take)."""

    scope = "principal"
    num_requests: int  # set by SimpleRateThrottle.__init__ from the rate
    duration: int

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        allowed, self.count, self.oldest, self.now = rate_log_take(self.key, self.num_requests, self.duration,
                                                                  timer=self.timer)
        return allowed

    def wait(self) -> float | None:
        """Seconds to wait, as DRF's: the time until the oldest logged request leaves the window, spread over
        the requests that will then be free."""
        remaining = self.duration - (self.now - self.oldest) if self.count else self.duration
        available = self.num_requests - self.count + 1
        return remaining / float(available) if available > 0 else None

    def get_cache_key(self, request, view):
        if not getattr(request.user, "is_authenticated", False):
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": principal_of(request.user)}
