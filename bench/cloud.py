"""Sections from an S3-compatible object store against the same volume on disk (make bench).

The bench survey's volume (400x400x500 by default, BENCH_SIZE to change; with its slice layouts) is copied with
VDSCopy into moto's S3 server, started here as a process of its own on 127.0.0.1 (so it does not share this
process's interpreter lock), registered by URL with the store configured as an operator would
(VIFSITE_VDS_CONNECTION_SECRETS), and read beside the local volume in the same run:
  - opening the volume (a fresh handle: the layout objects),
  - the extraction alone (``services.section_read``: amplitudes and live-trace mask),
  - the full API section request (extraction, statistics, provenance row, witness),
cold (a fresh OpenVDS handle before each read, so every brick is fetched again: from the store over HTTP, or
from the file through the warm page cache) and warm (the same handle again: OpenVDS serves its cached bricks),
medians in ms and the ratio store/local; beside them the first open of a process (a process's first handle of a
store costs more, and again once all its handles have closed: a server keeps its handles, so the cold reads are
timed with another handle of the store held open), the GET requests one cold extraction makes (counted in the
store's log) and one GET of a small object through boto3 (the store's own time per request). Every section
must have the same bits from both, or the bench stops.

moto answers from memory on the same machine: these times are the S3 protocol's own cost (HTTP requests,
signing, one object per brick), not a network's latency, which a real store adds per request. Results go to
var/bench/cloud.json. These are benchmarks, not tests: nothing here fails on time.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from importlib import metadata
from typing import Any

import numpy as np
import openvds
from django.conf import settings
from django.test import Client

from bench.common import ROOT, SIZE, agent_key, bench_survey, median_ms  # first: it sets Django up
from seismic import services, vds
from seismic.models import Survey
from vifsite import childproc

COLD_RUNS, WARM_RUNS = int(os.environ.get("BENCH_COLD_RUNS", 5)), int(os.environ.get("BENCH_WARM_RUNS", 9))
BUCKET = "vifsite-bench"
RESULTS = ROOT / "var" / "bench" / "cloud.json"
KINDS = ("inline", "crossline", "timeslice")


REQUEST_LOG = ROOT / "var" / "bench" / "cloud-requests.log"


def _start_store() -> tuple[subprocess.Popen[bytes], str]:
    """moto's S3 server on a free port of 127.0.0.1, ready, logging its requests to REQUEST_LOG; it dies with
    this process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    REQUEST_LOG.parent.mkdir(parents=True, exist_ok=True)
    with open(REQUEST_LOG, "wb") as log:
        process = childproc.spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=log)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):  # noqa: S310 - our own http server
                return process, endpoint
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise SystemExit("moto's S3 server did not start (is moto[server] installed? make venv)") from None
            time.sleep(0.2)


def _gets() -> int:
    """GET requests the store has answered so far (one line each in its log)."""
    return REQUEST_LOG.read_bytes().count(b'"GET /')


def _survey_in_store(local: Survey, url: str) -> tuple[Survey, float]:
    """The survey of the volume at ``url`` (registered the first time; its rows stay, witnessed), and the
    seconds a full scan of it from the store takes (what registering reads): its hash must be the local one's."""
    geometry = local.geometry()
    started = time.perf_counter()
    data_sha256, live = vds.scan_volume(url, geometry)
    scan_s = time.perf_counter() - started
    if (data_sha256, live) != (local.data_sha256, local.live_traces):
        raise SystemExit("The copy in the store does not hold the local volume's samples")
    name = f"bench cloud {SIZE}"
    survey = Survey.objects.filter(name=name, vds_url=url).first()
    if survey is None:
        Survey.objects.filter(name=name).delete()
        survey = services.survey_register_vds(url=url, name=name, created_by="bench")
    return survey, scan_s


