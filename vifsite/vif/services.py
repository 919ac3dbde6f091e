"""Workflows of the VIF: record witnesses (one or a batch), gate confidence with κ, record outcomes,
change κ with history, and witness tool calls."""

from __future__ import annotations

import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from vifsite.errors import Conflict, InputError, NotFound
from vifsite.vif import calibration, confidence, ledger, thresholds
from vifsite.vif.models import (
    GateEvent,
    IdempotentRequest,
    KappaPolicy,
    KappaPolicyChange,
    KappaSuggestion,
    Outcome,
    UnresolvedSample,
    Witness,
)

_SAMPLER = random.SystemRandom()

HEX64 = frozenset("0123456789abcdef")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_hash(value: str, name: str) -> str:
    value = (value or "").strip().lower()
    if len(value) != 64 or not set(value) <= HEX64:
        raise InputError(f"{name} must be a SHA-256 as 64 hexadecimal digits.")
    return value


def estimate_tokens(text: str) -> int:
    """About four characters per token for English text (marked as an estimate wherever used)."""
    return max(1, math.ceil(len(text) / 4))


# --- κ-gate -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GateResult:
    verdict: str  # PASS or ABSTAIN
    confidence_micros: int
    threshold_micros: int
    criticality: str
    domain: str
    policy: str
    reason: str

    @property
    def passed(self) -> bool:
        return self.verdict == "PASS"

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "passed": self.passed, "confidence": self.confidence_micros / 1e6,
                "threshold": self.threshold_micros / 1e6, "criticality": self.criticality, "domain": self.domain,
                "policy": self.policy, "reason": self.reason}


def kappa_policy_pick(policies: Iterable[KappaPolicy], *, domain: str = "",
                      model_id: str = "") -> KappaPolicy | None:
    """The policy of one criticality that governs a task: the one for its domain and model; else the stricter
    (higher κ) of the model's own policy and the domain's, when either exists (a model's κ learned without a
    domain never loosens a domain an admin made stricter, such as critical.medical); else the criticality's."""
    by_scope = {(p.domain, p.model_id): p for p in policies}
    if (domain, model_id) in by_scope:
        return by_scope[(domain, model_id)]
    either = [by_scope[scope] for scope in (("", model_id), (domain, "")) if scope in by_scope]
    if either:
        return max(either, key=lambda p: p.threshold)
    return by_scope.get(("", ""))


def kappa_policy_for(*, criticality: str, domain: str = "", model_id: str = "") -> KappaPolicy:
    if criticality not in confidence.CRITICALITIES:
        raise InputError(f"task_criticality must be one of {', '.join(confidence.CRITICALITIES)}, "
                         f"not {criticality!r}.")
    policy = kappa_policy_pick(KappaPolicy.objects.filter(criticality=criticality, domain__in={domain, ""},
                                                          model_id__in={model_id, ""}),
                               domain=domain, model_id=model_id)
    if policy is None:
        raise InputError(f"No κ policy is set for {criticality!r} tasks; an admin must add one.")
    return policy


def gate_decide(*, confidence_micros: int, criticality: str, domain: str = "", model_id: str = "") -> GateResult:
    policy = kappa_policy_for(criticality=criticality, domain=domain, model_id=model_id)
    threshold = policy.threshold_micros
    score, kappa = confidence_micros / 1e6, threshold / 1e6
    where = f"{criticality} tasks" + (f" in {domain}" if domain else "") + (
        f" of {model_id}" if policy.model_id else "")
    source = f"κ policy {policy.key}"
    if confidence_micros >= threshold:
        return GateResult("PASS", confidence_micros, threshold, criticality, domain, policy.key,
                          f"Confidence {score:.3f} meets κ = {kappa:.3f} for {where} ({source}).")
    return GateResult("ABSTAIN", confidence_micros, threshold, criticality, domain, policy.key,
                      f"Confidence {score:.3f} is below κ = {kappa:.3f} for {where} ({source}): abstain and let a "
                      "human decide, or gather evidence (check the claims against the data) and try again.")


