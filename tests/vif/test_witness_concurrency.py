"""Witness POSTs from many agents against two web server processes on PostgreSQL never lose a witness to a
server error: 8 clients × 250 POSTs answer 2xx JSON and record 2,000 witnesses in one unbroken chain; and
racing requests with one Idempotency-Key record one witness.

The failure this guards against (a 500 and a lost witness in 2 of about 13 runs of this load) was the site's
signing key, created on first use: the first signer created the file and wrote it afterwards, and a thread or
process signing its first witness in between read it empty. The servers here start on a data directory with
no key, as a fresh deployment does, and all clients post their first witness at once, so every run races the
first signatures again (the race itself is tested directly in test_ledger.py). The load takes about 30 s on
2 shared cores, the whole test about 55 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.processes import free_port, manage, pg_url  # noqa: F401  (pg_url is a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CLIENTS, POSTS = 8, 250


@contextmanager
def two_servers(url: str, data_dir: Path):
    """Two ``vifsite.serve`` processes on one database and data directory; their stderr kept in files."""
    env = {**os.environ, "DATABASE_URL": url, "VIFSITE_DATA_DIR": str(data_dir), "VIFSITE_HTTPS": "false",
           "DJANGO_SETTINGS_MODULE": "vifsite.settings"}
    ports, processes, logs = [free_port(), free_port()], [], []
    try:
        for port in ports:
            log = open(data_dir / f"server-{port}.err", "w+b")  # noqa: SIM115  (closed below)
            logs.append(log)
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "vifsite.serve", "--port", str(port), "--no-access-log"],
                cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=log))
        for port, process in zip(ports, processes, strict=True):
            for _ in range(300):
                try:
                    # A server that has bound its port but is still importing Django on a loaded machine
                    # answers late: wait for it, do not fail the test on a slow first answer.
                    requests.get(f"http://127.0.0.1:{port}/api/v1/ledger/", timeout=(1, 30))
                    break
                except (requests.ConnectionError, requests.Timeout):
                    assert process.poll() is None, "a web server died while starting"
                    time.sleep(0.1)
        yield [f"http://127.0.0.1:{port}" for port in ports], logs
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def server_errors(logs) -> str:
    text = []
    for log in logs:
        log.flush()
        log.seek(0)
        text.append(log.read().decode(errors="replace"))
    return "\n".join(text)[-6000:]


def agent_key(url: str, data_dir: Path, name: str) -> str:
    return manage(url, data_dir, "create_agent_key", name, "--expires", "1").stdout.strip().splitlines()[-1]


def witness_body(name: str, i: int) -> dict:
    return {"model_id": "m", "prompt": f"{name} {i}", "output": "o", "confidence": 0.9, "task_criticality": "routine"}


def count_witnesses(url: str, data_dir: Path) -> dict:
    script = ("import json; from vifsite.vif.models import Witness; "
              "print(json.dumps({'n': Witness.objects.count(), 'writers': sorted(set(Witness.objects.values_list("
              "'writer', flat=True)))}))")
    return json.loads(manage(url, data_dir, "shell", "-v", "0", "-c", script).stdout)


def test_8_agents_x_250_posts_on_two_servers_lose_no_witness(pg_url, tmp_path):  # noqa: F811
    manage(pg_url, tmp_path, "migrate", "--noinput")
    keys = [agent_key(pg_url, tmp_path, f"c{k}") for k in range(CLIENTS)]
    failures: list[str] = []
    started = time.monotonic()
    with two_servers(pg_url, tmp_path) as (bases, logs):
        barrier = threading.Barrier(CLIENTS)

        def client(k: int) -> int:
            session = requests.Session()
            session.headers["Authorization"] = f"Api-Key {keys[k]}"
            ok = 0
            barrier.wait()  # every client's first POST at once: the first witness of each server races
            for i in range(POSTS):
                response = session.post(f"{bases[(k + i) % 2]}/api/v1/witnesses/", json=witness_body(f"c{k}", i),
                                        timeout=60)
                kind = response.headers.get("content-type", "")
                if response.status_code // 100 != 2 or not kind.startswith("application/json"):
                    failures.append(f"c{k} #{i}: {response.status_code} {kind} {response.text[:200]}")
                else:
                    ok += 1
            return ok

        with ThreadPoolExecutor(CLIENTS) as pool:
            answered = sum(pool.map(client, range(CLIENTS)))
        errors = server_errors(logs)
    elapsed = time.monotonic() - started
    assert not failures, f"{failures[:5]}\nserver stderr:\n{errors}"
    assert answered == CLIENTS * POSTS
    counted = count_witnesses(pg_url, tmp_path)
    assert counted == {"n": CLIENTS * POSTS, "writers": [f"agent:c{k}" for k in range(CLIENTS)]}
    verified = manage(pg_url, tmp_path, "verify_ledger")
    assert f"Ledger verifies: {CLIENTS * POSTS} entries" in verified.stdout
    print(f"{CLIENTS}×{POSTS} POSTs on two servers in {elapsed:.1f} s")


def test_racing_posts_with_one_idempotency_key_record_one_witness(pg_url, tmp_path):  # noqa: F811
    manage(pg_url, tmp_path, "migrate", "--noinput")
    key = agent_key(pg_url, tmp_path, "retrier")
    with two_servers(pg_url, tmp_path) as (bases, logs):
        for round_ in range(5):
            barrier = threading.Barrier(8)
            idempotency_key = str(uuid.uuid4())

            def post(k: int, idempotency_key=idempotency_key, barrier=barrier, round_=round_):
                barrier.wait()
                return requests.post(f"{bases[k % 2]}/api/v1/witnesses/", json=witness_body("same", round_),
                                     headers={"Authorization": f"Api-Key {key}", "Idempotency-Key": idempotency_key},
                                     timeout=60)

            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(post, range(8)))
            assert sorted(a.status_code for a in answers) == [200] * 7 + [201], server_errors(logs)
            assert len({a.json()["vif_id"] for a in answers}) == 1
            assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 7
    assert count_witnesses(pg_url, tmp_path) == {"n": 5, "writers": ["agent:retrier"]}
    assert manage(pg_url, tmp_path, "verify_ledger").returncode == 0
