"""The agent tools over MCP: the same services, the same input validation (the REST serializers),
the same descriptions and the same error messages as the REST API, acting as one agent key."""

from __future__ import annotations

import base64
import json
from typing import Any, TypeVar

from django.core.serializers.json import DjangoJSONEncoder
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed

from review import services as review_services
from review.api.serializers import InterpretationInputSerializer
from seismic import services, tools
from seismic.api.serializers import (
    AnomaliesInputSerializer,
    AuditInputSerializer,
    ClaimInputSerializer,
    CompareInputSerializer,
    HypothesisInputSerializer,
    SectionImageQuerySerializer,
    SectionQuerySerializer,
    StructuredQuerySerializer,
    SurveyOutputSerializer,
    section_number_parse,
    section_payload,
)
from seismic.descriptions import TOOLS
from seismic.models import Survey
from vifsite.errors import Forbidden, InputError
from vifsite.parsers import json_problem
from vifsite.vif.auth import agent_key_check, agent_key_recheck
from vifsite.vif.models import AgentKey

MCP_TOOLS = ("list_surveys", "get_survey", "extract_section", "validate_amplitude_claim",
             "detect_amplitude_anomalies", "verify_feature_hypothesis", "compare_to_reference",
             "get_structured_analysis_template", "submit_structured_analysis", "audit_interpretation",
             "submit_interpretation", "get_escalation")


def _default_clip() -> float:
    """The REST image's default colour clip, so the picture is the one image.png serves."""
    default = SectionImageQuerySerializer().fields["clip"].default
    if not isinstance(default, float):
        raise TypeError(f"SectionImageQuerySerializer's clip needs a float default, not {default!r}.")
    return default


DEFAULT_CLIP = _default_clip()


