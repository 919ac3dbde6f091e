"""The interpretation flow and the review rules: submit (audit, witness, gate, high-stakes rules,
escalate), claim, and decide (one conditional UPDATE on (status, version); four eyes for critical
items; decisions become outcomes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeGuard

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from review.models import REVIEWERS_GROUP, SENIOR_GROUP, Decision, Escalation, EscalationEvent
from seismic import tools
from seismic.models import Extraction
from seismic.stakes import topics as stakes_topics
from vifsite.errors import Conflict, Forbidden, InputError, NotFound
from vifsite.vif import confidence
from vifsite.vif import services as vif_services
from vifsite.vif.models import AgentKey

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from vifsite.vif.auth import AgentPrincipal

SLA_HOURS = {"critical": 1, "important": 4, "routine": 24, "low_stakes": 72}

TOOLS_FOR = {
    "numeric": "quote numbers from extract_section or check them with validate_amplitude_claim",
    "location": "use get_survey for valid inline, crossline and time ranges, and extract the section you refer to",
    "feature_fabrication": "check the feature with detect_amplitude_anomalies or verify_feature_hypothesis",
    "out_of_scope": "hedge the claim and name the data that would confirm it (well logs, AVO, a velocity model)",
    "overconfidence": "qualify the interpretation (probable, possible) and state its limitations",
}


def _high_stakes(text: str) -> list[str]:
    """High-stakes topics (hydrocarbons, reserves, well location, drilling) the interpretation raises; they
    always need a human, whatever the confidence. Only a clause that says it cannot tell raises none
    ("gas cannot be established without AVO"); see seismic.stakes."""
    return stakes_topics(text)


def is_reviewer(user: Any) -> TypeGuard[User]:
    """True for a reviewer: an authenticated person of the user model (an agent's principal has no groups)
    who is staff or in the reviewers or senior reviewers group."""
    if not getattr(user, "is_authenticated", False) or not hasattr(user, "groups"):
        return False
    return user.is_staff or user.groups.filter(name__in=[REVIEWERS_GROUP, SENIOR_GROUP]).exists()


def _event(escalation: Escalation, *, actor: str, from_status: str, to_status: str, version: int,
           note: str = "") -> None:
    EscalationEvent.objects.create(escalation=escalation, actor=actor, from_status=from_status, to_status=to_status,
                                   version=version, note=note)
    transaction.on_commit(lambda: broadcast(escalation.pk, to_status))


def broadcast(escalation_id: int, status: str) -> None:
    """Tell every open dashboard that the queue changed (the live feed; pages fall back to polling)."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from review.consumers import GROUP

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(GROUP, {"type": "queue.changed", "id": escalation_id, "status": status})
    except Exception:  # noqa: BLE001  a dashboard notification must never undo a decision
        import logging

        logging.getLogger(__name__).warning("could not broadcast the queue change of item %s", escalation_id)


# --- Submission -----------------------------------------------------------------------------------

def interpretation_submit(*, writer: str, key: AgentKey | None, text: str = "", structured: Mapping[str, Any] | None,
                          extraction_ids: list[int], model: Mapping[str, Any], signals: Mapping[str, Any],
                          criticality: str, domain: str = "", callback_url: str = "",
                          submitter: User | AnonymousUser | None = None) -> dict[str, Any]:
    """Audit, witness, gate and route an agent's interpretation. Either accepted, or escalated to
    a human with the reasons an agent can pass on. The person behind it (the key's owner, or
    ``submitter`` for a logged-in person submitting without a key) may not decide it."""
    if criticality not in confidence.CRITICALITIES:
        raise InputError(f"task_criticality must be one of {', '.join(confidence.CRITICALITIES)}.")
    as_text = tools.structured_to_text(structured) if structured else (text or "")
    if not as_text.strip():
        raise InputError("Give the interpretation: text, or a filled structured analysis.")
    try:  # refuse bad confidence signals before anything is recorded
        confidence.compute(confidence=signals.get("confidence"), logprobs=signals.get("logprobs"),
                           logits=signals.get("logits"), probabilities=signals.get("probabilities"),
                           verbalised=signals.get("verbalized_confidence"), text=as_text)
    except confidence.ConfidenceError as exc:
        raise InputError(str(exc)) from None
    vif_services.kappa_policy_for(criticality=criticality, domain=domain)
    with transaction.atomic():
        audited = tools.interpretation_audit(text=as_text, extraction_ids=extraction_ids, principal=writer)
        extractions = {e.pk: e.array_sha256 for e in Extraction.objects.filter(pk__in=extraction_ids)}
        item = {
            **{k: v for k, v in model.items() if v not in (None, "")},
            **{k: v for k, v in signals.items() if v is not None},
            "prompt": signals.get("prompt") if signals.get("prompt") is not None or signals.get("prompt_hash")
            else "", "output": as_text, "task_criticality": criticality, "domain": domain,
            "context_snapshot": [{"id": f"extraction:{pk}", "sha256": sha} for pk, sha in sorted(extractions.items())],
            "tool_ids": ["audit_interpretation"], "parent_vif_id": audited["provenance"]["vif_id"],
            "confidence_factor": audited["grounding_score"], "confidence_factor_name": "grounding",
        }
        [recorded] = vif_services.witness_record_many(items=[item], writer=writer)
        witness, gate = recorded.witness, recorded.gate
        findings = audited["findings"]
        serious = [f for f in findings if f["severity"] in ("CRITICAL", "HIGH")]
        stakes = _high_stakes(as_text)
        reasons = []
        if not gate.passed:
            reasons.append({"code": Escalation.Reason.GATE, "why": gate.reason})
        elif recorded.routing == confidence.ESCALATE:
            reasons.append({"code": Escalation.Reason.ROUTING,
                            "why": f"Band {witness.confidence_band} is not enough for a {criticality} task."})
        if stakes:
            reasons.append({"code": Escalation.Reason.HIGH_STAKES,
                            "why": "Always reviewed by a human: " + ", ".join(stakes) + "."})
        if serious:
            reasons.append({"code": Escalation.Reason.CONTRADICTED, "why": "; ".join(
                f"{f['severity']} {f['category']}: {f['message']} (“{f['span']}”)" for f in serious[:5])})
        if not reasons and witness.calibration_sample:
            reasons.append({"code": Escalation.Reason.SPOT_CHECK,
                            "why": "Drawn at random as a calibration spot check; the answer stands unless the "
                                   "reviewer overturns it."})
        answer = {
            "vif_id": str(witness.vif_id),
            "confidence": {"unadjusted": witness.confidence_details.get("unadjusted_score"),
                           "grounding_score": audited["grounding_score"], "score": witness.confidence_score,
                           "method": witness.confidence_method, "band": witness.confidence_band},
            "gate": gate.as_dict(), "routing": {"action": recorded.routing,
                                                "message": confidence.ROUTING_MESSAGES[recorded.routing]},
            "findings": findings,
            "suggested_tools": sorted({TOOLS_FOR[f["category"]] for f in findings}),
        }
        blocking = [r for r in reasons if r["code"] != Escalation.Reason.SPOT_CHECK]
        if not reasons:
            return {"status": "accepted", **answer,
                    "explanation": f"Accepted: {gate.reason} No finding of the audit contradicts it."}
        escalation = Escalation.objects.create(
            witness=witness, survey_id=audited["provenance"]["survey_id"], extraction_ids=sorted(extraction_ids),
            interpretation=as_text, structured=dict(structured) if structured else None,
            audit={"findings": findings, "grounding_score": audited["grounding_score"],
                   "vif_id": audited["provenance"]["vif_id"]},
            reasons=reasons, high_stakes=stakes, criticality=criticality, domain=domain, submitted_by=writer,
            submitted_key=key, submitted_owner_id=key.owner_id if key else getattr(submitter, "pk", None),
            callback_url=callback_url,
            approvals_needed=2 if criticality == "critical" else 1,
            due_at=timezone.now() + timedelta(hours=sla_hours()[criticality]),
            hard_due_at=timezone.now() + timedelta(hours=2 * sla_hours()[criticality]))
        _event(escalation, actor=writer, from_status="", to_status=escalation.status, version=escalation.version,
               note="; ".join(r["code"] for r in reasons))
        _assign(escalation, senior=criticality == "critical", actor="system", note="assigned")
        if criticality == "critical":
            _notify_reviewers(escalation)
    status = "escalated" if blocking else "accepted_spot_check"
    return {"status": status, **answer, "escalation": escalation_summary(escalation),
            "explanation": ("Escalated to a human reviewer: " if blocking else "Accepted, and sent for a spot check: ")
            + " ".join(r["why"] for r in reasons)}


# --- Review ---------------------------------------------------------------------------------------

def escalation_get(*, escalation_id: int) -> Escalation:
    try:
        return Escalation.objects.select_related("witness", "assignee").get(pk=escalation_id)
    except Escalation.DoesNotExist:
        raise NotFound(f"No escalation with id {escalation_id}.") from None


def escalation_summary(escalation: Escalation) -> dict[str, Any]:
    final = escalation.decisions.filter(final=True).select_related("reviewer").first()
    return {
        "id": escalation.pk, "status": escalation.status, "criticality": escalation.criticality,
        "due_at": escalation.due_at, "reasons": escalation.reasons, "version": escalation.version,
        "approvals_needed": escalation.approvals_needed,
        "approvals": escalation.decisions.filter(decision=Decision.Kind.APPROVE).count(),
        "decision": None if final is None else {
            "decision": final.decision, "reviewer": final.reviewer.get_username(), "comment": final.comment,
            "revised_text": final.revised_text, "reviewer_confidence": final.reviewer_confidence,
            "decided_at": final.created_at},
    }


def _check_reviewer(escalation: Escalation, reviewer: User | AnonymousUser | AgentPrincipal) -> User:
    """The reviewer who may work this item, or Forbidden saying why not."""
    if not is_reviewer(reviewer):
        raise Forbidden("Only reviewers (the reviewers or senior reviewers group, or staff) can work the queue.")
    # The owner recorded at submission: deleting, revoking or handing on the key afterwards changes nothing.
    if escalation.submitted_owner_id is not None and escalation.submitted_owner_id == reviewer.pk:
        raise Forbidden("You cannot decide an item that you or your own agent key submitted.")
    return reviewer


def escalation_claim(*, escalation_id: int, reviewer: User | AnonymousUser | AgentPrincipal) -> Escalation:
    escalation = escalation_get(escalation_id=escalation_id)
    reviewer = _check_reviewer(escalation, reviewer)
    with transaction.atomic():
        won = Escalation.objects.filter(pk=escalation.pk, status=Escalation.Status.PENDING,
                                        version=escalation.version).update(
            status=Escalation.Status.IN_REVIEW, assignee=reviewer, version=F("version") + 1)
        if not won:
            current = escalation_get(escalation_id=escalation_id)
            who = current.assignee.get_username() if current.assignee else "nobody"
            raise Conflict(f"Another reviewer got there first: this item is {current.get_status_display()} "
                           f"(assigned to {who}).", escalation=escalation_summary(current))
        _event(escalation, actor=f"user:{reviewer.get_username()}", from_status=escalation.status,
               to_status=Escalation.Status.IN_REVIEW, version=escalation.version + 1, note="claimed")
    return escalation_get(escalation_id=escalation_id)


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def decision_problem(*, decision: str, comment: str, revised_text: str) -> tuple[str, str] | None:
    """What a decision lacks, as (message, field name), or None. The same rules for the page, REST and MCP:
    reject, revise and a request for more analysis say why; a revision gives its text."""
    if decision == Decision.Kind.REJECT and not comment.strip():
        return "Say why you reject it (comment): the agent and the next reviewer learn from it.", "comment"
    if decision == Decision.Kind.REVISE and not comment.strip():
        return "Say what you changed and why (comment).", "comment"
    if decision == Decision.Kind.REVISE and not revised_text.strip():
        return "A revision needs the revised text.", "revised_text"
    if decision == Decision.Kind.NEEDS_ANALYSIS and not comment.strip():
        return "Say which analysis is needed (comment).", "comment"
    return None


FINAL_STATUS: dict[str, Escalation.Status] = {
    Decision.Kind.APPROVE: Escalation.Status.APPROVED, Decision.Kind.REJECT: Escalation.Status.REJECTED,
    Decision.Kind.REVISE: Escalation.Status.REVISED, Decision.Kind.NEEDS_ANALYSIS: Escalation.Status.NEEDS_ANALYSIS}


def escalation_decide(*, escalation_id: int, reviewer: User | AnonymousUser | AgentPrincipal, decision: str,
                      comment: str = "", revised_text: str = "", reviewer_confidence: float | None = None,
                      version: int | None = None) -> dict[str, Any]:
    """Decide an open item. Exactly one of several simultaneous deciders wins; the others get a
    Conflict naming the winner's decision. Critical items need two approvals from different people."""
    if decision not in FINAL_STATUS:
        raise InputError(f"Choose a decision: one of {', '.join(FINAL_STATUS)}.", field="decision")
    problem = decision_problem(decision=decision, comment=comment, revised_text=revised_text)
    if reviewer_confidence is not None:
        confidence.check_unit(reviewer_confidence, "reviewer_confidence")
    escalation = escalation_get(escalation_id=escalation_id)
    if problem is None and decision == Decision.Kind.REVISE and _same_text(revised_text, escalation.interpretation):
        problem = ("The revised text is the claim unchanged: edit it to say what the data support.", "revised_text")
    if problem is not None:
        raise InputError(problem[0], field=problem[1])
    if decision != Decision.Kind.REVISE:
        revised_text = ""  # only a revision carries a revised text
    reviewer = _check_reviewer(escalation, reviewer)
    reservation_check(escalation, reviewer)
    expected = escalation.version if version is None else version
    actor = f"user:{reviewer.get_username()}"

    def lost() -> Conflict:
        current = escalation_get(escalation_id=escalation_id)
        summary = escalation_summary(current)
        winner = summary["decision"]
        what = (f"{winner['reviewer']} already decided it: {winner['decision']}" if winner
                else f"it changed meanwhile (now {current.get_status_display()}, version {current.version})")
        return Conflict(f"This item was not decided by you: {what}.", escalation=summary)

    earlier = list(escalation.decisions.filter(decision=Decision.Kind.APPROVE, final=False))
    first_of_two = (decision == Decision.Kind.APPROVE and escalation.approvals_needed == 2 and not earlier)
    if decision == Decision.Kind.APPROVE and any(d.reviewer_id == reviewer.pk for d in earlier):
        raise InputError("Critical items need a second approval from a different reviewer.")
    with transaction.atomic():
        if first_of_two:
            won = Escalation.objects.filter(pk=escalation.pk, status__in=Escalation.OPEN, version=expected).update(
                status=Escalation.Status.IN_REVIEW, version=F("version") + 1, reserved_by=None, reserved_until=None)
            if not won:
                raise lost()
            Decision.objects.create(escalation=escalation, reviewer=reviewer, decision=decision, comment=comment,
                                    reviewer_confidence=reviewer_confidence, final=False)
            _event(escalation, actor=actor, from_status=escalation.status, to_status=Escalation.Status.IN_REVIEW,
                   version=expected + 1, note="first of two approvals")
            # The second approval is another senior reviewer's (else another reviewer's), never the first's.
            escalation.status, escalation.version = Escalation.Status.IN_REVIEW, expected + 1
            _assign(escalation, senior=True, actor="system", note="second approval", also_exclude=[reviewer.pk])
        else:
            final_status = FINAL_STATUS[decision]
            won = Escalation.objects.filter(pk=escalation.pk, status__in=Escalation.OPEN, version=expected).update(
                status=final_status, version=F("version") + 1, decided_at=timezone.now(), reserved_by=None,
                reserved_until=None)
            if not won:
                raise lost()
            Decision.objects.create(escalation=escalation, reviewer=reviewer, decision=decision, comment=comment,
                                    revised_text=revised_text, reviewer_confidence=reviewer_confidence, final=True)
            _event(escalation, actor=actor, from_status=escalation.status, to_status=final_status,
                   version=expected + 1, note=comment[:500])
            transaction.on_commit(lambda: _tell_agent(escalation_get(escalation_id=escalation_id)))
            if decision != Decision.Kind.NEEDS_ANALYSIS and _labellable(escalation):
                # A checker's automatic label is superseded by this decision (kept as history); see outcome_record.
                vif_services.outcome_record(witness=escalation.witness, correct=decision == Decision.Kind.APPROVE,
                                            source="human", recorded_by=actor,
                                            note=revised_text if decision == Decision.Kind.REVISE else comment)
            elif decision == Decision.Kind.NEEDS_ANALYSIS:
                # No verdict: a calibration sample left unlabelled counts against κ (see kappa_suggestions_compute).
                vif_services.calibration_sample_unresolved(witness=escalation.witness, reason="needs_analysis",
                                                           recorded_by=actor)
    return escalation_summary(escalation_get(escalation_id=escalation_id))


def _labellable(escalation: Escalation) -> bool:
    """False when a person already labelled the witness through the API: their label stands and the decision
    is recorded beside it (an automatic checker's label does not stop a decision: the decision replaces it)."""
    from vifsite.vif.models import Outcome

    existing = Outcome.objects.current().filter(witness=escalation.witness).only("source").first()
    return existing is None or existing.source == Outcome.Source.AUTOMATIC


def sla_hours() -> dict[str, int]:
    return {**SLA_HOURS, **getattr(settings, "VIFSITE_SLA_HOURS", {})}


# --- Assignment, SLAs, deliveries -------------------------------------------------------------------

def least_recently_assigned(group: str, exclude: list[int] | None = None) -> User | None:
    from django.contrib.auth import get_user_model
    from django.db.models import Max

    users = (get_user_model().objects.filter(groups__name=group, is_active=True).exclude(pk__in=exclude or [])
             .annotate(last=Max("assigned_escalations__created_at")))
    return users.order_by(F("last").asc(nulls_first=True), "pk").first()


def _assign(escalation: Escalation, *, senior: bool, actor: str, note: str,
            also_exclude: list[int] | None = None) -> User | None:
    exclude = ([escalation.submitted_owner_id] if escalation.submitted_owner_id else []) + (also_exclude or [])
    user = least_recently_assigned(SENIOR_GROUP if senior else REVIEWERS_GROUP, exclude) or (
        least_recently_assigned(REVIEWERS_GROUP, exclude) if senior else None)
    if user is None:
        return None
    updated = Escalation.objects.filter(pk=escalation.pk, status__in=Escalation.OPEN,
                                        version=escalation.version).update(assignee=user, version=F("version") + 1)
    if updated:
        escalation.version += 1
        _event(escalation, actor=actor, from_status=escalation.status, to_status=escalation.status,
               version=escalation.version, note=f"{note}: {user.get_username()}")
    return user if updated else None


def deliveries_queue(escalation: Escalation, kind: str, urls: list[str], payload: dict[str, Any]) -> None:
    from django_q.tasks import async_task

    from review.models import Delivery

    for url in urls:
        delivery = Delivery.objects.create(escalation=escalation, kind=kind, url=url, payload=payload)
        transaction.on_commit(partial(async_task, "review.tasks.deliver", delivery.pk,
                                      task_name=f"deliver {delivery.pk}"))


def _notify_reviewers(escalation: Escalation) -> None:
    """A new critical item: e-mail every reviewer and POST to the configured reviewer webhooks."""
    from django.contrib.auth import get_user_model

    from review import notify

    link = f"{settings.VIFSITE_SITE_URL}/review/{escalation.pk}/"
    emails = list(get_user_model().objects.filter(groups__name__in=[REVIEWERS_GROUP, SENIOR_GROUP], is_active=True)
                  .exclude(email="").values_list("email", flat=True).distinct())
    transaction.on_commit(lambda: notify.email(emails, f"New critical review item {escalation.pk}",
                                               f"A critical interpretation needs two approvals by "
                                               f"{escalation.due_at:%Y-%m-%d %H:%M} UTC: {link}"))
    deliveries_queue(escalation, "notification", list(settings.VIFSITE_REVIEW_WEBHOOKS),
                     {"event": "escalation.created", "escalation": {"id": escalation.pk, "criticality": "critical",
                                                                    "due_at": escalation.due_at, "url": link}})


def _tell_agent(escalation: Escalation) -> None:
    if escalation.callback_url:
        deliveries_queue(escalation, "callback", [escalation.callback_url],
                         {"event": "escalation.decided", "escalation": escalation_summary(escalation)})


def delivery_attempt(*, delivery_id: int) -> None:
    """One attempt; on failure the next is scheduled with exponential backoff (1, 2, 4, … minutes)."""
    from django_q.models import Schedule

    from review import notify
    from review.models import Delivery

    delivery = Delivery.objects.filter(pk=delivery_id, delivered_at__isnull=True, gave_up_at__isnull=True).first()
    if delivery is None:
        return  # delivered or given up already (tasks may run twice)
    status, error = notify.post_signed(delivery.url, delivery.payload,
                                       site_configured=delivery.kind == Delivery.Kind.NOTIFICATION)
    attempts = delivery.attempts + 1
    now = timezone.now()
    if status is not None and 200 <= status < 300:
        Delivery.objects.filter(pk=delivery.pk).update(attempts=attempts, last_status=status, last_error="",
                                                       delivered_at=now)
        return
    gave_up = attempts >= settings.VIFSITE_CALLBACK_MAX_ATTEMPTS
    Delivery.objects.filter(pk=delivery.pk).update(attempts=attempts, last_status=status, last_error=error,
                                                   gave_up_at=now if gave_up else None)
    if not gave_up:
        Schedule.objects.create(func="review.tasks.deliver", args=str(delivery.pk), schedule_type=Schedule.ONCE,
                                next_run=now + timedelta(minutes=2 ** (attempts - 1)), repeats=1,
                                name=f"retry delivery {delivery.pk} #{attempts + 1}")


def sla_sweep(*, now: Any = None) -> dict[str, int]:
    """Remind assignees before the deadline, move overdue items to senior reviewers, and expire items
    past the hard deadline as abstentions (fail closed; never an automatic approval). An expired calibration
    sample is noted as unresolved, so κ suggestions count it as an error."""
    from review import notify

    now = now or timezone.now()
    counts = {"reminded": 0, "moved": 0, "expired": 0}
    for escalation in Escalation.objects.filter(status__in=Escalation.OPEN, hard_due_at__lte=now):
        with transaction.atomic():
            won = Escalation.objects.filter(pk=escalation.pk, status__in=Escalation.OPEN,
                                            version=escalation.version).update(
                status=Escalation.Status.EXPIRED, version=F("version") + 1, decided_at=now)
            if not won:
                continue
            _event(escalation, actor="system:sla", from_status=escalation.status, to_status=Escalation.Status.EXPIRED,
                   version=escalation.version + 1, note="hard deadline passed: expired as an abstention")
            vif_services.calibration_sample_unresolved(witness=escalation.witness, reason="expired",
                                                       recorded_by="system:sla")
            _tell_agent(escalation_get(escalation_id=escalation.pk))
        counts["expired"] += 1
    for escalation in Escalation.objects.filter(status__in=Escalation.OPEN, due_at__lte=now,
                                                moved_to_senior_at__isnull=True):
        with transaction.atomic():
            if not Escalation.objects.filter(pk=escalation.pk, moved_to_senior_at__isnull=True).update(
                    moved_to_senior_at=now):
                continue
            user = _assign(escalation, senior=True, actor="system:sla", note="overdue, moved to senior reviewer")
            if user is not None:
                notify.email([user.email], f"Overdue review item {escalation.pk}",
                             f"Item {escalation.pk} ({escalation.criticality}) is past its deadline and now yours: "
                             f"{settings.VIFSITE_SITE_URL}/review/{escalation.pk}/")
        counts["moved"] += 1
    for escalation in Escalation.objects.filter(status__in=Escalation.OPEN, assignee__isnull=False,
                                                reminded_at__isnull=True, due_at__gt=now).select_related("assignee"):
        assignee = escalation.assignee
        if assignee is None:  # the query asks for an assignee: nobody to remind
            continue
        window = (escalation.due_at - escalation.created_at) / 4
        if escalation.due_at - now > window:
            continue
        if Escalation.objects.filter(pk=escalation.pk, reminded_at__isnull=True).update(reminded_at=now):
            notify.email([assignee.email], f"Review item {escalation.pk} is due soon",
                         f"Item {escalation.pk} is due at {escalation.due_at:%Y-%m-%d %H:%M} UTC: "
                         f"{settings.VIFSITE_SITE_URL}/review/{escalation.pk}/")
            counts["reminded"] += 1
    return counts


# --- Reservations and bulk actions (the queue) -------------------------------------------------------

def reservation_minutes() -> int:
    return int(getattr(settings, "VIFSITE_REVIEW_RESERVATION_MINUTES", 15))


def person(user: Any) -> str:
    """How the queue names a reviewer: their first name, else their username."""
    return (getattr(user, "first_name", "") or user.get_username()) if user is not None else "nobody"


def escalation_reserve(escalation_id: int, reviewer: User, *,
                       now: Any = None) -> tuple[bool, User | None, Any]:
    """Reserve an open item for ``reviewer`` for VIFSITE_REVIEW_RESERVATION_MINUTES (opening its page does
    this; opening it again renews it). One conditional UPDATE: it wins when nobody holds the item, the
    holder's time ran out, or the holder is ``reviewer``. Returns (reserved, holder, until): on a loss the
    other holder and their time; (False, None, None) for a closed or missing item. Not a status change, so
    the version stays and no history row is written; open queues are told so they show who is on it."""
    now = now or timezone.now()
    until = now + timedelta(minutes=reservation_minutes())
    won = (Escalation.objects.filter(pk=escalation_id, status__in=Escalation.OPEN)
           .filter(Q(reserved_by__isnull=True) | Q(reserved_until__lte=now) | Q(reserved_by=reviewer))
           .update(reserved_by=reviewer, reserved_until=until))
    current = Escalation.objects.select_related("reserved_by").filter(pk=escalation_id).first()
    if current is None or not current.is_open:
        return False, None, None
    transaction.on_commit(lambda: broadcast(escalation_id, current.status))
    if won:
        return True, reviewer, until
    return False, current.reserved_by, current.reserved_until


def escalation_release(escalation_id: int, reviewer: User) -> bool:
    """Give up ``reviewer``'s reservation of an item (leaving its page); someone else's stays. True if
    there was one to release."""
    released = Escalation.objects.filter(pk=escalation_id, reserved_by=reviewer).update(reserved_by=None,
                                                                                         reserved_until=None)
    if released:
        status = Escalation.objects.filter(pk=escalation_id).values_list("status", flat=True).first() or ""
        transaction.on_commit(lambda: broadcast(escalation_id, status))
    return bool(released)


def reservation_holder(escalation: Escalation, *, now: Any = None) -> User | None:
    """Who holds a live reservation of this open item, or None."""
    now = now or timezone.now()
    if (not escalation.is_open or escalation.reserved_by_id is None or escalation.reserved_until is None
            or escalation.reserved_until <= now):
        return None
    return escalation.reserved_by


def reservation_check(escalation: Escalation, reviewer: User, *, now: Any = None) -> None:
    """Refuse to let ``reviewer`` decide an item someone else has reserved (and whose time has not run
    out): raises Conflict saying who has it and until when. Their own reservation, or none, passes."""
    holder = reservation_holder(escalation, now=now)
    if holder is not None and holder.pk != reviewer.pk:
        until = timezone.localtime(escalation.reserved_until)
        raise Conflict(f"{person(holder)} has reserved this item until {until:%H:%M} ({until:%Z}): you can look at "
                       f"it, but decide it only once they leave it or their reservation runs out.",
                       escalation=escalation_summary(escalation))


def _bulk_item(escalation_id: int, reviewer: User | AnonymousUser) -> Escalation:
    escalation = escalation_get(escalation_id=escalation_id)
    _check_reviewer(escalation, reviewer)
    if not escalation.is_open:
        summary = escalation_summary(escalation)
        by = f" by {summary['decision']['reviewer']}" if summary["decision"] else ""
        raise Conflict(f"{escalation.get_status_display().lower()} meanwhile{by}")
    holder = reservation_holder(escalation)
    if holder is not None and holder.pk != reviewer.pk:
        raise Conflict(f"{person(holder)} is on it (reserved)")
    return escalation


def escalations_reject(*, escalation_ids: list[int], reviewer: User | AnonymousUser,
                       reason: str) -> list[dict[str, Any]]:
    """Reject several items with one reason: each through escalation_decide on its own (its own conditional
    UPDATE, decision, history row and outcome), one after the other. Skipped, with why: items closed
    meanwhile, reserved by someone else, awaiting a second approval (someone approved it: decide it on its
    page), or the reviewer's own. Returns one {"id", "done", "message"} per item, in the order given."""
    if not reason.strip():
        raise InputError("Give the reason for rejecting these items: it is recorded with each of them.")
    results = []
    for escalation_id in dict.fromkeys(escalation_ids):
        try:
            escalation = _bulk_item(escalation_id, reviewer)
            if escalation.decisions.filter(decision=Decision.Kind.APPROVE, final=False).exists():
                raise Conflict("awaiting a second approval: decide it on its page")
            escalation_decide(escalation_id=escalation_id, reviewer=reviewer, decision=Decision.Kind.REJECT,
                              comment=reason.strip(), version=escalation.version)
        except (InputError, NotFound) as exc:
            results.append({"id": escalation_id, "done": False, "message": _short(exc.message)})
        else:
            results.append({"id": escalation_id, "done": True, "message": "rejected"})
    return results


def escalations_assign(*, escalation_ids: list[int], reviewer: User | AnonymousUser,
                       assignee: User | None) -> list[dict[str, Any]]:
    """Assign open items to ``assignee`` (a reviewer who did not submit them), or release them (``None``:
    unassigned, back to anyone). Each by its own conditional UPDATE on (status, version), with a history
    row. Returns one {"id", "done", "message"} per item."""
    if assignee is not None and not is_reviewer(assignee):
        raise InputError(f"{assignee.get_username()} is not a reviewer.")
    actor = f"user:{reviewer.get_username()}"
    results = []
    for escalation_id in dict.fromkeys(escalation_ids):
        try:
            escalation = _bulk_item(escalation_id, reviewer)
            if assignee is not None and escalation.submitted_owner_id == assignee.pk:
                raise Forbidden(f"{assignee.get_username()} submitted it")
            if escalation.assignee_id == (assignee.pk if assignee else None):
                results.append({"id": escalation_id, "done": True, "message": "unchanged"})
                continue
            with transaction.atomic():
                won = Escalation.objects.filter(pk=escalation.pk, status__in=Escalation.OPEN,
                                                version=escalation.version).update(assignee=assignee,
                                                                                   version=F("version") + 1)
                if not won:
                    raise Conflict("changed meanwhile: try again")
                note = f"assigned by {reviewer.get_username()}: {assignee.get_username()}" if assignee else (
                    f"released by {reviewer.get_username()}")
                _event(escalation, actor=actor, from_status=escalation.status, to_status=escalation.status,
                       version=escalation.version + 1, note=note)
        except (InputError, NotFound) as exc:
            results.append({"id": escalation_id, "done": False, "message": _short(exc.message)})
        else:
            results.append({"id": escalation_id, "done": True, "message": "assigned" if assignee else "released"})
    return results


def _short(message: str) -> str:
    """A refusal as a queue report says it ("decided meanwhile by sam"), from the service's sentence."""
    prefix = "This item was not decided by you: "
    if message.startswith(prefix):
        message = message[len(prefix):].replace(" already decided it: ", " decided it meanwhile: ")
    return message.rstrip(".")
