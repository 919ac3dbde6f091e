from django.core.management.base import BaseCommand

from seismic import import_jobs


class Command(BaseCommand):
    help = ("Take back survey imports whose worker stopped (no heartbeat within VIFSITE_IMPORT_LEASE_S, or its "
            "process gone): remove their partial volumes, retry each once, fail it after that. django-q2 runs "
            "this each minute and whenever a worker starts.")

    def handle(self, *args, **options):
        swept = import_jobs.survey_import_sweep()
        self.stdout.write(f"Took back {len(swept)} import(s){': ' if swept else '.'}{', '.join(map(str, swept))}")
