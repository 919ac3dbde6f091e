import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class SeismicConfig(AppConfig):
    name = "seismic"
    verbose_name = "Seismic surveys"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from vifsite.vif import replay

        replay.register_loader(_register_replayers)
        post_spawn.connect(_sweep_imports_on_worker_start, dispatch_uid="seismic-import-sweep")


def _register_replayers() -> None:
    """The seismic tools' replayers, registered when a replay first needs one (importing the tools loads the
    numerical libraries, which a command or worker that replays nothing need not wait for)."""
    from seismic import services, tools
    from vifsite.vif import replay

    replay.register("extract_section", services.section_extract_replay)
    tools.register_replayers()


def _sweep_imports_on_worker_start(sender: object, proc_name: str = "", **kwargs: object) -> None:
    """A worker starts with its cluster, or in place of one that died: the moment to take back imports whose
    worker stopped, rather than wait for the next scheduled sweep (django-q2 sends post_spawn in the worker)."""
    from seismic import import_jobs

    try:
        import_jobs.survey_import_sweep()
    except Exception:  # never keep a worker from starting
        logger.exception("The import sweep at the start of worker %s failed", proc_name)
