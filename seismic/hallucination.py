"""Running the interpretation audit over a labelled corpus, and the report of what it caught.

A case is detected when every finding it expects (category, severity) is matched by a finding of the
same category with at least that severity. A clean case is a false alarm when any finding is raised.
"""

from __future__ import annotations

import html
import json
import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from seismic import services, synthetic, tools, vds
from seismic.models import Survey

DEFAULT_CORPUS = Path(__file__).resolve().parent / "corpus" / "hallucinations.json"
SEVERITY_RANK = {"LOW": 0, "MEDIUM": 1, "HIGH": 2, "CRITICAL": 3}
PRINCIPAL = "system:hallucination-report"


def load(path: str | Path = DEFAULT_CORPUS) -> dict[str, Any]:
    corpus = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(corpus.get("cases"), list) or not isinstance(corpus.get("surveys"), dict):
        raise ValueError(f"{path} is not a corpus: it needs 'surveys' and 'cases'")
    return corpus


def ensure_surveys(corpus: dict[str, Any], *, data_dir: Path,
                   existing: dict[str, Survey] | None = None) -> dict[str, Survey]:
    """The corpus's surveys, imported or generated once (named ``corpus <key>``)."""
    surveys = dict(existing or {})
    for key, spec in corpus["surveys"].items():
        if key in surveys:
            continue
        name = f"corpus {key}"
        survey = Survey.objects.filter(name=name).first()
        if survey is None:
            if "segy" in spec:
                survey = services.survey_import_segy(path=data_dir / spec["segy"], name=name, created_by=PRINCIPAL)
            else:
                volume = synthetic.generate(synthetic.SyntheticSpec(**spec["synthetic"]))
                folder = Path(settings.VIFSITE_SURVEY_DIR)
                folder.mkdir(parents=True, exist_ok=True)
                segy_path = folder / f"corpus-{key}.sgy"
                synthetic.write_segy(volume, segy_path)
                survey = services.survey_import_segy(path=segy_path, name=name, created_by=PRINCIPAL,
                                                     ground_truth=volume.ground_truth)
        surveys[key] = survey
    return surveys


