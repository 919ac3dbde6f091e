from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from seismic.models import Survey


def survey_list(request: HttpRequest) -> HttpResponse:
    return render(request, "seismic/survey_list.html", {"surveys": Survey.objects.all()})


def survey_detail(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = get_object_or_404(Survey, pk=survey_id)
    config = {
        "sectionUrl": f"/api/v1/surveys/{survey.pk}/sections/",
        "inline": [survey.inline_first, survey.inline_last, survey.inline_step],
        "crossline": [survey.crossline_first, survey.crossline_last, survey.crossline_step],
        "sample": [survey.sample_first, survey.sample_last, survey.sample_step],
    }
    return render(request, "seismic/survey_detail.html", {"survey": survey, "config": config})