class ToolError(Exception):
    """A tool call that failed on its input: reported to the client as an MCP tool error."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload.get("detail", ""))
        self.payload = payload


def authenticate(key: str) -> AgentKey:
    try:
        return agent_key_check(key.strip())
    except AuthenticationFailed as exc:
        raise SystemExit(f"mcp_server: {exc.detail}") from None


SerializerT = TypeVar("SerializerT", bound=serializers.Serializer)


def _validated(serializer_class: type[SerializerT], data: dict[str, Any]) -> SerializerT:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ToolError({"detail": "Invalid arguments.", "errors": serializer.errors})
    return serializer


def _survey_id(arguments: dict[str, Any]) -> int:
    value = arguments.get("survey_id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolError({"detail": "survey_id must be an integer (see list_surveys)."})
    return value


def _section(arguments: dict[str, Any], principal: str) -> tuple[dict[str, Any], bytes]:
    survey = services.survey_get(survey_id=_survey_id(arguments))
    ranges = {k: v for k, v in arguments.items() if k.endswith(("_min", "_max"))}
    query = _validated(SectionQuerySerializer, ranges)
    if "section_type" not in arguments or "section_number" not in arguments:
        raise ToolError({"detail": "section_type and section_number are required."})
    section, extraction = services.section_extract(
        survey=survey, kind=str(arguments["section_type"]), number=section_number_parse(arguments["section_number"]),
        ranges=query.ranges(), principal=principal)
    png = services.section_png(section=section, clip_percentile=DEFAULT_CLIP)
    return section_payload(survey=survey, section=section, extraction=extraction), png


def _without_ranges(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.endswith("_range")}


def call(name: str, arguments: dict[str, Any], key: AgentKey) -> tuple[list[dict[str, Any]], bool]:
    """Run one tool. Returns content blocks ({"type": "text"|"image", ...}) and whether it is an error.

    The key is checked again on every call, so revoking it (or its expiry) stops a running server's agent
    at its next call, as it would over REST."""
    principal = key.principal
    arguments = dict(arguments or {})
    try:
        agent_key_recheck(key)
        if name not in MCP_TOOLS:
            raise ToolError({"detail": f"Unknown tool {name!r}.", "tools": list(MCP_TOOLS)})
        problem = json_problem(arguments)  # the REST parser's limits: 64 levels of nesting, valid Unicode
        if problem:
            raise ToolError({"detail": f"Invalid arguments: {problem}"})
        image = None
        if name == "list_surveys":
            result: Any = SurveyOutputSerializer(Survey.objects.all(), many=True).data
        elif name == "get_survey":
            result = SurveyOutputSerializer(services.survey_get(survey_id=_survey_id(arguments))).data
        elif name == "extract_section":
            result, image = _section(arguments, principal)
        elif name == "validate_amplitude_claim":
            data = _validated(ClaimInputSerializer, arguments)
            result = tools.claim_validate(survey_id=_survey_id(arguments), window=data.ranges(), principal=principal,
                                          **_without_ranges(data.validated_data))
        elif name == "detect_amplitude_anomalies":
            anomalies = _validated(AnomaliesInputSerializer, arguments)
            result = tools.anomalies_detect(survey_id=_survey_id(arguments), ranges=anomalies.ranges(),
                                            principal=principal, **_without_ranges(anomalies.validated_data))
        elif name == "verify_feature_hypothesis":
            values = _validated(HypothesisInputSerializer, arguments).validated_data
            result = tools.hypothesis_verify(survey_id=_survey_id(arguments), feature_type=values["feature_type"],
                                             characteristics=values["characteristics"], principal=principal,
                                             **values["location"])
        elif name == "compare_to_reference":
            compare = _validated(CompareInputSerializer, arguments)
            result = tools.sections_compare(survey_id=_survey_id(arguments), ranges=compare.ranges(),
                                            reference_ranges=compare.ranges("reference_"), principal=principal,
                                            **_without_ranges(compare.validated_data))
        elif name == "get_structured_analysis_template":
            values = _validated(StructuredQuerySerializer, arguments).validated_data
            result = tools.structured_template(survey_id=_survey_id(arguments), principal=principal, **values)
        elif name == "submit_structured_analysis":
            result = tools.structured_validate(survey_id=_survey_id(arguments), filled=arguments.get("analysis"),
                                               principal=principal)
        elif name == "audit_interpretation":
            result = tools.interpretation_audit(principal=principal,
                                                **_validated(AuditInputSerializer, arguments).validated_data)
        elif name == "submit_interpretation":
            v = _validated(InterpretationInputSerializer, arguments).validated_data
            result = review_services.interpretation_submit(
                writer=principal, key=key, text=v.get("text", ""), structured=v.get("structured"),
                extraction_ids=v["extraction_ids"], criticality=v["task_criticality"], domain=v["domain"],
                callback_url=v["callback_url"],
                model={k: v.get(k) for k in InterpretationInputSerializer.MODEL_FIELDS},
                signals={k: v.get(k) for k in InterpretationInputSerializer.SIGNAL_FIELDS})
        else:  # get_escalation
            escalation_id = arguments.get("escalation_id")
            if isinstance(escalation_id, bool) or not isinstance(escalation_id, int):
                raise ToolError({"detail": "escalation_id must be an integer."})
            escalation = review_services.escalation_get(escalation_id=escalation_id)
            if escalation.submitted_by != principal:
                raise Forbidden("Agents see only the escalations of their own submissions.")
            result = review_services.escalation_summary(escalation)
    except InputError as exc:
        return [_text(exc.as_dict())], True
    except ToolError as exc:
        return [_text(exc.payload)], True
    except AuthenticationFailed as exc:
        return [_text({"detail": str(exc.detail)})], True
    blocks = [_text(result)]
    if image is not None:
        blocks.append({"type": "image", "data": base64.b64encode(image).decode("ascii"), "mime_type": "image/png"})
    return blocks, False


def _text(value: Any) -> dict[str, Any]:
    return {"type": "text", "text": json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)}


def tool_list() -> list[dict[str, Any]]:
    return [{"name": name, "description": TOOLS[name].description, "input_schema": TOOLS[name].parameters}
            for name in MCP_TOOLS]


