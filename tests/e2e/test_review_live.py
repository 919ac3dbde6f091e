"""The reviewer dashboard in real browsers against the site's ASGI server (uvicorn, websockets), on a
SQLite file; and the same live feed across two server processes through channels-redis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.e2e.test_survey_page import ARGS, CHROMIUM
from tests.processes import free_port, manage, web_server

pytestmark = [pytest.mark.slow]
REDIS_URL = os.environ.get("VIFSITE_TEST_REDIS_URL", "")

SETUP = """
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from seismic.models import Survey
from seismic import services as seismic
from review import services
call_command("make_synthetic_survey", name="live", size="30x30x100", seed=2)
group = Group.objects.get(name="reviewers")
for name in ("rita", "sam"):
    User.objects.create_user(name, f"{name}@example.com", f"pw-{name}-12345").groups.add(group)
survey = Survey.objects.get(name="live")
_, extraction = seismic.section_extract(survey=survey, kind="inline", number=1015, principal="agent:bot")
result = services.interpretation_submit(writer="agent:bot", key=None, text="This is a gas-charged sand.",
    structured=None, extraction_ids=[extraction.pk], model={"model_id": "m"}, signals={"confidence": 0.9},
    criticality="routine")
print(result["escalation"]["id"])
"""


@pytest.fixture
def browsers():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make test installs Debian's chromium as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def servers(tmp_path, count: int, redis_url: str = ""):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    manage(url, tmp_path, "migrate", "--noinput")
    item = int(manage(url, tmp_path, "shell", "-v", "0", "-c", SETUP, timeout=300).stdout.strip().splitlines()[-1])
    env = {**os.environ, "DATABASE_URL": url, "VIFSITE_DATA_DIR": str(tmp_path), "VIFSITE_Q_SYNC": "true",
           "DJANGO_SETTINGS_MODULE": "vifsite.settings", "VIFSITE_DEBUG": "false"}
    if redis_url:
        env["REDIS_URL"] = redis_url
    manage(url, tmp_path, "collectstatic", "--noinput", "-v", "0")
    ports = [free_port() for _ in range(count)]
    processes = [web_server(env, port) for port in ports]
    return item, [f"http://127.0.0.1:{port}" for port in ports], processes


def log_in(context, base, name):
    page = context.new_page()
    page.goto(base + "/review/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", f"pw-{name}-12345")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/review/")
    return page


def watch_and_decide(browsers, item, base_watch, base_decide):
    watcher = log_in(browsers.new_context(), base_watch, "sam")
    watcher.wait_for_selector(f"#item-{item}")
    watcher.wait_for_function("document.getElementById('live-status').dataset.live === '1'")
    decider = log_in(browsers.new_context(), base_decide, "rita")
    decider.click(f"#item-{item} a")
    decider.wait_for_function("document.getElementById('section-plot').dataset.rendered === '1'")
    assert decider.locator("#section-plot .main-svg").count() > 0  # plotly drew the heatmap
    assert "High stakes" in decider.inner_text("body")  # reasons in words
    decider.check("input[value=approve]")
    decider.click("#decide")
    decider.wait_for_selector("#final-decision")
    # The other reviewer's open queue marks the item as gone without a reload (rows never move under the eyes).
    watcher.wait_for_selector(f"#item-{item}.gone", timeout=10_000)


def test_a_reviewer_approves_and_the_item_leaves_another_reviewers_queue_live(browsers, tmp_path):
    item, (base,), processes = servers(tmp_path, 1)
    try:
        watch_and_decide(browsers, item, base, base)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def test_the_live_feed_crosses_server_processes_through_channels_redis(browsers, tmp_path):
    if not REDIS_URL:
        pytest.skip("VIFSITE_TEST_REDIS_URL is not set: the multi-process websocket test is not run")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    item, (first, second), processes = servers(tmp_path, 2, redis_url=REDIS_URL)
    try:
        watch_and_decide(browsers, item, first, second)  # watched on one process, decided on the other
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def test_the_example_agent_loop_runs_to_a_human_decision(tmp_path):
    _, (base,), processes = servers(tmp_path, 1)
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    key = manage(url, tmp_path, "create_agent_key", "loop-bot", "--expires", "1").stdout.strip()
    agent = subprocess.Popen([sys.executable, str(Path(settings.BASE_DIR) / "examples" / "agent_loop.py"),
                              "--url", base, "--key", key, "--poll", "0.5", "--timeout", "120"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in agent.stdout:
            lines.append(line)
            if "waiting for a reviewer" in line:
                escalation = int(line.split("escalation ")[1].split(",")[0])
                manage(url, tmp_path, "shell", "-v", "0", "-c",
                       "from django.contrib.auth.models import User; from review import services; "
                       f"services.escalation_decide(escalation_id={escalation}, "
                       "reviewer=User.objects.get(username='rita'), decision='revise', comment='hedged', "
                       "revised_text='A possible bright interval; gas is not established.')")
        assert agent.wait(timeout=60) == 0, agent.stderr.read()
        output = "".join(lines)
        source = (Path(settings.BASE_DIR) / "examples" / "agent_loop.py").read_text()
        assert "SCRIPTED STAND-IN" in source  # the model is a labelled stand-in
        assert "PASS" in output and "escalated" in output and "4. decided: revised by rita" in output
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
