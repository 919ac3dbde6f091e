"""The anti-hallucination suite: the audit over the labelled corpus must catch every CRITICAL case,
at least 95 % of the HIGH ones, and flag at most 5 % of the clean answers."""

import json

import pytest
from django.core.management import call_command

from seismic import hallucination


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"


HOLDOUT = hallucination.DEFAULT_CORPUS.with_name("holdout.json")


@pytest.fixture(params=[hallucination.DEFAULT_CORPUS, HOLDOUT], ids=["corpus", "holdout"])
def corpus_results(request, db, segy_dir):
    corpus = hallucination.load(request.param)
    surveys = hallucination.ensure_surveys(corpus, data_dir=segy_dir)
    return corpus, hallucination.run(corpus, surveys)


def test_the_corpus_is_large_and_covers_every_category():
    corpus = hallucination.load()
    categories = {case["category"] for case in corpus["cases"]}
    assert len(corpus["cases"]) >= 100
    assert categories >= {"numeric", "feature_fabrication", "overconfidence", "out_of_scope", "validation", "clean"}
    assert sum(not case["expected"] for case in corpus["cases"]) >= 30


@pytest.mark.slow
def test_the_audit_meets_its_detection_and_false_alarm_targets(corpus_results, capsys):
    _, results = corpus_results
    summary = hallucination.summarise(results)
    print(hallucination.markdown(summary))
    critical, high = summary["by_severity"]["CRITICAL"], summary["by_severity"]["HIGH"]
    assert critical["missed"] == 0, summary["misses"]
    assert high["missed"] <= 0.05 * high["expected"], summary["misses"]
    assert summary["false_alarm_rate"] <= 0.05, summary["false_alarm_cases"]


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