def gate_evaluate(*, confidence_score: Any, criticality: str, domain: str = "", writer: str,
                  model_id: str = "") -> GateResult:
    """The κ-gate on its own (no witness). Every evaluation is recorded for the abstention rate."""
    try:
        micros = confidence.to_micros(confidence_score)
    except confidence.ConfidenceError as exc:
        raise InputError(str(exc)) from None
    result = gate_decide(confidence_micros=micros, criticality=criticality, domain=domain, model_id=model_id)
    GateEvent.objects.create(writer=writer, criticality=criticality, domain=domain, confidence_micros=micros,
                             threshold_micros=result.threshold_micros, passed=result.passed)
    return result


def kappa_policy_set(*, policy: KappaPolicy, threshold: Decimal, reason: str, changed_by: str) -> KappaPolicy:
    """Change κ with a reason; the change is kept as history (who, when, old, new, why)."""
    reason = (reason or "").strip()
    if not reason:
        raise InputError("A change of κ needs a reason.")
    if not Decimal(0) <= threshold <= Decimal(1):
        raise InputError("κ must lie in [0, 1].")
    with transaction.atomic():
        old = None
        if policy.pk:
            old = KappaPolicy.objects.filter(pk=policy.pk).values_list("threshold", flat=True).first()
        policy.threshold = threshold
        policy.updated_by = changed_by
        policy.reason = reason
        policy.save()
        KappaPolicyChange.objects.create(policy=policy, changed_by=changed_by, old_threshold=old,
                                         new_threshold=threshold, reason=reason)
    return policy


# --- Witnesses ------------------------------------------------------------------------------------

@dataclass
class Recorded:
    witness: Witness
    gate: GateResult
    routing: str

    def as_dict(self) -> dict[str, Any]:
        w = self.witness
        return {
            "vif_id": str(w.vif_id), "sequence": w.sequence, "entry_hash": w.entry_hash,
            "confidence_score": w.confidence_score, "confidence_method": w.confidence_method,
            "confidence_band": w.confidence_band, "entropy": w.entropy,
            "kappa_threshold": w.kappa_threshold, "kappa_gate_passed": w.kappa_gate_passed,
            "gate": self.gate.as_dict(),
            "routing": {"action": self.routing, "message": confidence.ROUTING_MESSAGES.get(self.routing, "")},
            "prompt_tokens": w.prompt_tokens, "prompt_tokens_estimated": w.prompt_tokens_estimated,
            "output_tokens": w.output_tokens, "output_tokens_estimated": w.output_tokens_estimated,
            "calibration_sample": w.calibration_sample, "created_at": w.created_at,
        }


def current_ece(model_id: str) -> float | None:
    """The model's ECE over all its outcomes so far (cached for a minute; None before enough data)."""
    if not model_id:
        return None
    key = f"vif:ece:{hashlib.sha256(model_id.encode()).hexdigest()[:20]}"
    cached = cache.get(key)
    if cached is not None:
        return None if cached == "none" else cached
    hist = outcome_histogram(Outcome.objects.current().unbiased().filter(model_id=model_id))
    value = None
    if hist.n >= settings.VIFSITE_CALIBRATION_MIN_SAMPLES:
        value = calibration.ece(hist, settings.VIFSITE_CALIBRATION_BINS)
    cache.set(key, "none" if value is None else value, 60)
    return value


def outcome_histogram(outcomes: Any) -> calibration.Histogram:
    from django.db.models import Count, Q

    rows = (outcomes.order_by().values("confidence_micros")
            .annotate(n=Count("id"), k=Count("id", filter=Q(correct=True)))
            .values_list("confidence_micros", "n", "k"))
    return calibration.Histogram.from_rows(rows)


