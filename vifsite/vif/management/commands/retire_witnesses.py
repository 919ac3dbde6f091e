from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from vifsite.vif import ledger


class Command(BaseCommand):
    help = ("Retire witnesses older than --days to hashes only: prompts, outputs, parameters and context go; "
            "the signed ledger entries (with the prompt, output and result hashes) stay and still verify.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, required=True, help="Retire witnesses older than this many days.")

    def handle(self, *args, days, **options):
        count = ledger.retire(before=timezone.now() - timedelta(days=max(0, days)))
        self.stdout.write(f"Retired {count} witnesses to hashes only.")
