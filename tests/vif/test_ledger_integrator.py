"""Witnesses of reads sequenced off the request path (VIFSITE_LEDGER_INTEGRATE_IN_BACKGROUND): a read commits
its leaf and wakes the process's integrator thread, which sequences every queued leaf in batches. Several
processes of readers (each with its own integrator thread) on a SQLite file and on PostgreSQL: the read
answers before its witness is sequenced, every witness is sequenced into one chain that verifies, in fewer
batches than reads, and a batch that fails leaves its leaves queued for the next."""

from __future__ import annotations

import json

import pytest

from tests.processes import manage, pg_url  # noqa: F401  (pg_url is a fixture)

pytestmark = pytest.mark.slow

PROCESSES, THREADS, READS = 3, 4, 25
READER = """
import json, threading, time
from django.db import connection, transaction
from vifsite.vif import ledger, services
from vifsite.vif.models import Witness

real = ledger.integrate
failed = []
def failing_once(*args, **kwargs):
    if not failed and "{name}" == "r0":
        failed.append(1)
        raise RuntimeError("the database went away")
    return real(*args, **kwargs)
ledger.integrate = failing_once

unsequenced_answers = []
def read(i):
    with transaction.atomic():
        witness = services.witness_record_tool(tool_id="extract_section", parameters={{"reader": "{name}", "i": i}},
                                               result_hash="a" * 64, writer="agent:{name}", integrate=False)
    ledger.integrate_after_commit([witness])
    unsequenced_answers.append(witness.sequence is None)

def reader(offset):
    try:
        for i in range({reads}):
            read(offset + i)
    finally:
        connection.close()

threads = [threading.Thread(target=reader, args=(1000 * n,)) for n in range({threads})]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
deadline = time.monotonic() + 30
while Witness.objects.filter(writer="agent:{name}", sequence__isnull=True).exists() and time.monotonic() < deadline:
    ledger._integrator.soon()  # after a failed batch, the next read would wake it; here nothing else reads
    time.sleep(0.05)
print(json.dumps({{"unsequenced_answers": sum(unsequenced_answers), "batches": ledger._integrator.batches,
                  "failed": len(failed),
                  "pending": Witness.objects.filter(writer="agent:{name}", sequence__isnull=True).count()}}))
"""
COUNT = ("import json; from vifsite.vif.models import Witness; "
         "print(json.dumps({'n': Witness.objects.count(), 'sequences': sorted(Witness.objects.values_list("
         "'sequence', flat=True))}))")


def run_readers(url, data_dir):
    manage(url, data_dir, "migrate", "--noinput")
    import os

    os.environ["VIFSITE_LEDGER_INTEGRATE_IN_BACKGROUND"] = "true"
    try:
        readers = [manage(url, data_dir, "shell", "-v", "0", "-c",
                          READER.format(name=f"r{k}", reads=READS, threads=THREADS), background=True)
                   for k in range(PROCESSES)]
        outcomes = []
        for reader in readers:
            out, err = reader.communicate(timeout=600)
            assert reader.returncode == 0, err
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        os.environ.pop("VIFSITE_LEDGER_INTEGRATE_IN_BACKGROUND", None)
    total = PROCESSES * THREADS * READS
    assert all(o["pending"] == 0 for o in outcomes), outcomes
    assert outcomes[0]["failed"] == 1  # the first process's thread met a failed batch and lived on
    # Reads answered before their witness was sequenced (the point), and batches took many reads each.
    assert sum(o["unsequenced_answers"] for o in outcomes) == total
    assert 0 < sum(o["batches"] for o in outcomes) < total
    counted = json.loads(manage(url, data_dir, "shell", "-v", "0", "-c", COUNT).stdout)
    assert counted["n"] == total and counted["sequences"] == list(range(1, total + 1))
    assert f"Ledger verifies: {total} entries" in manage(url, data_dir, "verify_ledger").stdout


def test_reads_sequenced_in_background_on_sqlite(tmp_path):
    run_readers(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path)


@pytest.mark.postgres
def test_reads_sequenced_in_background_on_postgresql(pg_url, tmp_path):  # noqa: F811
    run_readers(pg_url, tmp_path)
