"""The signed, hash-chained ledger: every kind of tampering is caught, by verify_ledger and by the
stand-alone verifier; retirement keeps it verifiable; witnesses are append-only."""

import ast
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models
from django.utils import timezone

from vifsite.appendonly import AppendOnlyError
from vifsite.vif import ledger, signing
from vifsite.vif.models import GateEvent, LedgerHead, Witness

VERIFIER = Path(settings.BASE_DIR) / "scripts" / "verify_witness_bundle.py"


def raw(**filters):
    """Witness rows without the append-only guard: what an attacker with database access can do."""
    return models.QuerySet(model=Witness).filter(**filters)


def raw_delete(**filters):
    """DELETE in SQL, past foreign keys and guards, as an attacker would."""
    query = raw(**filters)
    events = models.QuerySet(model=GateEvent).filter(witness__in=query)
    events._raw_delete(events.db)
    return query._raw_delete(query.db)


def verify_fails_at(sequence, fragment=""):
    result = ledger.verify()
    assert not result.ok
    assert result.first_bad_sequence == sequence, result.problem
    assert fragment in result.problem
    with pytest.raises(CommandError, match=f"first bad entry {sequence}"):
        call_command("verify_ledger")
    return result


def test_entries_chain_and_sign(record):
    record(5)
    rows = list(Witness.objects.order_by("sequence"))
    assert [w.sequence for w in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == signing.GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in zip(rows, rows[1:], strict=False))
    key = ledger.site_key()
    for w in rows:
        assert signing.sha256_hex(w.entry_jcs.encode()) == w.entry_hash
        assert key.verify(w.entry_jcs.encode(), w.signature)
        assert json.loads(w.entry_jcs)["payload_hash"] == signing.sha256_hex(w.payload_jcs.encode())
    head = LedgerHead.objects.get()
    assert (head.sequence, head.head_hash) == (5, rows[-1].entry_hash)
    assert ledger.verify().ok
    call_command("verify_ledger")


def test_the_key_is_made_once_in_a_file_outside_the_database(record, ledger_dir):
    record(1)
    path = ledger_dir / "signing_key.pem"
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    first = ledger.site_key().public_raw_hex()
    record(1)
    assert ledger.site_key().public_raw_hex() == first


def test_an_edited_field_is_caught(record):
    record(4)
    raw(sequence=3).update(confidence_micros=990000)
    verify_fails_at(3, "differ from its signed payload")


def test_an_edited_payload_is_caught(record):
    record(4)
    w = Witness.objects.get(sequence=2)
    raw(sequence=2).update(payload_jcs=w.payload_jcs.replace('"important"', '"routine"'),
                           task_criticality="routine")
    verify_fails_at(2, "payload hash")


def test_a_re_signed_entry_with_another_key_is_caught(record):
    record(3)
    w = Witness.objects.get(sequence=2)
    forged = signing.SiteKey(Path(settings.VIFSITE_LEDGER_DIR) / "forger.pem")
    raw(sequence=2).update(signature=forged.sign(w.entry_jcs.encode()))
    verify_fails_at(2, "signature")


def test_a_deleted_entry_is_caught(record):
    record(5)
    raw_delete(sequence=3)
    verify_fails_at(3, "missing")


def test_reordered_entries_are_caught(record):
    record(5)
    raw(sequence=2).update(sequence=-2)
    raw(sequence=4).update(sequence=2)
    raw(sequence=-2).update(sequence=4)
    verify_fails_at(2)


def test_truncated_newest_entries_are_caught_by_the_head_and_by_the_checkpoint(record):
    record(5)
    call_command("ledger_checkpoint")
    raw_delete(sequence__gte=4)
    verify_fails_at(4, "chain head")
    # An attacker who also rewinds the head row is still caught by the checkpoint outside the database.
    three = Witness.objects.get(sequence=3)
    LedgerHead.objects.filter(pk=1).update(sequence=3, head_hash=three.entry_hash)
    verify_fails_at(4, "truncated")


def test_a_checkpoint_that_disagrees_with_the_entry_is_caught(record):
    record(3)
    call_command("ledger_checkpoint")
    record(2)
    assert ledger.verify().ok
    w = Witness.objects.get(sequence=3)
    raw(sequence=3).update(entry_hash="f" * 64)
    assert not ledger.verify().ok
    raw(sequence=3).update(entry_hash=w.entry_hash)
    assert ledger.verify().ok


def back_in_time(monkeypatch, days):
    """Append as if it were ``days`` ago (the ledger stamps entries with timezone.now())."""
    then = timezone.now() - timedelta(days=days)
    monkeypatch.setattr(ledger.timezone, "now", lambda: then)
    return then


