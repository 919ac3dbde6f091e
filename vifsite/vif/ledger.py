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
import fcntl
import json
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import traceback
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models.functions import Cast
from django.utils import timezone

from vifsite.db.compiled import CompiledInsert
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


def _any_pending() -> bool:
    """Whether any leaf is queued, looked up without the lock (the sequence's unique index): an integrator
    woken after another batch took its leaves, or going round once more after its own, would otherwise take
    the head lock and commit an empty batch (on PostgreSQL a write and a WAL flush)."""
    table = connection.ops.quote_name(Witness._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE sequence IS NULL LIMIT 1")  # noqa: S608
        return cursor.fetchone() is not None


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
_WITNESS_INSERT = CompiledInsert(Witness)


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
    if len(witnesses) == 1:  # a read's or a tool call's witness: its INSERT written once per connection
        _WITNESS_INSERT.insert(witnesses[0])
    else:
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
    if not ids and not _any_pending():
        return 0
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
                # Between batches: back to the pool (PostgreSQL); SQLite's is kept (CONN_MAX_AGE), as reopening
                # it and reading the schema again cost more than a batch of one.
                connection.close_if_unusable_or_obsolete()

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
#
# ``verify`` reads the entries in sequence order, a chunk at a time, as plain tuples of the columns it checks
# (no model instances). This process checks each row's sequence, hashes and link, and its columns against its
# entry and payload. The signatures, one Ed25519 check per entry and as much work as all the rest, are
# checked meanwhile in a few child processes, fed each chunk's (entry bytes, signature) pairs as soon as it
# is read (in threads they barely overlapped: each takes the interpreter lock back after every signature). The
# children are forked when this process runs no other thread (the management command, the bench); a process
# with other threads (a web process) starts them afresh from the interpreter instead, which takes longer (they
# are given work once they say they are ready) but copies no lock another thread holds. A ledger of one chunk
# or less is checked in this process alone; of the last chunk this process checks a share itself if the
# children are still busy, rather than wait for them. A child that dies, hangs or answers nonsense is stopped
# and its share is checked here, with a note: the answer never rests on a check that did not happen. Two chunks
# at most are held at a time.

VERIFY_CHUNK = 256
# Signature-checking processes: None for one per CPU this process may run on besides its own (at most
# VERIFY_PROCESSES_MAX: a signature costs about what reading and checking a row does, so one keeps pace on two
# CPUs and two on more; none on a single CPU); 0 checks every signature in this process.
VERIFY_PROCESSES: int | None = None
VERIFY_PROCESSES_MAX = 2
# Seconds a checking process may take over one batch (tens of milliseconds is usual) before it counts as hung.
VERIFY_ANSWER_TIMEOUT = 120.0
SIGNATURE_PROBLEM = "signature does not verify with the site key"

_Item = TypeVar("_Item")


def _chunks(rows: Iterator[_Item], size: int) -> Iterator[list[_Item]]:
    chunk: list[_Item] = []
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


# The columns verify reads, in this order: the entry's own, then the payload's in PAYLOAD_FIELDS order.
_ENTRY_COLUMNS = ("sequence", "entry_jcs", "entry_hash", "signature", "prev_hash", "payload_hash", "retired_at",
                  "payload_jcs")
_VERIFY_COLUMNS = _ENTRY_COLUMNS + _PAYLOAD_ATTRIBUTES
_FIELDS_FROM = len(_ENTRY_COLUMNS)
_AT = {name: _FIELDS_FROM + i for i, name in enumerate(PAYLOAD_FIELDS)}
# The signed entry's fields that must equal the row's, in the order they are checked.
_ENTRY_RECORDED = ("sequence", "prev_hash", "payload_hash", "vif_id", "created_at", "operation", "writer",
                   "prompt_hash", "output_hash", "tool_results_hash")
_entry_plain_of = itemgetter(*(_AT[name] for name in _ENTRY_RECORDED[5:]))  # taken from the row as they are
# A row's payload fields in sorted order, as the canonical text has them: the payload built in this order (with
# its JSON objects' keys sorted too) writes as that text without sorting, and that text equal to the stored
# one decides as ``_payload_matches`` would; anything else is left to ``_payload_matches``.
_SORTED_FIELDS = tuple(sorted(PAYLOAD_FIELDS))
_sorted_fields_of = itemgetter(*(_AT[name] for name in _SORTED_FIELDS))
_json_text_in_order = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode
# The payload's JSON columns (no decoder of their own): verify reads them as text and decodes them only for a
# payload it compares, as JSONField.from_db_value would, most of them being one of a few short texts.
_JSON_TEXT_COLUMNS = {attribute: name for name, attribute in zip(PAYLOAD_FIELDS, _PAYLOAD_ATTRIBUTES, strict=True)
                      if isinstance(json_field := Witness._meta.get_field(attribute), models.JSONField)
                      and json_field.decoder is None}
_JSON_TEXT_FIELDS = tuple(_JSON_TEXT_COLUMNS.values())
_JSON_TEXTS: dict[str, Any] = {"[]": [], "{}": {}, "null": None}


def _sorted_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return dict(sorted(pairs, key=itemgetter(0)))  # a key given twice keeps its last value, as json.loads does


_decode_sorted = json.JSONDecoder(object_pairs_hook=_sorted_object).decode


def _json_from_text(value: str | None) -> Any:
    """JSONField.from_db_value without a decoder: a column's JSON text as the model would hold it (objects
    with their keys in sorted order, so that the payload they are part of writes as its canonical text
    without sorting)."""
    if value is None:
        return None
    if value in _JSON_TEXTS:  # shared values, not fresh ones as json.loads makes: verify only compares them
        return _JSON_TEXTS[value]
    try:
        return _decode_sorted(value)
    except json.JSONDecodeError:
        return value


def _verify_select() -> list[str | Cast]:
    """The expressions verify reads, ``_VERIFY_COLUMNS`` with those of ``_JSON_TEXT_FIELDS`` as text."""
    return [Cast(name, output_field=models.TextField()) if name in _JSON_TEXT_COLUMNS else name
            for name in _VERIFY_COLUMNS]


def _row_of(witness: Witness) -> tuple[Any, ...]:
    return tuple(getattr(witness, name) for name in _VERIFY_COLUMNS)


def _missing(expected: int, found: Any) -> str:
    return f"sequence {expected} is missing: the next entry has sequence {found} (deleted or reordered entries)"


def _problem_before_signature(row: tuple[Any, ...], entry_bytes: bytes, expected: int) -> str:
    """What is wrong with a row (read in ``_VERIFY_COLUMNS``) that is checked before its signature."""
    if row[0] != expected:
        return _missing(expected, row[0])
    if signing.sha256_hex(entry_bytes) != row[2]:
        return "entry hash does not match the entry's bytes"
    return ""


def _problem_after_signature(row: tuple[Any, ...], entry_bytes: bytes, previous_hash: str, *,
                             json_texts: bool = False) -> str:
    """What is wrong with a row that is checked once its signature holds: the signed entry against the row's
    columns, the link to the entry before it, and (unless retired) the payload against the row's fields.
    ``json_texts``: the row holds the columns of ``_JSON_TEXT_FIELDS`` as read, undecoded."""
    try:
        entry = json.loads(entry_bytes)
    except ValueError:
        return "entry bytes are not JSON"
    sequence, _, _, _, prev_hash, payload_hash, retired_at, payload_jcs = row[:_FIELDS_FROM]
    vif_id, created_at = str(row[_AT["vif_id"]]), signing.iso(row[_AT["created_at"]])
    # The entry's own fields are checked against the row even after retirement drops the payload.
    recorded = [sequence, prev_hash, payload_hash, vif_id, created_at, *_entry_plain_of(row)]
    signed = list(map(entry.get, _ENTRY_RECORDED))
    if signed != recorded:
        for name, theirs, ours in zip(_ENTRY_RECORDED, signed, recorded, strict=True):
            if theirs != ours:
                return f"the row's {name} differs from the signed entry"
    if entry["prev_hash"] != previous_hash:
        return "previous-hash link is broken (an entry before it was changed, removed or reordered)"
    if retired_at is None:
        if payload_jcs is None:
            return "payload is missing from an entry that is not retired"
        if signing.sha256_hex(payload_jcs.encode("utf-8")) != payload_hash:
            return "payload hash does not match the stored payload"
        # payload_of, from the row's columns: the same values as a model instance's attributes.
        payload = dict(zip(_SORTED_FIELDS, _sorted_fields_of(row), strict=True))
        payload["vif_id"], payload["created_at"] = vif_id, created_at
        payload["parent_vif_id"] = _json_value(payload["parent_vif_id"])
        if json_texts:
            for name in _JSON_TEXT_FIELDS:
                text = payload[name]
                payload[name] = _JSON_TEXTS[text] if text in _JSON_TEXTS else _json_from_text(text)
            if _json_text_in_order(payload) == payload_jcs:
                return ""
        if not _payload_matches(payload, payload_jcs):
            return "the row's fields differ from its signed payload"
    return ""


def check_entry(witness: Witness, *, expected_sequence: int, previous_hash: str, public: Any,
                signature_ok: bool | None = None) -> str:
    """The first thing wrong with one entry, or ''. ``signature_ok``: the signature already checked."""
    if witness.sequence != expected_sequence:
        return _missing(expected_sequence, witness.sequence)
    entry_bytes = witness.entry_jcs.encode("utf-8")
    row = _row_of(witness)
    problem = _problem_before_signature(row, entry_bytes, expected_sequence)
    if problem:
        return problem
    if signature_ok is None:
        signature_ok = signing.verify(public, entry_bytes, witness.signature)
    if not signature_ok:
        return SIGNATURE_PROBLEM
    return _problem_after_signature(row, entry_bytes, previous_hash)


def entry_problem(witness: Witness) -> str:
    """What is wrong with one witness's entry where it stands (its hash, signature, payload and link to
    the entry before it), or ''. A queued leaf has no entry yet: it is not wrong, but says so."""
    if witness.sequence is None:
        return "queued, not yet sequenced into the ledger (it is signed when integrated, within seconds)"
    previous = (signing.GENESIS if witness.sequence == 1 else
                Witness.objects.filter(sequence=witness.sequence - 1).values_list("entry_hash", flat=True).first())
    return check_entry(witness, expected_sequence=witness.sequence, previous_hash=previous or "",
                       public=site_key().public)


# --- Signature checks in child processes ---

_SERVE = ("import sys; from vifsite.vif.signing import verify_serve; "
          "verify_serve(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])")
_PROJECT_ROOT = str(Path(signing.__file__).resolve().parents[2])


def _verify_processes(requested: int | None) -> int:
    if requested is None:
        requested = VERIFY_PROCESSES
    if requested is not None:
        return max(0, requested)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(0, min(cpus - 1, VERIFY_PROCESSES_MAX))


def _can_fork() -> bool:
    """Whether this process may fork its checking processes: it runs no other thread, whose locks a forked
    child would inherit held."""
    return (hasattr(os, "fork") and threading.active_count() == 1
            and threading.current_thread() is threading.main_thread())


def _widen(fd: int) -> None:
    """A pipe that holds a few batches (64 KiB by default on Linux), so feeding a busy child does not wait."""
    setpipe = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setpipe is not None:
        try:
            fcntl.fcntl(fd, setpipe, 1 << 20)
        except OSError:  # above the system's limit: the default size only makes the feeding wait more
            pass


class _Checker:
    """One signature-checking child process (``signing.verify_serve``) and the two pipes to it. It says it is
    ready with an empty message, then answers each batch sent, in order, with one byte per signature."""

    def __init__(self, process: int | subprocess.Popen[bytes], outgoing: Connection, incoming: Connection) -> None:
        self.process, self.outgoing, self.incoming = process, outgoing, incoming
        self.alive = True
        # A forked child is ready at once (its first message is still the empty one); a started one once it said so.
        self.greeted = False
        self.unanswered = 0  # batches sent and not yet received
        self.trouble = ""  # why it was stopped before its work was done

    @classmethod
    def fork(cls, public_hex: str, others: list[_Checker]) -> _Checker:
        to_child, to_child_w = os.pipe()
        from_child_r, from_child = os.pipe()
        _widen(to_child_w)
        try:
            pid = os.fork()
        except BaseException:
            for fd in (to_child, to_child_w, from_child_r, from_child):
                os.close(fd)
            raise
        if pid == 0:  # the child: only the pipes and libsodium, no Django and no database
            code = 1
            try:
                for fd in (to_child_w, from_child_r, *(c.outgoing.fileno() for c in others if c.alive),
                           *(c.incoming.fileno() for c in others if c.alive)):
                    os.close(fd)
                signing.verify_serve(to_child, from_child, public_hex)
                code = 0
            except BaseException:  # noqa: BLE001  told on stderr; the parent sees the pipe close
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(to_child)
        os.close(from_child)
        return cls(pid, Connection(to_child_w, readable=False), Connection(from_child_r, writable=False))

    @classmethod
    def spawn(cls, public_hex: str) -> _Checker:
        to_child, to_child_w = os.pipe()
        from_child_r, from_child = os.pipe()
        _widen(to_child_w)
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [_PROJECT_ROOT, *filter(None, [os.environ.get("PYTHONPATH")])])}
        try:
            process = subprocess.Popen([sys.executable, "-c", _SERVE, str(to_child), str(from_child), public_hex],
                                       pass_fds=(to_child, from_child), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, env=environment)
        except BaseException:
            os.close(to_child_w)
            os.close(from_child_r)
            raise
        finally:
            os.close(to_child)
            os.close(from_child)
        return cls(process, Connection(to_child_w, readable=False), Connection(from_child_r, writable=False))

    @property
    def forked(self) -> bool:
        return not isinstance(self.process, subprocess.Popen)

    def ready(self) -> bool:
        """Whether to send it work now: alive, and forked or said ready (looked at without waiting)."""
        if self.alive and not self.greeted and not self.forked:
            try:
                if self.incoming.poll(0):
                    self._greeting(self.incoming.recv_bytes())
            except (EOFError, OSError):
                self.stop("it stopped")
        return self.alive and (self.greeted or self.forked)

    def _greeting(self, message: bytes) -> None:
        if message:
            self.stop("it answered nonsense")
        self.greeted = True

    def busy(self) -> bool:
        """Whether it is still checking batches sent to it (it has not answered the oldest yet; before its
        greeting is read, that cannot be told apart, and it counts as busy)."""
        try:
            return self.alive and self.unanswered > 0 and (not self.greeted or not self.incoming.poll(0))
        except OSError:
            return False

    def send(self, items: list[tuple[bytes, str]]) -> bool:
        if self.alive:
            try:
                self.outgoing.send_bytes(pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL))
                self.unanswered += 1
                return True
            except OSError:
                self.stop("it stopped reading")
        return False

    def receive(self, count: int) -> bytes | None:
        """The answer to the oldest batch not yet received, or None if this child cannot give it."""
        while self.alive:
            try:
                if not self.incoming.poll(VERIFY_ANSWER_TIMEOUT):
                    self.stop(f"no answer in {VERIFY_ANSWER_TIMEOUT:g} s")
                    break
                answer = self.incoming.recv_bytes()
            except (EOFError, OSError):
                self.stop("it stopped")
                break
            if not self.greeted:
                self._greeting(answer)
                continue
            self.unanswered -= 1
            if len(answer) != count or answer.strip(b"\x00\x01"):
                self.stop("it answered nonsense")
                break
            return answer
        return None

    def stop(self, trouble: str = "") -> None:
        if not self.alive:
            return
        self.alive = False
        for connection_ in (self.outgoing, self.incoming):
            connection_.close()
        status: int | None = None
        if isinstance(self.process, subprocess.Popen):
            self.process.kill()
            status = self.process.wait()
        else:
            try:
                done, wait_status = os.waitpid(self.process, os.WNOHANG)
                if not done:  # still running; until reaped here, its id cannot be another process's
                    os.kill(self.process, signal.SIGKILL)
                    done, wait_status = os.waitpid(self.process, 0)
                status = os.waitstatus_to_exitcode(wait_status)
            except ChildProcessError:  # reaped already, by a SIGCHLD handler of the program's own
                pass
        if trouble:
            ended = ("" if status is None else
                     f", killed by signal {-status}" if status < 0 else f", exit status {status}")
            self.trouble = trouble + ended


