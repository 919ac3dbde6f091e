from __future__ import annotations

import argparse
import sys

from django.core.management.base import BaseCommand, CommandError

from seismic import services
from vifsite.errors import InputError


def terminal_progress(stream):
    interactive = stream.isatty()
    last = [-10.0]

    def report(percent: float) -> None:
        if interactive:
            stream.write(f"\rImporting with OpenVDS: {percent:5.1f} %" + ("\n" if percent >= 100 else ""))
        elif percent >= last[0] + 10 or percent >= 100:
            last[0] = percent
            stream.write(f"Importing with OpenVDS: {percent:5.1f} %\n")
        stream.flush()

    return report


class Command(BaseCommand):
    help = "Import a SEG-Y file with OpenVDS's SEGYImport and register it as a survey."
    # Django's system checks import every URL module and view (about half a second here) and check nothing an
    # import depends on; `manage.py check`, `migrate` and the servers run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("path", help="The SEG-Y file.")
        parser.add_argument("--name", required=True, help="A unique name for the survey.")
        parser.add_argument("--description", default="")
        parser.add_argument("--inline-byte", type=int, default=189, help="Trace-header byte of the inline number.")
        parser.add_argument("--crossline-byte", type=int, default=193,
                            help="Trace-header byte of the crossline number.")
        parser.add_argument("--2d", dest="two_d", action="store_true", help="A 2D line: traces keyed by CDP.")
        parser.add_argument("--cdp-byte", type=int, default=21, help="Trace-header byte of the CDP number (2D).")
        parser.add_argument("--sample-unit", choices=services.SAMPLE_UNITS, default="ms",
                            help="ms for time data, m or ft for depth data.")
        parser.add_argument("--slice-layouts", action=argparse.BooleanOptionalAction,
                            default=services.SLICE_LAYOUTS_DEFAULT,
                            help="Add 2D slice bricks for inlines, crosslines and timeslices (a cold section reads "
                                 "in about a millisecond instead of 7-25; about 3.7 times the volume's storage, and "
                                 "a copy after SEGYImport that takes two to three times as long). "
                                 "--no-slice-layouts for a volume too large for that; manage.py add_slice_layouts "
                                 "adds them later. Default: %(default)s.")

    def handle(self, *args, **options):
        try:
            survey = services.survey_import_segy(
                path=options["path"], name=options["name"], description=options["description"],
                inline_byte=options["inline_byte"], crossline_byte=options["crossline_byte"],
                two_d=options["two_d"], cdp_byte=options["cdp_byte"], sample_unit=options["sample_unit"],
                slice_layouts=options["slice_layouts"], created_by="cli", progress=terminal_progress(sys.stderr),
            )
        except InputError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(
            f"Survey {survey.pk} {survey.name!r}: inlines {survey.inline_first:g}-{survey.inline_last:g}, "
            f"crosslines {survey.crossline_first:g}-{survey.crossline_last:g}, "
            f"{survey.sample_count} samples {survey.sample_first:g}-{survey.sample_last:g} {survey.sample_unit}, "
            f"{survey.live_traces} live traces of {survey.total_traces}"
            f"{', slice layouts' if survey.slice_layouts else ''}."))