def test_retirement_keeps_the_ledger_verifiable(record, monkeypatch):
    back_in_time(monkeypatch, 40)
    record(3, store_text=True)
    monkeypatch.undo()
    record(2)
    call_command("retire_witnesses", "--days", "30")
    retired = Witness.objects.filter(retired_at__isnull=False).order_by("sequence")
    assert [w.sequence for w in retired] == [1, 2, 3]
    assert all(w.payload_jcs is None and w.output_text == "" and w.prompt_hash for w in retired)
    result = ledger.verify()
    assert result.ok and result.retired == 3
    # The signed entry still guards what a retired row keeps: back-dating it is caught.
    raw(sequence=2).update(created_at=timezone.now() - timedelta(days=400))
    verify_fails_at(2, "created_at")


def test_back_dating_a_witness_is_caught(record):
    record(3)
    raw(sequence=1).update(created_at=timezone.now() - timedelta(days=3))
    verify_fails_at(1)


def test_the_exported_bundle_verifies_stand_alone_and_tampering_fails(record, tmp_path):
    record(4)
    call_command("ledger_checkpoint")
    record(2)
    out = tmp_path / "bundle.json"
    call_command("export_witnesses", str(out))
    key = ledger.site_key().public_raw_hex()

    def run(path, *extra):
        return subprocess.run([sys.executable, str(VERIFIER), str(path), *extra], capture_output=True, text=True)

    ok = run(out, "--public-key", key)
    assert ok.returncode == 0 and "6 entries verify" in ok.stdout
    bundle = json.loads(out.read_text())
    bundle["entries"][2]["payload_jcs"] = bundle["entries"][2]["payload_jcs"].replace("gpt-test", "gpt-else")
    (tmp_path / "tampered.json").write_text(json.dumps(bundle))
    bad = run(tmp_path / "tampered.json")
    assert bad.returncode == 1 and "entry 3: payload" in bad.stdout
    cut = json.loads(out.read_text())
    cut["entries"] = cut["entries"][:3]  # the checkpoint says 4
    (tmp_path / "cut.json").write_text(json.dumps(cut))
    assert "newest entries are missing" in run(tmp_path / "cut.json").stdout
    forged = json.loads(out.read_text())
    forged["public_key_hex"] = signing.SiteKey(tmp_path / "other.pem").public_raw_hex()
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    assert run(tmp_path / "forged.json", "--public-key", key).returncode == 1


def test_export_since_a_date(record, tmp_path, monkeypatch):
    back_in_time(monkeypatch, 3)
    record(2)
    monkeypatch.undo()
    record(3)
    out = tmp_path / "recent.json"
    call_command("export_witnesses", str(out), "--since", (timezone.now() - timedelta(days=1)).date().isoformat())
    bundle = json.loads(out.read_text())
    assert [e["sequence"] for e in bundle["entries"]] == [3, 4, 5]


def test_the_verifier_needs_only_the_standard_library_and_cryptography():
    tree = ast.parse(VERIFIER.read_text())
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert modules - set(sys.stdlib_module_names) == {"cryptography"}


def test_witnesses_are_append_only(record):
    [recorded] = record(1)
    witness = recorded.witness
    witness.model_id = "changed"
    with pytest.raises(AppendOnlyError):
        witness.save()
    with pytest.raises(AppendOnlyError):
        witness.delete()
    with pytest.raises(AppendOnlyError):
        Witness.objects.update(model_id="x")
    with pytest.raises(AppendOnlyError):
        Witness.objects.all().delete()
    assert ledger.verify().ok


def test_checkpoints_are_scheduled_and_written_outside_the_database(record, ledger_dir):
    from django_q.models import Schedule

    from vifsite.vif import tasks

    schedule = Schedule.objects.get(func="vifsite.vif.tasks.ledger_checkpoint")
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 5 and schedule.repeats == -1
    record(2)
    tasks.ledger_checkpoint()
    checkpoint = signing.checkpoint_latest(ledger_dir)
    assert checkpoint["sequence"] == 2
    assert signing.checkpoint_signature_ok(checkpoint, ledger.site_key().public)
    assert ledger.verify().checkpoint["sequence"] == 2


def test_threads_signing_their_first_entry_at_once_share_one_complete_key(tmp_path):
    """The key was created in place and written afterwards: a racer read it empty (a 500, a lost witness)."""
    import threading

    for trial in range(20):
        path = str(tmp_path / f"k{trial}" / "signing_key.pem")
        signing._load_private.cache_clear()
        barrier, keys, errors = threading.Barrier(8), [], []

        def load(path=path, barrier=barrier, keys=keys, errors=errors):
            barrier.wait()
            try:
                keys.append(signing.SiteKey(path).public_raw_hex())
            except Exception as exc:  # noqa: BLE001  (any failure is the bug)
                errors.append(exc)

        threads = [threading.Thread(target=load) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors and len(set(keys)) == 1
    signing._load_private.cache_clear()
