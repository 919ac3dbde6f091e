"""The witness ledger: queue leaves, integrate them in batches under the chain-head lock, verify,
checkpoint, export, retire.

Recording a witness is split the way transparency logs split queuing a leaf from integrating it:

- ``queue`` inserts the witness as a pending leaf: its payload is fixed, hashed and timestamped in the
  request, outside any lock; the row has no sequence yet. Concurrent requests queue without waiting on
  each other.
- ``integrate`` takes the chain-head lock and sequences every pending leaf it can see, oldest first, in
  one batch: sequence, previous hash, entry, Ed25519 signature, one UPDATE, one commit. A request that
  queued a leaf integrates after its own transaction commits; if another request's batch took its leaf
  meanwhile, it finds it sequenced and does not wait on the lock at all. Under load the batches grow and
  the lock is taken once per batch, not once per read. A leaf whose request died between the two steps
  is integrated by the next batch, or by the ``ledger_integrate`` task every minute. Reads need not wait
  for their place in the chain: ``integrate_after_commit`` leaves it to the process's integrator thread
  (VIFSITE_LEDGER_INTEGRATE_IN_BACKGROUND), which sequences the leaves of many requests per batch.

Each sequenced witness row is a ledger entry:

- ``payload_jcs``: RFC 8785 bytes of the recorded fields (``payload_of``); ``payload_hash`` its SHA-256;
- ``entry_jcs``: RFC 8785 bytes of {schema, sequence, prev_hash, payload_hash, vif_id, created_at,
  operation, writer, prompt_hash, output_hash, tool_results_hash, key_id}; ``entry_hash`` its SHA-256,
  ``signature`` the site key's Ed25519 signature of exactly those bytes.

Retiring a witness drops its payload (and the bulky columns) but keeps the entry, so links,
hashes and signatures still verify, and the prompt and output hashes stay signed.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
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


# The payload's fields that are not JSON values as the model holds them (times, UUIDs): converted by
# _json_value; the rest are taken as they are (payload_of runs once per entry when the ledger is verified).
_PAYLOAD_ATTRIBUTES = tuple("parent_id" if name == "parent_vif_id" else name for name in PAYLOAD_FIELDS)
_PAYLOAD_CONVERTED = frozenset(("vif_id", "created_at", "parent_vif_id"))


def payload_of(witness: Witness) -> dict[str, Any]:
    payload = {name: getattr(witness, attribute) for name, attribute in zip(PAYLOAD_FIELDS, _PAYLOAD_ATTRIBUTES,
                                                                            strict=True)}
    for name in _PAYLOAD_CONVERTED:
        payload[name] = _json_value(payload[name])
    return payload


def _lock_head() -> tuple[int, str]:
    """Take the chain-head row lock, then read it: (sequence, head hash). The UPDATE locks the row on
    PostgreSQL until commit and takes SQLite's write lock, so a second integrator waits here instead of
    reading a stale head (the "read last, then insert" race that forks or loses entries). Plain SQL: this
    runs once per batch on the hot path, where the ORM's query building cost more than the queries."""
    table = connection.ops.quote_name(LedgerHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET updated_at = %s WHERE id = 1", [timezone.now()])  # noqa: S608
        if cursor.rowcount == 0:
            LedgerHead.objects.get_or_create(pk=1, defaults={"sequence": 0, "head_hash": signing.GENESIS})
            cursor.execute(f"UPDATE {table} SET updated_at = %s WHERE id = 1", [timezone.now()])  # noqa: S608
        cursor.execute(f"SELECT sequence, head_hash FROM {table} WHERE id = 1")  # noqa: S608
        sequence, head_hash = cursor.fetchone()
    return int(sequence), head_hash


def _write_batch(rows: list[Witness]) -> None:
    """Fill the entries of a batch of pending leaves and move the head past them (under the lock)."""
    witnesses = connection.ops.quote_name(Witness._meta.db_table)
    head = connection.ops.quote_name(LedgerHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {witnesses} SET sequence = %s, prev_hash = %s, entry_jcs = %s, entry_hash = %s, "  # noqa: S608
            "signature = %s WHERE id = %s AND sequence IS NULL",
            [(w.sequence, w.prev_hash, w.entry_jcs, w.entry_hash, w.signature, w.pk) for w in rows])
        cursor.execute(f"UPDATE {head} SET sequence = %s, head_hash = %s, updated_at = %s WHERE id = 1",  # noqa: S608
                       [rows[-1].sequence, rows[-1].entry_hash, timezone.now()])


# The columns an entry is made of, read back from a pending leaf when it is integrated.
_LEAF_COLUMNS = ("pk", "vif_id", "created_at", "operation", "writer", "prompt_hash", "output_hash",
                 "tool_results_hash", "payload_hash")
_ENTRY_FIELDS = ("sequence", "prev_hash", "entry_jcs", "entry_hash", "signature")
INTEGRATE_BATCH = 2000


def queue(witnesses: Sequence[Witness]) -> list[Witness]:
    """Insert unsaved witnesses as pending leaves: payload fixed, hashed and timestamped, no sequence yet.
    In the caller's transaction, so a leaf exists exactly when the rows recorded with it do."""
    if not witnesses:
        return []
    now = timezone.now()
    for witness in witnesses:
        witness.sequence = None
        witness.entry_hash = None
        witness.prev_hash = witness.entry_jcs = witness.signature = ""
        witness.created_at = now
        witness.schema_version = PAYLOAD_SCHEMA
        payload_bytes = signing.canonical(payload_of(witness))
        witness.payload_jcs = payload_bytes.decode("utf-8")
        witness.payload_hash = signing.sha256_hex(payload_bytes)
    Witness.objects.bulk_create(witnesses)
    return list(witnesses)


def integrate(witnesses: Sequence[Witness] = (), *, batch: int = INTEGRATE_BATCH, check_first: bool = True) -> int:
    """Sequence pending leaves under the chain-head lock, in batches, until none of ``witnesses`` is
    pending (with none given: one batch of whatever is pending), and fill the given witnesses' entry
    fields. ``check_first`` looks, before waiting on the lock, whether another batch has already taken
    them (pointless for leaves queued in the caller's own open transaction). Answers how many leaves this
    call sequenced."""
    ids = {w.pk for w in witnesses if w.pk is not None}
    waiting = set(ids)
    if ids and check_first:
        waiting = set(Witness.objects.filter(pk__in=ids, sequence__isnull=True).values_list("pk", flat=True))
    done, entries = 0, {}
    if not ids or waiting:
        key = site_key()
        key_id = key.key_id()
        while True:
            with transaction.atomic():
                sequence, head_hash = _lock_head()
                pending = list(Witness.objects.filter(sequence__isnull=True).order_by("pk")
                               .values_list(*_LEAF_COLUMNS)[:batch])
                if pending:
                    rows = _chain(pending, sequence, head_hash, key, key_id)
                    _write_batch(rows)
                    done += len(rows)
                    entries.update({row.pk: row for row in rows if row.pk in ids})
            waiting -= {row[0] for row in pending}
            if not waiting or not pending:
                break
    if ids:
        missing = ids - entries.keys()
        if missing:  # sequenced by another batch
            entries.update({w.pk: w for w in Witness.objects.filter(pk__in=missing).only("pk", *_ENTRY_FIELDS)})
        for witness in witnesses:
            if witness.pk in entries:
                for name in _ENTRY_FIELDS:
                    setattr(witness, name, getattr(entries[witness.pk], name))
    return done


def _chain(pending: list[tuple[Any, ...]], sequence: int, previous: str, key: signing.SiteKey,
           key_id: str) -> list[Witness]:
    """Entries for pending leaves in order after the head: links, hashes and signatures."""
    rows = []
    for pk, vif_id, created_at, operation, writer, prompt_hash, output_hash, tool_results_hash, payload_hash \
            in pending:
        sequence += 1
        entry = {"schema": ENTRY_SCHEMA, "sequence": sequence, "prev_hash": previous, "payload_hash": payload_hash,
                 "vif_id": str(vif_id), "created_at": signing.iso(created_at), "operation": operation,
                 "writer": writer, "prompt_hash": prompt_hash, "output_hash": output_hash,
                 "tool_results_hash": tool_results_hash, "key_id": key_id}
        entry_bytes = signing.canonical(entry)
        entry_hash = signing.sha256_hex(entry_bytes)
        rows.append(Witness(pk=pk, sequence=sequence, prev_hash=previous, entry_jcs=entry_bytes.decode("utf-8"),
                            entry_hash=entry_hash, signature=key.sign(entry_bytes)))
        previous = entry_hash
    return rows


def append(witnesses: Sequence[Witness]) -> list[Witness]:
    """Queue unsaved witnesses and integrate them at once, in the caller's transaction if there is one
    (then the chain-head lock is held until it commits: callers on a hot path queue inside their
    transaction and integrate after it, see ``seismic.services.section_extract``)."""
    if not witnesses:
        return []
    queue(witnesses)
    integrate(witnesses, check_first=False)
    return list(witnesses)


# --- Integration off the request path ---------------------------------------------------------------
#
# A read's witness must exist (its leaf is committed with the read's rows) before the answer leaves, but its
# place in the chain need not: with VIFSITE_LEDGER_INTEGRATE_IN_BACKGROUND a request that queued a leaf only
# wakes this process's integrator thread and answers. The thread integrates whatever is pending, batch after
# batch, until nothing is: under load one lock and one commit sequence the leaves of many requests. A leaf
# the thread never reached (the process was killed) is integrated by the next batch of any process, or by the
# ledger_integrate task within a minute; at a clean exit the process integrates what is left.

_log = logging.getLogger(__name__)


class _Integrator:
    def __init__(self) -> None:
        self._wake = threading.Event()
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = 0

    def soon(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._start:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="ledger-integrator", daemon=True)
                    self._thread.start()
                    atexit.register(self.flush)
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                while integrate():
                    self.batches += 1
            except Exception:  # noqa: BLE001  the leaves stay queued: the next wake-up or the task takes them
                _log.exception("Integrating queued witnesses failed; they stay queued and are retried.")
            finally:
                connection.close()  # back to the pool (PostgreSQL) between batches; SQLite reopens cheaply

    def flush(self) -> None:
        """At exit: integrate what this process queued and its thread did not reach."""
        try:
            while integrate():
                pass
        except Exception:  # noqa: BLE001  at exit: the ledger_integrate task takes what is left
            _log.exception("Integrating queued witnesses at exit failed; the ledger_integrate task will.")


_integrator = _Integrator()


def integrate_after_commit(witnesses: Sequence[Witness]) -> None:
    """Sequence witnesses queued in a transaction that has committed: at once in this request, or (with
    VIFSITE_LEDGER_INTEGRATE_IN_BACKGROUND) by the process's integrator thread, soon after the answer."""
    if settings.VIFSITE_LEDGER_INTEGRATE_IN_BACKGROUND:
        _integrator.soon()
    else:
        integrate(witnesses)


def pending_count() -> int:
    return Witness.objects.filter(sequence__isnull=True).count()


# --- Verification ---------------------------------------------------------------------------------

VERIFY_CHUNK = 500
VERIFY_THREADS = 2


def _chunks(rows: Iterator[Witness], size: int) -> Iterator[list[Witness]]:
    chunk: list[Witness] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

@dataclass
class Verification:
    ok: bool = True
    checked: int = 0
    retired: int = 0
    pending: int = 0
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
        return {"ok": self.ok, "checked": self.checked, "retired": self.retired, "pending": self.pending,
                "last_sequence": self.last_sequence,
                "head_hash": self.head_hash, "first_bad_sequence": self.first_bad_sequence, "problem": self.problem,
                "checkpoint": self.checkpoint, "notes": self.notes}


_json_text = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def _same_json(ours: Any, stored: Any) -> bool:
    """Whether ``ours`` canonicalises to the same RFC 8785 bytes as ``stored``, a value parsed from such
    bytes, without serialising: equal values of one JSON type always give the same bytes, so only values
    of different Python types (an int against a float, a bool against a number) are serialised to decide."""
    if type(ours) is not type(stored):
        try:
            return signing.canonical(ours) == signing.canonical(stored)
        except (TypeError, ValueError):  # a value JSON cannot hold (NaN written into a row): not the same
            return False
    if isinstance(ours, dict):
        return ours.keys() == stored.keys() and all(_same_json(ours[k], stored[k]) for k in ours)
    if isinstance(ours, list):
        return len(ours) == len(stored) and all(_same_json(a, b) for a, b in zip(ours, stored, strict=True))
    return bool(ours == stored)


def _payload_matches(ours: dict[str, Any], text: str) -> bool:
    """Whether the row's fields ``ours`` canonicalise to the signed canonical ``text``. In the common case
    ``ours`` written as sorted compact JSON is ``text`` itself (a JSON text equal to a canonical text
    canonicalises to it), decided without parsing it; where they differ (a float such as 1.0, which the
    canonical form writes 1; keys outside the BMP, sorted otherwise), ``text`` is parsed and compared value
    by value."""
    if _json_text(ours) == text:
        return True
    try:
        stored = json.loads(text)
    except ValueError:
        return False
    return _json_text(ours) == _json_text(stored) or _same_json(ours, stored)


def check_entry(witness: Witness, *, expected_sequence: int, previous_hash: str, public: Any,
                signature_ok: bool | None = None) -> str:
    """The first thing wrong with one entry, or ''. ``signature_ok``: the signature already checked."""
    if witness.sequence != expected_sequence:
        return (f"sequence {expected_sequence} is missing: the next entry has sequence {witness.sequence} "
                "(deleted or reordered entries)")
    entry_bytes = witness.entry_jcs.encode("utf-8")
    if signing.sha256_hex(entry_bytes) != witness.entry_hash:
        return "entry hash does not match the entry's bytes"
    if signature_ok is None:
        signature_ok = signing.verify(public, entry_bytes, witness.signature)
    if not signature_ok:
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
        if not _payload_matches(payload_of(witness), witness.payload_jcs):
            return "the row's fields differ from its signed payload"
    return ""


def entry_problem(witness: Witness) -> str:
    """What is wrong with one witness's entry where it stands (its hash, signature, payload and link to
    the entry before it), or ''. A queued leaf has no entry yet: it is not wrong, but says so."""
    if witness.sequence is None:
        return "queued, not yet sequenced into the ledger (it is signed when integrated, within seconds)"
    previous = (signing.GENESIS if witness.sequence == 1 else
                Witness.objects.filter(sequence=witness.sequence - 1).values_list("entry_hash", flat=True).first())
    return check_entry(witness, expected_sequence=witness.sequence, previous_hash=previous or "",
                       public=site_key().public)


def verify(*, key: signing.SiteKey | None = None, checkpoint_dir: str | Path | None = None) -> Verification:
    """Check every hash, link and signature in sequence order, then the head row and latest checkpoint."""
    key = key or site_key()
    public = key.public
    result = Verification()
    previous = signing.GENESIS
    expected = 1
    public_raw = bytes.fromhex(key.public_raw_hex())
    rows = Witness.objects.filter(sequence__isnull=False).order_by("sequence").iterator(chunk_size=VERIFY_CHUNK)
    with ThreadPoolExecutor(max_workers=VERIFY_THREADS) as pool:
        def signatures(chunk: list[Witness]) -> list[Future[list[bool]]]:
            step = -(-len(chunk) // VERIFY_THREADS)
            return [pool.submit(signing.verify_many, public_raw,
                                [(w.entry_jcs.encode("utf-8"), w.signature) for w in chunk[i:i + step]])
                    for i in range(0, len(chunk), step)]

        # Each chunk's signatures are checked on other cores while this thread reads the next chunk and
        # checks everything else of this one (hashes, links, the row against its entry and payload).
        chunks = _chunks(rows, VERIFY_CHUNK)
        current = next(chunks, None)
        in_flight = signatures(current) if current else []
        while current is not None:
            following = next(chunks, None)
            pending_next = signatures(following) if following else []
            signed = iter(flag for future in in_flight for flag in future.result())
            for witness in current:
                problem = check_entry(witness, expected_sequence=expected, previous_hash=previous, public=public,
                                      signature_ok=next(signed))
                if problem:
                    for future in pending_next:
                        future.cancel()
                    return result.fail(witness.sequence if witness.sequence == expected else expected, problem)
                result.checked += 1
                result.retired += witness.retired_at is not None
                previous = witness.entry_hash or ""
                expected += 1
            current, in_flight = following, pending_next
    result.last_sequence, result.head_hash = expected - 1, previous
    pending = Witness.objects.filter(sequence__isnull=True).aggregate(n=models.Count("pk"),
                                                                      oldest=models.Min("created_at"))
    if pending["n"]:
        result.pending = pending["n"]
        age = (timezone.now() - pending["oldest"]).total_seconds()
        result.notes.append(f"{pending['n']} witness(es) queued but not yet sequenced (oldest {age:.0f} s ago); "
                            "they are signed when integrated" + ("" if age < 120 else
                                                                  ": is the ledger_integrate task running?"))
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
    rows = Witness.objects.filter(sequence__isnull=False).order_by("sequence")
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

