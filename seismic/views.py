from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_cache_control
from django.views.decorators.gzip import gzip_page

from seismic import services, viewer
from seismic.models import Survey
from vifsite.errors import InputError

SECTION_CACHE_SECONDS = 3600  # a survey's data never change under its id (data_sha256)


def survey_list(request: HttpRequest) -> HttpResponse:
    return render(request, "seismic/survey_list.html", {"surveys": Survey.objects.all()})


def survey_detail(request: HttpRequest, survey_id: int) -> HttpResponse:
    """The survey viewer; the section is in the URL (``?inline=1015``), which the form's plain GET redirects to."""
    survey = get_object_or_404(Survey, pk=survey_id)
    kind, number = viewer.requested_section(request.GET, survey)
    if "section_type" in request.GET:
        return HttpResponseRedirect(f"{request.path}?{urlencode({kind: number})}")
    return render(request, "seismic/survey_detail.html", viewer.page_context(survey, kind=kind, number=number))


@gzip_page
def section_plot_data(request: HttpRequest, survey_id: int, kind: str, number: str) -> JsonResponse:
    """A section for the survey viewer: the plot's data (seismic/section_plot.py, int16) with its histogram,
    spectrum, statistics and hashes (seismic/viewer.py). Only draws: the API's section call records the
    extraction and witnesses it."""
    survey = get_object_or_404(Survey, pk=survey_id)
    try:
        section = services.section_read(survey=survey, kind=kind, number=float(number))
    except ValueError:
        return JsonResponse({"error": f"{number!r} is not a number."}, status=400)
    except InputError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status_code)
    payload = viewer.section_view(section, clip_percentile=settings.VIFSITE_PNG_CLIP_PERCENTILE)
    response = JsonResponse(payload, json_dumps_params={"separators": (",", ":")})
    patch_cache_control(response, private=True, max_age=SECTION_CACHE_SECONDS)  # answers only: a 503 may pass
    return response
