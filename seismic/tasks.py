"""django-q2 tasks: thin, take ids, safe to run twice."""

from seismic import import_jobs


def survey_import_run(survey_import_id: int) -> None:
    import_jobs.survey_import_run(survey_import_id=survey_import_id)


def survey_import_sweep() -> None:
    import_jobs.survey_import_sweep()
