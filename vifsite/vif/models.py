from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from vifsite.appendonly import AppendOnlyModel, AppendOnlyQuerySet


class AgentKey(AbstractAPIKey):
    """An LLM agent's credential. Stored hashed (only the prefix is readable), may expire or be
    revoked. Its name identifies the agent as the principal of everything it requests."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent_keys",
        help_text="The person responsible for this agent, if any.",
    )
    can_manage_surveys = models.BooleanField(
        default=False, help_text="May import SEG-Y files and register volumes through the API."
    )
    can_record_outcomes = models.BooleanField(
        default=False, help_text="May label other writers' witnesses correct or not (an automatic checker)."
    )
    can_read_metrics = models.BooleanField(
        default=False, help_text="May read the monitoring metrics (a Prometheus scraper)."
    )
    last_used_at = models.DateTimeField(
        "last used", null=True, blank=True, editable=False,
        help_text="When a request last authenticated with this key (recorded at most once a minute).")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "agent API key"
        verbose_name_plural = "agent API keys"

    @property
    def principal(self) -> str:
        return f"agent:{self.name}"


class Criticality(models.TextChoices):
    CRITICAL = "critical"
    IMPORTANT = "important"
    ROUTINE = "routine"
    LOW_STAKES = "low_stakes"


class Witness(AppendOnlyModel):
    """Everything recorded about one AI operation or tool call, and its place in the signed ledger.

    Field names follow the VIF schema. Confidences and thresholds are kept in millionths
    (``*_micros``) so binning and gating are exact; the API shows them as ``confidence_score`` and
    ``kappa_threshold``. Never updated: the only change allowed is retirement to hashes only
    (``services.witness_retire``), which the ledger is built to survive.
    """

    class Operation(models.TextChoices):
        LLM = "llm"
        TOOL = "tool"

    vif_id = models.UUIDField(unique=True, editable=False)
    schema_version = models.CharField(max_length=20)
    operation = models.CharField(max_length=10, choices=Operation.choices)

    model_id = models.CharField(max_length=200, blank=True)
    model_provider = models.CharField(max_length=100, blank=True)
    model_version = models.CharField(max_length=100, blank=True)
    weights_hash = models.CharField(max_length=128, blank=True)

    context_snapshot = models.JSONField(default=list, blank=True)
    prompt_template = models.TextField(blank=True)
    prompt_hash = models.CharField(max_length=64, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    prompt_tokens_estimated = models.BooleanField(default=False)
    retrieved_ids = models.JSONField(default=list, blank=True)
    prompt_text = models.TextField(blank=True, help_text="Kept only when the writer asked for it.")

    tool_ids = models.JSONField(default=list, blank=True)
    tool_parameters = models.JSONField(default=dict, blank=True)
    tool_results_hash = models.CharField(max_length=64, blank=True)

    confidence_micros = models.PositiveIntegerField(null=True, blank=True)
    confidence_method = models.CharField(max_length=40, blank=True)
    confidence_band = models.CharField(max_length=1, blank=True)
    confidence_details = models.JSONField(default=dict, blank=True)
    ece_at_time = models.FloatField(null=True, blank=True)
    entropy = models.FloatField(null=True, blank=True)
    top_k_probs = models.JSONField(null=True, blank=True)

    replay_seed = models.BigIntegerField(null=True, blank=True)
    temperature = models.FloatField(null=True, blank=True)
    top_p = models.FloatField(null=True, blank=True)
    top_k = models.PositiveIntegerField(null=True, blank=True)
    max_tokens = models.PositiveIntegerField(null=True, blank=True)
    generation_params = models.JSONField(default=dict, blank=True)

    output_hash = models.CharField(max_length=64, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens_estimated = models.BooleanField(default=False)
    total_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_text = models.TextField(blank=True, help_text="Kept only when the writer asked for it.")

    writer = models.CharField(max_length=200)
    task_criticality = models.CharField(max_length=20, choices=Criticality.choices, blank=True)
    domain = models.CharField(max_length=100, blank=True)
    kappa_threshold_micros = models.PositiveIntegerField(null=True, blank=True)
    kappa_gate_passed = models.BooleanField(null=True, blank=True)
    routing = models.CharField(max_length=30, blank=True)
    calibration_sample = models.BooleanField(default=False)

    created_at = models.DateTimeField()
    execution_time_ms = models.FloatField(null=True, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               to_field="vif_id", db_column="parent_vif_id")

    # The ledger entry. Empty (sequence NULL) while the witness is a queued leaf, filled once when the
    # ledger integrates it (ledger.integrate), never changed after.
    sequence = models.BigIntegerField(unique=True, null=True, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    payload_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)  # noqa: DJ001  NULL until integrated
    signature = models.CharField(max_length=100, blank=True)
    entry_jcs = models.TextField(blank=True, help_text="The exact signed bytes of the ledger entry (RFC 8785 JSON).")
    payload_jcs = models.TextField(null=True, blank=True,  # noqa: DJ001  NULL marks a retired witness, not ""
                                   help_text="The exact canonical bytes of the recorded fields; empty once retired.")
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sequence"]
        verbose_name_plural = "witnesses"
        indexes = [
            models.Index(fields=["created_at"]),
            models.Index(fields=["operation", "created_at"]),
            models.Index(fields=["model_id", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence if self.sequence is not None else 'pending'} {self.operation} {self.vif_id}"

    @property
    def confidence_score(self) -> float | None:
        return None if self.confidence_micros is None else self.confidence_micros / 1_000_000

    @property
    def kappa_threshold(self) -> float | None:
        return None if self.kappa_threshold_micros is None else self.kappa_threshold_micros / 1_000_000


class LedgerHead(models.Model):
    """The single chain-head row. Every integration locks it first (an UPDATE), so batches queue on it
    on PostgreSQL and SQLite alike and no two entries ever share a predecessor."""

    sequence = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ledger head at {self.sequence}"


class KappaPolicy(models.Model):
    """κ: the confidence a task of this criticality (and domain, and model) needs to go ahead without a human.
    The gate takes the most specific policy that matches (``services.kappa_policy_pick``): criticality, domain
    and model; then criticality and model; then criticality and domain; then the criticality alone."""

    criticality = models.CharField(max_length=20, choices=Criticality.choices)
    domain = models.CharField(max_length=100, blank=True, help_text="Empty for the criticality's default.")
    model_id = models.CharField(max_length=200, blank=True,
                                help_text="Empty for every model. A model's own κ wins over the criticality's and "
                                          "its domains' κ for that model's tasks.")
    threshold = models.DecimalField(max_digits=7, decimal_places=6,
                                    validators=[MinValueValidator(0), MaxValueValidator(1)])
    updated_by = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["criticality", "domain", "model_id"]
        verbose_name_plural = "κ policies"
        verbose_name = "κ policy"
        constraints = [models.UniqueConstraint(fields=["criticality", "domain", "model_id"],
                                               name="one_kappa_per_scope")]

    def __str__(self) -> str:
        from vifsite.vif.thresholds import kappa_text

        return f"{self.key} κ={kappa_text(self.threshold)}"

    @property
    def key(self) -> str:
        """``critical``, ``critical.medical``, ``critical@model`` or ``critical.medical@model``."""
        base = f"{self.criticality}.{self.domain}" if self.domain else self.criticality
        return f"{base}@{self.model_id}" if self.model_id else base

    @property
    def threshold_micros(self) -> int:
        return int((self.threshold * 1_000_000).to_integral_value())


class KappaPolicyChange(AppendOnlyModel):
    policy = models.ForeignKey(KappaPolicy, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.CharField(max_length=200)
    changed_at = models.DateTimeField(auto_now_add=True)
    old_threshold = models.DecimalField(max_digits=7, decimal_places=6, null=True)
    new_threshold = models.DecimalField(max_digits=7, decimal_places=6)
    reason = models.TextField()

    class Meta:
        ordering = ["-changed_at", "-id"]


class GateEvent(AppendOnlyModel):
    """One κ-gate evaluation, passes included, so abstention rates are real rates."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    writer = models.CharField(max_length=200)
    criticality = models.CharField(max_length=20, choices=Criticality.choices)
    domain = models.CharField(max_length=100, blank=True)
    confidence_micros = models.PositiveIntegerField()
    threshold_micros = models.PositiveIntegerField()
    passed = models.BooleanField()
    witness = models.ForeignKey(Witness, null=True, blank=True, on_delete=models.PROTECT, related_name="gate_events")

    class Meta:
        ordering = ["-id"]


