from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from review import services
from review.api.serializers import DecisionInputSerializer, InterpretationInputSerializer
from review.descriptions import REVIEW_TOOLS
from vifsite.api import ApiView
from vifsite.errors import Forbidden
from vifsite.vif.auth import AgentPrincipal, principal_of


class InterpretationSubmitApi(ApiView):
    @extend_schema(operation_id="submit_interpretation", request=InterpretationInputSerializer,
                   responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="Accepted (status accepted)."),
                              201: OpenApiResponse(OpenApiTypes.OBJECT, description="Escalated to a human reviewer, "
                                                   "or accepted and sent for a spot check: the escalation is in "
                                                   "the answer.")},
                   description=REVIEW_TOOLS["submit_interpretation"].description)
    def post(self, request: Request) -> Response:
        data = InterpretationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        key = request.user.key if isinstance(request.user, AgentPrincipal) else None
        result = services.interpretation_submit(
            writer=principal_of(request.user), key=key, text=v.get("text", ""), structured=v.get("structured"),
            extraction_ids=v["extraction_ids"], criticality=v["task_criticality"], domain=v["domain"],
            callback_url=v["callback_url"], submitter=None if key else request.user,
            model={k: v.get(k) for k in InterpretationInputSerializer.MODEL_FIELDS},
            signals={k: v.get(k) for k in InterpretationInputSerializer.SIGNAL_FIELDS})
        return Response(result, status=201 if result["status"] != "accepted" else 200)


class EscalationDetailApi(ApiView):
    @extend_schema(operation_id="get_escalation", responses=dict,
                   description=REVIEW_TOOLS["get_escalation"].description)
    def get(self, request: Request, escalation_id: int) -> Response:
        escalation = services.escalation_get(escalation_id=escalation_id)
        user = request.user
        if isinstance(user, AgentPrincipal):
            if escalation.submitted_by != user.key.principal:
                raise Forbidden("Agents see only the escalations of their own submissions.")
        elif not services.is_reviewer(user) and escalation.submitted_owner_id != user.pk:
            raise Forbidden("Escalations are for reviewers and for the person who submitted them.")
        return Response(services.escalation_summary(escalation))


class EscalationClaimApi(ApiView):
    @extend_schema(operation_id="claim_escalation", request=None, responses=dict)
    def post(self, request: Request, escalation_id: int) -> Response:
        escalation = services.escalation_claim(escalation_id=escalation_id, reviewer=request.user)
        return Response(services.escalation_summary(escalation))


class EscalationDecisionApi(ApiView):
    @extend_schema(operation_id="decide_escalation", request=DecisionInputSerializer, responses=dict,
                   description="Approve, reject, revise (with the revised text) or ask for more analysis (with a "
                               "note). Critical items need two approvals from different reviewers. When two "
                               "reviewers decide at once, exactly one wins; the other gets 409 with the winner's "
                               "decision.")
    def post(self, request: Request, escalation_id: int) -> Response:
        data = DecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.escalation_decide(escalation_id=escalation_id, reviewer=request.user,
                                                   **data.validated_data))
