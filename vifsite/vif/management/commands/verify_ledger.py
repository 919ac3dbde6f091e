from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from vifsite.vif import ledger


class Command(BaseCommand):
    help = ("Check every witness's hash, link and signature, the chain head and the latest checkpoint; "
            "name the first bad entry. Exit status 1 when the ledger does not verify.")

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=None, metavar="N",
                            help="child processes that check the signatures while this one reads and checks the "
                                 "rows (default: one per CPU besides this process's, at most "
                                 f"{ledger.VERIFY_PROCESSES_MAX}; 0 checks everything in this process)")

    def handle(self, *args, **options):
        if options["processes"] is not None and options["processes"] < 0:
            raise CommandError("--processes must be 0 or more.")
        started = time.perf_counter()
        result = ledger.verify(processes=options["processes"])
        elapsed = time.perf_counter() - started
        for note in result.notes:
            self.stdout.write(f"note: {note}")
        if not result.ok:
            where = f"entry {result.first_bad_sequence}" if result.first_bad_sequence else "checkpoint"
            raise CommandError(f"Ledger does NOT verify: first bad {where}: {result.problem} "
                               f"({result.checked} entries checked before it).")
        checkpoint = result.checkpoint
        rate = f", {result.checked / elapsed:,.0f} entries/s" if result.checked and elapsed > 0 else ""
        self.stdout.write(self.style.SUCCESS(
            f"Ledger verifies: {result.checked} entries ({result.retired} retired to hashes), head "
            f"{result.last_sequence} {result.head_hash[:16]}…, checkpoint "
            f"{checkpoint['sequence'] if checkpoint else 'none'}; {elapsed:.2f} s{rate}."))
