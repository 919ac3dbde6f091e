"""verify_ledger checks signatures in child processes while it reads and checks the rows: a bad entry
anywhere in a long ledger is still reported first, with the same message, whichever process found it; a
child that dies, hangs, answers nonsense or does not start never makes a signature count as checked
(its share is checked in the verifying process); every child is gone when verify returns; and the rows
are read a chunk at a time, no further than the first problem."""

import os
import pickle
import signal
import threading
import time
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models
from django.utils import timezone

from tests.processes import manage, pg_url  # noqa: F401  (pg_url is a fixture)
from vifsite.vif import ledger, services, signing
from vifsite.vif.models import Witness

ENTRIES = 300
CHUNK = 32


def raw(**filters):
    """Witness rows without the append-only guard: what an attacker with database access can do."""
    return models.QuerySet(model=Witness).filter(**filters)


def forge(sequence):
    """Re-sign one entry with a key that is not the site's."""
    witness = Witness.objects.get(sequence=sequence)
    forger = signing.SiteKey(Path(settings.VIFSITE_LEDGER_DIR) / "forger.pem")
    raw(sequence=sequence).update(signature=forger.sign(witness.entry_jcs.encode()))


@pytest.fixture(autouse=True)
def forking(monkeypatch):
    """Checking processes are forked, as by the management command (this test process may run idle threads
    that other tests left behind)."""
    monkeypatch.setattr(ledger, "_can_fork", lambda: True)


