"""Numbers read as people write them, relations checked against the data, and declines: the audit's
rules on their own (no database), against statistics numpy computes from an array here."""

import numpy as np
import pytest

from seismic import audit, comparisons, numbers

RNG = np.random.default_rng(7)
# Two sections with known statistics: a brighter inline 120 and a dimmer inline 125 (RMS ratio 1.4), the
# brighter one stronger at depth.
GAIN = np.linspace(0.5, 1.5, 200)[None, :]
A = RNG.normal(0, 1000, (40, 200)) * GAIN * 1.4
B = RNG.normal(0, 1000, (40, 200)) * GAIN[:, ::-1]


def stats(x):
    p = np.percentile(x, [1, 5, 10, 25, 50, 75, 90, 95, 99])
    return {"rms": float(np.sqrt(np.mean(x * x))), "mean": float(x.mean()), "std": float(x.std()),
            "min": float(x.min()), "max": float(x.max()), "median": float(p[4]), "live_traces": 38, "dead_traces": 2,
            "count": int(x.size), "dominant_frequency_hz": 24.0, "band_hz": [14.0, 33.0], "bandwidth_hz": 19.0,
            "spectral_centroid_hz": 27.0,
            "percentiles": {f"p{k}": float(v) for k, v in zip((1, 5, 10, 25, 50, 75, 90, 95, 99), p, strict=True)}}


SA, SB = stats(A), stats(B)
EXTRACTIONS = [{"id": 1, "kind": "inline", "number": 120, "ranges": {"crossline": [300, 339], "sample": [0, 796]},
                "statistics": SA},
               {"id": 2, "kind": "inline", "number": 125, "ranges": {"crossline": [300, 339], "sample": [0, 796]},
                "statistics": SB}]


def section_data(extraction):
    data = A if extraction["id"] == 1 else B
    return comparisons.SectionData(data, np.ones(data.shape[0], bool), ("crossline", 300.0, 1.0),
                                   ("sample", 0.0, 4.0), True)


CONTEXT = audit.Context(inline=audit.Axis(100, 200, 1), crossline=audit.Axis(300, 339, 1),
                        sample=audit.Axis(0, 796, 4), extractions=EXTRACTIONS, section_data=section_data)


def findings(text, context=CONTEXT):
    return [(f["category"], f["severity"]) for f in audit.audit(text, context)["findings"]]


@pytest.mark.parametrize("text, values", [
    ("The minimum and maximum are −7,110 and 5,530 respectively.", [-7110, 5530]),
    ("RMS 1.52e3, mean 3.2×10^-2, std 1\u202f520.5", [1520, 0.032, 1520.5]),
    ("between -3,378 and +3,984 at 25 Hz", [-3378, 3984, 25]),
])
def test_it_reads_signs_separators_scientific_notation_and_units(text, values):
    assert [n.value for n in numbers.numbers(text)] == pytest.approx(values)


def test_it_groups_ranges_lists_and_names_percentiles_every_way():
    found = numbers.quantities("The 5th and 95th percentiles are -1,940 and 1,987; P10/P90 are -1388 and 1333; "
                               "amplitudes range from -7110 to 5530 and the band is 14–33 Hz.")
    assert [(q.number.value, q.names[0], q.role) for q in found] == [
        (-1940, "p5", "value"), (1987, "p95", "value"), (-1388, "p10", "value"), (1333, "p90", "value"),
        (-7110, "min", "low"), (5530, "max", "high"), (14, "band_hz", "low"), (33, "band_hz", "high")]
    assert [q.kind for q in numbers.quantities("a 20 ms window around 1,240 ms; 12 % of the traces are dead")] == [
        "duration", "time", "trace_percent"]


def test_pairs_lists_and_respectively_are_checked_value_by_value():
    ok = f"The RMS is {SA['rms']:,.0f} and {SB['rms']:,.0f} on inlines 120 and 125 respectively."
    swapped = f"The RMS is {SB['rms']:,.0f} and {SA['rms']:,.0f} on inlines 120 and 125 respectively."
    assert findings(ok) == [] and ("numeric", "HIGH") in findings(swapped)
    minmax = f"On inline 120 the minimum and maximum are {SA['min']:.0f} and {SA['max']:.0f}."
    assert findings(minmax) == []
    quartiles = f"On inline 120 the 5th and 95th percentiles are {SA['percentiles']['p5']:.0f} and " \
                f"{SA['percentiles']['p95'] * 1.5:.0f}."
    assert findings(quartiles) == [("numeric", "HIGH")]


def test_ratios_and_differences_of_two_statistics_are_not_read_as_amplitudes():
    ratio = SA["max"] / SA["rms"]
    assert findings(f"On inline 120 the maximum is about {ratio:.2f} times the RMS.") == []
    assert findings(f"On inline 120 the maximum is about {ratio * 2:.2f} times the RMS.") == [("numeric", "HIGH")]
    difference = SA["max"] - SA["rms"]
    assert findings(f"On inline 120 the maximum exceeds the RMS by {difference:,.0f}.") == []
    assert findings(f"On inline 120 the maximum exceeds the RMS by {difference * 3:,.0f}.") == [("numeric", "HIGH")]


