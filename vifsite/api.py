"""Shared pieces of the REST API: the base view, the exception handler, the JSON error pages of everything
under /api/ (and /metrics), and the error responses every operation documents. The JSON parser is in
vifsite/parsers.py: DRF imports it while it defines APIView, so it cannot live beside APIView's users."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from vifsite.errors import InputError
from vifsite.vif import schema  # noqa: F401  (registers the OpenAPI auth extension before a schema is made)
from vifsite.vif.api.serializers import SAFE_INT


class ApiView(APIView):
    """An API view: DRF authenticates it (API key or session), so the site-wide
    login redirect does not apply; anonymous callers get 401/403 from DRF instead."""

    @classmethod
    def as_view(cls, **initkwargs: Any):
        return login_not_required(super().as_view(**initkwargs))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, InputError):
        return Response(exc.as_dict(), status=exc.status_code)
    return drf_exception_handler(exc, context)


class SchemaApi(SpectacularAPIView):
    """The OpenAPI schema (YAML, or JSON with ?format=json); its errors are JSON like every API error."""

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        if response.status_code >= 400:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


# --- Error pages: JSON for the API, the HTML templates elsewhere (urls.py handler400 … handler500) ---------------

def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/metrics"))


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's own 400s, raised before DRF can answer: above all its request size checks."""
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return JsonResponse({"detail": f"The request body is larger than the {limit} bytes this site reads "
                                       "(file uploads aside).", "limit_bytes": limit}, status=413)
    if isinstance(exception, TooManyFieldsSent):
        detail = f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields."
    elif isinstance(exception, TooManyFilesSent):
        detail = f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files."
    else:
        detail = "Bad request."
    return JsonResponse({"detail": detail}, status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse({"detail": f"No API endpoint at {request.path}: the operations are listed in the "
                                   "schema at /api/v1/schema/."}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return defaults.server_error(request)
    return JsonResponse({"detail": "Internal server error: it has been logged. Retrying later may help."},
                        status=500)


# --- The error responses every operation documents (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) ---------------

ERROR_RESPONSES = {
    400: "Invalid input: the body names each field and what is wrong with it, or says why the request was refused "
         "(malformed JSON, nesting deeper than 64 levels, too many fields or files).",
    401: "No credentials, or an unknown, expired or revoked API key.",
    403: "Authenticated, but not allowed to do this (the body says why).",
    404: "The survey, extraction, witness, escalation or import named does not exist.",
    409: "The action conflicts with the current state (a decision made meanwhile, an outcome already recorded).",
    413: "The request body is too large.",
    429: "Too many requests: wait as long as the Retry-After header says.",
    503: "A resource the request needs (a seismic volume) cannot be reached now: retry later.",
}
ERROR_SCHEMA = {
    "type": "object", "additionalProperties": True,
    "description": "Every API error is a JSON object: `detail` says what went wrong; a 400 from input "
                   "validation names each field instead, with a list of messages.",
    "properties": {"detail": {"type": "string"}},
}


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: on every operation, the error responses above with their JSON body,
    and bounds on the database ids in its path."""
    result.setdefault("components", {}).setdefault("schemas", {})["ApiError"] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter.get("schema", {}).get("type") == "integer":
                    parameter["schema"].update(minimum=1, maximum=SAFE_INT)
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(str(status), {"description": description, "content": body})
    return result
