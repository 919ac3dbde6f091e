"""The review app's agent tools, described once (OpenAPI, the manifest at /api/v1/tools/, MCP)."""

from __future__ import annotations

from seismic.descriptions import Tool

REVIEW_TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in [
        Tool(
            name="submit_interpretation",
            method="POST",
            path="/api/v1/interpretations/",
            summary="Submit an interpretation for the record: audited, witnessed, gated with κ, escalated if needed.",
            what="Give the text (or a filled structured analysis), the extraction ids it is based on, your model id "
                 "and a confidence (or logprobs, or a verbalised confidence), and the task criticality (critical, "
                 "important, routine, low_stakes). Your confidence is multiplied by the audit's grounding score and "
                 "gated with κ. Hydrocarbon presence, reserves, well locations and drilling always go to a human. "
                 "The answer is accepted (band, routing, witness id) or escalated (escalation id, due time, the "
                 "reasons, the findings and the tools that would help); poll get_escalation for the decision.",
            parameters={"type": "object", "properties": {
                "text": {"type": "string"}, "structured": {"type": "object"},
                "extraction_ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
                "model_id": {"type": "string"}, "model_version": {"type": "string"},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "verbalized_confidence": {"type": ["number", "string"]},
                "task_criticality": {"type": "string", "enum": ["critical", "important", "routine", "low_stakes"]},
                "domain": {"type": "string"}, "callback_url": {"type": "string"}},
                "required": ["extraction_ids", "model_id", "task_criticality"]},
        ),
        Tool(
            name="get_escalation",
            method="GET",
            path="/api/v1/escalations/{escalation_id}/",
            summary="The status of an escalated interpretation and, once decided, the human decision.",
            what="Status pending or in_review while a human works on it; approved, rejected, revised (with the "
                 "reviewer's text), needs_analysis (with the reviewer's note) or expired (nobody decided in time: "
                 "treat it as an abstention, never as an approval).",
            parameters={"type": "object", "properties": {"escalation_id": {"type": "integer"}},
                        "required": ["escalation_id"]},
        ),
    ]
}
