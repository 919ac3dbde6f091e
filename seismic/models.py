from __future__ import annotations

from typing import Any

from django.db import models

from seismic import vds
from vifsite.appendonly import AppendOnlyError, AppendOnlyModel

__all__ = ["AppendOnlyError", "Extraction", "Survey", "SurveyImport"]


class Survey(models.Model):
    class Domain(models.TextChoices):
        TIME = "time"
        DEPTH = "depth"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    vds_url = models.CharField("VDS path or URL", max_length=1000)
    imported = models.BooleanField(default=False, help_text="The VDS was written by this site from a SEG-Y file.")
    source_segy = models.CharField(max_length=1000, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    ground_truth = models.JSONField(null=True, blank=True,
                                    help_text="Planted features of a synthetic survey, in survey coordinates.")

    dimensionality = models.PositiveSmallIntegerField(default=3)
    inline_first = models.FloatField()
    inline_last = models.FloatField()
    inline_step = models.FloatField()
    inline_count = models.PositiveIntegerField()
    crossline_first = models.FloatField()
    crossline_last = models.FloatField()
    crossline_step = models.FloatField()
    crossline_count = models.PositiveIntegerField()
    sample_first = models.FloatField()
    sample_last = models.FloatField()
    sample_step = models.FloatField()
    sample_count = models.PositiveIntegerField()
    sample_unit = models.CharField(max_length=20)
    domain = models.CharField(max_length=5, choices=Domain.choices)
    coordinate_system = models.JSONField(default=dict, blank=True)
    crs_wkt = models.TextField(blank=True)
    storage_format = models.CharField(max_length=20, blank=True)
    compression = models.CharField(max_length=40, blank=True)
    lossy = models.BooleanField(default=False)
    quantized = models.BooleanField(default=False)
    source_sample_format = models.SmallIntegerField(null=True, blank=True)
    has_trace_channel = models.BooleanField(default=True)
    slice_layouts = models.BooleanField(
        null=True, blank=True,
        help_text="The volume stores 2D slice bricks for inlines, crosslines and timeslices beside its 3D bricks "
                  "(cold sections read much faster; about 3.7 times the storage). Unknown (empty) for surveys "
                  "registered before this was recorded; the add_slice_layouts command records it.")
    live_traces = models.PositiveIntegerField()
    data_sha256 = models.CharField(max_length=64, help_text="SHA-256 of every amplitude as float32, inline-major.")
    import_log = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def total_traces(self) -> int:
        return self.inline_count * self.crossline_count

    @property
    def dead_traces(self) -> int:
        return self.total_traces - self.live_traces

    def geometry(self) -> vds.Geometry:
        def axis(prefix: str, name: str, unit: str) -> vds.Axis:
            return vds.Axis(name=name, unit=unit, count=getattr(self, f"{prefix}_count"),
                            first=getattr(self, f"{prefix}_first"), last=getattr(self, f"{prefix}_last"),
                            step=getattr(self, f"{prefix}_step"))

        return vds.Geometry(
            inline=axis("inline", vds.INLINE, "unitless"),
            crossline=axis("crossline", vds.CROSSLINE, "unitless"),
            sample=axis("sample", vds.SAMPLE, self.sample_unit),
            dimensionality=self.dimensionality,
            coordinate_system=self.coordinate_system,
            crs_wkt=self.crs_wkt,
            storage_format=self.storage_format,
            compression=self.compression,
            lossy=self.lossy,
            source_sample_format=self.source_sample_format,
            has_trace_channel=self.has_trace_channel,
        )

    @classmethod
    def geometry_fields(cls, geometry: vds.Geometry) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for prefix, axis in (("inline", geometry.inline), ("crossline", geometry.crossline),
                             ("sample", geometry.sample)):
            fields.update({f"{prefix}_first": axis.first, f"{prefix}_last": axis.last,
                           f"{prefix}_step": axis.step, f"{prefix}_count": axis.count})
        fields.update(
            dimensionality=geometry.dimensionality, sample_unit=geometry.sample.unit, domain=geometry.domain,
            coordinate_system=geometry.coordinate_system, crs_wkt=geometry.crs_wkt,
            storage_format=geometry.storage_format, compression=geometry.compression, lossy=geometry.lossy,
            quantized=geometry.quantized, source_sample_format=geometry.source_sample_format,
            has_trace_channel=geometry.has_trace_channel,
        )
        return fields


class SurveyImport(models.Model):
    """A queued import of an uploaded SEG-Y file (admin or API); the survey appears only on success."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source_path = models.CharField(max_length=1000)
    original_filename = models.CharField(max_length=300, blank=True)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.FloatField(default=0.0, help_text="Percent done, as SEGYImport (and then VDSCopy, adding "
                                                        "slice layouts) report it.")
    error = models.TextField(blank=True)
    log = models.TextField(blank=True)
    survey = models.ForeignKey(Survey, null=True, blank=True, on_delete=models.SET_NULL, related_name="imports")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    # The lease of a running import: its worker renews heartbeat_at every few seconds; a sweep takes back a
    # job whose heartbeat is older than VIFSITE_IMPORT_LEASE_S, or whose worker process on this host is gone.
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs started; a stopped worker's job is "
                                                                     "retried once.")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    tool_pid = models.PositiveIntegerField(null=True, blank=True, help_text="SEGYImport's pid (and process group).")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class Extraction(AppendOnlyModel):
    """Provenance of one section returned to someone: the audit trail. Append-only."""

    class Kind(models.TextChoices):
        INLINE = "inline"
        CROSSLINE = "crossline"
        TIMESLICE = "timeslice"

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="extractions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    number = models.FloatField(help_text="Inline or crossline number, or time/depth, in survey annotation.")
    ranges = models.JSONField(default=dict, help_text="Annotation ranges of the returned axes.")
    parameters = models.JSONField(default=dict)
    shape = models.JSONField(default=list)
    statistics = models.JSONField(default=dict)
    array_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the returned float32 array (C order).")
    survey_data_sha256 = models.CharField(max_length=64)
    openvds_version = models.CharField(max_length=50)
    app_version = models.CharField(max_length=50)
    principal = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    vif_id = models.UUIDField(null=True, blank=True, unique=True,
                              help_text="The ledger witness of this tool call.")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["survey", "kind", "number"])]

    def __str__(self) -> str:
        return f"{self.survey_id}:{self.kind}:{self.number:g} #{self.pk}"
