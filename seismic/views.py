from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.gzip import gzip_page

from seismic import section_plot, services
from seismic.models import Survey
from vifsite.errors import InputError


def survey_list(request: HttpRequest) -> HttpResponse:
    return render(request, "seismic/survey_list.html", {"surveys": Survey.objects.all()})


def survey_detail(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = get_object_or_404(Survey, pk=survey_id)
    config = {
        "sectionUrl": f"/api/v1/surveys/{survey.pk}/sections/",
        "inline": [survey.inline_first, survey.inline_last, survey.inline_step],
        "crossline": [survey.crossline_first, survey.crossline_last, survey.crossline_step],
        "sample": [survey.sample_first, survey.sample_last, survey.sample_step],
        "plotUrl": f"/surveys/{survey.pk}/sections/",
    }
    return render(request, "seismic/survey_detail.html", {"survey": survey, "config": config})


@gzip_page
def section_plot_data(request: HttpRequest, survey_id: int, kind: str, number: str) -> JsonResponse:
    """A section for the survey page's plot (seismic/section_plot.py); the API's section call records the
    extraction and its statistics, this only draws."""
    survey = get_object_or_404(Survey, pk=survey_id)
    try:
        section = services.section_read(survey=survey, kind=kind, number=float(number))
    except ValueError:
        return JsonResponse({"error": f"{number!r} is not a number."}, status=400)
    except InputError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status_code)
    payload = section_plot.section_payload(section, clip_percentile=settings.VIFSITE_PNG_CLIP_PERCENTILE)
    return JsonResponse(payload, json_dumps_params={"separators": (",", ":")})
