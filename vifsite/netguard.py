"""Outbound requests to URLs that outsiders give us: volume URLs handed to OpenVDS and agent callbacks.

A URL is refused unless its host resolves only to public addresses (or is on an operator's allow-list),
and every refusal says the same thing whatever the reason, so the answers cannot map the site's network;
the reason goes to the server log. Callbacks are POSTed to the address that was checked (no second DNS
look-up a rebinding name could answer differently) and never follow redirects.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from django.conf import settings

from vifsite.errors import InputError

logger = logging.getLogger(__name__)

CALLBACK_REFUSED = "This URL is not allowed: callbacks must be https to a public host."
VOLUME_REFUSED = ("The volume could not be opened: a volume URL must be reachable by the site (a cloud bucket, or "
                  "an http(s) URL of a public host or of a storage host the site allows).")
BUCKET_REFUSED = ("The site opens volumes in object stores only under the stores its operator configured "
                  "(VIFSITE_VDS_CONNECTION_SECRETS, or VIFSITE_VDS_OPEN_BUCKETS for buckets opened with the "
                  "site's own credentials); this URL is under none of them.")
DELIVERY_FAILED = "The request could not be delivered."

# OpenVDS schemes whose first component names a bucket or container at the provider's own endpoint, and
# schemes whose first component is a host the site connects to (azureSAS:// is fetched as https://).
BUCKET_SCHEMES = {"s3", "azure", "gs", "dms"}
HOST_SCHEMES = {"http": "http", "https": "https", "azuresas": "https"}
DEFAULT_PORTS = {"http": 80, "https": 443}
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HOSTNAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$")
# The last label of an IPv4 address in any of the forms resolvers accept (2130706433, 0x7f.1, 0177.0.0.1).
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
# Keys of a connection string or query that name where a cloud client connects (EndpointOverride,
# BlobEndpoint, sdAuthorityUrl, proxies, endpoint suffixes...).
_ENDPOINT_KEY = re.compile(r"endpoint|authority|url|host|proxy|suffix", re.IGNORECASE)


class URLRefused(InputError):
    """A URL the site will not connect to. Its message is the same for every reason."""


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to one of ``addresses``, and speak to ``host`` (Host header, SNI, certificate)."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally routable unicast address: not loopback, private, link-local, shared (100.64/10),
    multicast, unspecified or reserved, also when an IPv4 address hides inside an IPv6 one."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address.sixtofour is not None and not is_public(address.sixtofour):
            return False
    return address.is_global and not (address.is_multicast or address.is_private or address.is_reserved
                                      or address.is_loopback or address.is_link_local or address.is_unspecified)


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]  # a query may carry a token (an Azure SAS): keep it out of the log


def _refuse(message: str, url: str, reason: str) -> URLRefused:
    logger.warning("Refused outbound URL %r: %s", _without_query(url), reason)
    return URLRefused(message)


def _listed(host: str, port: int, entries: Iterable[str]) -> bool:
    """Whether ``host:port`` is on an allow-list of "host" or "host:port" entries ("[::1]:9000" for IPv6)."""
    for entry in entries:
        parts = urlsplit("//" + entry.strip().lower())
        try:
            listed_host, listed_port = (parts.hostname or "").rstrip("."), parts.port
        except ValueError:
            continue
        if listed_host == host and listed_port in (None, port):
            return True
    return False


def _split(url: str, message: str) -> SplitResult:
    """The URL's parts, if it has no character parsers disagree about (URL parsers drop tabs and newlines,
    some read a backslash as a slash)."""
    if not url.isascii() or any(c.isspace() or not c.isprintable() or c == "\\" for c in url):
        raise _refuse(message, url, "control, space, backslash or non-ASCII character")
    try:
        return urlsplit(url)
    except ValueError:
        raise _refuse(message, url, "unparsable") from None


def _resolve(host: str, port: int) -> tuple[str, ...]:
    addresses: dict[str, None] = {}
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        addresses[str(sockaddr[0])] = None
    return tuple(addresses)


def check_host_url(url: str, *, schemes: Mapping[str, str], allowed: Iterable[str], message: str,
                   private_ok: bool = False) -> Target:
    """Parse, resolve and classify ``url``; raise URLRefused with ``message`` for any reason.

    ``schemes`` maps each accepted scheme to the protocol spoken (azuresas → https). Hosts on ``allowed``
    and every host when ``private_ok`` may resolve to any address; all others only to public ones.
    """
    parts = _split(url, message)
    if parts.scheme.lower() not in schemes:
        raise _refuse(message, url, f"scheme {parts.scheme!r}")
    protocol = schemes[parts.scheme.lower()]
    try:
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        raise _refuse(message, url, "bad port") from None
    port = DEFAULT_PORTS[protocol] if port is None else port
    if "@" in parts.netloc or not host or port == 0:
        raise _refuse(message, url, "user info, no host or port 0")
    try:
        literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is None and (not _HOSTNAME.match(host) or _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1])):
        raise _refuse(message, url, "not a host name or a canonical IP address")
    try:
        addresses = _resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise _refuse(message, url, f"does not resolve: {exc}") from None
    if not addresses:
        raise _refuse(message, url, "no address")
    if not private_ok and not _listed(host, port, allowed):
        blocked = [a for a in addresses if not is_public(ipaddress.ip_address(a.split("%", 1)[0]))]
        if blocked:
            raise _refuse(message, url, f"resolves to non-public {blocked}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=protocol, host=host, port=port, path=path, addresses=addresses)


def check_callback_url(url: str) -> Target:
    """An agent's callback: https to a public host; hosts on VIFSITE_CALLBACK_HTTP_HOSTS may also use
    http and private addresses (an operator's internal receiver)."""
    allowed = settings.VIFSITE_CALLBACK_HTTP_HOSTS
    target = check_host_url(url, schemes={"http": "http", "https": "https"}, allowed=allowed,
                            message=CALLBACK_REFUSED)
    if target.scheme != "https" and not _listed(target.host, target.port, allowed):
        raise _refuse(CALLBACK_REFUSED, url, "plain http to a host not on VIFSITE_CALLBACK_HTTP_HOSTS")
    return target


def check_site_url(url: str) -> Target:
    """A URL the operator configured (a reviewer webhook): any address, but still pinned and http(s) only."""
    return check_host_url(url, schemes={"http": "http", "https": "https"}, allowed=(), message=DELIVERY_FAILED,
                          private_ok=True)


def volume_store(url: str) -> tuple[str, str] | None:
    """The operator's store holding ``url`` (VIFSITE_VDS_CONNECTION_SECRETS): its prefix and the connection
    string OpenVDS opens it with, or None. The longest prefix wins; a prefix ends at a "/" ("s3://vols" holds
    "s3://vols/a", not "s3://vols-b/a"). The connection string is a secret: never show it."""
    stores: dict[str, str] = getattr(settings, "VIFSITE_VDS_CONNECTION_SECRETS", {}) if settings.configured else {}
    prefix = _longest_prefix(url, stores)
    return None if prefix is None else (prefix, stores[prefix])


def _longest_prefix(url: str, prefixes: Iterable[str]) -> str | None:
    """The longest of ``prefixes`` holding ``url``; a prefix ends at a "/"."""
    for prefix in sorted(prefixes, key=len, reverse=True):
        if url == prefix or url.startswith(prefix + "/"):
            return prefix
    return None


def check_volume_url(url: str, connection: str = "") -> None:
    """A volume URL for OpenVDS: a bucket at a cloud provider (s3://, azure://, gs://, dms://), or an http(s)
    host that is public or on VIFSITE_STORAGE_HOSTS; an endpoint given in the URL's query or the connection
    string is held to the same rule.

    A URL under one of the operator's stores (``volume_store``) is opened with the operator's connection
    string, whose endpoint may be private (the operator chose it): that string is not checked, the URL's own
    query still is, and its path may not climb out of the store's prefix ("." or ".." segments, which HTTP
    clients resolve).

    OpenVDS connects by itself (it cannot be handed the checked address), so a name that changes its answer
    between this check and OpenVDS's own look-up is not stopped here; OpenVDS does not follow redirects.
    """
    allowed = settings.VIFSITE_STORAGE_HOSTS
    parts = _split(url, VOLUME_REFUSED)
    store = volume_store(url)
    options: list[tuple[str, str]] = []
    if store is not None:
        if any(unquote(segment) in (".", "..") for segment in parts.path.split("/")):
            raise _refuse(VOLUME_REFUSED, url, f"a dot segment under the store {store[0]}")
        options += parse_qsl(parts.query, keep_blank_values=True)
    elif parts.scheme.lower() in BUCKET_SCHEMES:
        if not _BUCKET.match(parts.netloc):
            raise _refuse(VOLUME_REFUSED, url, "not a bucket name")
        if any(unquote(segment) in (".", "..") for segment in parts.path.split("/")) or \
                _longest_prefix(_without_query(url), settings.VIFSITE_VDS_OPEN_BUCKETS) is None:
            # Opened with OpenVDS's defaults, that is with whatever credentials the site's environment holds:
            # only where the operator said so, or a key allowed to manage surveys could read any bucket they
            # reach.
            raise InputError(BUCKET_REFUSED)
        options += parse_qsl(parts.query, keep_blank_values=True)
    else:
        check_host_url(url, schemes=HOST_SCHEMES, allowed=allowed, message=VOLUME_REFUSED)
    if store is None:
        options += [(key, value) for key, _, value in (item.partition("=") for item in connection.split(";"))]
    for key, value in options:
        if _ENDPOINT_KEY.search(key) or "://" in value:
            endpoint = value if "://" in value else f"https://{value}"
            check_host_url(endpoint, schemes={"http": "http", "https": "https"}, allowed=allowed,
                           message=VOLUME_REFUSED)


def volume_error(url: str, exc: BaseException) -> InputError:
    """The one answer for a remote volume OpenVDS could not open; its own words (addresses, curl errors
    that tell an open port from a closed one) go to the log."""
    logger.warning("Volume %r could not be opened: %s", _without_query(url), exc)
    return URLRefused(VOLUME_REFUSED)


# --- POST to a checked address --------------------------------------------------------------------

class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to ``address`` while the request names ``host`` (http.client builds Host from it)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def connect(self) -> None:
        super().connect()
        # SNI and certificate verification are for the name, whatever address was dialled.
        self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.host)


def post(target: Target, body: bytes, headers: Mapping[str, str], *, timeout: float = 10.0) -> tuple[int | None, str]:
    """POST ``body`` to a checked target, trying its addresses in order; no proxy, no redirects.

    Returns (HTTP status, "") for a 2xx, (status, "HTTP <status>") for any other answer (a 3xx is a
    failure, not followed) and (None, DELIVERY_FAILED) when no answer came; the reason is logged.
    """
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    for address in target.addresses:
        connection = connection_class(target.host, target.port, address, timeout)
        try:
            try:
                connection.connect()
            except OSError as exc:
                logger.warning("POST to %s:%s via %s: cannot connect: %s", target.host, target.port, address, exc)
                continue
            connection.request("POST", target.path, body=body, headers=dict(headers))
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException) as exc:
            logger.warning("POST to %s:%s via %s failed: %s", target.host, target.port, address, exc)
            return None, DELIVERY_FAILED
        finally:
            connection.close()
        return status, "" if 200 <= status < 300 else f"HTTP {status}"
    return None, DELIVERY_FAILED