def test_trace_counts_percentages_and_frequencies_are_held_to_the_data():
    assert findings("Inline 120 has 38 live traces and 2 dead traces; 5 % of the traces are dead.") == []
    assert findings("Inline 120 has 60 live traces.") == [("numeric", "HIGH")]
    assert findings("On inline 120, 30 % of the traces are dead.") == [("numeric", "HIGH")]
    assert findings("On inline 120 the −6 dB band runs from 14 to 33 Hz; the Nyquist frequency is 125 Hz.") == []
    assert findings("The dominant frequency of inline 120 is 48 Hz.") == [("numeric", "HIGH")]


def test_comparisons_are_decided_by_the_cited_extractions():
    ratio = SA["rms"] / SB["rms"]
    assert ratio > 1
    assert findings("Inline 120 is brighter than inline 125.") == []
    assert findings("Inline 120 is weaker than inline 125.") == [("numeric", "HIGH")]
    assert findings("Compared with inline 125, inline 120 is stronger.") == []
    assert findings(f"Amplitudes on inline 120 are about {100 * (ratio - 1):.0f} % above those on inline 125.") == []
    assert findings(f"Amplitudes on inline 120 are about {100 * (ratio - 1) + 25:.0f} % above those on inline "
                    f"125.") == [("numeric", "HIGH")]
    assert findings("Inline 120 and inline 125 have similar amplitudes.") == [("numeric", "HIGH")]
    undecided = audit.audit("Inline 120 is brighter than inline 130.", CONTEXT)["findings"]
    assert sorted((f["category"], f["severity"]) for f in undecided) == [("location", "MEDIUM"), ("numeric", "MEDIUM")]
    undecided = [f for f in undecided if f["category"] == "numeric"]
    assert undecided[0]["evidence"]["decide_with"] == [{"tool": "extract_section", "section_type": "inline",
                                                        "section_number": 130.0}]


def test_trends_are_judged_on_the_cited_section_samples():
    top, bottom = np.sqrt(np.mean(A[:, :66] ** 2)), np.sqrt(np.mean(A[:, -66:] ** 2))
    assert bottom > top  # the gain makes inline 120 stronger at depth
    assert findings("On inline 120 the RMS increases with depth.") == []
    assert findings("On inline 120 amplitudes weaken downwards.") == [("numeric", "HIGH")]
    assert findings("On inline 125 amplitudes weaken downwards.") == []
    assert findings("The upper half of inline 120 is brighter than the lower half.") == [("numeric", "HIGH")]


def test_the_strongest_sample_is_located_with_numpy():
    i, j = np.unravel_index(np.argmax(np.abs(A)), A.shape)
    right = f"The largest amplitude on inline 120 occurs near crossline {300 + i} at about {4 * j} ms."
    wrong = f"The largest amplitude on inline 120 occurs near crossline {300 + (i + 20) % 40} at about " \
            f"{4 * ((j + 100) % 200)} ms."
    assert findings(right) == [] and findings(wrong) == [("numeric", "HIGH")]


@pytest.mark.parametrize("text", [
    "I cannot give a porosity from seismic alone; it would need well logs or core measurements.",
    "A net pay figure is not something these amplitudes can provide; net pay needs well logs and cut-offs.",
    "I can't determine the fluid type here — pre-stack AVO and a well test would be needed.",
    "The age of these reflectors cannot be read from seismic; biostratigraphy from a well would be required.",
])
def test_an_answer_that_declines_and_names_the_data_is_clean(text):
    assert findings(text) == []


@pytest.mark.parametrize("text, expected", [
    ("The bright interval has a porosity of about 25 %.", ("out_of_scope", "HIGH")),
    ("Porosity is probably around 20 % in the bright interval.", ("out_of_scope", "HIGH")),
    ("Net pay is roughly 15 m at the crest.", ("out_of_scope", "CRITICAL")),
    ("The fluid in the bright interval is gas.", ("out_of_scope", "CRITICAL")),
    ("The unit is about 65 million years old.", ("out_of_scope", "HIGH")),
    ("The sand is gas-charged and nothing more can be said.", ("out_of_scope", "CRITICAL")),
    ("Gas fills the crest and the porosity cannot be determined.", ("out_of_scope", "CRITICAL")),
])
def test_an_answer_that_gives_a_value_or_a_fluid_is_out_of_scope(text, expected):
    assert expected in findings(text)


def test_a_time_range_after_a_crossline_range_is_a_time_window_not_another_crossline():
    from seismic import audit

    found = audit.locations("Inline 1015 shows a bright spot at crosslines 2005-2012 and 120-200 ms.")
    assert found == [("inline", 1015.0, 1015.0, "Inline 1015"), ("crossline", 2005.0, 2012.0, "crosslines 2005-2012"),
                     ("sample", 120.0, 200.0, "120-200 ms")]
    assert audit.locations("crosslines 2005-2012 and 2020")[-1] == ("crossline", 2020.0, 2020.0, "2020")
