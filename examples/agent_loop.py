#!/usr/bin/env python3
"""One full agent loop against a running vifsite, over its REST API (standard library only).

THE "MODEL" HERE IS A SCRIPTED STAND-IN, NOT AN LLM: `scripted_model` below writes fixed text from
the numbers it is given, so the loop can be run and tested without any model. Replace it with your
model's calls; everything else is what a real agent does:

1. list the surveys and extract an inline (statistics, provenance, extraction id);
2. make an amplitude claim and validate it against the data;
3. submit an interpretation, which the site audits, witnesses and gates (a hydrocarbon claim always
   goes to a human);
4. poll the escalation until a reviewer decides it (or it expires).

    python examples/agent_loop.py --url http://127.0.0.1:8000 --key "$VIFSITE_AGENT_KEY"
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request


class Site:
    def __init__(self, url: str, key: str) -> None:
        if not url.startswith(("http://", "https://")):
            raise SystemExit(f"{url}: the site's URL must start with http:// or https://")
        self.url = url.rstrip("/")
        self.key = key

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={  # noqa: S310  see __init__
            "Authorization": f"Api-Key {self.key}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310  http(s) only, see __init__
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"{method} {path}: HTTP {exc.code}: {exc.read().decode()[:500]}") from None


def scripted_model(statistics: dict, inline: float) -> tuple[str, float]:
    """A SCRIPTED STAND-IN for an LLM: a fixed interpretation built from the statistics it was given."""
    text = (f"Inline {inline:g} has an RMS amplitude of {statistics['rms']:.1f}. The brightest interval might be "
            "gas-charged; AVO analysis and well logs would be needed to confirm it.")
    return text, 0.9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", required=True, help="An agent API key (manage.py create_agent_key).")
    parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait for the human decision.")
    parser.add_argument("--poll", type=float, default=5)
    args = parser.parse_args(argv)
    site = Site(args.url, args.key)

    survey = site.call("GET", "/api/v1/surveys/")[0]
    inline = survey["geometry"]["inline"]
    number = inline["first"] + (inline["count"] // 2) * inline["step"]
    section = site.call("GET", f"/api/v1/surveys/{survey['id']}/sections/inline/{number:g}/")
    print(f"1. extracted inline {number:g} of {survey['name']!r}: extraction {section['extraction_id']}, "
          f"RMS {section['statistics']['rms']:.3f}")

    text, confidence = scripted_model(section["statistics"], number)
    claim = site.call("POST", f"/api/v1/surveys/{survey['id']}/validate-amplitude-claim/", {
        "section_type": "inline", "section_number": number, "claim_type": "amplitude_statistic",
        "statistic": "rms", "value": round(section["statistics"]["rms"], 1),
        "crossline_range": [survey["geometry"]["crossline"]["first"], survey["geometry"]["crossline"]["last"]]})
    print(f"2. claim 'RMS = {section['statistics']['rms']:.1f}' checked against the data: {claim['verdict']} "
          f"(witness {claim['provenance']['vif_id']})")

    submitted = site.call("POST", "/api/v1/interpretations/", {
        "text": text, "extraction_ids": [section["extraction_id"]], "model_id": "scripted-stand-in",
        "confidence": confidence, "task_criticality": "important"})
    print(f"3. interpretation {submitted['status']}: {submitted['explanation']}")
    if submitted["status"] == "accepted":
        return 0
    escalation = submitted["escalation"]["id"]
    print(f"   escalation {escalation}, due {submitted['escalation']['due_at']}: waiting for a reviewer",
          flush=True)

    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        state = site.call("GET", f"/api/v1/escalations/{escalation}/")
        if state["status"] not in ("pending", "in_review"):
            decision = state["decision"] or {}
            print(f"4. decided: {state['status']} by {decision.get('reviewer', 'nobody (expired)')}"
                  f"{': ' + decision['comment'] if decision.get('comment') else ''}")
            return 0
        time.sleep(args.poll)
    print("4. no decision before the timeout")
    return 2


if __name__ == "__main__":
    sys.exit(main())
