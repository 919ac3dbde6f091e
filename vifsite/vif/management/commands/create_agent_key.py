from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vifsite.vif.models import AgentKey


class Command(BaseCommand):
    help = "Create an API key for an LLM agent and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The agent's name, recorded as the principal of its requests.")
        parser.add_argument("--expires", type=int, metavar="DAYS", help="Days until the key expires.")
        parser.add_argument("--owner", help="Username of the person responsible for the agent.")
        parser.add_argument("--manage-surveys", action="store_true",
                            help="Allow this key to import SEG-Y files and register volumes.")
        parser.add_argument("--record-outcomes", action="store_true",
                            help="Allow this key to label other writers' witnesses correct or not (a checker).")
        parser.add_argument("--read-metrics", action="store_true",
                            help="Allow this key to read /api/v1/metrics/ and /metrics (a Prometheus scraper).")

    def handle(self, *args, name: str, expires: int | None, owner: str | None,
               manage_surveys: bool, record_outcomes: bool = False, read_metrics: bool = False, **options):
        name = name.strip()
        if not name:
            raise CommandError("The agent's name must not be empty.")
        if expires is not None and expires <= 0:
            raise CommandError("--expires must be a positive number of days.")
        owner_user = None
        if owner:
            try:
                owner_user = get_user_model().objects.get(username=owner)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user named {owner!r}.") from None
        expiry = timezone.now() + timedelta(days=expires) if expires else None
        _, key = AgentKey.objects.create_key(
            name=name, expiry_date=expiry, owner=owner_user, can_manage_surveys=manage_surveys,
            can_record_outcomes=record_outcomes, can_read_metrics=read_metrics,
        )
        self.stdout.write(key)
        until = f"expires {expiry:%Y-%m-%d %H:%M} UTC" if expiry else "does not expire"
        self.stderr.write(f"Key for agent {name!r} ({until}). Send it as 'Authorization: Api-Key <key>'. "
                          "It is shown only this once.")
