from __future__ import annotations

from rest_framework import serializers

from vifsite import netguard
from vifsite.vif.api.serializers import INT32_MAX, SAFE_INT, CanonicalDictField, CanonicalJSONField, FiniteFloatField


class InterpretationInputSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=100_000, trim_whitespace=False)
    structured = CanonicalDictField(required=False, help_text="A filled structured analysis instead of text.")
    extraction_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=SAFE_INT),
                                           min_length=1, max_length=200)
    model_id = serializers.CharField(max_length=200)
    model_provider = serializers.CharField(max_length=100, required=False, allow_blank=True)
    model_version = serializers.CharField(max_length=100, required=False, allow_blank=True)
    prompt = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    prompt_hash = serializers.CharField(required=False, allow_blank=True)
    confidence = FiniteFloatField(required=False)
    logprobs = CanonicalJSONField(required=False)
    logits = CanonicalJSONField(required=False)
    probabilities = CanonicalJSONField(required=False)
    verbalized_confidence = CanonicalJSONField(required=False)
    replay_seed = serializers.IntegerField(required=False, min_value=-SAFE_INT, max_value=SAFE_INT)
    temperature = FiniteFloatField(required=False, min_value=0)
    task_criticality = serializers.ChoiceField(choices=["critical", "important", "routine", "low_stakes"])
    domain = serializers.RegexField(r"^[a-z0-9_\-]{0,100}$", required=False, allow_blank=True, default="")
    callback_url = serializers.URLField(
        required=False, allow_blank=True, default="", max_length=500,
        error_messages={"invalid": netguard.CALLBACK_REFUSED},  # one answer for every refused URL
        help_text="https URL of a public host, POSTed the signed decision; redirects are not followed.")

    MODEL_FIELDS = ("model_id", "model_provider", "model_version", "replay_seed", "temperature")
    SIGNAL_FIELDS = ("confidence", "logprobs", "logits", "probabilities", "verbalized_confidence", "prompt",
                     "prompt_hash")

    def validate_callback_url(self, value: str) -> str:
        if value:
            try:
                netguard.check_callback_url(value)
            except netguard.URLRefused as exc:
                raise serializers.ValidationError(exc.message) from None
        return value


class DecisionInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject", "revise", "needs_analysis"])
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    revised_text = serializers.CharField(required=False, allow_blank=True, default="", max_length=100_000)
    reviewer_confidence = FiniteFloatField(required=False, min_value=0, max_value=1)
    version = serializers.IntegerField(required=False, min_value=1, max_value=INT32_MAX,
                                       help_text="The version you reviewed; a newer one means someone else acted.")
