from __future__ import annotations

import secrets
import time
from typing import cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from review import demo
from review.models import REVIEWERS_GROUP, SENIOR_GROUP, Escalation
from seismic.models import Survey
from vifsite.env import env_bool
from vifsite.vif import monitoring
from vifsite.vif import services as vif_services
from vifsite.vif.models import AgentKey, Outcome

DEMO_SURVEY = "Demo synthetic"
ACCOUNTS = [("reviewer", REVIEWERS_GROUP), ("reviewer2", REVIEWERS_GROUP), ("senior", SENIOR_GROUP)]


class Command(BaseCommand):
    help = ("First-run set-up: an admin (if there is none) and the demo reviewers reviewer, reviewer2 and senior in "
            "their groups, with their passwords printed once; then, unless VIFSITE_DEMO=false or --no-demo, the demo: "
            "a synthetic survey and the review work of a scripted demo agent (no model is called), once.")

    def add_arguments(self, parser):
        parser.add_argument("--size", default="120x120x400", help="Size of the demo survey.")
        parser.add_argument("--no-demo", action="store_true",
                            help="Accounts only: no survey, no review items (as VIFSITE_DEMO=false).")

    def handle(self, *args, **options):
        created = self.accounts()
        if options["no_demo"] or not env_bool("VIFSITE_DEMO", True):
            self.stdout.write("Demo data: off (VIFSITE_DEMO=false or --no-demo): accounts only.")
        else:
            self.demo(options["size"])
        if created:
            self.stdout.write("\nAccounts created (passwords are shown only now; change them in the admin):")
            for username, password in created:
                self.stdout.write(f"  {username:9s} {password}")
            self.stdout.write("Log in at http://127.0.0.1:8000/accounts/login/\n")

    def accounts(self) -> list[tuple[str, str]]:
        users = get_user_model().objects
        created = []
        if not users.filter(is_superuser=True).exists():
            password = secrets.token_urlsafe(12)
            users.create_superuser("admin", "admin@localhost", password)
            created.append(("admin", password))
        for username, group in ACCOUNTS:
            user = users.filter(username=username).first()
            if user is None:
                password = secrets.token_urlsafe(12)
                user = users.create_user(username, f"{username}@localhost", password)
                created.append((username, password))
            user.groups.add(Group.objects.get_or_create(name=group)[0])
        return created

    def demo(self, size: str) -> None:
        if AgentKey.objects.filter(name=demo.AGENT_NAME).exists():
            self.stdout.write(f"Demo data: already there (the {demo.AGENT_NAME} key exists); nothing added.")
            return
        if Escalation.objects.exists() or Outcome.objects.exists():
            self.stdout.write("Demo data: not added, this site already has review work.")
            return
        started = time.perf_counter()
        survey = Survey.objects.filter(name=DEMO_SURVEY, ground_truth__isnull=False).first()
        if survey is None:
            call_command("make_synthetic_survey", name=DEMO_SURVEY, size=size, seed=7, stdout=self.stdout)
            survey = Survey.objects.get(name=DEMO_SURVEY)
        reviewers = {u.username: u for u in get_user_model().objects.filter(username__in=[a for a, _ in ACCOUNTS])}
        # No e-mail and no reviewer webhook about the demo's own items: they are not news to anyone, and the
        # configured addresses may be real. One transaction: a failed run leaves no marker, the next one retries.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
                               VIFSITE_REVIEW_WEBHOOKS=[]), transaction.atomic():
            created, _ = AgentKey.objects.create_key(name=demo.AGENT_NAME)
            # The library's manager is typed for AbstractAPIKey; AgentKey's manager creates an AgentKey.
            key = cast(AgentKey, created)
            demo.routing_policy()
            samples = demo.calibration_record(writer=key.principal)
            results = demo.submit_all(survey=survey, key=key)
            decided = demo.decisions_make(results=results, reviewers=reviewers)
            suggestions = vif_services.kappa_suggestions_compute()
            # Nobody holds the scripted agent's secret; revoked, the key stays only as the record and the marker.
            AgentKey.objects.filter(pk=key.pk).update(revoked=True)
        counts = demo.summary(results)
        accepted = counts.pop("accepted", 0)
        report = monitoring.calibration_report()
        kappas = ", ".join(f"{s.criticality} {s.model_id} {s.model_version}: "
                           f"{'none' if s.suggested is None else f'{s.suggested:.2f}'}" for s in suggestions)
        self.stdout.write(
            f"\nDemo data by the {demo.PROVIDER}, made in {time.perf_counter() - started:.1f} s:\n"
            f"  {len(results)} interpretations of {survey.name!r}: {accepted} accepted, "
            f"{len(results) - accepted} sent to the review queue, by reason: "
            + ", ".join(f"{Escalation.Reason(code).label} {n}" for code, n in counts.most_common()) + "\n"
            f"  {decided} decisions by reviewer2 and senior (a critical item awaits its second approval)\n"
            f"  {samples['samples']} labelled calibration samples: ECE {report['ece']:.3f} ({report['status']})\n"
            f"  κ suggestions (admin, κ suggestions): {kappas}")
