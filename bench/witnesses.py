"""Witness ledger benchmark (make bench), on a fresh SQLite file.

Medians of repeated runs of:
  (a) recording one witness (validation of the signals, confidence, κ-gate, canonical JSON, SHA-256,
      Ed25519 signature, chain-head lock, insert, gate event), against a bare ``bulk_create`` of one
      equivalent pre-built row;
  (b) recording a batch of 100 in one transaction, against a bare ``bulk_create`` of 100 rows;
  (c) ``verify_ledger``'s check of every entry (entries per second; goal at least VERIFY_GOAL), on the ledger (a)
      and (b) wrote and again once it holds VERIFY_LARGE entries, beside the same check with every signature
      checked in the verifying process (``processes=0``), the two runs interleaved;
  (d) the calibration report over 100,000 stored outcomes (BENCH_OUTCOMES=… for more), and the pure summary of
      1,000,000.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "var" / "bench-witnesses"
shutil.rmtree(DATA, ignore_errors=True)
os.environ["VIFSITE_DATA_DIR"] = str(DATA)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vifsite.settings")
os.environ.pop("DATABASE_URL", None)
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import results  # noqa: E402
from vifsite.vif import calibration, ledger, monitoring, services  # noqa: E402
from vifsite.vif.models import Outcome, Witness  # noqa: E402

RUNS = 5
VERIFY_GOAL = 10_000  # entries per second
VERIFY_LARGE = 5_000


def item(i: int) -> dict:
    return {"model_id": "bench-model", "model_provider": "bench", "prompt": f"Describe inline {i}.",
            "output": f"A bright spot near crossline {i}.", "logprobs": [-0.01, -0.2, -0.05, -0.3],
            "task_criticality": "important", "temperature": 0.2, "replay_seed": i}


def bare_rows(count: int, start: int) -> list[Witness]:
    """Rows as the ledger would store them, without any of its work."""
    now = timezone.now()
    return [Witness(vif_id=uuid.uuid4(), schema_version="vif/1", operation="llm", model_id="bench-model",
                    prompt_hash="a" * 64, output_hash="b" * 64, confidence_micros=900000, confidence_method="explicit",
                    confidence_band="B", writer="agent:bench", task_criticality="important", created_at=now,
                    sequence=start + k, prev_hash="c" * 64, payload_hash="d" * 64, entry_hash=uuid.uuid4().hex * 2,
                    signature="e" * 88, entry_jcs="{}", payload_jcs="{}") for k in range(count)]


def median(values: list[float]) -> float:
    return statistics.median(values)


def verification() -> dict:
    """verify_ledger's rate on the ledger as it stands (medians of RUNS), and with every signature checked in the
    verifying process, the two interleaved."""
    entries = Witness.objects.count()
    timings: dict[str, list[float]] = {"default": [], "one process": []}
    for _ in range(RUNS):
        for name, processes in (("default", None), ("one process", 0)):
            started = time.perf_counter()
            result = ledger.verify(processes=processes)
            timings[name].append(time.perf_counter() - started)
            assert result.ok and result.checked == entries and not result.notes, (result.problem, result.notes)
    seconds, alone = median(timings["default"]), median(timings["one process"])
    rate = entries / seconds
    print(f"verify_ledger: {entries} entries in {seconds:.3f} s = {rate:,.0f} entries/s "
          f"(goal ≥ {VERIFY_GOAL:,}: {'met' if rate >= VERIFY_GOAL else 'NOT met'}; signature-checking processes: "
          f"{ledger._verify_processes(None)}; with every signature checked in the verifying process: "
          f"{entries / alone:,.0f} entries/s)")
    return {"entries": entries, "seconds": seconds, "entries_per_s": rate, "goal_entries_per_s": VERIFY_GOAL,
            "goal_met": rate >= VERIFY_GOAL, "processes": ledger._verify_processes(None),
            "one_process": {"seconds": alone, "entries_per_s": entries / alone}}


def main() -> None:
    call_command("migrate", verbosity=0)
    print(f"Witness ledger benchmark on {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, SQLite {connection.Database.sqlite_version}; medians of {RUNS} runs")

    # (a) single appends
    single, bare_single = [], []
    for run in range(RUNS):
        started = time.perf_counter()
        for i in range(200):
            services.witness_record_many(items=[item(i)], writer="agent:bench")
        single.append((time.perf_counter() - started) / 200)
        offset = 10_000_000 * (run + 1)
        started = time.perf_counter()
        for i in range(200):
            with transaction.atomic():
                Witness.objects.bulk_create(bare_rows(1, offset + i))
        bare_single.append((time.perf_counter() - started) / 200)
    # (b) batches of 100
    batch, bare_batch = [], []
    for run in range(RUNS):
        started = time.perf_counter()
        services.witness_record_many(items=[item(i) for i in range(100)], writer="agent:bench")
        batch.append((time.perf_counter() - started) / 100)
        started = time.perf_counter()
        with transaction.atomic():
            Witness.objects.bulk_create(bare_rows(100, 100_000_000 * (run + 1)))
        bare_batch.append((time.perf_counter() - started) / 100)
    # Remove the bare rows so the ledger verifies (they are not entries).
    Witness.objects.filter(sequence__gte=10_000_000)._raw_delete(connection.alias)

    rows = [
        ("record one witness", median(single), median(bare_single)),
        ("record a batch of 100 (per witness)", median(batch), median(bare_batch)),
    ]
    print(f"{'operation':42} {'median ms':>10} {'per s':>9} {'bulk_create ms':>15} {'ratio':>7}")
    for name, value, bare in rows:
        print(f"{name:42} {value * 1000:10.3f} {1 / value:9.0f} {bare * 1000:15.3f} {value / bare:7.1f}")

    # (c) verification
    ledger.checkpoint()
    verify = verification()
    while Witness.objects.count() < VERIFY_LARGE:
        services.witness_record_many(items=[item(i) for i in range(100)], writer="agent:bench")
    ledger.checkpoint()
    verify["large"] = verification()
    measured: dict = {"record_ms": {name: {"median": value * 1000, "bulk_create": bare * 1000}
                                    for name, value, bare in rows},
                      "verify": verify, "calibration_ms": {}}

    # (d) calibration
    rng = np.random.default_rng(0)
    n = int(os.environ.get("BENCH_OUTCOMES", "100000"))
    conf = np.round(rng.beta(6, 2, n), 3)
    correct = rng.random(n) < conf
    now = timezone.now()
    stub = bare_rows(n, 1_000_000_000)
    with transaction.atomic():
        Witness.objects.bulk_create(stub, batch_size=5000)
        Outcome.objects.bulk_create([
            Outcome(witness_id=w.vif_id, correct=bool(ok), source="api", recorded_by="user:bench", created_at=now,
                    created_day=now.date(),
                    model_id="bench-model", criticality="important", confidence_micros=int(round(c * 1e6)),
                    confidence_method="explicit", gate_passed=True)
            for w, c, ok in zip(stub, conf, correct, strict=True)], batch_size=5000)
    for filters in ({"model": "bench-model"}, {"criticality": "important"}, {"window": "24h"}):
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            report = monitoring.calibration_report(**filters)
            timings.append(time.perf_counter() - started)
        print(f"calibration report {filters} over {report['n']:,} stored outcomes: {median(timings) * 1000:.0f} ms")
        measured["calibration_ms"][",".join(f"{k}={v}" for k, v in filters.items())] = median(timings) * 1000
    big = rng.beta(6, 2, 1_000_000).round(4)
    outcomes = rng.random(1_000_000) < big
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        calibration.summary(calibration.Histogram.from_samples(big, outcomes))
        timings.append(time.perf_counter() - started)
    print(f"calibration summary of 1,000,000 outcomes (pure): {median(timings) * 1000:.0f} ms")
    measured["calibration_ms"]["summary of 1,000,000"] = median(timings) * 1000
    results.write("witnesses", measured)


if __name__ == "__main__":
    main()