def survey_variables(survey: Survey) -> dict[str, float]:
    g = survey.geometry()
    values: dict[str, float] = {"il0": g.inline.first, "il1": g.inline.last, "xl0": g.crossline.first,
                                "xl1": g.crossline.last, "t0": g.sample.first, "t1": g.sample.last}
    truth = survey.ground_truth
    if not truth:
        return values
    step = g.sample.step

    def snap_t(t: float) -> float:
        return round(t / step) * step

    features = {f["kind"]: f for f in truth["features"]}
    if "bright_spot" in features:
        c = features["bright_spot"]["center"]
        values.update(bs_il=round(c["inline"]), bs_xl=round(c["crossline"]), bs_t=snap_t(c["time_ms"]))
    if "fault" in features:
        p = features["fault"]["plane"]
        t = snap_t((g.sample.first + g.sample.last) * 0.4)
        xl = p[0]["crossline"] + (t - p[0]["time_ms"]) * (p[1]["crossline"] - p[0]["crossline"]) / (
            p[1]["time_ms"] - p[0]["time_ms"])
        values.update(flt_il=round((g.inline.first + g.inline.last) / 2), flt_xl=round(xl), flt_t=t)
    if "channel" in features:
        path = features["channel"]["path"]
        point = path[len(path) // 2]
        values.update(ch_il=point["inline"], ch_xl=round(point["crossline"]), ch_t=snap_t(point["time_ms"]))
    quiet = _quiet_locations(g, features, 2)
    for suffix, (il, xl, t) in zip(("", "2"), quiet, strict=False):
        values.update({f"q_il{suffix}": il, f"q_xl{suffix}": xl, f"q_t{suffix}": t})
    return values


def _quiet_locations(g: vds.Geometry, features: dict[str, Any], count: int) -> list[tuple[float, float, float]]:
    """Locations at least 10 traces (and 100 ms where it applies) from every planted feature."""
    found: list[tuple[float, float, float]] = []
    rng = np.random.default_rng(0)
    for _ in range(5000):
        i = int(rng.integers(8, g.inline.count - 8))
        x = int(rng.integers(8, g.crossline.count - 8))
        k = int(rng.integers(int(g.sample.count * 0.2), int(g.sample.count * 0.8)))
        il, xl, t = g.inline.value(i), g.crossline.value(x), g.sample.value(k)
        ok = True
        if "bright_spot" in features:
            b = features["bright_spot"]
            ok &= not (b["inline_range"][0] - 10 <= il <= b["inline_range"][1] + 10
                       and b["crossline_range"][0] - 10 <= xl <= b["crossline_range"][1] + 10
                       and b["time_range_ms"][0] - 100 <= t <= b["time_range_ms"][1] + 100)
        if "fault" in features:
            p = features["fault"]["plane"]
            fx = p[0]["crossline"] + (t - p[0]["time_ms"]) * (p[1]["crossline"] - p[0]["crossline"]) / (
                p[1]["time_ms"] - p[0]["time_ms"])
            ok &= abs(xl - fx) >= 10
        if "channel" in features:
            c = features["channel"]
            cx = np.interp(il, [q["inline"] for q in c["path"]], [q["crossline"] for q in c["path"]])
            ok &= abs(xl - cx) >= 10 or not (c["time_range_ms"][0] - 100 <= t <= c["time_range_ms"][1] + 100)
        if ok and all(abs(il - f[0]) > 10 for f in found):
            found.append((il, xl, t))
            if len(found) == count:
                break
    return found


def statistic_variables(statistics: dict[str, Any], suffix: str = "") -> dict[str, float]:
    values = {name: statistics[name] for name in ("rms", "mean", "std", "max", "min", "median", "count") if
              isinstance(statistics.get(name), (int, float))}
    values.update({name: value for name, value in (statistics.get("percentiles") or {}).items() if value is not None})
    for short, name in (("dom", "dominant_frequency_hz"), ("bw", "bandwidth_hz"), ("zc", "zero_crossings"),
                        ("live", "live_traces"), ("dead", "dead_traces"), ("cent", "spectral_centroid_hz")):
        if isinstance(statistics.get(name), (int, float)):
            values[short] = statistics[name]
    band = statistics.get("band_hz")
    if isinstance(band, list) and len(band) == 2:
        values.update(blo=band[0], bhi=band[1])
    return {name + suffix: value for name, value in values.items()}


def section_variables(section: services.Section) -> dict[str, float]:
    """What a relational claim about one section is held to, computed here with numpy from the samples:
    the RMS of the top and bottom thirds of the unmuted samples (``top_rms``, ``bot_rms``), of the first
    and last thirds of the traces (``first_rms``, ``last_rms``), and where the largest |sample| lies
    (``amax_a``: the annotation along the section, ``amax_t``: the time)."""
    if not section.vertical:
        return {}
    data = np.asarray(section.data, dtype=np.float64)[np.asarray(section.live, dtype=bool)]
    if data.size == 0:
        return {}
    rows = np.flatnonzero(np.abs(data).sum(axis=0) > 0)
    body = data[:, rows.min():rows.max() + 1]
    third = body.shape[1] // 3
    traces = data.shape[0] // 3
    a, b = section.axes
    live_index = np.flatnonzero(section.live)
    i, j = np.unravel_index(int(np.argmax(np.abs(data))), data.shape)

    def rms(x: np.ndarray) -> float:
        return float(np.sqrt((x * x).mean()))

    values = {"top_rms": rms(body[:, :third]), "bot_rms": rms(body[:, body.shape[1] - third:]),
              "amax_a": a.value(int(live_index[i])), "amax_t": b.value(int(j))}
    if traces >= 2:
        values.update(first_rms=rms(data[:traces]), last_rms=rms(data[data.shape[0] - traces:]))
    return values


SAFE: dict[str, Any] = {"__builtins__": {}, "abs": abs, "round": round}  # min and max name statistics


def render(text: str, variables: dict[str, float]) -> str:
    """Fill ``{expression[:format]}`` placeholders from ``variables`` (arithmetic, comparisons and
    conditional words such as ``{'brighter' if rms > rms_2 else 'weaker'}``; abs and round)."""
    out, position = [], 0
    while True:
        start = text.find("{", position)
        if start < 0:
            out.append(text[position:])
            return "".join(out)
        end = text.index("}", start)
        out.append(text[position:start])
        expression, _, spec = text[start + 1:end].partition(":")
        value = eval(compile(expression, "<corpus>", "eval"), SAFE, dict(variables))  # noqa: S307
        if not spec and isinstance(value, float) and value.is_integer():
            value = int(value)
        out.append(format(value, spec))
        position = end + 1


def run_case(case: dict[str, Any], surveys: dict[str, Survey]) -> dict[str, Any]:
    survey = surveys[case["survey"]]
    variables = survey_variables(survey)
    extraction_ids = []
    for position, (kind, number) in enumerate(case["extractions"]):
        value = float(render("{" + number + "}", variables))
        section, extraction = services.section_extract(survey=survey, kind=kind, number=value, principal=PRINCIPAL)
        extraction_ids.append(extraction.pk)
        # The first extraction's statistics as rms, p95 …; the second's as rms_2, p95_2 …
        variables.update(statistic_variables(extraction.statistics, "" if position == 0 else f"_{position + 1}"))
        if position == 0:
            variables.update(section_variables(section))
    text = render(case["text"], variables)
    result = tools.interpretation_audit(text=text, extraction_ids=extraction_ids, survey_id=survey.pk,
                                        principal=PRINCIPAL)
    findings = result["findings"]
    matched: list[dict[str, Any]] = []
    missed: list[dict[str, Any]] = []
    for expected in case["expected"]:
        hit = any(f["category"] == expected["category"]
                  and SEVERITY_RANK[f["severity"]] >= SEVERITY_RANK[expected["severity"]] for f in findings)
        (matched if hit else missed).append(expected)
    return {"id": case["id"], "category": case["category"], "topic": case.get("topic", ""), "text": text,
            "variables": variables, "expected": case["expected"],
            "findings": findings, "matched": matched, "missed": missed, "grounding_score": result["grounding_score"],
            "false_alarm": not case["expected"] and bool(findings)}


def run(corpus: dict[str, Any], surveys: dict[str, Survey],
        progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    results = []
    for index, case in enumerate(corpus["cases"]):
        results.append(run_case(case, surveys))
        if progress:
            progress(index + 1, len(corpus["cases"]))
    return results


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    by_key: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"expected": 0, "detected": 0})
    for result in results:
        for expected in result["expected"]:
            row = by_key[(expected["category"], expected["severity"])]
            row["expected"] += 1
            row["detected"] += expected in result["matched"]
    clean = [r for r in results if not r["expected"]]
    by_severity: dict[str, dict[str, int]] = defaultdict(lambda: {"expected": 0, "detected": 0})
    for (_, severity), row in by_key.items():
        by_severity[severity]["expected"] += row["expected"]
        by_severity[severity]["detected"] += row["detected"]

    def rate(row: dict[str, int]) -> float:
        return row["detected"] / row["expected"] if row["expected"] else math.nan

    return {
        "cases": len(results), "clean_cases": len(clean),
        "false_alarms": sum(r["false_alarm"] for r in clean),
        "false_alarm_rate": (sum(r["false_alarm"] for r in clean) / len(clean)) if clean else math.nan,
        "by_category_severity": [{"category": c, "severity": s, **row, "detection_rate": rate(row)}
                                 for (c, s), row in sorted(by_key.items())],
        "by_severity": {s: {**row, "detection_rate": rate(row), "missed": row["expected"] - row["detected"]}
                        for s, row in by_severity.items()},
        "misses": [{"id": r["id"], "missed": r["missed"], "text": r["text"]} for r in results if r["missed"]],
        "false_alarm_cases": [{"id": r["id"], "text": r["text"], "findings": r["findings"]}
                              for r in clean if r["false_alarm"]],
    }


