"""Sections of the real SEG-Y files, read through OpenVDS, against segyio and numpy."""

import hashlib

import numpy as np
import pytest
import segyio

from seismic import services
from vifsite.errors import InputError


def _numpy_stats(traces: np.ndarray) -> dict:
    values = traces.astype(np.float64).ravel()
    return {"count": values.size, "min": values.min(), "max": values.max(), "mean": values.mean(),
            "std": values.std(), "median": np.median(values), "rms": np.sqrt(np.mean(values**2)),
            "p5": np.percentile(values, 5), "p95": np.percentile(values, 95)}


def _assert_stats(result: dict, expected: dict) -> None:
    for key in ("count", "min", "max", "mean", "std", "median", "rms"):
        assert result[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-9), key
    assert result["percentiles"]["p5"] == pytest.approx(expected["p5"])
    assert result["percentiles"]["p95"] == pytest.approx(expected["p95"])


@pytest.mark.django_db
def test_f3_geometry_is_read_from_the_volume(f3):
    with segyio.open(str(__import__("tests.conftest").conftest.DATA / "f3.sgy")) as f:
        ilines, xlines, samples = f.ilines, f.xlines, f.samples
    assert (f3.inline_first, f3.inline_last, f3.inline_step, f3.inline_count) == (ilines[0], ilines[-1], 1, len(ilines))
    assert (f3.crossline_first, f3.crossline_last, f3.crossline_count) == (xlines[0], xlines[-1], len(xlines))
    assert (f3.sample_first, f3.sample_last, f3.sample_step) == (samples[0], samples[-1], samples[1] - samples[0])
    assert f3.domain == "time" and f3.sample_unit == "ms"
    assert f3.live_traces == 414 and f3.dead_traces == 0
    assert f3.coordinate_system["unit"] == "m" and len(f3.coordinate_system["origin"]) == 2


@pytest.mark.django_db
def test_the_data_hash_is_the_sha256_of_every_amplitude(f3, segy_dir):
    with segyio.open(str(segy_dir / "f3.sgy")) as f:
        cube = segyio.tools.cube(f).astype("<f4")
    assert f3.data_sha256 == hashlib.sha256(cube.tobytes()).hexdigest()


@pytest.mark.django_db
@pytest.mark.parametrize("kind,number", [("inline", 116), ("crossline", 880), ("timeslice", 100)])
def test_f3_sections_equal_segyio_and_their_statistics_equal_numpy(f3, segy_dir, kind, number):
    with segyio.open(str(segy_dir / "f3.sgy")) as f:
        if kind == "inline":
            expected = f.iline[number]
        elif kind == "crossline":
            expected = f.xline[number]
        else:
            expected = f.depth_slice[list(f.samples).index(number)]
    section, extraction = services.section_extract(survey=f3, kind=kind, number=number, principal="test")
    np.testing.assert_array_equal(section.data, expected)
    _assert_stats(extraction.statistics, _numpy_stats(expected))
    assert extraction.array_sha256 == hashlib.sha256(np.ascontiguousarray(expected, "<f4").tobytes()).hexdigest()


@pytest.mark.django_db
def test_sub_ranges_cut_the_section_like_segyio_slicing(f3, segy_dir):
    with segyio.open(str(segy_dir / "f3.sgy")) as f:
        full = f.iline[120]
        samples = list(f.samples)
    section = services.section_read(survey=f3, kind="inline", number=120,
                                    ranges={"crossline": (880, 885.5), "sample": (40, 100)})
    np.testing.assert_array_equal(section.data, full[5:11, samples.index(40):samples.index(100) + 1])
    assert section.ranges() == {"crossline": [880, 885], "sample": [40, 100]}


def _withdead_traces(segy_dir):
    with segyio.open(str(segy_dir / "f3_withdead.sgy"), ignore_geometry=True) as f:
        il = f.attributes(segyio.TraceField.INLINE_3D)[:]
        xl = f.attributes(segyio.TraceField.CROSSLINE_3D)[:]
        return il, xl, f.trace.raw[:]


