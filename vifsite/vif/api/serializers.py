from __future__ import annotations

import math
from typing import Any

from rest_framework import serializers

from vifsite.vif import signing
from vifsite.vif.confidence import CRITICALITIES


class FiniteFloatField(serializers.FloatField):
    default_error_messages = {"not_finite": "Must be a finite number; NaN and infinities are refused."}

    def to_internal_value(self, data: Any) -> float:
        try:
            if not math.isfinite(float(data)):
                self.fail("not_finite")
        except (TypeError, ValueError):
            pass  # the parent class names the problem
        return super().to_internal_value(data)


class CanonicalJSONField(serializers.JSONField):
    """Any JSON the ledger can canonicalise (RFC 8785 refuses integers beyond ±2⁵³, for one)."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        try:
            signing.canonical(value)
        except Exception as exc:  # rfc8785 raises its own error types
            raise serializers.ValidationError(f"Cannot be recorded as canonical JSON: {exc}") from None
        return value


class ContextItemSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=300)
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", required=False, allow_blank=True)


class UsageSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField(min_value=0, required=False)
    completion_tokens = serializers.IntegerField(min_value=0, required=False)
    total_tokens = serializers.IntegerField(min_value=0, required=False)


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
    replay_seed = serializers.IntegerField(required=False, min_value=-(2 ** 53), max_value=2 ** 53)
    temperature = FiniteFloatField(required=False, min_value=0)
    top_p = FiniteFloatField(required=False, min_value=0, max_value=1)
    top_k = serializers.IntegerField(required=False, min_value=0)
    max_tokens = serializers.IntegerField(required=False, min_value=1)
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
    source = serializers.CharField()
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
    replay_seed = serializers.IntegerField(required=False)
    temperature = FiniteFloatField(required=False, min_value=0)
    top_p = FiniteFloatField(required=False, min_value=0, max_value=1)
    top_k = serializers.IntegerField(required=False, min_value=0)
    max_tokens = serializers.IntegerField(required=False, min_value=1)


class CalibrationQuerySerializer(serializers.Serializer):
    model = serializers.CharField(required=False, max_length=200)
    model_version = serializers.CharField(required=False, max_length=100)
    criticality = serializers.ChoiceField(choices=CRITICALITIES, required=False)
    window = serializers.RegexField(r"^\d+[hd]$", required=False, help_text="e.g. 24h or 7d (default: all time).")
    bins = serializers.IntegerField(required=False, min_value=1, max_value=100)
    samples_only = serializers.BooleanField(required=False, default=False,
                                            help_text="Only the random calibration samples (unbiased).")


class MetricsQuerySerializer(serializers.Serializer):
    window = serializers.RegexField(r"^\d+[hd]$", required=False, default="24h")


class KappaPolicyOutputSerializer(serializers.Serializer):
    criticality = serializers.CharField()
    domain = serializers.CharField()
    key = serializers.CharField()
    threshold = serializers.FloatField()
    updated_by = serializers.CharField()
    updated_at = serializers.DateTimeField()
    reason = serializers.CharField()