def _prepare(item: Mapping[str, Any], *, writer: str, parents: Mapping[str, Witness]) -> tuple[Witness, GateResult]:
    """An unsaved witness from one validated request item, with its confidence, band and gate."""
    prompt, output = item.get("prompt"), item.get("output")
    if prompt is None and not item.get("prompt_hash"):
        raise InputError("Give the prompt or its prompt_hash.")
    if output is None and not item.get("output_hash"):
        raise InputError("Give the output or its output_hash.")
    prompt_hash = sha256_text(prompt) if prompt is not None else _check_hash(item["prompt_hash"], "prompt_hash")
    output_hash = sha256_text(output) if output is not None else _check_hash(item["output_hash"], "output_hash")
    if prompt is not None and item.get("prompt_hash") and \
            _check_hash(item["prompt_hash"], "prompt_hash") != prompt_hash:
        raise InputError("prompt_hash is not the SHA-256 of the prompt given.")
    if output is not None and item.get("output_hash") and \
            _check_hash(item["output_hash"], "output_hash") != output_hash:
        raise InputError("output_hash is not the SHA-256 of the output given.")
    try:
        conf = confidence.compute(confidence=item.get("confidence"), logprobs=item.get("logprobs"),
                                  logits=item.get("logits"), probabilities=item.get("probabilities"),
                                  verbalised=item.get("verbalized_confidence"), text=output)
    except confidence.ConfidenceError as exc:
        raise InputError(str(exc)) from None
    if item.get("confidence_factor") is not None:
        # A caller-side adjustment (the review flow multiplies in the audit's grounding score).
        try:
            factor = confidence.check_unit(item["confidence_factor"], "confidence_factor")
        except confidence.ConfidenceError as exc:
            raise InputError(str(exc)) from None
        conf = confidence.Confidence(
            score=conf.score * factor, method=f"{conf.method}*{item.get('confidence_factor_name', 'factor')}",
            entropy=conf.entropy, top_k_probs=conf.top_k_probs,
            details={**conf.details, "unadjusted_score": conf.score,
                     item.get("confidence_factor_name", "factor"): factor})

    usage = item.get("usage") or {}
    prompt_tokens, prompt_estimated = usage.get("prompt_tokens"), False
    if prompt_tokens is None and prompt is not None:
        prompt_tokens, prompt_estimated = estimate_tokens(prompt), True
    output_tokens, output_estimated = usage.get("completion_tokens"), False
    if output_tokens is None and output is not None:
        output_tokens, output_estimated = estimate_tokens(output), True
    total = usage.get("total_tokens")
    if total is None and prompt_tokens is not None and output_tokens is not None:
        total = prompt_tokens + output_tokens

    criticality, domain = item["task_criticality"], item.get("domain", "")
    micros = conf.micros
    gate = gate_decide(confidence_micros=micros, criticality=criticality, domain=domain,
                       model_id=item["model_id"])
    band = confidence.band(conf.score, a=settings.VIFSITE_BAND_A, b=settings.VIFSITE_BAND_B)
    routing = confidence.route(band_label=band, criticality=criticality, gate_passed=gate.passed)

    parent = None
    if item.get("parent_vif_id"):
        parent = parents.get(str(item["parent_vif_id"]))
        if parent is None:
            raise InputError(f"parent_vif_id {item['parent_vif_id']} is not a recorded witness.")
    store = bool(item.get("store_text"))
    model_id = item["model_id"]
    witness = Witness(
        vif_id=uuid.uuid4(), operation=Witness.Operation.LLM,
        model_id=model_id, model_provider=item.get("model_provider", ""),
        model_version=item.get("model_version", ""), weights_hash=item.get("weights_hash", ""),
        context_snapshot=list(item.get("context_snapshot") or []), prompt_template=item.get("prompt_template", ""),
        prompt_hash=prompt_hash, prompt_tokens=prompt_tokens, prompt_tokens_estimated=prompt_estimated,
        retrieved_ids=list(item.get("retrieved_ids") or []), prompt_text=prompt if store and prompt else "",
        tool_ids=list(item.get("tool_ids") or []), tool_parameters=dict(item.get("tool_parameters") or {}),
        tool_results_hash=_check_hash(item["tool_results_hash"], "tool_results_hash")
        if item.get("tool_results_hash") else "",
        confidence_micros=micros, confidence_method=conf.method, confidence_band=band,
        confidence_details=conf.details, ece_at_time=current_ece(model_id), entropy=conf.entropy,
        top_k_probs=conf.top_k_probs,
        replay_seed=item.get("replay_seed"), temperature=item.get("temperature"), top_p=item.get("top_p"),
        top_k=item.get("top_k"), max_tokens=item.get("max_tokens"),
        generation_params=dict(item.get("generation_params") or {}),
        output_hash=output_hash, output_tokens=output_tokens, output_tokens_estimated=output_estimated,
        total_tokens=total, output_text=output if store and output else "",
        writer=writer, task_criticality=criticality, domain=domain, kappa_threshold_micros=gate.threshold_micros,
        kappa_gate_passed=gate.passed, routing=routing,
        # Drawn from the OS's generator: an agent cannot learn to predict which answers get spot-checked.
        calibration_sample=_SAMPLER.random() < settings.VIFSITE_CALIBRATION_SAMPLE_RATE,
        execution_time_ms=item.get("execution_time_ms"), parent=parent,
    )
    return witness, gate