@pytest.mark.django_db
def test_dead_traces_are_masked_not_counted_as_zeros(register, segy_dir):
    survey = register("f3_withdead")
    il, xl, traces = _withdead_traces(segy_dir)
    assert survey.live_traces == len(traces) == 239
    # The inline with most dead traces, and a crossline, checked against the live traces segyio holds.
    counts = {line: int((il == line).sum()) for line in range(111, 134)}
    line = min(counts, key=counts.get)
    section, extraction = services.section_extract(survey=survey, kind="inline", number=line, principal="t")
    live = traces[il == line]
    assert extraction.statistics["live_traces"] == len(live) and extraction.statistics["dead_traces"] == 18 - len(live)
    _assert_stats(extraction.statistics, _numpy_stats(live))
    order = np.argsort(xl[il == line])
    np.testing.assert_array_equal(section.data[section.live], live[order])
    # A timeslice: dead cells are excluded from the statistics as well.
    section, extraction = services.section_extract(survey=survey, kind="timeslice", number=200, principal="t")
    _assert_stats(extraction.statistics, _numpy_stats(traces[:, list(range(4, 304, 4)).index(200)]))
    assert extraction.statistics["live_traces"] == 239 and extraction.statistics["dead_traces"] == 175


@pytest.mark.django_db
def test_the_penobscot_crossline_spectrum_matches_an_independent_fft(register, segy_dir):
    survey = register("penobscot_xl1155")
    assert survey.crossline_count == 1 and survey.inline_count == 601
    with segyio.open(str(segy_dir / "penobscot_xl1155.sgy"), ignore_geometry=True) as f:
        traces = f.trace.raw[:].astype(np.float64)
    _, extraction = services.section_extract(survey=survey, kind="crossline", number=1155, principal="t")
    result = extraction.statistics
    n = 2048  # next power of two above 1501 samples
    freqs = np.fft.rfftfreq(n, 0.004)
    amp = np.abs(np.fft.rfft(traces - traces.mean(axis=1, keepdims=True), n=n, axis=1)).mean(axis=0)
    peak = freqs[1:][np.argmax(amp[1:])]
    assert result["dominant_frequency_hz"] == pytest.approx(peak)
    assert 5 < result["dominant_frequency_hz"] < 60  # a marine stack's dominant frequency
    level = amp[1:].max() * 10 ** (-6 / 20)
    low, high = result["band_hz"]
    assert low < peak < high
    inside = (freqs > low) & (freqs < high)
    assert np.all(amp[inside] >= level)  # the band is contiguous around the peak, within 6 dB of it
    assert np.interp(low, freqs, amp) == pytest.approx(level, rel=1e-6)
    assert np.interp(high, freqs, amp) == pytest.approx(level, rel=1e-6)
    assert result["spectral_centroid_hz"] == pytest.approx((freqs * amp).sum() / amp.sum())
    _assert_stats(result, _numpy_stats(traces))


@pytest.mark.django_db
def test_f3_inlines_dominant_frequency_is_near_23_hz(f3):
    peaks = [services.section_extract(survey=f3, kind="inline", number=n, principal="t")[1]
             .statistics["dominant_frequency_hz"] for n in range(111, 134)]
    # A North Sea stack: most inlines peak near 23 Hz (a few 75-sample inlines are dominated by a
    # low-frequency event, which is why the median is asserted).
    assert np.median(peaks) == pytest.approx(23, abs=2)


@pytest.mark.django_db
def test_the_sparse_grid_keeps_its_annotation_steps(register, segy_dir):
    survey = register("f3_sparse")
    assert (survey.inline_first, survey.inline_last, survey.inline_step) == (200, 640, 20)
    assert (survey.crossline_first, survey.crossline_last, survey.crossline_step) == (700, 1200, 20)
    assert (survey.sample_first, survey.sample_step, survey.sample_count) == (400, 20, 36)
    with segyio.open(str(segy_dir / "f3_sparse.sgy")) as f:
        expected = f.iline[220]
    section = services.section_read(survey=survey, kind="inline", number=220)
    np.testing.assert_array_equal(section.data, expected)
    with pytest.raises(InputError, match="200 to 640 in steps of 20"):
        services.section_read(survey=survey, kind="inline", number=210)
