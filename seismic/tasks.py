"""django-q2 tasks: thin, take ids, safe to run twice."""

from seismic import services


def survey_import_run(survey_import_id: int) -> None:
    services.survey_import_run(survey_import_id=survey_import_id)
