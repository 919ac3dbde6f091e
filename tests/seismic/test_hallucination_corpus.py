"""The anti-hallucination suite: the audit over the labelled corpus (312 interpretations on the synthetic
survey, F3 and Penobscot) must catch every CRITICAL case, miss at most 3 % of the HIGH ones and flag at
most 2 % of the clean answers; the held-out set, written after the rules were frozen, is gated at what
its first run measured (seismic/corpus/holdout.json, ``first_run``). The data behind the comparisons are
recomputed here with segyio and numpy."""

import json

import numpy as np
import pytest
import segyio
from django.core.management import call_command

from seismic import hallucination


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"


HOLDOUT = hallucination.DEFAULT_CORPUS.with_name("holdout.json")
# What the held-out set measured on its first run, before any change (see its first_run record).
HOLDOUT_CLEAN_FLAGGED, HOLDOUT_HIGH_MISSED = 4, 1


@pytest.fixture
def corpus_results(db, segy_dir):
    """Both corpora run through the audit, their surveys imported once."""
    out = {}
    surveys: dict = {}
    for name, path in (("corpus", hallucination.DEFAULT_CORPUS), ("holdout", HOLDOUT)):
        corpus = hallucination.load(path)
        surveys = hallucination.ensure_surveys(corpus, data_dir=segy_dir, existing=surveys)
        out[name] = (corpus, hallucination.run(corpus, surveys))
    return out


def test_the_corpus_is_large_varied_and_a_third_clean():
    corpus = hallucination.load()
    cases = corpus["cases"]
    clean = [c for c in cases if not c["expected"]]
    assert len(cases) >= 300 and len(clean) * 3 >= len(cases)
    assert {c["survey"] for c in cases} >= {"synth", "f3", "pen"}
    assert {c["category"] for c in cases} >= {"numeric", "feature_fabrication", "overconfidence", "out_of_scope",
                                             "validation", "location", "comparison", "unanswerable", "clean"}
    topics = {(c.get("topic"), bool(c["expected"])) for c in cases}
    for topic in ("pairs", "ranges", "percentiles", "comparison", "trend", "strongest", "unanswerable"):
        assert (topic, True) in topics and (topic, False) in topics, topic
    undecided = [c for c in cases if c["expected"] == [{"category": "numeric", "severity": "MEDIUM"}]]
    assert len(undecided) >= 5


def test_the_held_out_set_is_separate_and_large():
    corpus, holdout = hallucination.load(), hallucination.load(HOLDOUT)
    assert len(holdout["cases"]) >= 60 and sum(not c["expected"] for c in holdout["cases"]) >= 20
    assert not {c["text"] for c in corpus["cases"]} & {c["text"] for c in holdout["cases"]}
    assert not {c["id"] for c in corpus["cases"]} & {c["id"] for c in holdout["cases"]}
    assert holdout["first_run"]["clean_flagged"].startswith(f"{HOLDOUT_CLEAN_FLAGGED}/")
    assert holdout["first_run"]["high_missed"].startswith(f"{HOLDOUT_HIGH_MISSED}/")


@pytest.mark.slow
def test_the_audit_meets_its_gates_on_the_corpus_and_holds_its_first_run_on_the_held_out_set(corpus_results,
                                                                                              capsys):
    _, results = corpus_results["corpus"]
    summary = hallucination.summarise(results)
    with capsys.disabled():
        print("\n" + hallucination.markdown(summary).split("## Misses")[0])
    critical, high = summary["by_severity"]["CRITICAL"], summary["by_severity"]["HIGH"]
    assert critical["missed"] == 0, summary["misses"]
    assert high["missed"] <= 0.03 * high["expected"], summary["misses"]
    assert summary["false_alarm_rate"] <= 0.02, summary["false_alarm_cases"]

    _, results = corpus_results["holdout"]
    summary = hallucination.summarise(results)
    with capsys.disabled():
        print("\n" + hallucination.markdown(summary).split("## Misses")[0])
    assert summary["by_severity"]["CRITICAL"]["missed"] == 0, summary["misses"]
    assert summary["by_severity"]["HIGH"]["missed"] <= HOLDOUT_HIGH_MISSED, summary["misses"]
    assert summary["false_alarms"] <= HOLDOUT_CLEAN_FLAGGED, summary["false_alarm_cases"]


