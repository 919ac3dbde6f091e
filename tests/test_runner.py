"""Stopping the site as an operator does: the site started as ``make run`` starts it
(``scripts/serve.sh``), a browser on the live review queue (websocket open) and a request in flight,
then Ctrl-C (SIGINT to the terminal's process group), SIGTERM to the group, or SIGTERM to the top
process as a supervisor sends it. Everything stops within 5 s, with status 0, no crash, no orphan."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.e2e.test_survey_page import ARGS, CHROMIUM
from tests.processes import free_port, manage

pytestmark = [pytest.mark.slow]

SETUP = """
from django.contrib.auth.models import Group, User
User.objects.create_user("rita", "rita@example.com", "pw-rita-12345").groups.add(Group.objects.get(name="reviewers"))
"""


def descendants(root: int) -> set[int]:
    """Every process below ``root`` (from /proc), to check afterwards that none outlived the site."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def site(tmp_path, request):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    manage(url, tmp_path, "migrate", "--noinput")
    manage(url, tmp_path, "shell", "-v", "0", "-c", SETUP)
    manage(url, tmp_path, "collectstatic", "--noinput", "-v", "0")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "VIFSITE_DATA_DIR": str(tmp_path), "PORT": str(port),
           "DJANGO_SETTINGS_MODULE": "vifsite.settings"}
    env.pop("VIFSITE_HTTPS", None)  # serve.sh sets it, as for make run
    if "web workers" in request.node.callspec.params["how"]:
        env["VIFSITE_WEB_WORKERS"] = "2"  # the production mode's several web processes
    # A session of its own, as a terminal gives the command it runs: Ctrl-C signals this group.
    log = open(tmp_path / "site.log", "w")  # noqa: SIM115  (a file, not a pipe: a stray child cannot block a read)
    process = subprocess.Popen(["bash", str(Path(settings.BASE_DIR) / "scripts" / "serve.sh")], env=env,
                               cwd=settings.BASE_DIR, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    process.log = tmp_path / "site.log"
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the site did not start: " + process.log.read_text()[-2000:])
    family = descendants(process.pid)
    yield process, f"http://127.0.0.1:{port}", port
    for pid in (descendants(process.pid) | family | {process.pid}):  # whatever a failed test left running
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    log.close()


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm to the group", "sigterm to the top process",
                                 "sigterm to the top process, 2 web workers", "sigkill to the top process"])
def test_the_site_stops_within_5_s_with_a_browser_connected_and_a_request_in_flight(site, how):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make test installs Debian's chromium as root)")
    from playwright.sync_api import sync_playwright

    process, base, port = site
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(base + "/review/")
        page.fill("input[name=username]", "rita")
        page.fill("input[name=password]", "pw-rita-12345")
        page.click("button[type=submit]")
        page.wait_for_url(base + "/review/")
        # The queue's live feed, opened as the page opens it: the websocket must be open when the signal comes.
        page.evaluate("""() => new Promise((resolve, reject) => {
            window.feed = new WebSocket(location.origin.replace("http", "ws") + "/ws/review/queue/");
            window.feed.onopen = resolve; window.feed.onerror = reject; })""")
        # A request in flight: an upload whose body is still arriving when the signal comes.
        stalled = socket.create_connection(("127.0.0.1", port))
        stalled.sendall(b"POST /api/v1/witnesses/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 1000000\r\n\r\n{\"prompt\": \"")
        answers: list[bytes] = []
        # Read the answer as soon as it comes: once the server exits with the body unread, its kernel resets the
        # connection, and a reset discards what this side has not read yet.
        reader = threading.Thread(target=lambda: answers.append(stalled.recv(200)), daemon=True)
        reader.start()
        time.sleep(0.5)
        family = descendants(process.pid) | {process.pid}
        assert len(family) >= 4  # runner, web server, cluster and its sentinel (and workers)
        start = time.monotonic()
        if how == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)
        elif how == "sigterm to the group":
            os.killpg(process.pid, signal.SIGTERM)
        elif how == "sigkill to the top process":
            os.kill(process.pid, signal.SIGKILL)  # the runner cannot act: its children are told by the kernel
        else:
            os.kill(process.pid, signal.SIGTERM)  # as a supervisor stops a service
        code = process.wait(timeout=15)
        while time.monotonic() - start < 10 and [pid for pid in family if alive(pid)]:
            time.sleep(0.05)
        took = time.monotonic() - start  # until the last process of the site is gone
        output = process.log.read_text()
        reader.join(timeout=2)
        answer = answers[0] if answers else b""
        stalled.close()
        browser.close()
    print(f"{how}: stopped in {took:.2f} s, status {code}")
    assert code == (-signal.SIGKILL if how == "sigkill to the top process" else 0), output[-3000:]
    if "web workers" in how:  # uvicorn's worker processes may close the connection instead: never a 500
        assert answer == b"" or answer.startswith(b"HTTP/1.1 503"), answer
    else:
        assert answer.startswith(b"HTTP/1.1 503"), (answer, output[-3000:])  # told to retry, not a 500
    assert took < 5.0
    assert not [pid for pid in family if alive(pid)], "processes outlived the site"
    for crash in ("Segmentation fault", "Traceback", "did not stop", "Fatal Python error"):
        assert crash not in output, output[-3000:]
