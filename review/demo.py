"""SCRIPTED DEMO AGENT: no model is called; fixed texts.

What ``manage.py bootstrap_demo`` puts into a fresh site so that every review page has real content:

- interpretations of the demo survey by a scripted stand-in for an LLM agent: fixed text templates
  filled in from the survey's ground truth (where the planted features are, or are not) and from the
  statistics of real extractions, with fixed confidences. Each goes through the real path, an
  extraction (``seismic.services.section_extract``) and then ``review.services.interpretation_submit``,
  so the audit, the witnesses, the ledger and the κ-gate run as for any agent. Together they cover
  every reason to escalate, and some are accepted outright;
- labelled calibration samples: witnesses recorded as calibration samples and labelled by a scripted
  checker (source "automatic", an unbiased label) with outcomes drawn from a fixed, slightly
  overconfident curve; then the Learn-then-Test κ suggestions are computed from them once;
- a few decisions by the second and the senior demo reviewer, so the history and statistics show some.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.test.utils import override_settings

from review import services
from seismic import services as seismic_services
from seismic.models import Survey
from vifsite.vif import services as vif_services
from vifsite.vif.models import AgentKey, KappaPolicy

AGENT_NAME = "demo-agent"  # its key is also the marker that the demo data exists
CHECKER = "checker:scripted-demo-checker"
PROVIDER = "SCRIPTED DEMO AGENT (no model is called; fixed texts)"
MODELS = {
    "large": {"model_id": "scripted-demo-large", "model_provider": PROVIDER, "model_version": "2025.1"},
    "small": {"model_id": "scripted-demo-small", "model_provider": PROVIDER, "model_version": "0.9"},
}
# The seeded κ policies make the "band and criticality" reason unreachable (a critical task passes κ
# only in band A); a looser κ for the demo's own domain lets a band-B critical item pass the gate and
# still go to two reviewers, as it would after an admin lowered κ.
ROUTING_DOMAIN, ROUTING_KAPPA = "demo", Decimal("0.85")


@dataclass(frozen=True)
class Script:
    """One scripted interpretation: the section it reads, a fixed text template, and how sure it says it is."""

    shows: str  # what the item demonstrates (printed in the summary)
    section: str  # a key of ``Place.sections``
    text: str  # filled from ``Place.fields`` and the extraction's statistics
    criticality: str
    model: str
    signals: Mapping[str, Any]
    domain: str = ""
    spot_check: bool = False


def _conf(value: float) -> dict[str, Any]:
    return {"confidence": value}


def _said(value: str) -> dict[str, Any]:
    return {"verbalized_confidence": value}


SCRIPTS: list[Script] = [
    # Accepted outright: grounded numbers, hedged interpretations with their limitations.
    Script("accepted: statistics quoted right", "bright", "Inline {il_bs} has an RMS amplitude of {rms:.1f} and a "
           "dominant frequency of about {dom:.0f} Hz. The reflectors appear continuous across most of the section; "
           "the vertical resolution limits what can be said about thin layers.", "routine", "large", _conf(0.93)),
    Script("accepted: critical, band A", "quiet", "On inline {il_q} the maximum amplitude is {max:.1f} and the "
           "minimum is {min:.1f}; the RMS amplitude is {rms:.1f}. These are statistics of the section only.",
           "critical", "large", _conf(0.995)),
    Script("accepted: a real bright spot, hedged", "bright", "A bright spot is probably present on inline {il_bs} "
           "near crossline {xl_bs} at about {t_bs} ms. Its cause cannot be determined from amplitudes alone.",
           "important", "large", _conf(0.97)),
    Script("accepted: a real fault, hedged", "quiet", "A normal fault probably cuts inline {il_q} near crossline "
           "{xl_f} at about {t_f} ms, downthrown towards higher crosslines. The throw is uncertain at this "
           "resolution.", "routine", "small", _said("90%")),
    Script("accepted: low stakes, band C (proceed with a warning)", "channel", "Inline {il_ch} has an RMS amplitude "
           "of {rms:.1f}; the section may show gentle dips, though the data alone are limited.", "low_stakes", "small",
           _conf(0.72)),
    Script("accepted: crossline statistics", "xline", "Crossline {xl_bs} has a dominant frequency of about {dom:.0f} "
           "Hz and an RMS amplitude of {rms:.1f}; the reflectors appear to rise towards the centre of the survey, "
           "which may be a structural high.", "important", "large", _conf(0.96)),
    # Spot checks: good answers drawn as calibration samples (made deterministic in ``submit_all``).
    Script("spot check: routine", "bright", "Inline {il_bs} has a standard deviation of {std:.1f} and a 99th "
           "percentile of {p99:.1f}. The strongest amplitudes appear between {t_bs_lo} and {t_bs_hi} ms, though "
           "their cause is uncertain.", "routine", "large", _conf(0.91), spot_check=True),
    Script("spot check: important", "xline", "The maximum amplitude of crossline {xl_bs} is {max:.1f}; a bright spot "
           "is possibly present near inline {il_bs} at about {t_bs} ms, to be confirmed with more sections.",
           "important", "large", _conf(0.975), spot_check=True),
    Script("spot check: low stakes", "quiet", "Inline {il_q} has an RMS amplitude of {rms:.1f} and {live} live "
           "traces. Nothing stands out, although subtle features may be below the resolution.", "low_stakes",
           "small", _said("high"), spot_check=True),
    Script("spot check: routine, small model", "channel", "Inline {il_ch} has a dominant frequency of about {dom:.0f} "
           "Hz. A channel possibly incises the reflector near crossline {xl_ch} at about {t_ch} ms; its fill cannot "
           "be determined from these data.", "routine", "small", _conf(0.9), spot_check=True),
    # The κ-gate abstains: grounded texts, low confidence.
    Script("gate: routine, band C", "channel", "Inline {il_ch} has an RMS amplitude of {rms:.1f}. The events near "
           "{t_ch} ms may be a channel or noise; this is uncertain.", "routine", "small", _conf(0.55)),
    Script("gate: important, band C", "bright", "The 95th percentile of inline {il_bs} is {p95:.1f}. The amplitude "
           "pattern near crossline {xl_bs} might be worth a closer look, although it is uncertain.", "important",
           "large", _conf(0.74)),
    Script("gate: critical, band B (two approvals)", "bright", "Inline {il_bs} has an RMS amplitude of {rms:.1f}. A "
           "bright spot is probably present near crossline {xl_bs} at about {t_bs} ms; its cause is uncertain.",
           "critical", "large", _conf(0.9)),
    Script("gate: critical, band B, small model (two approvals)", "xline", "Crossline {xl_bs} has a maximum "
           "amplitude of {max:.1f}. The reflectors appear to form a gentle structural high, within the limits of "
           "time data.", "critical", "small", _said("85%")),
    Script("gate: low stakes, stated confidence low", "quiet", "Inline {il_q} might show faint dipping events "
           "below {t_deep} ms; they are uncertain.", "low_stakes", "small", _said("low")),
    # Band and criticality: the gate passes (the demo domain's κ), the band is not enough for critical work.
    Script("routing: critical, band B passes a looser κ", "bright", "Inline {il_bs} has an RMS amplitude of "
           "{rms:.1f} and a maximum of {max:.1f}. The reflectors appear continuous; the resolution limits thin-bed "
           "interpretation.", "critical", "large", _conf(0.9), domain=ROUTING_DOMAIN),
    Script("routing: critical, band B, small model", "quiet", "Inline {il_q} has a dominant frequency of about "
           "{dom:.0f} Hz. A normal fault possibly cuts it near crossline {xl_f} at about {t_f} ms.", "critical",
           "small", _conf(0.88), domain=ROUTING_DOMAIN),
    # Contradicted by the data: wrong statistics, fabricated features, definite out-of-scope claims.
    Script("contradicted: wrong RMS", "bright", "Inline {il_bs} has an RMS amplitude of {rms_wrong:.1f}, which is "
           "typical of this survey; the reflectors appear continuous, within the limits of the resolution.",
           "routine", "large", _conf(0.92)),
    Script("contradicted: wrong maximum", "quiet", "The maximum amplitude on inline {il_q} is {max_wrong:.1f}. The "
           "section appears quiet, though the resolution is limited.", "important", "small", _conf(0.95)),
    Script("contradicted: wrong dominant frequency", "xline", "Crossline {xl_bs} has a dominant frequency of "
           "{dom_wrong:.0f} Hz, so thin beds are probably resolved; this would need a well tie.", "routine",
           "small", _said("very high")),
    Script("contradicted: fabricated fault", "quiet", "A major normal fault cuts inline {il_q} at crossline {xl_q} "
           "between {t_f} and {t_f2} ms, with a large throw.", "important", "large", _conf(0.96)),
    Script("contradicted: fabricated bright spot", "quiet", "A strong bright spot sits on inline {il_q} at crossline "
           "{xl_q} around {t_bs} ms.", "routine", "small", _conf(0.94)),
    Script("contradicted: fabricated channel, hedged", "bright", "A channel possibly incises the reflectors of inline "
           "{il_bs} near crossline {xl_far} at about {t_ch} ms.", "low_stakes", "large", _conf(0.9)),
    Script("contradicted: definite lithology", "bright", "The reflector at {t_bs} ms on inline {il_bs} is a porous "
           "sandstone sealed by shale.", "routine", "large", _conf(0.9)),
    # High stakes: always a human, whatever the confidence.
    Script("high stakes: hedged gas", "bright", "The bright spot on inline {il_bs} near crossline {xl_bs} at about "
           "{t_bs} ms might indicate gas; AVO analysis and well logs would be needed to confirm it.", "important",
           "large", _conf(0.97)),
    Script("high stakes: definite gas (also contradicted)", "bright", "The bright spot on inline {il_bs} at "
           "crossline {xl_bs} is a gas-charged sand; this is clearly a gas accumulation.", "important", "small",
           _said("certain")),
    Script("high stakes: a well location", "xline", "The structural high on crossline {xl_bs} near inline {il_bs} "
           "could be a well location; well logs and a velocity model would be needed first.", "critical", "large",
           _conf(0.96)),
    Script("high stakes: reserves", "bright", "If the bright spot near crossline {xl_bs} is charged, the volumes in "
           "place might be significant; petrophysics and AVO analysis would be required.", "important", "large",
           _conf(0.92)),
    Script("high stakes: drilling", "channel", "The channel near crossline {xl_ch} at about {t_ch} ms is probably "
           "worth drilling, if well logs confirm a reservoir.", "routine", "small", _conf(0.93)),
    Script("high stakes: hydrocarbons, low stakes tier", "slice", "The timeslice at {t_bs} ms shows its strongest "
           "amplitudes near inline {il_bs}; oil could be present, although only well data and AVO analysis "
           "could tell.", "low_stakes", "small", _said("70%")),
    Script("contradicted: wrong mean on the timeslice", "slice", "The timeslice at {t_bs} ms has an average "
           "amplitude of {rms_wrong:.1f}, and the amplitudes appear to be strongest in the middle of the survey.",
           "routine", "large", _conf(0.91)),
    Script("accepted: timeslice statistics", "slice", "The timeslice at {t_bs} ms has an RMS amplitude of {rms:.1f}; "
           "its strongest amplitudes appear near inline {il_bs}, but a single slice is a limited view.",
           "routine", "small", _conf(0.88)),
    Script("gate: routine, verbalised doubt", "xline", "Crossline {xl_bs} has an RMS amplitude of {rms:.1f}; the "
           "deeper section may hold a channel, but this is uncertain.", "routine", "large", _said("moderate")),
]


@dataclass
class Place:
    """Where things are in the demo survey, from its ground truth: the planted features, and places
    where there are none (for the fabricated claims). Numbers are on the survey's grid."""

    survey: Survey
    fields: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, tuple[str, float]] = field(default_factory=dict)

    @classmethod
    def of(cls, survey: Survey) -> Place:
        truth = survey.ground_truth
        if truth is None:
            raise ValueError(f"Survey {survey.name} has no ground truth: the demo needs a synthetic survey.")
        (il0, il1, _), (xl0, xl1, _) = truth["survey"]["inline"], truth["survey"]["crossline"]
        t0, t1, dt = truth["survey"]["sample_ms"]
        features = {f["kind"]: f for f in truth["features"]}

        def at(lo: float, hi: float, fraction: float) -> int:
            return int(round(lo + fraction * (hi - lo)))

        def ms(value: float) -> int:
            return int(t0 + round((value - t0) / dt) * dt)

        spot = features["bright_spot"]
        il_bs, xl_bs, t_bs = round(spot["center"]["inline"]), round(spot["center"]["crossline"]), ms(
            spot["center"]["time_ms"])
        top, bottom = features["fault"]["plane"]
        t_f = ms(t0 + 0.3 * (t1 - t0))
        xl_f = round(top["crossline"] + (t_f - top["time_ms"]) / (bottom["time_ms"] - top["time_ms"])
                     * (bottom["crossline"] - top["crossline"]))
        path = features["channel"]["path"]
        middle = path[len(path) * 3 // 10]
        fields = {
            "il_bs": il_bs, "xl_bs": xl_bs, "t_bs": t_bs,
            "t_bs_lo": ms(spot["time_range_ms"][0]), "t_bs_hi": ms(spot["time_range_ms"][1]),
            "il_q": at(il0, il1, 0.12), "xl_q": at(xl0, xl1, 0.5), "xl_far": at(xl0, xl1, 0.6),
            "t_f": t_f, "t_f2": ms(t0 + 0.5 * (t1 - t0)), "xl_f": xl_f, "t_deep": ms(t0 + 0.8 * (t1 - t0)),
            "il_ch": middle["inline"], "xl_ch": round(middle["crossline"]), "t_ch": ms(middle["time_ms"]),
        }
        sections = {"bright": ("inline", il_bs), "quiet": ("inline", fields["il_q"]),
                    "channel": ("inline", fields["il_ch"]), "xline": ("crossline", xl_bs), "slice": ("timeslice", t_bs)}
        return cls(survey, fields, sections)


def _statistics(statistics: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers a text may quote, right and (for the contradicted items) wrong."""
    percentiles = statistics.get("percentiles") or {}
    values = {"rms": statistics["rms"], "std": statistics["std"], "max": statistics["max"], "min": statistics["min"],
              "dom": statistics.get("dominant_frequency_hz") or 0.0, "live": statistics.get("live_traces"),
              "p95": percentiles.get("p95", 0.0), "p99": percentiles.get("p99", 0.0)}
    return {**values, "rms_wrong": 3.2 * values["rms"], "max_wrong": 0.4 * values["max"],
            "dom_wrong": 2.4 * values["dom"] + 10}


def submit_all(*, survey: Survey, key: AgentKey) -> list[dict[str, Any]]:
    """Every script through the real path: extract the section, write the text, submit it.
    Spot checks are drawn at random in production (``VIFSITE_CALIBRATION_SAMPLE_RATE``); the demo
    records each item with the rate overridden to 1 (a spot check) or 0 (none), so it is the same
    on every machine."""
    place = Place.of(survey)
    results = []
    for script in SCRIPTS:
        kind, number = place.sections[script.section]
        _, extraction = seismic_services.section_extract(survey=survey, kind=kind, number=number,
                                                         principal=key.principal)
        text = script.text.format(**place.fields, **_statistics(extraction.statistics))
        prompt = (f"SCRIPTED DEMO AGENT prompt: interpret {kind} {number:g} of the survey {survey.name!r} "
                  f"(extraction {extraction.pk}) for a {script.criticality} task.")
        with override_settings(VIFSITE_CALIBRATION_SAMPLE_RATE=1.0 if script.spot_check else 0.0):
            result = services.interpretation_submit(
                writer=key.principal, key=key, text=text, structured=None, extraction_ids=[extraction.pk],
                model=MODELS[script.model], signals={**script.signals, "prompt": prompt},
                criticality=script.criticality, domain=script.domain)
        results.append({"shows": script.shows, "status": result["status"],
                        "reasons": [str(r["code"]) for r in (result.get("escalation") or {}).get("reasons", [])],
                        "escalation_id": (result.get("escalation") or {}).get("id")})
    return results


# (model, criticality, samples, overconfidence at the top, and how fast it grows below 0.85): the small
# model is the worse calibrated of the two.
CALIBRATION_GROUPS = [("large", "routine", 120, 0.02, 0.5), ("large", "important", 100, 0.02, 0.5),
                      ("large", "critical", 60, 0.01, 0.5), ("small", "routine", 80, 0.06, 1.0)]


def calibration_record(*, writer: str, seed: int = 2032) -> dict[str, Any]:
    """Witnesses recorded as calibration samples and labelled by the scripted checker: stated
    confidences mostly high, outcomes drawn (seeded) with a probability a little below them, more so
    at lower confidences, so the calibration is plausible but imperfect."""
    rng = np.random.default_rng(seed)
    items, labels = [], []
    for model, tier, n, offset, slope in CALIBRATION_GROUPS:
        stated = np.clip(np.round(rng.beta(6.0, 1.5, n), 3), 0.3, 0.999)
        correct = rng.random(n) < np.clip(stated - offset - slope * np.maximum(0.0, 0.85 - stated), 0.0, 1.0)
        for index, (confidence, right) in enumerate(zip(stated, correct, strict=True)):
            items.append({**MODELS[model], "task_criticality": tier, "confidence": float(confidence),
                          "prompt": f"SCRIPTED DEMO AGENT calibration prompt {model}/{tier}/{index}",
                          "output": f"SCRIPTED DEMO AGENT calibration answer {model}/{tier}/{index} (fixed text)"})
            labels.append(bool(right))
    # Every one is a calibration sample: the rate is overridden to 1 for this batch only.
    with override_settings(VIFSITE_CALIBRATION_SAMPLE_RATE=1.0):
        recorded = vif_services.witness_record_many(items=items, writer=writer)
    for entry, right in zip(recorded, labels, strict=True):
        vif_services.outcome_record(witness=entry.witness, correct=right, source="automatic", recorded_by=CHECKER,
                                    note="SCRIPTED DEMO checker: a label drawn from a fixed calibration curve, "
                                         "not a real check.")
    return {"samples": len(items), "correct": int(sum(labels))}


# (item, reviewer, decision, comment, revised text): a few decisions, so the history, the four-eyes state
# and the statistics show some; the demo reviewer's queue is left to them.
DECISIONS = [
    ("contradicted: wrong RMS", "reviewer2", "reject", "The quoted RMS is about three times the extraction's.", ""),
    ("gate: routine, band C", "reviewer2", "approve", "Matches the section; the doubt is stated fairly.", ""),
    ("high stakes: reserves", "reviewer2", "revise", "Volumes are out of reach of these data.",
     "An amplitude anomaly near the bright spot; whether it is charged, and any volume, cannot be established "
     "without petrophysics and AVO analysis."),
    ("gate: critical, band B (two approvals)", "senior", "approve", "The bright spot is there; a second reviewer "
     "should confirm.", ""),  # the first of two approvals: it waits for a second reviewer
]


def decisions_make(*, results: list[dict[str, Any]], reviewers: Mapping[str, User]) -> int:
    ids = {r["shows"]: r["escalation_id"] for r in results if r["escalation_id"]}
    made = 0
    for shows, who, decision, comment, revised in DECISIONS:
        if shows in ids and who in reviewers:
            services.escalation_decide(escalation_id=ids[shows], reviewer=reviewers[who], decision=decision,
                                       comment=comment, revised_text=revised, reviewer_confidence=0.8)
            made += 1
    return made


def routing_policy() -> KappaPolicy:
    existing = KappaPolicy.objects.filter(criticality="critical", domain=ROUTING_DOMAIN).first()
    if existing is not None:
        return existing
    return vif_services.kappa_policy_set(
        policy=KappaPolicy(criticality="critical", domain=ROUTING_DOMAIN, threshold=ROUTING_KAPPA),
        threshold=ROUTING_KAPPA, changed_by="system:bootstrap_demo",
        reason="Demo data: a looser κ for the demo's critical items, so that a band-B item passes the gate and the "
               "band and criticality still send it to two reviewers.")


def summary(results: list[dict[str, Any]]) -> Counter[str]:
    """How many items carry each reason (an item may carry several), and how many were accepted."""
    return Counter(code for r in results for code in r["reasons"]) + Counter(
        "accepted" for r in results if r["status"] == "accepted")
