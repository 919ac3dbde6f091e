"""The witness ledger: append under the chain-head lock, verify, checkpoint, export, retire.

Each witness row is a ledger entry:

- ``payload_jcs``: RFC 8785 bytes of the recorded fields (``payload_of``); ``payload_hash`` its SHA-256;
- ``entry_jcs``: RFC 8785 bytes of {schema, sequence, prev_hash, payload_hash, vif_id, created_at,
  operation, writer, prompt_hash, output_hash, tool_results_hash, key_id}; ``entry_hash`` its SHA-256,
  ``signature`` the site key's Ed25519 signature of exactly those bytes.

Retiring a witness drops its payload (and the bulky columns) but keeps the entry, so links,
hashes and signatures still verify, and the prompt and output hashes stay signed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from vifsite.vif import signing
from vifsite.vif.models import LedgerHead, Witness

ENTRY_SCHEMA = "vif-ledger/1"
PAYLOAD_SCHEMA = "vif/1"

# The recorded fields of a witness, in the VIF schema's names. Confidence and κ are in millionths.
PAYLOAD_FIELDS = (
    "vif_id", "schema_version", "operation",
    "model_id", "model_provider", "model_version", "weights_hash",
    "context_snapshot", "prompt_template", "prompt_hash", "prompt_tokens", "prompt_tokens_estimated",
    "retrieved_ids", "prompt_text",
    "tool_ids", "tool_parameters", "tool_results_hash",
    "confidence_micros", "confidence_method", "confidence_band", "confidence_details", "ece_at_time", "entropy",
    "top_k_probs",
    "replay_seed", "temperature", "top_p", "top_k", "max_tokens", "generation_params",
    "output_hash", "output_tokens", "output_tokens_estimated", "total_tokens", "output_text",
    "writer", "task_criticality", "domain", "kappa_threshold_micros", "kappa_gate_passed", "routing",
    "calibration_sample", "created_at", "execution_time_ms", "parent_vif_id",
)
# Emptied when a witness is retired to hashes only.
RETIRED_BLANK: dict[str, Any] = {
    "context_snapshot": [], "prompt_template": "", "retrieved_ids": [], "prompt_text": "", "tool_parameters": {},
    "confidence_details": {}, "top_k_probs": None, "generation_params": {}, "output_text": "",
}


def site_key() -> signing.SiteKey:
    return signing.SiteKey(Path(settings.VIFSITE_LEDGER_DIR) / "signing_key.pem")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return signing.iso(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def payload_of(witness: Witness) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for name in PAYLOAD_FIELDS:
        value = witness.parent_id if name == "parent_vif_id" else getattr(witness, name)
        payload[name] = _json_value(value)
    return payload


def _entry(witness: Witness, key_id: str) -> dict[str, Any]:
    return {
        "schema": ENTRY_SCHEMA, "sequence": witness.sequence, "prev_hash": witness.prev_hash,
        "payload_hash": witness.payload_hash, "vif_id": str(witness.vif_id),
        "created_at": signing.iso(witness.created_at),
        "operation": witness.operation, "writer": witness.writer, "prompt_hash": witness.prompt_hash,
        "output_hash": witness.output_hash, "tool_results_hash": witness.tool_results_hash, "key_id": key_id,
    }


def _lock_head() -> LedgerHead:
    """Take the chain-head row lock before reading it. An UPDATE locks the row on PostgreSQL until
    commit and takes SQLite's write lock, so a second appender waits here instead of reading a stale
    head (the "read last, then insert" race that forks or loses entries)."""
    now = timezone.now()
    if not LedgerHead.objects.filter(pk=1).update(updated_at=now):
        LedgerHead.objects.get_or_create(pk=1, defaults={"sequence": 0, "head_hash": signing.GENESIS})
        LedgerHead.objects.filter(pk=1).update(updated_at=now)
    return LedgerHead.objects.get(pk=1)


def append(witnesses: Sequence[Witness]) -> list[Witness]:
    """Give each unsaved witness its sequence, links, hashes and signature, and insert them all in
    one transaction. ``created_at`` is set here, under the lock, so time follows sequence."""
    if not witnesses:
        return []
    key = site_key()
    key_id = key.key_id()
    with transaction.atomic():
        head = _lock_head()
        sequence, previous = head.sequence, head.head_hash
        now = timezone.now()
        for witness in witnesses:
            sequence += 1
            witness.sequence = sequence
            witness.prev_hash = previous
            witness.created_at = now
            witness.schema_version = PAYLOAD_SCHEMA
            payload_bytes = signing.canonical(payload_of(witness))
            witness.payload_jcs = payload_bytes.decode("utf-8")
            witness.payload_hash = signing.sha256_hex(payload_bytes)
            entry_bytes = signing.canonical(_entry(witness, key_id))
            witness.entry_jcs = entry_bytes.decode("utf-8")
            witness.entry_hash = signing.sha256_hex(entry_bytes)
            witness.signature = key.sign(entry_bytes)
            previous = witness.entry_hash
        Witness.objects.bulk_create(witnesses)
        LedgerHead.objects.filter(pk=1).update(sequence=sequence, head_hash=previous, updated_at=now)
    return list(witnesses)


# --- Verification ---------------------------------------------------------------------------------

@dataclass
class Verification:
    ok: bool = True
    checked: int = 0
    retired: int = 0
    last_sequence: int = 0
    head_hash: str = signing.GENESIS
    first_bad_sequence: int | None = None
    problem: str = ""
    checkpoint: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def fail(self, sequence: int | None, problem: str) -> Verification:
        if self.ok:
            self.ok, self.first_bad_sequence, self.problem = False, sequence, problem
        return self

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "retired": self.retired, "last_sequence": self.last_sequence,
                "head_hash": self.head_hash, "first_bad_sequence": self.first_bad_sequence, "problem": self.problem,
                "checkpoint": self.checkpoint, "notes": self.notes}


def check_entry(witness: Witness, *, expected_sequence: int, previous_hash: str, public: Any) -> str:
    """The first thing wrong with one entry, or ''."""
    if witness.sequence != expected_sequence:
        return (f"sequence {expected_sequence} is missing: the next entry has sequence {witness.sequence} "
                "(deleted or reordered entries)")
    entry_bytes = witness.entry_jcs.encode("utf-8")
    if signing.sha256_hex(entry_bytes) != witness.entry_hash:
        return "entry hash does not match the entry's bytes"
    if not signing.verify(public, entry_bytes, witness.signature):
        return "signature does not verify with the site key"
    try:
        entry = json.loads(entry_bytes)
    except ValueError:
        return "entry bytes are not JSON"
    # The entry's own fields are checked against the row even after retirement drops the payload.
    recorded = {"sequence": witness.sequence, "prev_hash": witness.prev_hash, "payload_hash": witness.payload_hash,
                "vif_id": str(witness.vif_id), "created_at": signing.iso(witness.created_at),
                "operation": witness.operation, "writer": witness.writer, "prompt_hash": witness.prompt_hash,
                "output_hash": witness.output_hash, "tool_results_hash": witness.tool_results_hash}
    for name, value in recorded.items():
        if entry.get(name) != value:
            return f"the row's {name} differs from the signed entry"
    if entry["prev_hash"] != previous_hash:
        return "previous-hash link is broken (an entry before it was changed, removed or reordered)"
    if witness.retired_at is None:
        if witness.payload_jcs is None:
            return "payload is missing from an entry that is not retired"
        payload_bytes = witness.payload_jcs.encode("utf-8")
        if signing.sha256_hex(payload_bytes) != witness.payload_hash:
            return "payload hash does not match the stored payload"
        if signing.canonical(payload_of(witness)) != payload_bytes:
            return "the row's fields differ from its signed payload"
    return ""


def verify(*, key: signing.SiteKey | None = None, checkpoint_dir: str | Path | None = None) -> Verification:
    """Check every hash, link and signature in sequence order, then the head row and latest checkpoint."""
    key = key or site_key()
    public = key.public
    result = Verification()
    previous = signing.GENESIS
    expected = 1
    for witness in Witness.objects.order_by("sequence").iterator(chunk_size=2000):
        problem = check_entry(witness, expected_sequence=expected, previous_hash=previous, public=public)
        if problem:
            return result.fail(witness.sequence if witness.sequence == expected else expected, problem)
        result.checked += 1
        result.retired += witness.retired_at is not None
        previous = witness.entry_hash
        expected += 1
    result.last_sequence, result.head_hash = expected - 1, previous
    head = LedgerHead.objects.filter(pk=1).first()
    if head is not None and (head.sequence, head.head_hash) != (result.last_sequence, result.head_hash):
        return result.fail(result.last_sequence + 1,
                           f"the chain head says sequence {head.sequence} but the ledger ends at "
                           f"{result.last_sequence} "
                           "(newest entries removed)")
    checkpoint = signing.checkpoint_latest(checkpoint_dir or settings.VIFSITE_LEDGER_DIR)
    result.checkpoint = checkpoint
    if checkpoint is None:
        result.notes.append("no checkpoint yet: truncation of the newest entries cannot be ruled out")
        return result
    if not signing.checkpoint_signature_ok(checkpoint, public):
        return result.fail(None, "the latest checkpoint's signature does not verify")
    if checkpoint["sequence"] > result.last_sequence:
        return result.fail(result.last_sequence + 1,
                           f"the ledger ends at sequence {result.last_sequence} but a checkpoint recorded "
                           f"{checkpoint['sequence']}: the newest entries were truncated")
    if checkpoint["sequence"] > 0:
        at = Witness.objects.filter(sequence=checkpoint["sequence"]).values_list("entry_hash", flat=True).first()
        if at != checkpoint["head_hash"]:
            return result.fail(checkpoint["sequence"], "the entry at the latest checkpoint has a different hash")
    return result


def checkpoint(*, directory: str | Path | None = None) -> dict[str, Any]:
    """Write a signed checkpoint of the current head outside the database."""
    head = LedgerHead.objects.filter(pk=1).first()
    sequence, head_hash = (head.sequence, head.head_hash) if head else (0, signing.GENESIS)
    key = site_key()
    created_at = signing.iso(timezone.now())
    signing.checkpoint_write(directory or settings.VIFSITE_LEDGER_DIR, key, sequence=sequence, head_hash=head_hash,
                             created_at=created_at)
    return {"sequence": sequence, "head_hash": head_hash, "created_at": created_at}


# --- Export and retirement ----------------------------------------------------------------------

def export_bundle(*, since: datetime | None = None) -> dict[str, Any]:
    """Entries from ``since`` on, with everything a stand-alone verifier needs."""
    key = site_key()
    rows = Witness.objects.order_by("sequence")
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    entries = [
        {"sequence": w.sequence, "entry_jcs": w.entry_jcs, "entry_hash": w.entry_hash, "signature": w.signature,
         "payload_jcs": w.payload_jcs, "retired": w.retired_at is not None}
        for w in rows.iterator(chunk_size=2000)
    ]
    return {
        "format": "vifsite-witness-bundle/1",
        "exported_at": signing.iso(timezone.now()),
        "algorithm": signing.ALGORITHM,
        "public_key_hex": key.public_raw_hex(),
        "key_id": key.key_id(),
        "since": signing.iso(since) if since else None,
        "entries": entries,
        "checkpoint": signing.checkpoint_latest(settings.VIFSITE_LEDGER_DIR),
    }


def retire(*, before: datetime) -> int:
    """Retire witnesses created before ``before`` to hashes only. The signed entries stay."""
    now = timezone.now()
    # The one sanctioned change to witness rows: a plain QuerySet bypasses the append-only guard.
    rows: models.QuerySet[Witness] = models.QuerySet(model=Witness).filter(created_at__lt=before,
                                                                           retired_at__isnull=True)
    return rows.update(payload_jcs=None, retired_at=now, **RETIRED_BLANK)