def _real_sections(segy_dir):
    """RMS of every F3 inline and crossline and every Penobscot inline (one trace each), with segyio."""
    with segyio.open(segy_dir / "f3.sgy") as f:
        cube = segyio.tools.cube(f).astype(np.float64)
        f3 = {("inline", float(v)): cube[i] for i, v in enumerate(f.ilines)}
        f3.update({("crossline", float(v)): cube[:, i] for i, v in enumerate(f.xlines)})
    with segyio.open(segy_dir / "penobscot_xl1155.sgy", ignore_geometry=True) as f:
        traces = segyio.tools.collect(f.trace[:]).astype(np.float64)
        inlines = f.attributes(segyio.TraceField.INLINE_3D)[:]
    pen = {("inline", float(v)): traces[i:i + 1] for i, v in enumerate(inlines)}
    pen[("crossline", 1155.0)] = traces
    return {"f3": f3, "pen": pen}


def _rms(section):
    return float(np.sqrt(np.mean(np.square(section))))


@pytest.mark.slow
def test_the_comparisons_trends_and_largest_samples_rest_on_the_data(corpus_results, segy_dir):
    """Every two-section case on F3 and Penobscot: the RMS its words were chosen by is the one numpy
    computes from segyio's samples, and the corpus holds true and false claims on pairs within 5 %; the
    thirds a trend is judged by and the largest sample, likewise."""
    sections = _real_sections(segy_dir)
    close = {True: 0, False: 0}
    checked = 0
    for name in ("corpus", "holdout"):
        corpus, results = corpus_results[name]
        for case, result in zip(corpus["cases"], results, strict=True):
            if case["survey"] not in sections or len(case["extractions"]) < 2:
                continue
            values = []
            for position, (kind, number) in enumerate(case["extractions"]):
                data = sections[case["survey"]][(kind, float(number))]
                key = "rms" if position == 0 else f"rms_{position + 1}"
                assert result["variables"][key] == pytest.approx(_rms(data), rel=1e-9), case["id"]
                values.append(_rms(data))
                checked += 1
            if case.get("topic") == "comparison" and abs(values[0] / values[1] - 1) < 0.05:
                close[bool(case["expected"])] += 1
    assert checked >= 60
    assert close[True] >= 5 and close[False] >= 5, close

    seen = 0
    for name in ("corpus", "holdout"):
        corpus, results = corpus_results[name]
        for case, result in zip(corpus["cases"], results, strict=True):
            variables = result["variables"]
            if case["survey"] not in sections or "top_rms" not in variables:
                continue
            kind, number = case["extractions"][0]
            data = sections[case["survey"]][(kind, float(number))]
            rows = np.flatnonzero(np.any(data != 0, axis=0))
            body = data[:, rows[0]:rows[-1] + 1]
            third = body.shape[1] // 3
            assert variables["top_rms"] == pytest.approx(_rms(body[:, :third]), rel=1e-9)
            assert variables["bot_rms"] == pytest.approx(_rms(body[:, -third:]), rel=1e-9)
            i, j = np.unravel_index(np.argmax(np.abs(data)), data.shape)
            assert abs(data[i, j]) == np.abs(data).max()
            sample_step = 4.0
            first_sample = 4.0 if case["survey"] == "f3" else 0.0
            assert variables["amax_t"] == pytest.approx(first_sample + j * sample_step)
            seen += 1
    assert seen >= 10


@pytest.mark.slow
def test_the_report_command_writes_html_and_markdown(db, segy_dir, tmp_path, settings):
    corpus = hallucination.load()
    small = {**corpus, "cases": [c for c in corpus["cases"] if c["id"] in ("num-01", "clean-01", "fab-01")]}
    path = tmp_path / "corpus.json"
    path.write_text(json.dumps(small))
    call_command("hallucination_report", "--corpus", str(path), "--data", str(segy_dir),
                 "--out", str(tmp_path / "report.html"))
    html = (tmp_path / "report.html").read_text()
    markdown = (tmp_path / "report.md").read_text()
    assert "<table>" in html and "3 cases, 1 of them clean" in markdown