class OutcomeQuerySet(AppendOnlyQuerySet):
    def current(self) -> OutcomeQuerySet:
        """One label per witness: the outcomes no later outcome supersedes."""
        return self.filter(superseded_by__isnull=True)

    def unbiased(self) -> OutcomeQuerySet:
        """Labels calibration may learn from: random calibration samples, labels from checkers or the API,
        and a reviewer's decision that superseded such a label (the witness was in this set already; only
        its label got better). Human decisions on escalated items alone would teach calibration about
        low-confidence outputs only."""
        return self.filter(models.Q(calibration_sample=True) | ~models.Q(source=Outcome.Source.HUMAN)
                           | models.Q(supersedes__isnull=False))


class Outcome(AppendOnlyModel):
    """Whether a witnessed output turned out correct: the label calibration and κ learn from.
    Copies the witness's model, criticality and confidence so calibration is one GROUP BY.

    One current label per witness: a reviewer's decision (source "human") on a witness an automatic checker
    labelled already is a new row that ``supersedes`` the automatic one, which stays as history. Readers
    take ``Outcome.objects.current()``."""

    class Source(models.TextChoices):
        HUMAN = "human"
        API = "api"
        AUTOMATIC = "automatic"

    # The django-stubs plugin makes the base's manager a ClassVar, so any override reads as an instance variable.
    objects = OutcomeQuerySet.as_manager()  # type: ignore[misc]

    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="outcomes", to_field="vif_id")
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by",
        help_text="The automatic label this reviewer's decision replaces (kept as history).")
    correct = models.BooleanField()
    source = models.CharField(max_length=10, choices=Source.choices)
    recorded_by = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)
    created_day = models.DateField(help_text="created_at's UTC date, for daily calibration without date functions.")

    model_id = models.CharField(max_length=200)
    model_version = models.CharField(max_length=100, blank=True)
    criticality = models.CharField(max_length=20, blank=True)
    domain = models.CharField(max_length=100, blank=True)
    confidence_micros = models.PositiveIntegerField()
    confidence_method = models.CharField(max_length=40)
    gate_passed = models.BooleanField(null=True)
    calibration_sample = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["witness"], condition=models.Q(supersedes__isnull=True),
                                               name="one_first_outcome_per_witness")]
        indexes = [
            # Covers the calibration report's single GROUP BY pass, so it never reads the table itself.
            models.Index(fields=["model_id", "model_version", "criticality", "confidence_method", "created_day",
                                 "confidence_micros", "correct", "created_at", "calibration_sample"],
                         name="vif_outcome_calibration"),
            models.Index(fields=["criticality", "model_id", "model_version", "confidence_method", "created_day",
                                 "confidence_micros", "correct", "created_at", "calibration_sample"],
                         name="vif_outcome_calibration_tier"),
        ]


