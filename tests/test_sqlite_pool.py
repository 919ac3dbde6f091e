"""SQLite connections are reused across requests (vifsite/db/sqlite3): under ASGI each request's synchronous
part runs in a thread of its own, and each opened a new connection before."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import json, os, sys, threading
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vifsite.settings")
import django
django.setup()
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.db import close_old_connections, connection, connections, transaction
import sqlite3.dbapi2
from vifsite.db.sqlite3 import base as pool
connects = []
real_connect = sqlite3.dbapi2.connect
def counting_connect(*args, **kwargs):
    connects.append(1)
    return real_connect(*args, **kwargs)
sqlite3.dbapi2.connect = counting_connect  # Django's backend calls it for every new connection
call_command("migrate", verbosity=0)
connection.close()
found = {}

def in_thread(function):
    out = {}
    def run():
        try:
            out["value"] = function()
        finally:
            connections.close_all()
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return out.get("value")

before = len(connects)
in_thread(connection.ensure_connection)
in_thread(connection.ensure_connection)
found["opened_by_two_threads"] = len(connects) - before  # both took the connection migrate left in the pool

def left_open():
    from django.contrib.auth.models import Group
    transaction.atomic().__enter__()  # a transaction never finished: the request died in it
    Group.objects.create(name="half-written")
in_thread(left_open)
def after():
    from django.contrib.auth.models import Group
    connection.ensure_connection()
    return {"in_transaction": connection.connection.in_transaction,
            "half_written": Group.objects.filter(name="half-written").exists()}
found.update(in_thread(after))

before = len(connects)
from asgiref.testing import ApplicationCommunicator
from django.core.asgi import get_asgi_application
application = get_asgi_application()  # as the server runs it: a thread per request, connections closed after

async def request():
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/api/v1/surveys/", "raw_path": b"/api/v1/surveys/", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver"), (b"authorization", b"Api-Key abc.def")],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80)}
    talk = ApplicationCommunicator(application, scope)
    await talk.send_input({"type": "http.request", "body": b""})
    start = await talk.receive_output(30)
    while (await talk.receive_output(30)).get("more_body"):
        pass
    await talk.wait(30)
    return start["status"]

for _ in range(5):
    # an unknown key: each request looks it up in the database
    assert async_to_sync(request)() in (401, 403)
found["opened_by_five_requests"] = len(connects) - before
found["idle"] = pool.idle_connections(connection.settings_dict["NAME"])

pid = os.fork()
if pid == 0:  # a forked child never takes its parent's connections
    child_before = len(connects)
    connection.connection = None
    connection.ensure_connection()
    os._exit(0 if len(connects) == child_before + 1 else 3)
found["child_opened_its_own"] = os.waitpid(pid, 0)[1] == 0
print(json.dumps(found))
"""


def test_connections_are_reused_rolled_back_and_never_shared_with_a_child(tmp_path):
    env = {"VIFSITE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "VIFSITE_HTTPS": "false", "VIFSITE_ALLOWED_HOSTS": "testserver"}
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found == {"opened_by_two_threads": 0, "in_transaction": False, "half_written": False,
                     "opened_by_five_requests": 0, "idle": 1, "child_opened_its_own": True}


HANDOVER = r"""
import json, os, statistics, threading, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vifsite.settings")
import django
django.setup()
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connections, transaction
call_command("migrate", verbosity=0)
HOLD, LATE = 0.30, 0.05

def writer(name, hold, times):
    try:
        with transaction.atomic():
            times[name + " began"] = time.perf_counter()
            Group.objects.create(name=name)
            time.sleep(hold)
            times[name + " committing"] = time.perf_counter()
    finally:
        connections.close_all()

extra = []
for round_ in range(5):
    times = {}
    first = threading.Thread(target=writer, args=(f"a{round_}", HOLD, times))
    second = threading.Thread(target=writer, args=(f"b{round_}", 0, times))
    first.start()
    time.sleep(LATE)
    second.start()
    first.join()
    second.join()
    extra.append(times[f"b{round_} began"] - times[f"a{round_} committing"])

def fails():
    with transaction.atomic():
        Group.objects.create(name="x")
        raise RuntimeError
try:
    fails()
except RuntimeError:
    pass
from vifsite.db.sqlite3 import base as pool
held_after_rollback = any(lock.locked() for lock in pool._writers.values())
written = Group.objects.filter(name__regex=r"^[ab][0-9]$").count()
print(json.dumps({"extra_ms": [round(e * 1000, 1) for e in extra], "median_ms": statistics.median(extra) * 1000,
                  "held_after_rollback": held_after_rollback, "groups": written}))
"""


def test_a_waiting_writer_begins_as_soon_as_the_one_before_commits(tmp_path):
    """SQLite's busy handler sleeps 1, 2, 5 ... 25, 50 ms between tries: a writer arriving 50 ms into a 300 ms
    transaction would begin some 80 ms after it committed. Queued on the process's lock, it begins at once."""
    env = {"VIFSITE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", HANDOVER], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["median_ms"] < 30, found
    assert not found["held_after_rollback"] and found["groups"] == 10