def witness_record_many(*, items: Sequence[Mapping[str, Any]], writer: str) -> list[Recorded]:
    """Record witnesses in one transaction: all of them or, on any bad item, none."""
    if not items:
        raise InputError("Give at least one witness.")
    limit = settings.VIFSITE_WITNESS_BATCH_MAX
    if len(items) > limit:
        raise InputError(f"At most {limit} witnesses per batch.")
    parent_ids = {str(item["parent_vif_id"]) for item in items if item.get("parent_vif_id")}
    parents = {str(w.vif_id): w for w in Witness.objects.filter(vif_id__in=parent_ids)} if parent_ids else {}
    prepared = []
    for index, item in enumerate(items):
        try:
            prepared.append(_prepare(item, writer=writer, parents=parents))
        except InputError as exc:
            if len(items) == 1:
                raise
            raise InputError(f"witness {index}: {exc.message}", index=index, **exc.details) from None
    witnesses = [witness for witness, _ in prepared]
    with transaction.atomic():
        ledger.queue(witnesses)
        GateEvent.objects.bulk_create([
            GateEvent(writer=writer, criticality=gate.criticality, domain=gate.domain,
                      confidence_micros=gate.confidence_micros, threshold_micros=gate.threshold_micros,
                      passed=gate.passed, witness=witness) for witness, gate in prepared])
    # After the commit when called on its own: the chain-head lock is not held across the inserts above.
    ledger.integrate(witnesses)
    return [Recorded(witness, gate, witness.routing) for witness, gate in prepared]


IDEMPOTENCY_WINDOW = timedelta(hours=24)
IDEMPOTENCY_KEY_MAX = 200


def idempotency_request_hash(*, endpoint: str, body: Any) -> str:
    """What a repeated request must match: the endpoint and the body as parsed (key order ignored)."""
    return sha256_text(json.dumps([endpoint, body], sort_keys=True, separators=(",", ":"), default=str))


