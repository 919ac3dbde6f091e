"""MCP benchmark (make bench) on the 400x400x500 synthetic survey of bench/sections.py (created there once,
in var/bench).

The same tool calls three ways, medians of RUNS warm runs each, in one run:
  REST     the REST request(s) in process (Django's test client; the section with its image.png, since
           MCP returns the picture too);
  in-proc  review.mcp.call in process: the MCP tool without the protocol;
  stdio    the SDK's client talking to `manage.py mcp_server` in a subprocess over stdio: the protocol,
           JSON and base64 and the pipes included.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time

import anyio
from django.test import Client

from bench import common, results  # common first: it sets Django up
from bench.common import ROOT, SIZE, agent_key, bench_survey
from review import mcp
from vifsite.vif.models import AgentKey

RUNS = 9


def median_ms(fn) -> float:
    return common.median_ms(fn, RUNS, warm=True)


async def amedian_ms(fn) -> float:
    await fn()
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await fn()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    survey = bench_survey()
    raw_key = agent_key("bench-mcp")
    key = AgentKey.objects.get_from_key(raw_key)
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    g = survey.geometry()
    il = g.inline.first + (g.inline.count // 2) * g.inline.step
    base = f"/api/v1/surveys/{survey.pk}"
    section = {"survey_id": survey.pk, "section_type": "inline", "section_number": il}
    claim = {**section, "claim_type": "high_amplitude",
             "crossline_range": [g.crossline.first, g.crossline.first + 20 * g.crossline.step]}

    def rest_section():
        for path in (f"{base}/sections/inline/{il:g}/", f"{base}/sections/inline/{il:g}/image.png"):
            assert client.get(path).status_code == 200

    def rest_claim():
        body = {k: v for k, v in claim.items() if k != "survey_id"}
        response = client.post(f"{base}/validate-amplitude-claim/", body, content_type="application/json")
        assert response.status_code == 200

    def rest_list():
        assert client.get("/api/v1/surveys/").status_code == 200

    def in_process(tool, arguments):
        def run():
            _, is_error = mcp.call(tool, arguments, key)
            assert not is_error
        return run

    calls = [("list_surveys", {}, rest_list), ("extract_section (with PNG)", section, rest_section),
             ("validate_amplitude_claim", claim, rest_claim)]
    rows = []
    for label, arguments, rest in calls:
        tool = label.split(" ")[0]
        rows.append([label, median_ms(rest), median_ms(in_process(tool, arguments))])

    params = StdioServerParameters(command=sys.executable, args=[str(ROOT / "manage.py"), "mcp_server"],
                                   env={**os.environ, "VIFSITE_MCP_KEY": raw_key})

    async def over_stdio() -> list[float]:
        timings = []
        with open(os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    for label, arguments, _ in calls:
                        tool = label.split(" ")[0]

                        async def run(tool=tool, arguments=arguments):
                            result = await session.call_tool(tool, arguments)
                            assert not result.is_error, result.content[0].text
                        timings.append(await amedian_ms(run))
        return timings

    for row, stdio in zip(rows, anyio.run(over_stdio), strict=True):
        row.append(stdio)

    print(f"MCP on a {SIZE} survey; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; medians of {RUNS} warm runs, ms")
    print(f"{'tool':30} {'REST':>9} {'in-proc':>9} {'stdio':>9} {'stdio/in-proc':>14} {'stdio/REST':>11}")
    for label, rest, inproc, stdio in rows:
        print(f"{label:30} {rest:9.1f} {inproc:9.1f} {stdio:9.1f} {stdio / inproc:14.2f} {stdio / rest:11.2f}")
    results.write("mcp", {"size": SIZE, "runs": RUNS, "ms": {label: {"rest": rest, "in_process": inproc, "stdio": stdio}
                                                             for label, rest, inproc, stdio in rows}})


if __name__ == "__main__":
    main()
