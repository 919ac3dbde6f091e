from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from vifsite.api import ApiView
from vifsite.vif import ledger, monitoring, plots, prometheus, replay, services
from vifsite.vif.api.permissions import IsPersonOrMetricsKey, IsPersonOrOutcomeKey, IsStaffOrMetricsKey
from vifsite.vif.api.serializers import (
    CalibrationQuerySerializer,
    GateInputSerializer,
    GateOutputSerializer,
    KappaPolicyOutputSerializer,
    MetricsQuerySerializer,
    OutcomeInputSerializer,
    OutcomeOutputSerializer,
    ReplayInputSerializer,
    WitnessBatchInputSerializer,
    WitnessBatchOutputSerializer,
    WitnessInputSerializer,
    WitnessRecordedSerializer,
)
from vifsite.vif.auth import AgentPrincipal, principal_of
from vifsite.vif.models import KappaPolicy, Outcome, Witness

_VIF_ID = [OpenApiParameter("vif_id", str, OpenApiParameter.PATH, description="The witness's vif_id (UUID).")]


_IDEMPOTENCY = [OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Optional, 1 to 200 printable ASCII characters (a UUID, say), one per operation you record. "
                "Sending the same key and body again within 24 hours (after a timeout or a 5xx) records nothing "
                "new: the answer is the original one (same vif_id(s) and sequence) with status 200 and the header "
                "Idempotent-Replayed: true. The same key with a different body is a 409. Keys are per API key "
                "(principal); a request that failed kept nothing, so its key may be sent again.")]
_REPLAYED = OpenApiResponse(description="A replay: this Idempotency-Key was answered before; nothing new recorded. "
                                        "Header Idempotent-Replayed: true.")


def _as_json(body: Any) -> dict[str, Any]:
    """The body as the JSON it is sent as, so an answer and its later replay are byte for byte alike."""
    return json.loads(JSONRenderer().render(body))


def record_witnesses(request: Request, items: list[Any], *, endpoint: str, shape: Any) -> Response:
    """Record, once per Idempotency-Key if the request has one; 201 when recorded, 200 when replayed."""
    writer, key = principal_of(request.user), request.headers.get("Idempotency-Key")

    def render(recorded: list[services.Recorded]) -> dict[str, Any]:
        return _as_json(shape(recorded))

    if key is None:
        return Response(render(services.witness_record_many(items=items, writer=writer)), status=201)
    body, replayed = services.witness_record_once(
        items=items, writer=writer, key=key, render=render,
        request_hash=services.idempotency_request_hash(endpoint=endpoint, body=request.data))
    if replayed:
        return Response(body, status=200, headers={"Idempotent-Replayed": "true"})
    return Response(body, status=201)


class WitnessCreateApi(ApiView):
    @extend_schema(operation_id="record_witness", request=WitnessInputSerializer, parameters=_IDEMPOTENCY,
                   responses={201: WitnessRecordedSerializer, 200: _REPLAYED},
                   description="Record one AI operation in the signed ledger. Give the raw prompt and output "
                               "(hashed, stored only with store_text) or their SHA-256, and a confidence or the "
                               "signals it is computed from (logprobs, logits, probabilities, verbalized_confidence, "
                               "or the output text). The answer carries the band, the κ-gate verdict (PASS or "
                               "ABSTAIN with a reason to show the user) and the routing. Send an Idempotency-Key "
                               "to retry safely.")
    def post(self, request: Request) -> Response:
        data = WitnessInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return record_witnesses(request, [data.validated_data], endpoint="witness",
                                shape=lambda recorded: recorded[0].as_dict())


class WitnessBatchApi(ApiView):
    @extend_schema(operation_id="record_witnesses", request=WitnessBatchInputSerializer, parameters=_IDEMPOTENCY,
                   responses={201: WitnessBatchOutputSerializer, 200: _REPLAYED},
                   description="Record many witnesses in one transaction: all are recorded or, if any is invalid, "
                               "none (the error names the index). Send an Idempotency-Key to retry safely.")
    def post(self, request: Request) -> Response:
        data = WitnessBatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return record_witnesses(request, data.validated_data["witnesses"], endpoint="batch",
                                shape=lambda recorded: {"witnesses": [r.as_dict() for r in recorded]})


def witness_dict(witness: Witness) -> dict[str, Any]:
    payload = ledger.payload_of(witness)
    payload["confidence_score"] = witness.confidence_score
    payload["kappa_threshold"] = witness.kappa_threshold
    problem = ledger.entry_problem(witness)
    outcome = Outcome.objects.current().filter(witness=witness).first()
    return {
        **payload,
        "children": [str(v) for v in witness.children.values_list("vif_id", flat=True)],
        "outcome": OutcomeOutputSerializer(outcome).data if outcome else None,
        "ledger": {"sequence": witness.sequence, "prev_hash": witness.prev_hash, "payload_hash": witness.payload_hash,
                   "entry_hash": witness.entry_hash, "signature": witness.signature, "entry_jcs": witness.entry_jcs,
                   "retired_at": witness.retired_at, "verified": not problem, "problem": problem},
    }


