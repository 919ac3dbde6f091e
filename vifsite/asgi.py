"""ASGI entry point: HTTP through Django behind the request size limits and the per-process concurrency
limit, websockets through Channels (logged-in users, own origin)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vifsite.settings")
django.setup(set_prefix=False)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from review.routing import websocket_urlpatterns  # noqa: E402
from vifsite.handler import ThreadPoolASGIHandler  # noqa: E402
from vifsite.limits import ConcurrencyLimit, RequestSizeLimit  # noqa: E402

# The URLs (and with them the views, the admin and the numerical libraries) load now, while the server starts,
# not in the first request each web process answers.
get_resolver().url_patterns  # noqa: B018
django_asgi_app = ThreadPoolASGIHandler(settings.VIFSITE_WEB_THREADS)

application = ProtocolTypeRouter(
    {
        "http": RequestSizeLimit(ConcurrencyLimit(django_asgi_app, settings.VIFSITE_WEB_CONCURRENCY)),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