def markdown(summary: dict[str, Any]) -> str:
    lines = ["# Hallucination report", "",
             f"{summary['cases']} cases, {summary['clean_cases']} of them clean. False alarms on clean answers: "
             f"{summary['false_alarms']} ({summary['false_alarm_rate']:.1%}).", "",
             "| category | severity | expected | detected | detection rate |", "|---|---|---|---|---|"]
    for row in summary["by_category_severity"]:
        lines.append(f"| {row['category']} | {row['severity']} | {row['expected']} | {row['detected']} | "
                     f"{row['detection_rate']:.1%} |")
    lines += ["", "| severity | expected | detected | missed | detection rate |", "|---|---|---|---|---|"]
    for severity in ("CRITICAL", "HIGH", "MEDIUM", "LOW"):
        if severity in summary["by_severity"]:
            row = summary["by_severity"][severity]
            lines.append(f"| {severity} | {row['expected']} | {row['detected']} | {row['missed']} | "
                         f"{row['detection_rate']:.1%} |")
    lines += ["", "## Misses", ""]
    lines += [f"- **{m['id']}** missed {', '.join(e['category'] + '/' + e['severity'] for e in m['missed'])}: "
              f"{m['text']}" for m in summary["misses"]] or ["None."]
    lines += ["", "## False alarms on clean answers", ""]
    lines += [f"- **{f['id']}**: {f['text']} — " + "; ".join(
        x["category"] + "/" + x["severity"] + " on “" + x["span"] + "”" for x in f["findings"])
        for f in summary["false_alarm_cases"]] or ["None."]
    return "\n".join(lines) + "\n"


