from __future__ import annotations

from rest_framework import serializers

from vifsite.vif.api.serializers import CanonicalJSONField, FiniteFloatField


class InterpretationInputSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=100_000, trim_whitespace=False)
    structured = serializers.DictField(required=False, help_text="A filled structured analysis instead of text.")
    extraction_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=200)
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
    replay_seed = serializers.IntegerField(required=False, min_value=-(2 ** 53), max_value=2 ** 53)
    temperature = FiniteFloatField(required=False, min_value=0)
    task_criticality = serializers.ChoiceField(choices=["critical", "important", "routine", "low_stakes"])
    domain = serializers.RegexField(r"^[a-z0-9_\-]{0,100}$", required=False, allow_blank=True, default="")
    callback_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=500)

    MODEL_FIELDS = ("model_id", "model_provider", "model_version", "replay_seed", "temperature")
    SIGNAL_FIELDS = ("confidence", "logprobs", "logits", "probabilities", "verbalized_confidence", "prompt",
                     "prompt_hash")


class DecisionInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject", "revise", "needs_analysis"])
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    revised_text = serializers.CharField(required=False, allow_blank=True, default="", max_length=100_000)
    reviewer_confidence = FiniteFloatField(required=False, min_value=0, max_value=1)
    version = serializers.IntegerField(required=False, min_value=1,
                                       help_text="The version you reviewed; a newer one means someone else acted.")
