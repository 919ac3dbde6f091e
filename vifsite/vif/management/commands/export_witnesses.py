from __future__ import annotations

import json
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from vifsite.vif import ledger


def parse_since(text: str) -> datetime:
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            raise CommandError(f"--since {text!r} is not a date (2026-01-31) or an ISO date-time.")
        moment = datetime(day.year, day.month, day.day)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = ("Write the witnesses from --since on as a bundle that scripts/verify_witness_bundle.py checks "
            "with only the cryptography package.")

    def add_arguments(self, parser):
        parser.add_argument("out", help="File to write (JSON).")
        parser.add_argument("--since", help="Date or ISO date-time (UTC unless it says otherwise); default: all.")

    def handle(self, *args, out, since, **options):
        bundle = ledger.export_bundle(since=parse_since(since) if since else None)
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(bundle, handle)
        self.stdout.write(f"Wrote {len(bundle['entries'])} entries to {out}.")
