from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from seismic.descriptions import CANNOT_CONCLUDE
from seismic.models import Extraction, Survey, SurveyImport
from seismic.services import SAMPLE_UNITS, SLICE_LAYOUTS_DEFAULT, Section
from seismic.tools import MAX_PAGE
from vifsite.errors import InputError
from vifsite.vif.api.serializers import SAFE_INT, CanonicalDictField, FiniteFloatField


class SurveyAxisSerializer(serializers.Serializer):
    first = serializers.FloatField()
    last = serializers.FloatField()
    step = serializers.FloatField()
    count = serializers.IntegerField()
    unit = serializers.CharField()


class SurveyGeometrySerializer(serializers.Serializer):
    inline = SurveyAxisSerializer()
    crossline = SurveyAxisSerializer()
    sample = SurveyAxisSerializer()


class SurveyOutputSerializer(serializers.ModelSerializer):
    geometry = serializers.SerializerMethodField()
    total_traces = serializers.IntegerField(read_only=True)
    dead_traces = serializers.IntegerField(read_only=True)
    has_ground_truth = serializers.SerializerMethodField()

    class Meta:
        model = Survey
        fields = ["id", "name", "description", "geometry", "domain", "dimensionality", "coordinate_system",
                  "crs_wkt", "live_traces", "dead_traces", "total_traces", "data_sha256", "storage_format",
                  "compression", "lossy", "quantized", "imported", "source_sha256", "has_ground_truth",
                  "created_at"]

    @extend_schema_field(SurveyGeometrySerializer)
    def get_geometry(self, survey: Survey) -> dict[str, Any]:
        geometry = survey.geometry()
        return {"inline": geometry.inline.as_dict(), "crossline": geometry.crossline.as_dict(),
                "sample": geometry.sample.as_dict()}

    def get_has_ground_truth(self, survey: Survey) -> bool:
        return survey.ground_truth is not None


class SectionQuerySerializer(serializers.Serializer):
    inline_min = FiniteFloatField(required=False)
    inline_max = FiniteFloatField(required=False)
    crossline_min = FiniteFloatField(required=False)
    crossline_max = FiniteFloatField(required=False)
    sample_min = FiniteFloatField(required=False)
    sample_max = FiniteFloatField(required=False)

    def ranges(self) -> dict[str, tuple[float | None, float | None]]:
        data = self.validated_data
        return {axis: (data.get(f"{axis}_min"), data.get(f"{axis}_max")) for axis in ("inline", "crossline", "sample")
                if f"{axis}_min" in data or f"{axis}_max" in data}


class SectionImageQuerySerializer(SectionQuerySerializer):
    clip = FiniteFloatField(required=False, default=99.0, min_value=50.0, max_value=100.0)


class SectionPercentilesSerializer(serializers.Serializer):
    p1 = serializers.FloatField(allow_null=True)
    p5 = serializers.FloatField(allow_null=True)
    p10 = serializers.FloatField(allow_null=True)
    p25 = serializers.FloatField(allow_null=True)
    p50 = serializers.FloatField(allow_null=True)
    p75 = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)
    p95 = serializers.FloatField(allow_null=True)
    p99 = serializers.FloatField(allow_null=True)


class SectionStatisticsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    live_traces = serializers.IntegerField()
    dead_traces = serializers.IntegerField()
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)
    mean = serializers.FloatField(allow_null=True)
    median = serializers.FloatField(allow_null=True)
    std = serializers.FloatField(allow_null=True)
    rms = serializers.FloatField(allow_null=True)
    zero_crossings = serializers.FloatField(allow_null=True, help_text="Mean sign changes per live trace.")
    data_range = serializers.FloatField(allow_null=True)
    coefficient_of_variation = serializers.FloatField(allow_null=True)
    percentiles = SectionPercentilesSerializer()
    dominant_frequency_hz = serializers.FloatField(required=False)
    band_hz = serializers.ListField(child=serializers.FloatField(), required=False, help_text="-6 dB band [low, high]")
    bandwidth_hz = serializers.FloatField(required=False)
    spectral_centroid_hz = serializers.FloatField(required=False)
    notes = serializers.ListField(child=serializers.CharField())


