from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from vifsite.appendonly import AppendOnlyModel
from vifsite.vif.models import AgentKey, Criticality, Witness

REVIEWERS_GROUP = "reviewers"
SENIOR_GROUP = "senior reviewers"


class EscalationQuerySet(models.QuerySet["Escalation"]):
    """Bulk changes tell the queue's page cache, as a save does (``review.apps`` connects the signals). Items
    are created one by one (``save``), never with ``bulk_create``."""

    def update(self, **kwargs: Any) -> int:
        changed = super().update(**kwargs)
        if changed:
            _queue_changed()
        return changed

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        changed = super().bulk_update(objs, fields, batch_size=batch_size)
        if changed:
            _queue_changed()
        return changed


def _queue_changed() -> None:
    from review.queue import changed

    changed()


class Escalation(models.Model):
    """An interpretation waiting for a human. Status changes only through ``review.services``, each
    by one conditional UPDATE on (status, version), and each leaves a history row."""

    class Status(models.TextChoices):
        PENDING = "pending"
        IN_REVIEW = "in_review", "in review"
        APPROVED = "approved"
        REJECTED = "rejected"
        REVISED = "revised"
        NEEDS_ANALYSIS = "needs_analysis", "needs analysis"
        EXPIRED = "expired"

    OPEN = (Status.PENDING, Status.IN_REVIEW)

    class Reason(models.TextChoices):
        GATE = "gate", "below κ"
        ROUTING = "routing", "band and criticality"
        HIGH_STAKES = "high_stakes", "high stakes"
        CONTRADICTED = "contradicted", "contradicted by the data"
        SPOT_CHECK = "spot_check", "calibration spot check"

    witness = models.OneToOneField(Witness, on_delete=models.PROTECT, related_name="escalation", to_field="vif_id")
    survey_id = models.IntegerField(null=True, blank=True)
    extraction_ids = models.JSONField(default=list)
    interpretation = models.TextField(help_text="The agent's interpretation as submitted (text form).")
    structured = models.JSONField(null=True, blank=True, help_text="The structured analysis, when one was given.")
    audit = models.JSONField(default=dict, help_text="The interpretation audit: findings and grounding score.")
    reasons = models.JSONField(default=list, help_text="Why it needs a human: codes and explanations.")
    high_stakes = models.JSONField(default=list, help_text="High-stakes topics found in the interpretation.")
    criticality = models.CharField(max_length=20, choices=Criticality.choices)
    domain = models.CharField(max_length=100, blank=True)
    submitted_by = models.CharField(max_length=200)
    submitted_key = models.ForeignKey(AgentKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who owned the submitting key then: never their reviewer, whatever later happens to the key.")
    callback_url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_escalations")
    approvals_needed = models.PositiveSmallIntegerField(default=1)
    due_at = models.DateTimeField(db_index=True)
    version = models.PositiveIntegerField(default=1)
    hard_due_at = models.DateTimeField(help_text="Past this the item expires as an abstention (fail closed).")
    reminded_at = models.DateTimeField(null=True, blank=True)
    moved_to_senior_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Opening an item reserves it for a while (review.services.escalation_reserve), so two reviewers do not
    # work the same item; a reservation past reserved_until is no reservation.
    reserved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reserved_until = models.DateTimeField(null=True, blank=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "criticality", "due_at"])]

    def __str__(self) -> str:
        return f"escalation {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class Decision(AppendOnlyModel):
    class Kind(models.TextChoices):
        APPROVE = "approve"
        REJECT = "reject"
        REVISE = "revise"
        NEEDS_ANALYSIS = "needs_analysis", "request more analysis"

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_decisions")
    decision = models.CharField(max_length=20, choices=Kind.choices)
    comment = models.TextField(blank=True)
    revised_text = models.TextField(blank=True)
    reviewer_confidence = models.FloatField(null=True, blank=True)
    final = models.BooleanField(default=True, help_text="False for the first of two approvals (four eyes).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class EscalationEvent(AppendOnlyModel):
    """The append-only history: every status change and assignment."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="events")
    actor = models.CharField(max_length=200)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    version = models.PositiveIntegerField()
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class Delivery(models.Model):
    """One signed webhook POST (an agent's callback or a reviewers' notification) and its attempts."""

    class Kind(models.TextChoices):
        CALLBACK = "callback"
        NOTIFICATION = "notification"

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    url = models.URLField(max_length=500)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind} delivery {self.pk} for escalation {self.escalation_id}"
