"""The site on PostgreSQL (DATABASE_URL), in separate processes as it runs past one machine.

Needs VIFSITE_TEST_POSTGRES_URL (``.ci/run`` exports it); without it, or without a reachable server,
these tests report themselves skipped and why.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import segyio

from tests.processes import manage, pg_url  # noqa: F401  (pg_url is a fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_import_and_extract_on_postgresql(pg_url, tmp_path, segy_dir):  # noqa: F811
    manage(pg_url, tmp_path, "migrate", "--noinput")
    manage(pg_url, tmp_path, "import_segy", str(segy_dir / "f3_withdead.sgy"), "--name", "dead")
    script = (
        "from seismic.models import Survey, Extraction; from seismic import services; import json; "
        "s = Survey.objects.get(name='dead'); "
        "_, e = services.section_extract(survey=s, kind='crossline', number=880, principal='pg'); "
        "print(json.dumps({'live': s.live_traces, 'vendor': __import__('django.db').db.connection.vendor, "
        "'stats': e.statistics, 'rows': Extraction.objects.count()}))"
    )
    out = json.loads(manage(pg_url, tmp_path, "shell", "-v", "0", "-c", script).stdout)
    assert out["vendor"] == "postgresql" and out["live"] == 239 and out["rows"] == 1
    with segyio.open(str(segy_dir / "f3_withdead.sgy"), ignore_geometry=True) as f:
        xl = f.attributes(segyio.TraceField.CROSSLINE_3D)[:]
        live = f.trace.raw[:][xl == 880].astype(np.float64)
    assert out["stats"]["live_traces"] == len(live)
    assert out["stats"]["mean"] == pytest.approx(live.mean())
    assert out["stats"]["std"] == pytest.approx(live.std())


def test_two_processes_importing_one_name_register_one_survey(pg_url, tmp_path, segy_dir):  # noqa: F811
    manage(pg_url, tmp_path, "migrate", "--noinput")
    racers = [manage(pg_url, tmp_path, "import_segy", str(segy_dir / "penobscot_xl1155.sgy"), "--name", "same",
                     background=True) for _ in range(2)]
    results = [(racer.wait(timeout=120), racer.communicate()) for racer in racers]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    loser_err = next(err for code, (_, err) in results if code == 1)
    assert "already exists" in loser_err
    count = manage(pg_url, tmp_path, "shell", "-v", "0", "-c",
                   "from seismic.models import Survey; print(Survey.objects.filter(name='same').count())").stdout
    assert count.strip() == "1"
    # The loser's volume was removed: one VDS on disk, the winner's.
    assert len(list((tmp_path / "surveys").glob("*.vds*"))) == 1


def test_requests_reuse_pooled_connections_instead_of_opening_one_each(pg_url, tmp_path):  # noqa: F811
    """Closing Django's connection at the end of a request hands it back to the process's pool: twenty
    requests in a row are served by a couple of server processes, not twenty (PostgreSQL forks a backend per
    connection). The pool checks a returned connection in the background, so a request may meanwhile get a
    second one; it never needs more."""
    script = (
        "from django.db import connection; import json; pids = []\n"
        "for _ in range(20):\n"
        "    with connection.cursor() as c:\n"
        "        c.execute('select pg_backend_pid()'); pids.append(c.fetchone()[0])\n"
        "    connection.close()\n"
        "print(json.dumps({'pool': connection.pool is not None, 'pids': pids}))"
    )
    out = json.loads(manage(pg_url, tmp_path, "shell", "-v", "0", "-c", script).stdout.strip().splitlines()[-1])
    assert out["pool"] and len(set(out["pids"])) <= 3, out


def test_a_forked_child_opens_its_own_pooled_connections(pg_url, tmp_path):  # noqa: F811
    # The task workers' cluster forks its processes after returning its connections to the pool.
    manage(pg_url, tmp_path, "migrate", "--noinput", "-v", "0")
    script = (
        "import os, json; from django.db import connection, connections\n"
        "backend = lambda: connection.cursor().execute('SELECT pg_backend_pid()').fetchone()[0]\n"
        "parent = backend(); connections.close_all()\n"
        "read, write = os.pipe(); pid = os.fork()\n"
        "if pid == 0:\n"
        "    ids = [backend() for _ in range(50)]; connections.close_all()\n"
        "    os.write(write, json.dumps(ids).encode()); os._exit(0)\n"
        "mine = [backend() for _ in range(50)]; os.waitpid(pid, 0); connections.close_all()\n"
        "print(json.dumps({'parent': parent, 'mine': mine, 'child': json.loads(os.read(read, 65536))}))\n"
    )
    out = json.loads(manage(pg_url, tmp_path, "shell", "-v", "0", "-c", script, timeout=60).stdout)
    # The pool may hand the parent another of its connections; the child must never use any of them.
    assert len(out["child"]) == 50 and not ({out["parent"], *out["mine"]} & set(out["child"])), out