class SectionProvenanceSerializer(serializers.Serializer):
    extraction_id = serializers.IntegerField()
    vif_id = serializers.CharField(help_text="The ledger witness of this extraction (replay it with "
                                             "POST /api/v1/witnesses/{vif_id}/replay/).")
    data_sha256 = serializers.CharField(help_text="SHA-256 of the exact float32 array (C order) the statistics "
                                                  "were computed from.")
    survey_id = serializers.IntegerField()
    survey_data_sha256 = serializers.CharField()
    section_type = serializers.CharField()
    section_number = serializers.FloatField()
    ranges = serializers.DictField(child=serializers.ListField(child=serializers.FloatField()))
    shape = serializers.ListField(child=serializers.IntegerField())
    parameters = serializers.DictField()
    openvds_version = serializers.CharField()
    app_version = serializers.CharField()
    principal = serializers.CharField()
    created_at = serializers.DateTimeField()


class SectionOutputSerializer(serializers.Serializer):
    survey_id = serializers.IntegerField()
    section_type = serializers.CharField()
    section_number = serializers.FloatField()
    axes = serializers.ListField(child=serializers.DictField(), help_text="Annotation of the array's two axes.")
    statistics = SectionStatisticsSerializer()
    provenance = SectionProvenanceSerializer()
    extraction_id = serializers.IntegerField()
    image_url = serializers.CharField()
    cannot_conclude = serializers.ListField(child=serializers.CharField())


def section_number_parse(raw: Any) -> float:
    """A section number as given in a URL or a tool call, or a 400 saying what it is not."""
    if not isinstance(raw, bool):  # float(True) is 1.0: a boolean is not a section number
        try:
            return float(raw)
        except (TypeError, ValueError):
            pass
    raise InputError(f"section_number must be a number, not {raw!r}.")


def section_payload(*, survey: Survey, section: Section, extraction: Extraction) -> dict[str, Any]:
    """The answer to extract_section (REST adds ``image_url``, MCP the PNG as an image block)."""
    return {
        "survey_id": survey.pk,
        "section_type": section.kind,
        "section_number": section.number,
        "axes": [{"name": axis.name, **axis.as_dict()} for axis in section.axes],
        "statistics": extraction.statistics,
        "provenance": {
            "extraction_id": extraction.pk, "vif_id": str(extraction.vif_id),
            "data_sha256": extraction.array_sha256, "survey_id": survey.pk,
            "survey_data_sha256": extraction.survey_data_sha256, "section_type": extraction.kind,
            "section_number": extraction.number, "ranges": extraction.ranges, "shape": extraction.shape,
            "parameters": extraction.parameters, "openvds_version": extraction.openvds_version,
            "app_version": extraction.app_version, "principal": extraction.principal,
            "created_at": extraction.created_at,
        },
        "extraction_id": extraction.pk,
        "cannot_conclude": CANNOT_CONCLUDE,
    }


class SurveyImportInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    inline_byte = serializers.IntegerField(required=False, min_value=1, max_value=237)
    crossline_byte = serializers.IntegerField(required=False, min_value=1, max_value=237)
    two_d = serializers.BooleanField(required=False)
    cdp_byte = serializers.IntegerField(required=False, min_value=1, max_value=237)
    sample_unit = serializers.ChoiceField(choices=SAMPLE_UNITS, required=False)
    # With a default, DRF reads an omitted field of a form as the default, not as an unticked box (False).
    slice_layouts = serializers.BooleanField(
        required=False, default=SLICE_LAYOUTS_DEFAULT,
        help_text="Add 2D slice bricks for inlines, crosslines and timeslices: a cold section reads in about a "
                  "millisecond instead of 7-25, for about 3.7 times the volume's storage and an import two to "
                  "three times as long. false for a volume too large for that (an administrator can add them "
                  "later).")


class SurveyImportOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyImport
        fields = ["id", "name", "status", "progress", "error", "survey", "original_filename", "options",
                  "attempts", "created_at", "finished_at"]


class SurveyRegisterInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=1000, help_text="Local .vds path (under an allowed folder) or a cloud "
                                                          "URL OpenVDS opens (s3://, azure://, gs://).")
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


# --- Anti-hallucination tools ---------------------------------------------------------------------

