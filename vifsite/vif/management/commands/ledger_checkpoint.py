from django.core.management.base import BaseCommand

from vifsite.vif import ledger


class Command(BaseCommand):
    help = "Write a signed checkpoint (sequence, head hash, time) of the ledger outside the database."

    def handle(self, *args, **options):
        checkpoint = ledger.checkpoint()
        self.stdout.write(f"Checkpoint at sequence {checkpoint['sequence']} {checkpoint['head_hash'][:16]}…")
