"""Importing SEG-Y: what a good file registers, and that a bad one registers nothing."""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import segyio
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from seismic import services, synthetic
from seismic.models import Survey
from vifsite.errors import Conflict, InputError


def _survey_files() -> list[Path]:
    directory = Path(settings.VIFSITE_SURVEY_DIR)
    return sorted(directory.iterdir()) if directory.exists() else []


@pytest.mark.django_db
def test_import_registers_the_survey_with_geometry_hash_and_log(segy_dir):
    survey = services.survey_import_segy(path=segy_dir / "f3_withdead.sgy", name="dead", created_by="t")
    assert survey.imported and Path(survey.vds_url).is_file()
    assert survey.live_traces == 239 and survey.total_traces == 414
    assert survey.source_sha256 == "46696e1a845e8a5610728268ca4b09a96a4ccaa08379eff47bbf3a197d161cf3"
    assert "239 traces of 75 samples (4-byte IBM float" in survey.import_log
    assert "Successfully imported" in survey.import_log


@pytest.mark.django_db
def test_progress_is_reported_while_importing(segy_dir):
    seen = []
    services.survey_import_segy(path=segy_dir / "penobscot_xl1155.sgy", name="p", progress=seen.append)
    assert seen[-1] == 100.0 and len(seen) > 3 and seen == sorted(seen)


@pytest.mark.django_db
@pytest.mark.parametrize("content,message", [
    (b"not seismic at all" * 400, "Not a SEG-Y file"),
    (None, "Truncated or inconsistent SEG-Y file"),
    (b"x" * 100, "shorter than the 3600-byte file header"),
])
def test_a_bad_file_registers_nothing_and_leaves_no_volume(tmp_path, segy_dir, content, message):
    path = tmp_path / "bad.sgy"
    path.write_bytes(content if content is not None else (segy_dir / "f3.sgy").read_bytes()[:100_000])
    before = _survey_files()
    with pytest.raises(InputError, match=message):
        services.survey_import_segy(path=path, name="bad")
    assert not Survey.objects.exists()
    assert _survey_files() == before


@pytest.mark.django_db
def test_unworkable_geometry_is_reported_in_segyimport_words_and_cleaned_up(segy_dir):
    before = _survey_files()
    # Swapping the key bytes makes the primary key unsorted: SEGYImport refuses, we pass on why.
    with pytest.raises(InputError, match="SEGYImport could not import this file: .*not sorted"):
        services.survey_import_segy(path=segy_dir / "f3.sgy", name="swapped", inline_byte=193, crossline_byte=189)
    assert not Survey.objects.exists() and _survey_files() == before


@pytest.mark.django_db
def test_a_name_already_taken_is_a_conflict(segy_dir):
    services.survey_import_segy(path=segy_dir / "f3.sgy", name="f3")
    with pytest.raises(Conflict):
        services.survey_import_segy(path=segy_dir / "f3.sgy", name="f3")
    with pytest.raises(InputError, match="sample_unit"):
        services.survey_import_segy(path=segy_dir / "f3.sgy", name="x", sample_unit="s")


@pytest.mark.django_db
def test_a_depth_survey_is_imported_in_its_unit(segy_dir):
    survey = services.survey_import_segy(path=segy_dir / "f3.sgy", name="f3 depth", sample_unit="m")
    assert survey.domain == "depth" and survey.sample_unit == "m"
    _, extraction = services.section_extract(survey=survey, kind="inline", number=115, principal="t")
    assert "dominant_frequency_hz" not in extraction.statistics


@pytest.mark.django_db
def test_a_2d_line_is_imported_with_its_cdps_as_traces(segy_dir):
    survey = services.survey_import_segy(path=segy_dir / "penobscot_xl1155.sgy", name="2d", two_d=True,
                                         cdp_byte=189)
    assert survey.dimensionality == 2
    assert (survey.crossline_first, survey.crossline_last, survey.crossline_count) == (1000, 1600, 601)
    with segyio.open(str(segy_dir / "penobscot_xl1155.sgy"), ignore_geometry=True) as f:
        expected = f.trace.raw[:]
    section = services.section_read(survey=survey, kind="inline", number=1)
    np.testing.assert_array_equal(section.data, expected)


@pytest.mark.django_db
def test_register_refuses_paths_outside_the_allowed_folders_and_unknown_schemes(vds_dir, tmp_path):
    with pytest.raises(InputError, match="outside the folders"):
        services.survey_register_vds(url=str(vds_dir / "f3.vds"), name="x")
    with pytest.raises(InputError, match="Unsupported URL scheme"):
        services.survey_register_vds(url="ftp://host/f3.vds", name="x")
    with pytest.raises(InputError, match="No VDS file"):
        services.survey_register_vds(url=str(vds_dir.parent), name="x", restrict_to_roots=False)
    garbage = tmp_path / "garbage.vds"
    garbage.write_bytes(b"\0" * 4096)
    with pytest.raises(InputError, match="OpenVDS cannot open"):
        services.survey_register_vds(url=str(garbage), name="x", restrict_to_roots=False)
    assert not Survey.objects.exists()


@pytest.mark.django_db
def test_make_synthetic_survey_writes_segy_and_ground_truth_then_imports(tmp_path):
    call_command("make_synthetic_survey", name="syn", size="30x28x120", seed=5, out_dir=str(tmp_path))
    survey = Survey.objects.get(name="syn")
    truth = json.loads((tmp_path / "syn.json").read_text())
    assert survey.ground_truth == truth
    assert {f["kind"] for f in truth["features"]} == {"dome", "fault", "bright_spot", "channel"}
    assert (survey.inline_count, survey.crossline_count, survey.sample_count) == (30, 28, 120)
    with segyio.open(str(tmp_path / "syn.sgy")) as f:
        cube = segyio.tools.cube(f)
    section = services.section_read(survey=survey, kind="inline", number=1010)
    np.testing.assert_array_equal(section.data, cube[10])
    with pytest.raises(CommandError, match="--size must look like"):
        call_command("make_synthetic_survey", name="bad", size="30x28")


