"""Concurrent appends never fork or lose an entry: 8 writer processes × 250 appends each give 2,000
entries in one unbroken chain, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import json

import pytest

from tests.processes import manage, pg_url  # noqa: F401  (pg_url is a fixture)

pytestmark = pytest.mark.slow

WRITERS, APPENDS = 8, 250
WRITER = (
    "from vifsite.vif import services\n"
    "name = '{name}'\n"
    "for i in range({appends}):\n"
    "    services.witness_record_many(items=[{{'model_id': 'm', 'prompt': f'{{name}} {{i}}', 'output': 'o',\n"
    "        'confidence': 0.9, 'task_criticality': 'routine'}}], writer=f'agent:{{name}}')\n"
)
COUNT = ("import json; from vifsite.vif.models import Witness; from django.db import connection; "
         "print(json.dumps({'n': Witness.objects.count(), 'max': max(Witness.objects.values_list('sequence', "
         "flat=True)), 'writers': sorted(set(Witness.objects.values_list('writer', flat=True))), "
         "'vendor': connection.vendor}))")


def run_writers(url, data_dir):
    manage(url, data_dir, "migrate", "--noinput")
    writers = [manage(url, data_dir, "shell", "-v", "0", "-c", WRITER.format(name=f"w{k}", appends=APPENDS),
                      background=True) for k in range(WRITERS)]
    for writer in writers:
        _, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, err
    counted = json.loads(manage(url, data_dir, "shell", "-v", "0", "-c", COUNT).stdout)
    assert counted["n"] == WRITERS * APPENDS and counted["max"] == WRITERS * APPENDS
    assert counted["writers"] == [f"agent:w{k}" for k in range(WRITERS)]
    verified = manage(url, data_dir, "verify_ledger")
    assert f"Ledger verifies: {WRITERS * APPENDS} entries" in verified.stdout
    return counted["vendor"]


def test_concurrent_appends_on_sqlite(tmp_path):
    assert run_writers(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path) == "sqlite"


@pytest.mark.postgres
def test_concurrent_appends_on_postgresql(pg_url, tmp_path):  # noqa: F811
    assert run_writers(pg_url, tmp_path) == "postgresql"
