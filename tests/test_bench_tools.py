"""bench/tools.py prints each tool's medians beside its goal and writes the same numbers as JSON."""

import json
import os

from bench import results


def test_the_tool_benchmark_reports_its_goals_beside_the_medians_and_writes_them(tmp_path, monkeypatch, capsys):
    # Importing the benchmark sets its environment up (bench/common.py): what it changes is put back after.
    for name in ("VIFSITE_DATA_DIR", "VIFSITE_HTTPS", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"):
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    from bench import tools as bench_tools

    monkeypatch.setattr(results, "DIRECTORY", tmp_path)
    monkeypatch.setattr(results, "ROOT", tmp_path)
    rows = [bench_tools.row("detect_amplitude_anomalies", "timeslice", "1000x1000", 212.5, 48.0),
            bench_tools.row("detect_amplitude_anomalies", "timeslice", "1000x1000", 316.0, None, "fft envelope"),
            bench_tools.row("detect_amplitude_anomalies", "vertical", "1000x1000", None, 87.25, "dip_steered"),
            bench_tools.row("validate_amplitude_claim", "inline", "400x500", 9.5, 1.5),
            bench_tools.row("timeslice envelope", "timeslice", "1000x1000", None, 70.0, "fir, 43 samples")]
    assert [r["goal_ms"] for r in rows] == [300.0, 300.0, 100.0, 100.0, None]
    assert [r["goal_met"] for r in rows] == [True, False, True, None, None]  # judged on 1000x1000 sections only
    bench_tools.report(rows, size="1000x1000x100")
    out = capsys.readouterr().out
    line = next(text for text in out.splitlines() if "212.5" in text)
    assert "48.0" in line and "300.0" in line and line.endswith("yes")
    assert next(text for text in out.splitlines() if "316.0" in text).endswith("NO")
    stored = json.loads((tmp_path / "tools.json").read_text())
    assert stored["benchmark"] == "tools" and stored["results"]["size"] == "1000x1000x100"
    assert stored["results"]["goals_ms"] == {"timeslice_anomalies_api": 300.0, "tool_1000x1000_warm": 100.0}
    assert stored["results"]["tools"][2] == {"tool": "detect_amplitude_anomalies", "section": "vertical",
                                             "shape": "1000x1000", "note": "dip_steered", "api_ms": None,
                                             "core_ms": 87.25, "goal_ms": 100.0, "goal_met": True}
    assert ("tools[0].api_ms", 212.5, 212.5, 1.0) in results.compare(stored, stored)
