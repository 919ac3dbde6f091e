"""Load: 50 clients for 60 s (wrk) on the section endpoint and on the review queue page (1,000 items),
against the site as ``python -m vifsite.runner`` serves it, in the default mode (one web process,
SQLite) and in production mode (``VIFSITE_WEB_WORKERS`` web processes, PostgreSQL, channels-redis).

The queue page is read in turn by ``BENCH_LOAD_REVIEWERS`` (20) reviewers, each with their own session; in
production mode it is also measured without its cache (``VIFSITE_QUEUE_CACHE=false``), every page rendered
afresh. Prints requests per second, median, p95 and p99 latency, and errors (non-2xx answers, socket errors).
Production mode needs PostgreSQL (``VIFSITE_TEST_POSTGRES_URL``, default the local server) and Redis
(``REDIS_URL``, default the local server); it is skipped with the reason when they are absent.
``BENCH_LOAD_SECONDS`` (60), ``BENCH_LOAD_CLIENTS`` (50), ``BENCH_LOAD_WORKERS`` (2) change the run,
``BENCH_LOAD_MODES`` (``default,production``) which modes run."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench import results
from bench.item_page import free_port, manage

ROOT = Path(__file__).resolve().parent.parent
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "60"))
CLIENTS = int(os.environ.get("BENCH_LOAD_CLIENTS", "50"))
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", "2"))
POSTGRES = os.environ.get("VIFSITE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
ITEMS = int(os.environ.get("BENCH_LOAD_ITEMS", "1000"))
MODES = os.environ.get("BENCH_LOAD_MODES", "default,production").split(",")

# The queue page is read by this many reviewers, each with their own session, in turn.
REVIEWERS = int(os.environ.get("BENCH_LOAD_REVIEWERS", "20"))

SETUP = f"ITEMS = {ITEMS}\nREVIEWERS = {REVIEWERS}\n" + """
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from review import services
from seismic import services as seismic
from seismic.models import Survey
from vifsite.vif.models import AgentKey
call_command("make_synthetic_survey", name="bench", size="400x400x500", seed=2)
survey = Survey.objects.get(name="bench")
_, extraction = seismic.section_extract(survey=survey, kind="inline", number=1200, principal="agent:bench")
for i in range(ITEMS):
    services.interpretation_submit(writer="agent:bench", key=None, structured=None, extraction_ids=[extraction.pk],
        text=f"Item {i}: inline 1200 shows a bright spot at crosslines 2100-2150 and 800-900 ms.",
        model={"model_id": "m"}, signals={"confidence": 0.2}, criticality="routine")
sessions = []
for n in range(REVIEWERS):
    person = User.objects.create_user(f"reviewer{n}", f"reviewer{n}@example.com", f"pw-reviewer{n}-12345")
    person.groups.add(Group.objects.get(name="reviewers"))
    client = Client()
    client.force_login(person)
    sessions.append(client.cookies["sessionid"].value)