def test_the_planted_bright_spot_is_brighter_than_its_reflector_elsewhere(small_synthetic):
    volume, _, _ = small_synthetic
    spec, data = volume.spec, volume.data
    spot = next(f for f in volume.ground_truth["features"] if f["kind"] == "bright_spot")
    il0 = spot["inline_range"][0] - spec.first_inline
    il1 = spot["inline_range"][1] - spec.first_inline
    xl0 = spot["crossline_range"][0] - spec.first_crossline
    xl1 = spot["crossline_range"][1] - spec.first_crossline
    t0, t1 = (int(t // spec.sample_interval_ms) for t in spot["time_range_ms"])
    inside = np.abs(data[il0:il1 + 1, xl0:xl1 + 1, t0:t1 + 1]).max()
    # The same reflector on the other side of the survey, away from the patch.
    outside = np.abs(data[il0:il1 + 1, -4:, t0:t1 + 30]).max()
    assert inside > 2 * outside


def test_the_planted_fault_offsets_reflectors_by_its_throw():
    # Flat layers, a vertical fault, no noise: the lag between traces either side is the throw.
    spec = synthetic.SyntheticSpec(n_inlines=6, n_crosslines=30, n_samples=300, dome=None, bright_spot=None,
                                   channel=None, noise=0.0, regional_dip_ms=0.0,
                                   fault=synthetic.Fault(crossline_at_top=0.5, slope_traces_per_100ms=0.0,
                                                         throw_ms=28.0))
    volume = synthetic.generate(spec)
    fault = next(f for f in volume.ground_truth["features"] if f["kind"] == "fault")
    xl_fault = fault["plane"][0]["crossline"] - spec.first_crossline
    left = volume.data[2, int(xl_fault) - 3, :].astype(float)
    right = volume.data[2, int(xl_fault) + 3, :].astype(float)
    lags = np.arange(-20, 21)
    corr = [np.dot(left[30:-30], np.roll(right, -lag)[30:-30]) for lag in lags]
    lag_ms = lags[int(np.argmax(corr))] * spec.sample_interval_ms
    assert lag_ms == pytest.approx(fault["throw_ms"], abs=spec.sample_interval_ms)
    assert fault["throw_ms"] == 28.0


@pytest.mark.django_db
def test_a_little_endian_file_is_imported_bit_exact(tmp_path, segy_dir):
    path = tmp_path / "f3_little.sgy"
    with segyio.open(str(segy_dir / "f3.sgy")) as f:
        spec = segyio.tools.metadata(f)
        spec.endian = "little"
        with segyio.create(str(path), spec) as g:
            g.text[0], g.bin, g.header, g.trace = f.text[0], f.bin, f.header, f.trace
        cube = segyio.tools.cube(f)
    assert path.read_bytes()[3224:3226] == b"\x03\x00"  # sample format 3, least significant byte first
    survey = services.survey_import_segy(path=path, name="f3 little")
    assert "(2-byte integer, little-endian)" in survey.import_log
    assert (survey.inline_first, survey.crossline_first, survey.sample_count) == (111, 875, 75)
    assert survey.data_sha256 == hashlib.sha256(np.ascontiguousarray(cube, dtype="<f4").tobytes()).hexdigest()
    section = services.section_read(survey=survey, kind="crossline", number=880)
    np.testing.assert_array_equal(section.data, cube[:, 880 - 875, :])


def _f3_with(segy_dir: Path, tmp_path: Path, edit: Callable[[bytearray, Callable[[int], int]], None]) -> Path:
    content = bytearray((segy_dir / "f3.sgy").read_bytes())
    edit(content, lambda trace: 3600 + trace * (240 + 75 * 2))
    path = tmp_path / "edited.sgy"
    path.write_bytes(bytes(content))
    return path


def _random_traces(content: bytearray, _: Callable[[int], int]) -> None:
    content[3600:] = np.random.default_rng(1).bytes(len(content) - 3600)


def _middle_trace_longer(content: bytearray, at: Callable[[int], int]) -> None:
    content[at(207) + 114:at(207) + 116] = (76).to_bytes(2, "big")


def _last_trace_on_inline_1(content: bytearray, at: Callable[[int], int]) -> None:
    content[at(413) + 188:at(413) + 192] = (1).to_bytes(4, "big")


@pytest.mark.django_db
@pytest.mark.parametrize("edit,message", [
    (_random_traces, ("trace 1 of 414 has inline number -?[0-9]+ at bytes 189-192 of its header, which is no "
                      "inline number: the bytes after the file header are not SEG-Y traces")),
    (_middle_trace_longer, (r"the trace headers disagree on the number of samples per trace \(bytes 115-116\): 462 "
                            "in trace 1, 76 in trace 208, 462 in trace 414")),
    (_last_trace_on_inline_1, ("The traces are not in inline order: the inline numbers at bytes 189-192 are 111 in "
                               "trace 1, 122 in trace 208, 1 in trace 414 of 414")),
])
def test_trace_headers_that_are_not_seg_y_are_named_not_reported_as_unsorted(tmp_path, segy_dir, edit, message):
    with pytest.raises(InputError, match=message) as caught:
        services.survey_import_segy(path=_f3_with(segy_dir, tmp_path, edit), name="edited")
    assert "SEGYImport could not import" not in caught.value.message  # refused before SEGYImport ran
    assert not Survey.objects.exists() and not list(Path(settings.VIFSITE_SURVEY_DIR).glob("edited-*"))
