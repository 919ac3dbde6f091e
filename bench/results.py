"""What a benchmark measured, as JSON: ``var/bench/<name>.json`` (overwritten each run) with the machine and
the time, beside the printed table. ``python -m bench.results OLD.json NEW.json`` prints every number both
runs hold, side by side with NEW/OLD, so two runs (two commits, two machines) can be compared."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = ROOT / "var" / "bench"


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next((line.partition(":")[2].strip() for line in info if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cpu": model or platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "system": platform.platform()}


def write(name: str, results: Any) -> Path:
    DIRECTORY.mkdir(parents=True, exist_ok=True)
    path = DIRECTORY / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                "machine": machine(), "results": results}, indent=2, sort_keys=True) + "\n")
    print(f"(results written to {path.relative_to(ROOT)})")
    return path


def _numbers(value: Any, prefix: str = "") -> dict[str, float]:
    if isinstance(value, bool):
        return {}
    if isinstance(value, (int, float)):
        return {prefix: float(value)}
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _numbers(item, f"{prefix}.{key}" if prefix
                                                                            else str(key)).items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _numbers(item, f"{prefix}[{i}]").items()}
    return {}


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, float, float, float | None]]:
    """(path, old, new, new/old) for every number both results hold."""
    a, b = _numbers(old.get("results", old)), _numbers(new.get("results", new))
    return [(key, a[key], b[key], b[key] / a[key] if a[key] else None) for key in a if key in b]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.results OLD.json NEW.json", file=sys.stderr)
        return 2
    old, new = (json.loads(Path(name).read_text()) for name in argv)
    for key, a, b, ratio in compare(old, new):
        print(f"{key:70} {a:14.4g} {b:14.4g} {'' if ratio is None else f'{ratio:8.3f}'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