class KappaSuggestion(models.Model):
    """The Learn-then-Test κ computed from calibration samples, beside the policy until an admin
    applies it (or the optional automatic mode does, within admin-set bounds)."""

    criticality = models.CharField(max_length=20, choices=Criticality.choices)
    domain = models.CharField(max_length=100, blank=True)
    model_id = models.CharField(max_length=200)
    model_version = models.CharField(max_length=100, blank=True)
    suggested = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True,
                                    help_text="Empty: no κ can be shown to keep the risk; send every item to a human.")
    evidence = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["criticality", "domain", "model_id", "model_version"]
        verbose_name = "κ suggestion"
        verbose_name_plural = "κ suggestions"
        constraints = [models.UniqueConstraint(fields=["criticality", "domain", "model_id", "model_version"],
                                               name="one_suggestion_per_window")]

    def __str__(self) -> str:
        from vifsite.vif.thresholds import kappa_text

        key = f"{self.criticality}.{self.domain}" if self.domain else self.criticality
        value = "none" if self.suggested is None else kappa_text(self.suggested)
        return f"{key} {self.model_id} {self.model_version}: {value}"


class UnresolvedSample(AppendOnlyModel):
    """A calibration sample whose review ended without a verdict: it expired, or the reviewer asked for more
    analysis. The samples that do get a verdict are not a random subset, so κ suggestions count this one as
    an error until the witness gets a label. Copies the witness's model, criticality and confidence as
    ``Outcome`` does."""

    class Reason(models.TextChoices):
        EXPIRED = "expired", "expired"
        NEEDS_ANALYSIS = "needs_analysis", "needs analysis"

    witness = models.OneToOneField(Witness, on_delete=models.PROTECT, related_name="unresolved_sample",
                                   to_field="vif_id")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    recorded_by = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    model_id = models.CharField(max_length=200)
    model_version = models.CharField(max_length=100, blank=True)
    criticality = models.CharField(max_length=20, blank=True)
    domain = models.CharField(max_length=100, blank=True)
    confidence_micros = models.PositiveIntegerField()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "unresolved calibration sample"

    def __str__(self) -> str:
        return f"{self.witness_id} {self.get_reason_display()}"


class IdempotentRequest(models.Model):
    """The answer given to a witness POST that carried an ``Idempotency-Key``: the same key from the same
    principal within ``IDEMPOTENCY_WINDOW`` gets this answer again instead of a second witness. The row is
    inserted before the ledger append in the same transaction, so a racing request with the same key waits
    on the unique constraint and then replays the winner's answer."""

    principal = models.CharField(max_length=200)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the endpoint and the request body.")
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="one_idempotency_key_per_principal")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"