def html_report(summary: dict[str, Any]) -> str:
    e = html.escape

    def table(header: list[str], rows: list[list[Any]]) -> str:
        head = "".join(f"<th>{e(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows)
        return f"<table><tr>{head}</tr>{body}</table>"

    parts = [f"<h1>Hallucination report</h1><p>{summary['cases']} cases, {summary['clean_cases']} of them clean. "
             f"False alarms on clean answers: {summary['false_alarms']} ({summary['false_alarm_rate']:.1%}).</p>",
             table(["category", "severity", "expected", "detected", "detection rate"],
                   [[r["category"], r["severity"], r["expected"], r["detected"], f"{r['detection_rate']:.1%}"]
                    for r in summary["by_category_severity"]]),
             table(["severity", "expected", "detected", "missed", "detection rate"],
                   [[s, r["expected"], r["detected"], r["missed"], f"{r['detection_rate']:.1%}"]
                    for s, r in summary["by_severity"].items()]),
             "<h2>Misses</h2><ul>" + ("".join(
                 f"<li><b>{e(m['id'])}</b> missed "
                f"{e(', '.join(x['category'] + '/' + x['severity'] for x in m['missed']))}"
                 f": {e(m['text'])}</li>" for m in summary["misses"]) or "<li>None.</li>") + "</ul>",
             "<h2>False alarms on clean answers</h2><ul>" + ("".join(
                 f"<li><b>{e(f['id'])}</b>: {e(f['text'])} — "
                 + e("; ".join(x["category"] + "/" + x["severity"] + " on " + x["span"] for x in f["findings"]))
                 + "</li>" for f in summary["false_alarm_cases"]) or "<li>None.</li>") + "</ul>"]
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Hallucination report</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{border:1px solid #ccc;"
            "padding:2px 6px}table{border-collapse:collapse;margin:1em 0}</style></head><body>"
            + "".join(parts) + "</body></html>\n")