@pytest.fixture
def long_ledger(record, monkeypatch):
    """ENTRIES entries, verified in chunks of CHUNK (so in many chunks) by two checking processes."""
    for _ in range(ENTRIES // 100):
        record(100)
    monkeypatch.setattr(ledger, "VERIFY_CHUNK", CHUNK)
    monkeypatch.setattr(ledger, "VERIFY_PROCESSES", 2)
    return ENTRIES


@pytest.fixture
def checked_here(monkeypatch):
    """How many signatures the verifying process checked itself (the children's checks are not counted). It
    checks a share of the last chunk's if the children are still busy."""
    parent, counted = os.getpid(), []
    real = signing.verify_many

    def counting(public_raw, items):
        if os.getpid() == parent:
            counted.append(len(items))
        return real(public_raw, items)

    monkeypatch.setattr(signing, "verify_many", counting)
    return counted


@pytest.fixture
def children(monkeypatch):
    """The process ids of the checking processes verify forks."""
    pids, real = [], os.fork

    def fork():
        pid = real()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return pids


def all_gone(pids):
    for pid in pids:
        with pytest.raises(ChildProcessError):  # reaped: no zombie left behind
            os.waitpid(pid, os.WNOHANG)
    return True


def fails_at(sequence, fragment, **options):
    result = ledger.verify(**options)
    assert not result.ok
    assert (result.first_bad_sequence, result.checked) == (sequence, sequence - 1), result.problem
    assert fragment in result.problem
    return result


def test_a_long_ledger_verifies_with_its_signatures_checked_by_the_children(long_ledger, checked_here, children):
    result = ledger.verify()
    assert result.ok and result.checked == long_ledger and result.last_sequence == long_ledger
    assert result.head_hash == Witness.objects.get(sequence=long_ledger).entry_hash
    assert sum(checked_here) <= -(-(ENTRIES % CHUNK) // 3) and len(children) == 2
    assert all_gone(children)
    # and in this process alone, with the same answer
    checked_here.clear()
    alone = ledger.verify(processes=0)
    assert alone.as_dict() == result.as_dict() and sum(checked_here) == long_ledger


def test_a_bad_signature_in_the_middle_is_found_by_a_child(long_ledger, checked_here, children):
    forge(150)
    result = fails_at(150, "signature does not verify with the site key")
    assert sum(checked_here) == 0 and len(children) == 2 and all_gone(children)  # not as far as the last chunk
    assert fails_at(150, "").problem == result.problem == fails_at(150, "", processes=0).problem
    with pytest.raises(CommandError, match="first bad entry 150: signature does not verify"):
        call_command("verify_ledger")


@pytest.mark.parametrize("later", [120, 140])  # in the same chunk as 100, in the next one
def test_an_earlier_bad_signature_is_reported_before_a_later_problem_found_first(long_ledger, later):
    # Rows are checked here while the signatures of earlier ones are still being checked elsewhere.
    forge(100)
    raw(sequence=later).update(confidence_micros=990000)
    fails_at(100, "signature")
    raw(sequence=100).update(signature=Witness.objects.get(sequence=101).signature)  # still not its own
    fails_at(100, "signature")


@pytest.mark.parametrize("later", [120, 140])
def test_an_earlier_problem_is_reported_before_a_later_bad_signature(long_ledger, later):
    raw(sequence=100).update(confidence_micros=990000)
    forge(later)
    fails_at(100, "differ from its signed payload")


def test_within_one_entry_the_checks_keep_their_order(long_ledger):
    # The entry's own hash is checked before its signature, its fields after it.
    witness = Witness.objects.get(sequence=77)
    raw(sequence=77).update(entry_jcs=witness.entry_jcs.replace('"llm"', '"tool"'))
    fails_at(77, "entry hash")
    raw(sequence=77).update(entry_jcs=witness.entry_jcs)
    forge(77)
    raw(sequence=77).update(confidence_micros=990000)
    fails_at(77, "signature")


def test_an_entry_that_cannot_be_read_is_reported_as_its_signature_first(long_ledger):
    # Bytes its checks cannot even parse (nested too deep), with a matching hash: the signature does not
    # hold, and that is what checking in order reports; nothing is raised.
    nested = "[" * 100_000 + "]" * 100_000
    raw(sequence=90).update(entry_jcs=nested, entry_hash=signing.sha256_hex(nested.encode()))
    fails_at(90, "signature")


def test_the_rows_are_read_a_chunk_at_a_time_and_no_further_than_the_first_problem(long_ledger, monkeypatch):
    read, waiting, most = [], [0], [0]
    real_chunks, real_submit, real_settle = ledger._chunks, ledger._SignatureChecks.submit, ledger._settle

    def chunks(rows, size):
        for chunk in real_chunks(rows, size):
            read.append(len(chunk))
            yield chunk

    def submit(self, items, *, more):
        waiting[0] += 1
        most[0] = max(most[0], waiting[0])
        return real_submit(self, items, more=more)

    def settle(chunk, result):
        waiting[0] -= 1
        return real_settle(chunk, result)

    monkeypatch.setattr(ledger, "_chunks", chunks)
    monkeypatch.setattr(ledger._SignatureChecks, "submit", submit)
    monkeypatch.setattr(ledger, "_settle", settle)
    assert ledger.verify().ok
    assert read == [CHUNK] * (ENTRIES // CHUNK) + [ENTRIES % CHUNK] and most[0] == 2
    read.clear()
    raw(sequence=40).update(writer="agent:someone-else")
    fails_at(40, "differ")
    assert read == [CHUNK, CHUNK]


def test_retired_entries_are_counted_when_children_check_the_signatures(record, monkeypatch, children):
    then = timezone.now() - timedelta(days=40)
    with monkeypatch.context() as back_then:
        back_then.setattr(ledger.timezone, "now", lambda: then)
        record(100, store_text=True)
    record(100)
    call_command("retire_witnesses", "--days", "30")
    monkeypatch.setattr(ledger, "VERIFY_CHUNK", CHUNK)
    result = ledger.verify(processes=2)
    assert result.ok and (result.checked, result.retired) == (200, 100) and len(children) == 2
    raw(sequence=60).update(created_at=timezone.now())
    fails_at(60, "created_at", processes=2)


def test_json_columns_compare_by_value_whatever_their_key_order_and_number_forms(db, monkeypatch):
    monkeypatch.setattr(ledger, "VERIFY_CHUNK", 4)
    parameters = {"b": 1, "a": 2.0, "z": {"y": [1.0, True, None], "x": "é", "\U0001d11e": 1, "\uffff": 2}}
    for n in range(10):
        services.witness_record_tool(tool_id="t", parameters={**parameters, "n": n}, result_hash="a" * 64,
                                     writer="agent:bot")
    assert ledger.verify(processes=2).ok
    witness = Witness.objects.get(sequence=6)
    raw(sequence=6).update(tool_parameters={**witness.tool_parameters, "a": 2})  # the same JSON number as 2.0
    assert ledger.verify(processes=2).ok
    for changed in ({"a": 2.5}, {"b": True}, {"z": {**parameters["z"], "y": [1, True]}}):
        witness = Witness.objects.get(sequence=6)
        raw(sequence=6).update(tool_parameters={**witness.tool_parameters, **changed})
        fails_at(6, "differ from its signed payload", processes=2)
        raw(sequence=6).update(tool_parameters=witness.tool_parameters)
        assert ledger.verify(processes=2).ok


# --- When a checking process fails ---

def serving(then):
    """A stand-in for signing.verify_serve that answers its first batch properly, then does ``then``."""
    def serve(read_fd, write_fd, public_raw_hex):
        incoming, outgoing = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
        public_raw = bytes.fromhex(public_raw_hex)
        outgoing.send_bytes(b"")
        items = pickle.loads(incoming.recv_bytes())  # noqa: S301  from this test's own process
        outgoing.send_bytes(bytes(signing.verify_many(public_raw, items)))
        items = pickle.loads(incoming.recv_bytes())  # noqa: S301
        then(outgoing, items)
    return serve


def dies(outgoing, items):
    os._exit(3)


def hangs(outgoing, items):
    time.sleep(60)


def says_too_much(outgoing, items):
    outgoing.send_bytes(b"\x01" * (len(items) + 1))
    time.sleep(60)


def says_nonsense(outgoing, items):
    outgoing.send_bytes(b"\x02" * len(items))
    time.sleep(60)


@pytest.mark.parametrize(("then", "trouble"), [
    (dies, "exit status 3"),
    (hangs, "no answer in 0.5 s, killed by signal 9"),
    (says_too_much, "it answered nonsense, killed by signal 9"),
    (says_nonsense, "it answered nonsense, killed by signal 9"),
])
def test_a_failing_child_never_makes_a_signature_count_as_checked(long_ledger, monkeypatch, checked_here, children,
                                                                  then, trouble):
    monkeypatch.setattr(ledger, "VERIFY_ANSWER_TIMEOUT", 0.5)
    monkeypatch.setattr(signing, "verify_serve", serving(then))
    result = ledger.verify()
    assert result.ok and result.checked == long_ledger
    assert any(trouble in note and "this process checked the signatures it had been given" in note
               for note in result.notes), result.notes
    assert sum(checked_here) > 0 and all_gone(children)
    # Each child fails after its first batch, so every later bad signature is found here, none taken as good.
    for sequence in (CHUNK + 1, 150, ENTRIES):
        forge(sequence)
        result = fails_at(sequence, "signature does not verify")
        assert any(trouble in note for note in result.notes) and all_gone(children)
        raw(sequence=sequence).update(signature=ledger.site_key().sign(
            Witness.objects.get(sequence=sequence).entry_jcs.encode()))
    assert ledger.verify().ok


def serving_slowly(read_fd, write_fd, public_raw_hex):
    """A stand-in for signing.verify_serve that answers every batch properly, but late."""
    incoming, outgoing = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    outgoing.send_bytes(b"")
    while True:
        items = pickle.loads(incoming.recv_bytes())  # noqa: S301  from this test's own process
        time.sleep(0.05)
        outgoing.send_bytes(bytes(signing.verify_many(bytes.fromhex(public_raw_hex), items)))


def test_of_the_last_chunk_this_process_checks_a_share_while_the_children_are_busy(long_ledger, monkeypatch,
                                                                                   checked_here, children):
    monkeypatch.setattr(signing, "verify_serve", serving_slowly)
    result = ledger.verify()
    assert result.ok and result.checked == long_ledger and not any("signature-checking" in n for n in result.notes)
    assert sum(checked_here) == (ENTRIES % CHUNK) // 3  # one share in three, the last
    forge(ENTRIES)  # in that share
    fails_at(ENTRIES, "signature")
    assert sum(checked_here) == 2 * (ENTRIES % CHUNK) // 3 and all_gone(children)


def test_when_no_child_can_be_started_this_process_checks_everything(long_ledger, monkeypatch, checked_here):
    def no_fork():
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    result = ledger.verify()
    assert result.ok and sum(checked_here) == long_ledger
    assert any("did not start" in note for note in result.notes)
    forge(150)
    fails_at(150, "signature")


def test_a_child_killed_from_outside_is_noticed(long_ledger, monkeypatch, children):
    real_settle = ledger._settle

    def settle(chunk, result):
        if result.checked == 3 * CHUNK:
            os.kill(children[0], signal.SIGKILL)
        return real_settle(chunk, result)

    monkeypatch.setattr(ledger, "_settle", settle)
    forge(250)
    result = fails_at(250, "signature")
    assert any("killed by signal 9" in note or "it stopped" in note for note in result.notes), result.notes
    assert all_gone(children)


def test_the_command_chooses_how_many_processes_check(long_ledger, capsys):
    for processes in ("0", "1", "2"):
        call_command("verify_ledger", "--processes", processes)
        assert f"Ledger verifies: {ENTRIES} entries" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--processes"):
        call_command("verify_ledger", "--processes", "-1")
    forge(200)
    with pytest.raises(CommandError, match="first bad entry 200: signature"):
        call_command("verify_ledger", "--processes", "1")


def test_a_short_ledger_starts_no_child(record, children, checked_here):
    record(5)
    assert ledger.verify(processes=2).ok and children == [] and sum(checked_here) == 5


# --- In a process with other threads (a web process): children started afresh, not forked ---

def test_a_process_with_other_threads_does_not_fork(monkeypatch):
    monkeypatch.undo()  # the real _can_fork
    started, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=lambda: (started.set(), stop.wait()))
    thread.start()
    started.wait()
    try:
        assert not ledger._can_fork()
    finally:
        stop.set()
        thread.join()


@pytest.fixture
def other_threads(monkeypatch, children):
    monkeypatch.setattr(ledger, "_can_fork", lambda: False)
    yield
    assert children == []  # nothing was forked


def test_with_other_threads_the_children_are_started_and_checked_from_when_ready(tmp_path, other_threads):
    key = signing.SiteKey(tmp_path / "key.pem")
    messages = [f"entry {i}".encode() for i in range(40)]
    items = [(message, key.sign(message)) for message in messages]
    items[17] = (messages[17], items[18][1])
    expected = [i != 17 for i in range(40)]
    with ledger._SignatureChecks(bytes.fromhex(key.public_raw_hex()), 2) as checks:
        checks.start()
        assert len(checks.checkers) == 2 and not any(checker.forked for checker in checks.checkers)
        deadline = time.monotonic() + 60
        while not all(checker.ready() for checker in checks.checkers):
            assert time.monotonic() < deadline, "the checking processes did not say they were ready"
            time.sleep(0.02)
        signatures = checks.submit(items, more=True)
        assert [checker for checker, _ in signatures.parts] == checks.checkers
        assert signatures.first(40) == expected
        assert checks.notes() == []
        checks.checkers[0].process.kill()
        checks.checkers[0].process.wait()
        assert checks.submit(items, more=True).first(40) == expected
        assert checks.submit(items, more=True).first(40) == expected
        assert len(checks.notes()) == 1 and "failed" in checks.notes()[0]
        processes = [checker.process for checker in checks.checkers]
    assert all(process.returncode is not None for process in processes)


def test_with_other_threads_verify_gives_the_same_answers(long_ledger, other_threads):
    assert ledger.verify().ok
    forge(150)
    fails_at(150, "signature")


# --- The command in its own process, on a SQLite file and on PostgreSQL ---

FILL = (
    "from vifsite.vif import services\n"
    "for i in range(6):\n"
    "    services.witness_record_many(items=[{'model_id': 'm', 'prompt': f'p {i} {k}', 'output': 'o',\n"
    "        'confidence': 0.9, 'task_criticality': 'routine'} for k in range(100)], writer='agent:w')\n"
    "    services.witness_record_tool(tool_id='t', parameters={'b': 1, 'a': 2.0, 'z': {'y': [1.0], 'x': 'é'}},\n"
    "        result_hash='a' * 64, writer='agent:w')\n"
)
TAMPER = (
    "from django.db import models\n"
    "from vifsite.vif.models import Witness\n"
    "rows = models.QuerySet(model=Witness)\n"
    "{change}\n"
)


def run_command_ledger(url, data_dir):
    manage(url, data_dir, "migrate", "--noinput")
    manage(url, data_dir, "shell", "-v", "0", "-c", FILL, timeout=300)
    verified = manage(url, data_dir, "verify_ledger")
    assert "Ledger verifies: 606 entries" in verified.stdout and "signature-checking" not in verified.stdout
    tool = "rows.filter(operation='tool', sequence__gt=500).order_by('sequence').first()"
    for change, fragment in (
        (f"w = {tool}; rows.filter(pk=w.pk).update(tool_parameters={{**w.tool_parameters, 'a': 2.5}})",
         "differ from its signed payload"),
        (f"w = {tool}; rows.filter(pk=w.pk).update(tool_parameters={{**w.tool_parameters, 'b': True}})",
         "differ from its signed payload"),
    ):
        manage(url, data_dir, "shell", "-v", "0", "-c", TAMPER.format(change=change))
        failed = manage(url, data_dir, "verify_ledger", check=False)
        assert failed.returncode == 1 and "first bad entry 505: the row's fields " + fragment in failed.stderr
        manage(url, data_dir, "shell", "-v", "0", "-c", TAMPER.format(
            change=f"w = {tool}; rows.filter(pk=w.pk).update(tool_parameters={{'b': 1, 'a': 2, "
                   "'z': {'y': [1], 'x': 'é'}})"))
        assert manage(url, data_dir, "verify_ledger").returncode == 0
    manage(url, data_dir, "shell", "-v", "0", "-c", TAMPER.format(
        change="rows.filter(sequence=300).update(signature=rows.get(sequence=301).signature)"))
    failed = manage(url, data_dir, "verify_ledger", check=False)
    assert failed.returncode == 1 and "first bad entry 300: signature does not verify" in failed.stderr
    assert "(299 entries checked before it)" in failed.stderr


@pytest.mark.slow
def test_the_command_on_a_sqlite_file(tmp_path):
    run_command_ledger(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path)


@pytest.mark.slow
@pytest.mark.postgres
def test_the_command_on_postgresql(pg_url, tmp_path):  # noqa: F811
    run_command_ledger(pg_url, tmp_path)
