"""The review item page in headless Chromium against the site's own server (make bench): bytes transferred and
time until the section plot is drawn, on a first visit (empty cache) and a later one (cache kept), as medians.

The server runs as `make run` serves it (collectstatic: hashed, pre-compressed static files; DEBUG off) on a
SQLite file in a temporary directory, with a 400x400x500 synthetic survey whose inline (400 × 500 samples) the
item cites. Chromium speaks plain http here, so it is offered gzip, not brotli."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import results

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("VIFSITE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
RUNS = int(os.environ.get("BENCH_ITEM_RUNS", "5"))
SETUP = f"RUNS = {RUNS}\n" + """
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from review import services
from seismic import services as seismic
from seismic.models import Survey
call_command("make_synthetic_survey", name="bench", size="400x400x500", seed=2)
User.objects.create_user("rita", "rita@example.com", "pw-rita-12345").groups.add(Group.objects.get(name="reviewers"))
survey = Survey.objects.get(name="bench")
_, extraction = seismic.section_extract(survey=survey, kind="inline", number=1200, principal="agent:bench")
for _ in range(1 + 2 * RUNS):  # the item measured, then one per decision timed
    result = services.interpretation_submit(writer="agent:bench", key=None,
        text="Inline 1200 shows a bright spot at crosslines 2100-2150 and 800-900 ms.", structured=None,
        extraction_ids=[extraction.pk], model={"model_id": "m"}, signals={"confidence": 0.2}, criticality="routine")
    print("escalation", result["escalation"]["id"])
"""
REASON = "The window holds no anomaly."
# Bytes over the wire: the navigation and every resource (transferSize is 0 for what came from the cache).
MEASURE = """() => {
  const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
  const ready = Number(document.getElementById("section-plot").dataset.readyAt);
  return {bytes: entries.reduce((sum, e) => sum + (e.transferSize || 0), 0), ready: ready,
          biggest: entries.map(e => [e.name.split("/").pop(), e.transferSize]).sort((a, b) => b[1] - a[1]).slice(0, 3)};
}"""
READY = """() => new Promise((resolve) => {
  const root = document.getElementById("section-plot");
  const done = () => { root.dataset.readyAt = String(performance.now()); resolve(); };
  if (root.dataset.state === "ready") done(); else root.addEventListener("section-plot:rendered", done, {once: true});
})"""


def manage(env: dict[str, str], *args: str, timeout: int = 600) -> str:
    """``manage.py ARGS`` in a process of its own with ``env``; its output, or the bench stops with its errors."""
    result = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "vifsite.serve", "--port", str(port), "--no-access-log"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(150):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.1)
    server.kill()
    raise SystemExit("the web server did not start")


def visit(page, url: str) -> dict:
    page.goto(url, wait_until="commit")
    page.evaluate(READY)
    return page.evaluate(MEASURE)


def main() -> None:
    if not Path(CHROMIUM).exists():
        print(f"item page: skipped, no Chromium at {CHROMIUM}")
        return
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="vifsite-bench-item-") as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3", "VIFSITE_DATA_DIR": tmp,
               "DJANGO_SETTINGS_MODULE": "vifsite.settings", "VIFSITE_HTTPS": "false", "VIFSITE_DEBUG": "false",
               "VIFSITE_Q_SYNC": "true"}
        manage(env, "migrate", "--noinput", "-v", "0")
        output = manage(env, "shell", "-v", "0", "-c", SETUP).splitlines()
        item, *to_decide = [int(line.split()[1]) for line in output if line.startswith("escalation ")]
        manage(env, "collectstatic", "--noinput", "-v", "0")
        port = free_port()
        server = serve(env, port)
        base = f"http://127.0.0.1:{port}"
        first, later = [], []
        decisions: dict[str, list[tuple[int, float]]] = {"approve": [], "reject": []}
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for _ in range(RUNS):
                    context = browser.new_context(viewport={"width": 1400, "height": 900})
                    page = context.new_page()
                    page.goto(base + "/accounts/login/")
                    page.fill("input[name=username]", "rita")
                    page.fill("input[name=password]", "pw-rita-12345")
                    page.click("button[type=submit]")
                    page.wait_for_load_state()
                    first.append(visit(page, f"{base}/review/{item}/"))
                    later.append(visit(page, f"{base}/review/{item}/"))
                    # Opening an item to its recorded decision, by keyboard only: approve (a, Ctrl+Enter) and
                    # reject with a reason (r puts the cursor in the comment; the reason; Ctrl+Enter).
                    for kind, keys in (("approve", ["a"]), ("reject", ["r", *REASON])):
                        pk = to_decide.pop()
                        start = time.perf_counter()
                        page.goto(f"{base}/review/{pk}/")
                        for key in keys:
                            page.keyboard.press(key)
                        with page.expect_navigation():
                            page.keyboard.press("Control+Enter")
                        decisions[kind].append((len(keys) + 1, time.perf_counter() - start))
                    context.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)

    def report(name: str, runs: list[dict]) -> dict[str, float]:
        kb = statistics.median(r["bytes"] for r in runs) / 1000
        ms = statistics.median(r["ready"] for r in runs)
        biggest = ", ".join(f"{n} {b / 1000:.0f} kB" for n, b in runs[-1]["biggest"] if b)
        print(f"item page, {name}: {kb:.0f} kB transferred, section plot drawn {ms:.0f} ms after navigation "
              f"(medians of {len(runs)}; largest: {biggest})")
        return {"kilobytes": kb, "plot_drawn_ms": ms}

    measured: dict[str, object] = {"runs": RUNS, "first_visit": report("first visit (empty cache)", first),
                                   "later_visit": report("later visit (cache kept)", later)}
    for kind, runs in decisions.items():
        seconds = statistics.median(t for _, t in runs)
        print(f"item page, {kind} by keyboard: {runs[0][0]} keys, {seconds:.2f} s from "
              f"opening the item to the decision recorded and the next page shown (median of {len(runs)})")
        measured[f"{kind}_by_keyboard"] = {"keys": runs[0][0], "seconds": seconds}
    results.write("item_page", measured)


if __name__ == "__main__":
    main()