class WitnessDetailApi(ApiView):
    @extend_schema(operation_id="get_witness", parameters=_VIF_ID, responses=dict,
                   description="A witness with every recorded field, its ledger entry and whether that entry "
                               "verifies (hash, link to its predecessor, signature, payload).")
    def get(self, request: Request, vif_id: str) -> Response:
        return Response(witness_dict(services.witness_get(vif_id=vif_id)))


class WitnessOutcomeApi(ApiView):
    permission_classes = [IsPersonOrOutcomeKey]

    @extend_schema(operation_id="record_outcome", parameters=_VIF_ID, request=OutcomeInputSerializer,
                   responses={201: OutcomeOutputSerializer},
                   description="Label a witnessed output correct or not (once). Feeds calibration and κ.")
    def post(self, request: Request, vif_id: str) -> Response:
        data = OutcomeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = "automatic" if isinstance(request.user, AgentPrincipal) else "api"
        outcome = services.outcome_record(witness=services.witness_get(vif_id=vif_id), source=source,
                                          recorded_by=principal_of(request.user), **data.validated_data)
        return Response(OutcomeOutputSerializer(outcome).data, status=201)


class WitnessReplayApi(ApiView):
    @extend_schema(operation_id="replay_witness", parameters=_VIF_ID, request=ReplayInputSerializer,
                   responses=dict,
                   description="Tool witness: recompute from the survey and compare the result hash bit for bit "
                               "(runs > 1 is a determinism check). LLM witness: compare the output your model "
                               "produced with the recorded seed and parameters (or several, in outputs) with the "
                               "recorded hash. A mismatch names the recorded inputs that differ.")
    def post(self, request: Request, vif_id: str) -> Response:
        data = ReplayInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(replay.replay(services.witness_get(vif_id=vif_id), data.validated_data))


class GateApi(ApiView):
    @extend_schema(operation_id="kappa_gate", request=GateInputSerializer, responses=GateOutputSerializer,
                   description="Check a confidence against κ for a task criticality (and domain): PASS or ABSTAIN "
                               "with the threshold and a reason to show the user. Every check is recorded.")
    def post(self, request: Request) -> Response:
        data = GateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = services.gate_evaluate(confidence_score=values["confidence"], criticality=values["task_criticality"],
                                        domain=values["domain"], writer=principal_of(request.user))
        return Response(result.as_dict())


class KappaPolicyListApi(ApiView):
    @extend_schema(operation_id="list_kappa_policies", responses=KappaPolicyOutputSerializer(many=True),
                   description="κ per task criticality and domain override.")
    def get(self, request: Request) -> Response:
        policies = [{"criticality": p.criticality, "domain": p.domain, "key": p.key, "threshold": float(p.threshold),
                     "updated_by": p.updated_by, "updated_at": p.updated_at, "reason": p.reason}
                    for p in KappaPolicy.objects.all()]
        return Response(KappaPolicyOutputSerializer(policies, many=True).data)


class LedgerKeyApi(ApiView):
    @extend_schema(operation_id="ledger_key", responses=dict,
                   description="The site's Ed25519 public key that signs every ledger entry and checkpoint.")
    def get(self, request: Request) -> Response:
        key = ledger.site_key()
        return Response({"algorithm": "Ed25519", "key_id": key.key_id(), "public_key_hex": key.public_raw_hex(),
                         "public_key_pem": key.public_pem()})


class CalibrationApi(ApiView):
    @extend_schema(operation_id="calibration", parameters=[CalibrationQuerySerializer], responses=dict,
                   description="ECE (equal-width and equal-mass bins), MCE, Brier, debiased L2 error, reliability "
                               "bins, the null band of a perfectly calibrated model at this sample size, status, "
                               "per-group breakdown, verbalised levels, ECE over time and degradation.")
    def get(self, request: Request) -> Response:
        query = CalibrationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(monitoring.calibration_report(**query.validated_data))


class ReliabilityPngApi(ApiView):
    @extend_schema(operation_id="reliability_png", parameters=[CalibrationQuerySerializer],
                   responses={(200, "image/png"): bytes})
    def get(self, request: Request) -> HttpResponse:
        query = CalibrationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows, meta = monitoring.reliability_rows(**query.validated_data)
        return HttpResponse(plots.reliability_png(rows, meta), content_type="image/png")


class ReliabilityFigureApi(ApiView):
    @extend_schema(operation_id="reliability_figure", parameters=[CalibrationQuerySerializer], responses=dict)
    def get(self, request: Request) -> Response:
        query = CalibrationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows, meta = monitoring.reliability_rows(**query.validated_data)
        return Response(plots.reliability_figure(rows, meta))


class MetricsApi(ApiView):
    permission_classes = [IsPersonOrMetricsKey]

    @extend_schema(operation_id="metrics", parameters=[MetricsQuerySerializer], responses=dict,
                   description="Operations, bands, κ failures, confidence against its 7-day baseline, calibration "
                               "degradation and a CUSUM per criticality, with alerts.")
    def get(self, request: Request) -> Response:
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(monitoring.metrics_report(**query.validated_data))


class PlainTextRenderer(BaseRenderer):
    media_type = "text/plain"
    format = "txt"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return str(data).encode("utf-8")


class PrometheusApi(ApiView):
    permission_classes = [IsStaffOrMetricsKey]
    renderer_classes = [JSONRenderer, PlainTextRenderer]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponse:
        body, content_type = prometheus.render()
        return HttpResponse(body, content_type=content_type)
