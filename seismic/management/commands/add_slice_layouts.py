from __future__ import annotations

import signal
import sys

from django.core.management.base import BaseCommand, CommandError

from seismic import services
from seismic.models import Survey
from vifsite.errors import InputError


def copy_progress(stream):
    interactive = stream.isatty()
    last = [-10.0]

    def report(percent: float) -> None:
        if interactive:
            stream.write(f"\rCopying with slice layouts: {percent:5.1f} %" + ("\n" if percent >= 100 else ""))
        elif percent >= last[0] + 10 or percent >= 100:
            last[0] = percent
            stream.write(f"Copying with slice layouts: {percent:5.1f} %\n")
        stream.flush()

    return report


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


class Command(BaseCommand):
    help = ("Add slice layouts (2D bricks for inlines, crosslines and timeslices) to the local volume of existing "
            "surveys, in place: the copy is written beside the volume, checked to hold the same samples (the "
            "survey's data hash), then renamed over it. About 3.7 times the storage; nothing changes if it fails "
            "or is interrupted. Remote (cloud) volumes are refused.")

    def add_arguments(self, parser):
        parser.add_argument("surveys", nargs="+", help="Survey ids or names.")

    def handle(self, *args, **options):
        surveys = []
        for key in options["surveys"]:
            survey = Survey.objects.filter(pk=int(key)).first() if key.isdigit() else None
            survey = survey or Survey.objects.filter(name=key).first()
            if survey is None:
                raise CommandError(f"No survey with id or name {key!r}.")
            surveys.append(survey)
        failed = []
        # SIGTERM (a service manager stopping it) unwinds like Ctrl-C: VDSCopy is killed and its copy removed.
        previous = signal.signal(signal.SIGTERM, _stop)
        try:
            for survey in surveys:
                try:
                    added = services.survey_add_slice_layouts(survey=survey, progress=copy_progress(sys.stderr))
                except InputError as exc:
                    self.stderr.write(exc.message)
                    failed.append(survey)
                    continue
                message = "slice layouts added" if added else "it had slice layouts already (now recorded)"
                self.stdout.write(self.style.SUCCESS(f"Survey {survey.pk} {survey.name!r}: {message}."))
        finally:
            signal.signal(signal.SIGTERM, previous)
        if failed:
            raise CommandError(f"Slice layouts not added to {len(failed)} of {len(surveys)} survey(s): "
                               f"{', '.join(str(s.pk) for s in failed)}.")