print("survey", survey.pk)
print("sessions", " ".join(sessions))
print("key", AgentKey.objects.create_key(name="load", expiry_date=None)[1])
"""
# Each request of the queue page comes from the next reviewer's session.
ROTATE = """sessions = {%s}
counter = 0
request = function()
  counter = counter + 1
  wrk.headers["Cookie"] = "sessionid=" .. sessions[(counter %% #sessions) + 1]
  return wrk.format(nil)
end
"""
P95 = """done = function(summary, latency, requests)
  io.write(string.format("LOAD %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk(url: str, header: str, script: Path) -> dict[str, float]:
    command = [shutil.which("wrk") or "wrk", f"-t{min(2, CLIENTS)}", f"-c{CLIENTS}", f"-d{SECONDS}s",
               "--timeout", "30s",
               "-H", header, "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS + 120)
    match = re.search(r"LOAD (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out.stdout)
    if not match:
        raise SystemExit(out.stdout + out.stderr)
    requests, duration, p50, p95, p99, worst, status, sockets = (int(g) for g in match.groups())
    return {"rps": requests / (duration / 1e6), "p50": p50 / 1000, "p95": p95 / 1000, "p99": p99 / 1000,
            "max": worst / 1000, "errors": status + sockets, "status_errors": status, "socket_errors": sockets,
            "requests": requests}


MEASURED: list[dict[str, object]] = []


def run_mode(name: str, env: dict[str, str], script: Path, *, cached_queue: bool) -> None:
    """Load the section endpoint and the queue page; in production mode the queue also without its cache
    (VIFSITE_QUEUE_CACHE=false: every page rendered afresh)."""
    manage(env, "migrate", "--noinput", "-v", "0")
    lines = dict(line.split(" ", 1) for line in manage(env, "shell", "-v", "0", "-c", SETUP, timeout=1800).splitlines()
                 if line.split(" ", 1)[0] in ("survey", "sessions", "key"))
    manage(env, "collectstatic", "--noinput", "-v", "0")
    rotate = script.with_name("rotate.lua")
    rotate.write_text(ROTATE % ", ".join(f'"{s}"' for s in lines["sessions"].split()) + script.read_text())
    section = ("section inline 1200", f"/api/v1/surveys/{lines['survey']}/sections/inline/1200/",
               f"Authorization: Api-Key {lines['key']}", script)
    queue = (f"queue page ({ITEMS} items, {REVIEWERS} reviewers)", "/review/", "X-Bench: queue", rotate)
    runs = [(env, [section, queue])]
    if cached_queue:
        runs.append(({**env, "VIFSITE_QUEUE_CACHE": "false"},
                     [(queue[0] + ", without the queue cache", *queue[1:])]))
    for run_env, targets in runs:
        serve(name, run_env, targets)


def serve(name: str, env: dict[str, str], targets: list[tuple[str, str, str, Path]]) -> None:
    port = free_port()
    descriptor, path = tempfile.mkstemp(prefix="vifsite-bench-site-", suffix=".log")
    os.close(descriptor)
    log = Path(path)
    with log.open("w") as out:
        site = subprocess.Popen([sys.executable, "-m", "vifsite.runner", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(300):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        time.sleep(2)  # every web worker up
        for label, path, header, lua in targets:
            r = wrk(f"http://127.0.0.1:{port}{path}", header, lua)
            MEASURED.append({"mode": name, "target": label, **r, "clients": CLIENTS, "seconds": SECONDS})
            print(f"load, {name}, {label}: {r['rps']:.0f} req/s, median {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, "
                  f"p99 {r['p99']:.0f} ms, worst {r['max']:.0f} ms, {r['errors']} errors of {r['requests']} "
                  f"({r['status_errors']} answers not 2xx, {r['socket_errors']} socket errors; "
                  f"{CLIENTS} clients, {SECONDS} s)", flush=True)
    finally:
        os.kill(site.pid, signal.SIGTERM)
        try:
            site.wait(timeout=30)
        finally:
            report_failures(name, log)


def report_failures(name: str, log: Path) -> None:
    """Server errors and tracebacks in the site's log: printed, and the log kept; else the log goes."""
    failures = [line for line in log.read_text(errors="replace").splitlines()
                if re.search(r'" 5\d\d ', line) or line.startswith(("ERROR", "Traceback"))]
    if failures:
        print(f"load, {name}: {len(failures)} failure lines in the site's log, kept in {log}; the first: "
              + " | ".join(failures[:5]), flush=True)
    else:
        log.unlink()


def postgres_database() -> tuple[str, object] | None:
    try:
        import psycopg
        import redis

        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001  any failure to reach a service skips the mode, with the reason
        print(f"load, production mode: skipped ({type(exc).__name__}: {exc})")
        return None
    name = f"vifsite_bench_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES.rsplit("/", 1)[0] + "/" + name, admin


def main() -> None:
    if not shutil.which("wrk"):
        print("load: skipped, wrk is not installed (make bench installs Debian's wrk as root)")
        return
    with tempfile.TemporaryDirectory(prefix="vifsite-bench-load-") as tmp:
        script = Path(tmp) / "p95.lua"
        script.write_text(P95)
        base_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "vifsite.settings", "VIFSITE_HTTPS": "false",
                    "VIFSITE_API_RATE": "1000000/min", "VIFSITE_CALIBRATION_SAMPLE_RATE": "0"}
        base_env.pop("REDIS_URL", None)
        default = {**base_env, "VIFSITE_DATA_DIR": f"{tmp}/default", "DATABASE_URL": f"sqlite:///{tmp}/default.db",
                   "VIFSITE_WEB_WORKERS": "1"}
        if "default" in MODES:
            run_mode("default mode (1 web process, SQLite)", default, script, cached_queue=False)
        database = postgres_database() if "production" in MODES else None
        if database is not None:
            url, admin = database
            try:
                production = {**base_env, "VIFSITE_DATA_DIR": f"{tmp}/production", "DATABASE_URL": url,
                              "REDIS_URL": REDIS, "VIFSITE_WEB_WORKERS": str(WORKERS),
                              "VIFSITE_CACHE_PREFIX": f"bench-{uuid.uuid4().hex[:10]}"}
                run_mode(f"production mode ({WORKERS} web processes, PostgreSQL, Redis)", production, script,
                         cached_queue=True)
            finally:
                admin.execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')  # type: ignore[attr-defined]
    results.write("load", MEASURED)


if __name__ == "__main__":
    main()
