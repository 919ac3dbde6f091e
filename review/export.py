"""Decisions with their witnesses, for audits: one row per decision (first approvals of critical items
included, marked ``final = false``), as CSV or JSON Lines, streamed in one query whatever the number of rows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from review.models import Decision

FIELDS = ["escalation_id", "decision", "final", "reviewer", "reason", "decided_at", "witness_vif_id", "sequence",
          "entry_hash", "model_id", "model_version", "confidence", "kappa", "gate_verdict", "criticality", "domain",
          "escalation_status"]

_COLUMNS = ["escalation_id", "decision", "final", "reviewer__username", "comment", "created_at",
            "escalation__witness__vif_id", "escalation__witness__sequence", "escalation__witness__entry_hash",
            "escalation__witness__model_id", "escalation__witness__model_version",
            "escalation__witness__confidence_micros", "escalation__witness__kappa_threshold_micros",
            "escalation__witness__kappa_gate_passed", "escalation__criticality", "escalation__domain",
            "escalation__status"]


def _micros(value: int | None) -> float | None:
    return None if value is None else value / 1_000_000


def decision_rows(decisions: Any) -> Iterator[dict[str, Any]]:
    """The rows for a queryset of decisions, oldest first. Confidence and κ as numbers (millionths exact); the
    gate verdict as the witness recorded it (PASS, ABSTAIN, or empty for none)."""
    for (escalation_id, decision, final, reviewer, comment, created_at, vif_id, sequence, entry_hash, model_id,
         model_version, confidence, kappa, passed, criticality, domain, status) in (
            decisions.order_by("created_at", "id").values_list(*_COLUMNS).iterator(chunk_size=2000)):
        yield {"escalation_id": escalation_id, "decision": decision, "final": final, "reviewer": reviewer,
               "reason": comment, "decided_at": created_at.isoformat(), "witness_vif_id": str(vif_id),
               "sequence": sequence, "entry_hash": entry_hash or "", "model_id": model_id,
               "model_version": model_version, "confidence": _micros(confidence), "kappa": _micros(kappa),
               "gate_verdict": "" if passed is None else ("PASS" if passed else "ABSTAIN"),
               "criticality": criticality, "domain": domain, "escalation_status": status}


def decisions_of(escalations: Any) -> Any:
    return Decision.objects.filter(escalation__in=escalations)


def as_jsonl(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def as_csv(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