def witness_record_once(*, items: Sequence[Mapping[str, Any]], writer: str, key: str, request_hash: str,
                        render: Callable[[list[Recorded]], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
    """Record witnesses at most once per (writer, key) within IDEMPOTENCY_WINDOW. Answers the rendered
    response and whether it is a replay of an earlier one. The key is claimed (a unique row) in the same
    transaction as the append, before it: a concurrent request with the same key blocks on the constraint
    until the first commits, then replays its answer; if the first fails, nothing of it stays and the
    second records. Only recorded answers are kept, so after an error the same key may be sent again."""
    key = (key or "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable() or not key.isascii():
        raise InputError(f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters.")
    now = timezone.now()
    with transaction.atomic():
        IdempotentRequest.objects.filter(principal=writer, key=key, created_at__lt=now - IDEMPOTENCY_WINDOW).delete()
        try:
            with transaction.atomic():
                claim = IdempotentRequest.objects.create(principal=writer, key=key, request_hash=request_hash,
                                                         created_at=now)
        except IntegrityError:
            earlier = IdempotentRequest.objects.get(principal=writer, key=key)
            if earlier.request_hash != request_hash:
                raise Conflict("This Idempotency-Key was used with a different request; use a new key for a new "
                               "witness.", idempotency_key=key) from None
            if earlier.response is None:  # claimed and answered in one transaction: never seen unanswered
                raise Conflict("This Idempotency-Key's request has no recorded answer; send it again.",
                               idempotency_key=key) from None
            return earlier.response, True
        body = render(witness_record_many(items=items, writer=writer))
        IdempotentRequest.objects.filter(pk=claim.pk).update(response=body)
    return body, False


def idempotency_prune(*, now: Any = None) -> int:
    """Delete Idempotency-Key answers older than IDEMPOTENCY_WINDOW (they can no longer be replayed)."""
    now = now or timezone.now()
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=now - IDEMPOTENCY_WINDOW).delete()
    return deleted


def witness_record_tool(*, tool_id: str, parameters: Mapping[str, Any], result_hash: str, writer: str,
                        execution_time_ms: float | None = None, vif_id: uuid.UUID | None = None,
                        integrate: bool = True) -> Witness:
    """Witness one call of a data tool: its exact parameters and the hash of what it returned. With
    ``integrate=False`` the witness is only queued, for a caller that records it in a transaction with
    other rows and integrates (``ledger.integrate``) once that has committed."""
    witness = Witness(
        vif_id=vif_id or uuid.uuid4(), operation=Witness.Operation.TOOL, model_id="", tool_ids=[tool_id],
        tool_parameters=dict(parameters), tool_results_hash=_check_hash(result_hash, "tool_results_hash"),
        writer=writer, execution_time_ms=execution_time_ms,
    )
    if integrate:
        ledger.append([witness])
    else:
        ledger.queue([witness])
    return witness


def witness_get(*, vif_id: Any) -> Witness:
    try:
        return Witness.objects.get(vif_id=uuid.UUID(str(vif_id)))
    except (ValueError, Witness.DoesNotExist):
        raise NotFound(f"No witness with vif_id {vif_id}.") from None


# --- Outcomes -------------------------------------------------------------------------------------

def outcome_record(*, witness: Witness, correct: bool, source: str, recorded_by: str, note: str = "") -> Outcome:
    """Label a witness correct or not, once. The writer of a witness cannot label it. A reviewer's decision
    (source "human") on a witness an automatic checker labelled supersedes that label: the automatic row
    stays as history, the human one is the label calibration and κ use."""
    if witness.operation != Witness.Operation.LLM or witness.confidence_micros is None:
        raise InputError("Only AI operations with a confidence can be labelled; tool calls are checked by replay.")
    if recorded_by == witness.writer:
        raise InputError("The writer of a witness cannot label its own output.")
    if witness.retired_at is not None:
        raise InputError("This witness is retired to hashes only; it can no longer be labelled.")
    existing = Outcome.objects.current().filter(witness=witness).first()
    supersedes = (existing if existing is not None and source == Outcome.Source.HUMAN
                  and existing.source == Outcome.Source.AUTOMATIC else None)
    try:
        now = timezone.now()
        with transaction.atomic():
            outcome = Outcome.objects.create(
                witness=witness, correct=correct, source=source, supersedes=supersedes, recorded_by=recorded_by,
                note=note,
                created_at=now, created_day=now.date(), model_id=witness.model_id, model_version=witness.model_version,
                criticality=witness.task_criticality, domain=witness.domain,
                confidence_micros=witness.confidence_micros, confidence_method=witness.confidence_method,
                gate_passed=witness.kappa_gate_passed, calibration_sample=witness.calibration_sample,
            )
    except IntegrityError:
        existing = Outcome.objects.current().get(witness=witness)
        raise Conflict(f"This witness already has an outcome ({'correct' if existing.correct else 'incorrect'}, "
                       f"by {existing.recorded_by}).", outcome={"correct": existing.correct,
                                                              "recorded_by": existing.recorded_by}) from None
    return outcome


# --- κ learned from outcomes ----------------------------------------------------------------------

def kappa_suggestions_compute() -> list[KappaSuggestion]:
    """Recompute the Learn-then-Test κ per criticality, domain, model and model version from the
    calibration samples only (never items reviewed because they were escalated). Calibration samples whose
    review ended without a verdict and that have no label since count as errors (see thresholds)."""
    results = []
    for (tier, domain, model_id, version), values in _kappa_sample_rows().items():
        found = thresholds.suggest(np.array([v[1] for v in values], dtype=np.int64) / 1e6,
                                   np.array([v[2] for v in values], dtype=np.int64),
                                   alpha=thresholds.TARGET_RISK[tier], keys=[v[0] for v in values],
                                   unresolved=np.array([v[3] for v in values], dtype=bool))
        suggestion, _ = KappaSuggestion.objects.update_or_create(
            criticality=tier, domain=domain, model_id=model_id, model_version=version,
            defaults={"suggested": None if found.kappa is None else Decimal(str(found.kappa)),
                      "evidence": found.as_dict()})
        results.append(suggestion)
    if settings.VIFSITE_KAPPA_AUTO_APPLY:
        _auto_apply(results)
    return results


SampleRow = tuple[str, int, bool, bool]  # witness id, confidence in millionths, correct, unresolved


def _kappa_sample_rows(**scope: str) -> dict[tuple[str, str, str, str], list[SampleRow]]:
    """The calibration samples per (criticality, domain, model, model version), optionally of one such group
    (``scope``: any of those four fields): the current labels, then the samples whose review ended without a
    verdict and that have no label since (counted as errors). Witness ids decide the split of
    thresholds.suggest."""
    rows: dict[tuple[str, str, str, str], list[SampleRow]] = {}
    labelled = Outcome.objects.current()
    for tier, domain, model_id, version, witness_id, micros, correct in (
            labelled.filter(calibration_sample=True, **scope).exclude(criticality="")
            .values_list("criticality", "domain", "model_id", "model_version", "witness_id", "confidence_micros",
                         "correct")
            .iterator(chunk_size=5000)):
        rows.setdefault((tier, domain, model_id, version), []).append((str(witness_id), micros, correct, False))
    for tier, domain, model_id, version, witness_id, micros in (
            UnresolvedSample.objects.filter(**scope).exclude(criticality="")
            .exclude(witness_id__in=labelled.values("witness_id"))
            .values_list("criticality", "domain", "model_id", "model_version", "witness_id", "confidence_micros")
            .iterator(chunk_size=5000)):
        rows.setdefault((tier, domain, model_id, version), []).append((str(witness_id), micros, False, True))
    return rows


def _auto_apply(suggestions: list[KappaSuggestion]) -> None:
    """Apply suggestions within the admin-set bounds, each to its own scope (criticality, domain, model: a
    model's suggestion sets that model's κ only); of a model's versions, the strictest suggestion wins."""
    low, high = Decimal(str(settings.VIFSITE_KAPPA_AUTO_MIN)), Decimal(str(settings.VIFSITE_KAPPA_AUTO_MAX))
    best: dict[tuple[str, str, str], Decimal] = {}
    for s in suggestions:
        if s.suggested is not None and low <= s.suggested <= high:
            key = (s.criticality, s.domain, s.model_id)
            best[key] = max(best.get(key, s.suggested), s.suggested)
    for (tier, domain, model_id), value in best.items():
        policy = KappaPolicy.objects.filter(criticality=tier, domain=domain, model_id=model_id).first()
        if policy is None:
            try:
                if kappa_policy_for(criticality=tier, domain=domain, model_id=model_id).threshold == value:
                    continue
            except InputError:  # the tier has no policy at all: this one becomes its model's
                pass
            policy = KappaPolicy(criticality=tier, domain=domain, model_id=model_id, threshold=value)
        elif policy.threshold == value:
            continue
        kappa_policy_set(policy=policy, threshold=value, changed_by="system:auto",
                         reason=f"Automatic: Learn-then-Test suggestion within the bounds [{low}, {high}].")


def kappa_suggestion_apply(*, suggestion: KappaSuggestion, reason: str, changed_by: str,
                           expected: Decimal | None = None) -> KappaPolicy:
    """Set the suggested κ on exactly the suggestion's scope: its criticality, domain and model (every version
    of the model; a policy of that scope is created if there is none). Other models keep their κ. With
    ``expected`` (the κ the person saw), a suggestion recomputed to another value since is refused."""
    if suggestion.suggested is None:
        why = (suggestion.evidence.get("why_none") or {}).get("message", "")
        raise InputError("This suggestion says no κ can be shown to keep the risk" + (f" ({why})" if why else "")
                         + "; set the policy by hand (e.g. 1.0 to send every item to a human).")
    if not (reason or "").strip():
        raise InputError("A change of κ needs a reason.", field="reason")
    stored = KappaSuggestion.objects.filter(pk=suggestion.pk).values_list("suggested", flat=True).first()
    if expected is not None and stored != expected:
        raise Conflict(f"The suggestion was recomputed since you looked at it: it is now "
                       f"{thresholds.kappa_text(stored) if stored is not None else 'none'}, not "
                       f"{thresholds.kappa_text(expected)}. Look at its preview again before applying it.")
    value = suggestion.suggested
    scope = dict(criticality=suggestion.criticality, domain=suggestion.domain, model_id=suggestion.model_id)
    note = (f"{reason.strip()} (Learn-then-Test suggestion from {suggestion.evidence.get('samples')} calibration "
            f"samples of {suggestion.model_id} {suggestion.model_version}".rstrip() + ")")
    try:
        with transaction.atomic():
            policy = KappaPolicy.objects.filter(**scope).first() or KappaPolicy(**scope, threshold=value)
            policy = kappa_policy_set(policy=policy, threshold=value, changed_by=changed_by, reason=note)
            KappaSuggestion.objects.filter(pk=suggestion.pk).update(applied_at=timezone.now())
    except IntegrityError:  # someone created this scope's policy at the same moment
        raise Conflict("This κ policy was created meanwhile by someone else; look at it before applying.") from None
    return policy


def calibration_sample_unresolved(*, witness: Witness, reason: str,
                                  recorded_by: str) -> UnresolvedSample | None:
    """Note that a calibration sample's review ended without a verdict (it expired, or the reviewer asked for
    more analysis), so κ suggestions count it as an error until it gets a label. Nothing for a witness that
    is not a calibration sample or already has a label; the first note stands (safe to call twice)."""
    if not witness.calibration_sample or witness.confidence_micros is None:
        return None
    if Outcome.objects.current().filter(witness=witness).exists():
        return None
    sample, _ = UnresolvedSample.objects.get_or_create(witness=witness, defaults={
        "reason": reason, "recorded_by": recorded_by, "created_at": timezone.now(), "model_id": witness.model_id,
        "model_version": witness.model_version, "criticality": witness.task_criticality, "domain": witness.domain,
        "confidence_micros": witness.confidence_micros})
    return sample


# --- κ pages: what a suggestion was computed from ---------------------------------------------------------

def kappa_suggestion_samples(*, suggestion: KappaSuggestion) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The calibration samples of a suggestion's group as kappa_suggestions_compute reads them: confidences in
    millionths, correct (0/1), unresolved (counted as errors)."""
    values = _kappa_sample_rows(criticality=suggestion.criticality, domain=suggestion.domain,
                                model_id=suggestion.model_id, model_version=suggestion.model_version).get(
        (suggestion.criticality, suggestion.domain, suggestion.model_id, suggestion.model_version), [])
    return (np.array([v[1] for v in values], dtype=np.int64), np.array([v[2] for v in values], dtype=np.int64),
            np.array([v[3] for v in values], dtype=bool))