class RangeField(serializers.ListField):
    """[low, high] in survey annotation."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=FiniteFloatField(), min_length=2, max_length=2, required=False, **kwargs)


class SectionRangesMixin(serializers.Serializer):
    inline_range = RangeField(help_text="[low, high] inline numbers (not for an inline).")
    crossline_range = RangeField(help_text="[low, high] crossline numbers (not for a crossline).")
    sample_range = RangeField(help_text="[low, high] times (ms) or depths (not for a timeslice).")

    def ranges(self, prefix: str = "") -> dict[str, tuple[float, float]]:
        data = self.validated_data
        return {axis: tuple(data[f"{prefix}{axis}_range"]) for axis in ("inline", "crossline", "sample")
                if data.get(f"{prefix}{axis}_range")}


class ClaimInputSerializer(SectionRangesMixin):
    section_type = serializers.ChoiceField(choices=["inline", "crossline", "timeslice"])
    section_number = FiniteFloatField()
    claim_type = serializers.ChoiceField(choices=["high_amplitude", "low_amplitude", "amplitude_statistic"])
    statistic = serializers.ChoiceField(choices=["mean", "median", "rms", "std", "min", "max", "max_abs", "mean_abs"],
                                        required=False)
    value = FiniteFloatField(required=False)
    threshold = FiniteFloatField(required=False, help_text="|amplitude| threshold of a high/low zone.")
    tolerance = FiniteFloatField(required=False, default=0.05, help_text="Relative tolerance (0.05 = ±5 %).")
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class AnomaliesInputSerializer(SectionRangesMixin):
    section_type = serializers.ChoiceField(choices=["inline", "crossline", "timeslice"])
    section_number = FiniteFloatField()
    threshold_std = FiniteFloatField(required=False, default=3.0, max_value=100.0)
    min_cluster_size = serializers.IntegerField(required=False, default=10, min_value=1, max_value=1_000_000)
    method = serializers.ChoiceField(choices=["mad", "std"], required=False, default="mad")
    offset = serializers.IntegerField(required=False, default=0, min_value=0, max_value=SAFE_INT)
    limit = serializers.IntegerField(required=False, default=MAX_PAGE, min_value=1, max_value=MAX_PAGE)
    background = serializers.ChoiceField(
        choices=["dip_steered", "lateral"], required=False, default="dip_steered",
        help_text="How a vertical section's background is taken: along the local dip (dip_steered) or across "
                  "the traces (lateral, the method before there was a choice). A timeslice's is the same either way.")


class LocationSerializer(serializers.Serializer):
    inline = FiniteFloatField()
    crossline = FiniteFloatField()
    sample = FiniteFloatField(help_text="Time (ms) or depth, in survey annotation; for a flat spot, on the flat "
                                        "reflection itself (within 2 samples), not the bright spot's top.")


class HypothesisInputSerializer(serializers.Serializer):
    feature_type = serializers.CharField(help_text="fault, channel, bright_spot or flat_spot")
    location = LocationSerializer()
    characteristics = CanonicalDictField(required=False, default=dict)


class CompareInputSerializer(SectionRangesMixin):
    section_type = serializers.ChoiceField(choices=["inline", "crossline", "timeslice"])
    section_number = FiniteFloatField()
    reference_survey_id = serializers.IntegerField(required=False, min_value=1, max_value=SAFE_INT,
                                                   help_text="Default: the same survey.")
    reference_section_type = serializers.ChoiceField(choices=["inline", "crossline", "timeslice"])
    reference_section_number = FiniteFloatField()
    reference_inline_range = RangeField()
    reference_crossline_range = RangeField()
    reference_sample_range = RangeField()
    normalise = serializers.BooleanField(required=False, default=False,
                                         help_text="Compare normalised amplitudes (always so across surveys).")


class AuditInputSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=100_000, trim_whitespace=False)
    structured = CanonicalDictField(required=False, help_text="A filled structured analysis instead of text.")
    extraction_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=SAFE_INT),
                                           required=False, max_length=200,
                                           help_text="The extractions the interpretation is based on.")
    survey_id = serializers.IntegerField(required=False, min_value=1, max_value=SAFE_INT)


class StructuredQuerySerializer(serializers.Serializer):
    focus = serializers.ChoiceField(choices=["qc", "structural", "stratigraphic", "amplitude"])
    section_type = serializers.ChoiceField(choices=["inline", "crossline", "timeslice"])
    section_number = FiniteFloatField()