class _Signatures:
    """The answers to one chunk's signatures: parts sent to checking processes, or checked here (``None``)
    where no process took a part or its process cannot answer."""

    def __init__(self, public_raw: bytes, parts: list[tuple[_Checker | None, list[tuple[bytes, str]]]]) -> None:
        self.public_raw, self.parts = public_raw, parts

    def first(self, count: int) -> list[bool]:
        """Whether each of the chunk's first ``count`` signatures verifies. Every part sent to a process is
        received (each process answers its batches in the order sent); parts checked here only as far as
        needed."""
        answers: list[bool] = []
        for checker, items in self.parts:
            answer = checker.receive(len(items)) if checker is not None else None
            if answer is not None:
                answers.extend(map(bool, answer))
            elif len(answers) < count:
                answers.extend(signing.verify_many(self.public_raw, items[:count - len(answers)]))
        return answers[:count]


class _SignatureChecks:
    """Checks the entries' signatures: in child processes, started once a chunk is full (the ledger is longer
    than one) and given work once ready, else in this process."""

    def __init__(self, public_raw: bytes, processes: int) -> None:
        self.public_raw, self.processes = public_raw, processes
        self.checkers: list[_Checker] = []
        self.trouble: list[str] = []
        self.started = False

    def __enter__(self) -> _SignatureChecks:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for checker in self.checkers:
            checker.stop()

    def notes(self) -> list[str]:
        return [*self.trouble, *(f"a signature-checking process failed ({checker.trouble}); this process checked "
                                 "the signatures it had been given" for checker in self.checkers if checker.trouble)]

    def start(self) -> None:
        self.started = True
        if not self.processes:
            return
        signing.verify_many(self.public_raw, [])  # loads libsodium's binding once, before forking
        fork = _can_fork()
        public_hex = self.public_raw.hex()
        for _ in range(self.processes):
            try:
                self.checkers.append(_Checker.fork(public_hex, self.checkers) if fork else
                                     _Checker.spawn(public_hex))
            except OSError as error:
                self.trouble.append(f"a signature-checking process did not start ({error}); this process "
                                    "checks what it would have")
                break

    def submit(self, items: list[tuple[bytes, str]], *, more: bool) -> _Signatures:
        """Hand one chunk's (entry bytes, signature) pairs on; ``more``: further chunks may follow."""
        if not self.started and more:
            self.start()
        ready: list[_Checker | None] = [checker for checker in self.checkers if checker.ready()]
        if not ready:
            return _Signatures(self.public_raw, [(None, items)])
        if not more and any(checker.busy() for checker in self.checkers):
            ready.append(None)  # the last chunk, and the children are behind: this process takes a share too
        step = -(-len(items) // len(ready))
        parts: list[tuple[_Checker | None, list[tuple[bytes, str]]]] = []
        for checker, start in zip(ready, range(0, len(items), step), strict=False):
            part = items[start:start + step]
            parts.append((checker if checker is not None and checker.send(part) else None, part))
        return _Signatures(self.public_raw, parts)


@dataclass
class _Chunk:
    """A chunk of rows checked in this process, waiting for its signatures."""
    first: int  # the sequence of its first row
    signatures: _Signatures
    retired: list[bool] = field(default_factory=list)  # each row that passed every check but its signature
    stop_at: int | None = None  # the row with a problem other than its signature, if any
    problem: str = ""
    before_signature: bool = False
    error: Exception | None = None  # raised if that row's signature holds, as checking in order would


def _check_entries(rows: Iterator[tuple[Any, ...]], checks: _SignatureChecks, result: Verification) -> bool:
    """Check rows read in ``_VERIFY_COLUMNS`` in sequence order; False (and ``result`` failed) at the first
    problem. A chunk's signatures are checked elsewhere while this process checks the next chunk."""
    previous, expected = signing.GENESIS, 1
    waiting: deque[_Chunk] = deque()
    for rows_ in _chunks(rows, VERIFY_CHUNK):
        messages = [row[1].encode("utf-8") for row in rows_]
        chunk = _Chunk(first=expected, signatures=checks.submit(
            [(message, row[3]) for message, row in zip(messages, rows_, strict=True)],
            more=len(rows_) == VERIFY_CHUNK))
        waiting.append(chunk)
        for index, (row, entry_bytes) in enumerate(zip(rows_, messages, strict=True)):
            problem = _problem_before_signature(row, entry_bytes, expected)
            if problem:
                chunk.stop_at, chunk.problem, chunk.before_signature = index, problem, True
                break
            try:
                problem = _problem_after_signature(row, entry_bytes, previous, json_texts=True)
            except Exception as error:  # noqa: BLE001  the row is also reported only if its signature holds
                chunk.stop_at, chunk.error = index, error
                break
            if problem:
                chunk.stop_at, chunk.problem = index, problem
                break
            chunk.retired.append(row[6] is not None)
            previous = row[2] or ""
            expected += 1
        if chunk.stop_at is not None:
            break
        while len(waiting) > 1:
            if not _settle(waiting.popleft(), result):
                return False
    while waiting:
        if not _settle(waiting.popleft(), result):
            return False
    result.last_sequence, result.head_hash = expected - 1, previous
    return True


def _settle(chunk: _Chunk, result: Verification) -> bool:
    """Count a chunk's rows as checked, in order, as far as their signatures hold; fail at the first problem."""
    signed = chunk.signatures.first(len(chunk.retired) + (chunk.stop_at is not None and not chunk.before_signature))
    for index, retired in enumerate(chunk.retired):
        if not signed[index]:
            result.fail(chunk.first + index, SIGNATURE_PROBLEM)
            return False
        result.checked += 1
        result.retired += retired
    if chunk.stop_at is None:
        return True
    sequence = chunk.first + chunk.stop_at
    if chunk.before_signature:
        result.fail(sequence, chunk.problem)
    elif not signed[chunk.stop_at]:
        result.fail(sequence, SIGNATURE_PROBLEM)
    elif chunk.error is not None:
        raise chunk.error
    else:
        result.fail(sequence, chunk.problem)
    return False


def verify(*, key: signing.SiteKey | None = None, checkpoint_dir: str | Path | None = None,
           processes: int | None = None) -> Verification:
    """Check every hash, link and signature in sequence order, then the head row and latest checkpoint.
    ``processes``: how many child processes check signatures (default ``VERIFY_PROCESSES``)."""
    key = key or site_key()
    public = key.public
    result = Verification()
    rows = (Witness.objects.filter(sequence__isnull=False).order_by("sequence").values_list(*_verify_select())
            .iterator(chunk_size=VERIFY_CHUNK))
    with _SignatureChecks(bytes.fromhex(key.public_raw_hex()), _verify_processes(processes)) as checks:
        try:
            if not _check_entries(rows, checks, result):
                return result
        finally:
            result.notes.extend(checks.notes())
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