def main() -> None:
    import boto3  # from moto[server], pinned in requirements.txt

    local = bench_survey()
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {agent_key('bench cloud')}")
    process, endpoint = _start_store()
    try:
        # moto checks no credentials unless asked to (the test does): any key will do here.
        connection = f"Region=us-east-1;EndpointOverride={endpoint};AccessKeyId=bench;SecretKey=bench"
        store = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                             aws_secret_access_key="bench")  # noqa: S106
        store.create_bucket(Bucket=BUCKET)
        url = f"s3://{BUCKET}/bench-{SIZE}"
        print(f"Copying the {SIZE} volume into moto's S3 with VDSCopy...", flush=True)
        started = time.perf_counter()
        subprocess.run([vds.tool_path("VDSCopy"), "-d", connection, local.vds_url, url], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        upload_s = time.perf_counter() - started
        settings.VIFSITE_VDS_CONNECTION_SECRETS = {f"s3://{BUCKET}": connection}
        cloud, scan_s = _survey_in_store(local, url)
        if vds.has_slice_layouts(url) != local.slice_layouts:
            raise SystemExit("VDSCopy did not carry the slice layouts over")

        def reopen() -> None:
            vds.close_all()

        geometry = local.geometry()
        numbers = {"inline": geometry.inline.value(geometry.inline.count // 2),
                   "crossline": geometry.crossline.value(geometry.crossline.count // 2),
                   "timeslice": geometry.sample.value(geometry.sample.count // 2)}

        def get_layout() -> None:  # one small object: the store's own time per request
            store.get_object(Bucket=BUCKET, Key=f"bench-{SIZE}/VolumeDataLayout")["Body"].read()

        request_ms = median_ms(get_layout, WARM_RUNS, warm=True)
        rows: list[dict[str, Any]] = []
        for kind in KINDS:
            number = numbers[kind]
            sections = [services.section_read(survey=s, kind=kind, number=number) for s in (local, cloud)]
            if not (np.array_equal(sections[0].data, sections[1].data)
                    and np.array_equal(sections[0].live, sections[1].live)):
                raise SystemExit(f"The {kind} from the store differs from the local one")
            vds.close_all()
            before = _gets()
            services.section_read(survey=cloud, kind=kind, number=number)
            time.sleep(0.5)  # the log line follows the answer
            row: dict[str, Any] = {"kind": kind, "shape": "x".join(map(str, sections[0].data.shape)),
                                   "s3_cold_gets": _gets() - before}
            for where, survey in (("local", local), ("s3", cloud)):
                path = f"/api/v1/surveys/{survey.pk}/sections/{kind}/{number:g}/"

                def api(path: str = path) -> None:
                    response = client.get(path)
                    assert response.status_code == 200, response.content

                def extract(survey: Survey = survey, kind: str = kind, number: float = number) -> None:
                    services.section_read(survey=survey, kind=kind, number=number)

                def open_volume(survey: Survey = survey) -> None:
                    vds.read_geometry(survey.vds_url)

                # A process's first handle of a store costs more (OpenVDS sets up its S3 client, and undoes it when
                # its last handle closes); a server keeps its handles, so the other reads are timed with one handle
                # of the store held open elsewhere (``keeper``), as in a process that has read it before.
                row[f"{where}_open_first"] = median_ms(open_volume, COLD_RUNS, before=reopen)
                keeper = openvds.open(survey.vds_url, connection if survey is cloud else "")
                timed: dict[str, tuple[Callable[[], None], bool]] = {
                    "open": (open_volume, True), "extract_cold": (extract, True), "extract_warm": (extract, False),
                    "api_cold": (api, True), "api_warm": (api, False)}
                for label, (fn, cold) in timed.items():
                    row[f"{where}_{label}"] = (median_ms(fn, COLD_RUNS, before=reopen) if cold
                                               else median_ms(fn, WARM_RUNS, warm=True))
                openvds.close(keeper)
            rows.append(row)
    finally:
        vds.close_all()
        process.terminate()
        process.wait()

    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
               f"{platform.python_version()}, {vds.openvds_version()}, moto {metadata.version('moto')}")
    print(f"\nSections from moto's S3 against the local volume, survey {SIZE} (inline x crossline x sample), "
          f"float32, slice layouts {'on' if local.slice_layouts else 'off'}")
    print(f"Machine: {machine}")
    print(f"Copy into the store (VDSCopy): {upload_s:.1f} s; a full scan from the store (what registering "
          f"reads): {scan_s:.1f} s")
    print(f"One GET of a small object from the store (boto3, connection kept): {request_ms:.1f} ms")
    print(f"Medians in ms of {COLD_RUNS} cold / {WARM_RUNS} warm runs. Cold = a fresh OpenVDS handle (the open "
          "included for the extraction and the API) in a process holding another handle of the store; first open = "
          "the process's only handle (OpenVDS starts its S3 client); warm = the same handle.\n")
    header = (f"{'section':10} {'shape':>9} | {'first open local':>16} {'s3':>7} | {'open local':>10} {'s3':>6} | "
              f"{'extract cold local':>18} {'s3':>7} "
              f"{'s3/local':>8} | {'warm local':>10} {'s3':>6} | {'API cold local':>14} {'s3':>7} {'s3/local':>8} | "
              f"{'API warm local':>14} {'s3':>6} | {'GETs cold':>9}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['kind']:10} {r['shape']:>9} | {r['local_open_first']:16.2f} {r['s3_open_first']:7.2f} | "
              f"{r['local_open']:10.2f} {r['s3_open']:6.2f} | "
              f"{r['local_extract_cold']:18.2f} {r['s3_extract_cold']:7.2f} "
              f"{r['s3_extract_cold'] / r['local_extract_cold']:8.1f} | {r['local_extract_warm']:10.2f} "
              f"{r['s3_extract_warm']:6.2f} | {r['local_api_cold']:14.2f} {r['s3_api_cold']:7.2f} "
              f"{r['s3_api_cold'] / r['local_api_cold']:8.1f} | {r['local_api_warm']:14.2f} {r['s3_api_warm']:6.2f} | "
              f"{r['s3_cold_gets']:9d}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"size": SIZE, "machine": machine, "cold_runs": COLD_RUNS, "warm_runs": WARM_RUNS,
                                   "slice_layouts": local.slice_layouts, "upload_s": upload_s, "scan_s": scan_s,
                                   "request_ms": request_ms,
                                   "sections": rows}, indent=2) + "\n")
    print(f"\nResults: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
