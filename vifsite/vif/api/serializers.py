from __future__ import annotations

import math
from typing import Any

from rest_framework import serializers

from vifsite.errors import InputError
from vifsite.vif import signing
from vifsite.vif.confidence import CRITICALITIES
from vifsite.vif.monitoring import MAX_WINDOW_DAYS, parse_window

# Every integer an agent sends is bounded: the signed ledger's canonical JSON (RFC 8785) holds integers within
# ±(2⁵³ − 1) only, and the integer columns (PositiveIntegerField) at most 2³¹ − 1 on PostgreSQL.
SAFE_INT = 2**53 - 1
INT32_MAX = 2**31 - 1


class FiniteFloatField(serializers.FloatField):
    """A finite number, and not a boolean: JSON true is not 1.0 (a confidence of true would pass any gate)."""

    default_error_messages = {"not_finite": "Must be a finite number; NaN and infinities are refused.",
                              "boolean": "Must be a number, not a boolean."}

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("boolean")
        try:
            if not math.isfinite(float(data)):
                self.fail("not_finite")
        except (TypeError, ValueError):
            pass  # the parent class names the problem
        return super().to_internal_value(data)


def _canonical_check(value: Any) -> Any:
    try:
        signing.canonical(value)
    except Exception as exc:  # rfc8785 raises its own error types
        raise serializers.ValidationError(f"Cannot be recorded as canonical JSON: {exc}") from None
    return value


class CanonicalJSONField(serializers.JSONField):
    """Any JSON the ledger can canonicalise (RFC 8785 refuses integers beyond ±(2⁵³ − 1), for one)."""

    def to_internal_value(self, data: Any) -> Any:
        return _canonical_check(super().to_internal_value(data))


class CanonicalDictField(serializers.DictField):
    """A JSON object the ledger can canonicalise."""

    def to_internal_value(self, data: Any) -> Any:
        return _canonical_check(super().to_internal_value(data))


class WindowField(serializers.RegexField):
    """A time window such as 24h or 7d, of at most MAX_WINDOW_DAYS."""

    def __init__(self, *, help_text: str = "", **kwargs: Any) -> None:
        bound = f"At most {MAX_WINDOW_DAYS}d ({MAX_WINDOW_DAYS * 24}h)."
        super().__init__(r"^\d{1,9}[hd]$", help_text=f"{help_text} {bound}".strip(), **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            parse_window(value)
        except InputError as exc:
            raise serializers.ValidationError(exc.message) from None
        return value


class ContextItemSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=300)
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", required=False, allow_blank=True)


class UsageSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField(min_value=0, max_value=INT32_MAX, required=False)
    completion_tokens = serializers.IntegerField(min_value=0, max_value=INT32_MAX, required=False)
    total_tokens = serializers.IntegerField(min_value=0, max_value=INT32_MAX, required=False)


class WitnessInputSerializer(serializers.Serializer):
    model_id = serializers.CharField(max_length=200)
    model_provider = serializers.CharField(max_length=100, required=False, allow_blank=True)
    model_version = serializers.CharField(max_length=100, required=False, allow_blank=True)
    weights_hash = serializers.CharField(max_length=128, required=False, allow_blank=True)
    prompt = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                   help_text="Raw prompt: hashed by the server, stored only with store_text.")
    prompt_hash = serializers.CharField(required=False, allow_blank=True, help_text="SHA-256 of the prompt (UTF-8).")
    output = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                   help_text="Raw output: hashed by the server, stored only with store_text.")
    output_hash = serializers.CharField(required=False, allow_blank=True, help_text="SHA-256 of the output (UTF-8).")
    store_text = serializers.BooleanField(default=False)
    prompt_template = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    context_snapshot = ContextItemSerializer(many=True, required=False)
    retrieved_ids = serializers.ListField(child=serializers.CharField(max_length=300), required=False)
    tool_ids = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    tool_parameters = CanonicalJSONField(required=False)
    tool_results_hash = serializers.CharField(required=False, allow_blank=True)
    confidence = FiniteFloatField(required=False, help_text="An explicit confidence in [0, 1].")
    logprobs = CanonicalJSONField(required=False, help_text="Token log-probabilities: floats, or OpenAI "
                                  "logprobs.content items with logprob and top_logprobs.")
    logits = CanonicalJSONField(required=False, help_text="Raw logits: one vector or one per token.")
    probabilities = CanonicalJSONField(required=False, help_text="Probability vectors: one, or one per token.")
    verbalized_confidence = CanonicalJSONField(required=False, help_text='A stated confidence: 0.85, "85%" or "high".')
    usage = UsageSerializer(required=False)
    replay_seed = serializers.IntegerField(required=False, min_value=-SAFE_INT, max_value=SAFE_INT)
    temperature = FiniteFloatField(required=False, min_value=0)
    top_p = FiniteFloatField(required=False, min_value=0, max_value=1)
    top_k = serializers.IntegerField(required=False, min_value=0, max_value=INT32_MAX)
    max_tokens = serializers.IntegerField(required=False, min_value=1, max_value=INT32_MAX)
    generation_params = CanonicalJSONField(required=False)
    task_criticality = serializers.ChoiceField(choices=CRITICALITIES)
    domain = serializers.RegexField(r"^[a-z0-9_\-]{0,100}$", required=False, allow_blank=True, default="")
    parent_vif_id = serializers.UUIDField(required=False)
    execution_time_ms = FiniteFloatField(required=False, min_value=0)

    def validate_tool_parameters(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value

    validate_generation_params = validate_tool_parameters


class WitnessBatchInputSerializer(serializers.Serializer):
    witnesses = WitnessInputSerializer(many=True)


class GateRoutingSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["proceed", "proceed_with_warning", "escalate"])
    message = serializers.CharField()


class GateOutputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=["PASS", "ABSTAIN"])
    passed = serializers.BooleanField()
    confidence = serializers.FloatField()
    threshold = serializers.FloatField()
    criticality = serializers.CharField()
    domain = serializers.CharField()
    policy = serializers.CharField()
    reason = serializers.CharField()


class WitnessRecordedSerializer(serializers.Serializer):
    vif_id = serializers.UUIDField()
    sequence = serializers.IntegerField()
    entry_hash = serializers.CharField()
    confidence_score = serializers.FloatField()
    confidence_method = serializers.CharField()
    confidence_band = serializers.CharField()
    entropy = serializers.FloatField(allow_null=True)
    kappa_threshold = serializers.FloatField()
    kappa_gate_passed = serializers.BooleanField()
    gate = GateOutputSerializer()
    routing = GateRoutingSerializer()
    prompt_tokens = serializers.IntegerField(allow_null=True)
    prompt_tokens_estimated = serializers.BooleanField()
    output_tokens = serializers.IntegerField(allow_null=True)
    output_tokens_estimated = serializers.BooleanField()
    calibration_sample = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class WitnessBatchOutputSerializer(serializers.Serializer):
    witnesses = WitnessRecordedSerializer(many=True)


class GateInputSerializer(serializers.Serializer):
    confidence = FiniteFloatField()
    task_criticality = serializers.ChoiceField(choices=CRITICALITIES)
    domain = serializers.RegexField(r"^[a-z0-9_\-]{0,100}$", required=False, allow_blank=True, default="")


class OutcomeInputSerializer(serializers.Serializer):
    correct = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class OutcomeOutputSerializer(serializers.Serializer):
    vif_id = serializers.UUIDField(source="witness_id")
    correct = serializers.BooleanField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field named source; the stubs see Field.source
    recorded_by = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReplayInputSerializer(serializers.Serializer):
    runs = serializers.IntegerField(min_value=1, max_value=20, default=1,
                                    help_text="Tool witnesses: recompute this many times (determinism check).")
    output = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    output_hash = serializers.CharField(required=False, allow_blank=True)
    outputs = serializers.ListField(child=serializers.CharField(allow_blank=True, trim_whitespace=False),
                                    required=False, max_length=100,
                                    help_text="LLM witnesses: several replayed outputs (determinism check).")
    prompt = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    prompt_hash = serializers.CharField(required=False, allow_blank=True)
    model_id = serializers.CharField(required=False, max_length=200)
    replay_seed = serializers.IntegerField(required=False, min_value=-SAFE_INT, max_value=SAFE_INT)
    temperature = FiniteFloatField(required=False, min_value=0)
    top_p = FiniteFloatField(required=False, min_value=0, max_value=1)
    top_k = serializers.IntegerField(required=False, min_value=0, max_value=INT32_MAX)
    max_tokens = serializers.IntegerField(required=False, min_value=1, max_value=INT32_MAX)


class CalibrationQuerySerializer(serializers.Serializer):
    model = serializers.CharField(required=False, max_length=200)
    model_version = serializers.CharField(required=False, max_length=100)
    criticality = serializers.ChoiceField(choices=CRITICALITIES, required=False)
    window = WindowField(required=False, help_text="e.g. 24h or 7d (default: all time).")
    bins = serializers.IntegerField(required=False, min_value=1, max_value=100)
    samples_only = serializers.BooleanField(required=False, default=False,
                                            help_text="Only the random calibration samples (unbiased).")


class MetricsQuerySerializer(serializers.Serializer):
    window = WindowField(required=False, default="24h", help_text="e.g. 24h or 7d.")


class KappaPolicyOutputSerializer(serializers.Serializer):
    criticality = serializers.CharField()
    domain = serializers.CharField()
    key = serializers.CharField()
    threshold = serializers.FloatField()
    updated_by = serializers.CharField()
    updated_at = serializers.DateTimeField()
    reason = serializers.CharField()
