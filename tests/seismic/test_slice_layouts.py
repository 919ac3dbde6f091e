"""Slice layouts at import: a volume imported with 2D slice bricks reads the same sections, bit for bit, as one
imported without them and as segyio; the option can be turned off from the command line and the API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import segyio
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from seismic import services, synthetic, vds
from seismic.models import Survey, SurveyImport


@pytest.fixture(autouse=True)
def survey_dir(tmp_path, settings) -> None:
    settings.VIFSITE_SURVEY_DIR = tmp_path / "surveys"  # what each test's imports leave, and only that


def _bits(array: np.ndarray) -> bytes:
    """The exact float32 bits (so -0.0 is not 0.0, and NaN equals the same NaN)."""
    return np.ascontiguousarray(array, dtype="<f4").tobytes()


def _every_section_is_identical(surveys: list[Survey], cube: np.ndarray) -> int:
    """Each inline, crossline and timeslice of each survey's volume, read through the project's reader with a
    fresh handle, has exactly the bits of the SEG-Y ``cube`` (inline, crossline, sample); returns how many."""
    geometry = surveys[0].geometry()
    n_il, n_xl, n_s = geometry.inline.count, geometry.crossline.count, geometry.sample.count
    boxes = ([((i, 0, 0), (i + 1, n_xl, n_s)) for i in range(n_il)]
             + [((0, x, 0), (n_il, x + 1, n_s)) for x in range(n_xl)]
             + [((0, 0, s), (n_il, n_xl, s + 1)) for s in range(n_s)])
    for survey in surveys:
        vds.close(survey.vds_url)
        for lo, hi in boxes:
            data = vds.read_subset(survey.vds_url, geometry, lo, hi)
            expected = cube[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
            assert _bits(data) == _bits(expected), (survey.name, lo, hi)
    return len(boxes)


def _import_both(path: Path, name: str, **options) -> tuple[Survey, Survey]:
    plain = services.survey_import_segy(path=path, name=f"{name} plain", slice_layouts=False, **options)
    sliced = services.survey_import_segy(path=path, name=f"{name} slices", slice_layouts=True, **options)
    return plain, sliced


@pytest.mark.django_db
def test_a_slice_layout_import_reads_every_section_bit_for_bit_as_the_plain_import_and_segyio(small_synthetic):
    _, segy_path, _ = small_synthetic
    plain, sliced = _import_both(segy_path, "syn")
    assert (plain.slice_layouts, sliced.slice_layouts) == (False, True)
    assert not vds.has_slice_layouts(plain.vds_url) and vds.has_slice_layouts(sliced.vds_url)
    assert sliced.data_sha256 == plain.data_sha256 and sliced.live_traces == plain.live_traces
    assert "Slice layouts added in" in sliced.import_log and "Slice layouts" not in plain.import_log
    assert "Successfully imported" in sliced.import_log  # SEGYImport's own log is kept
    with segyio.open(str(segy_path)) as f:
        cube = segyio.tools.cube(f)
    assert _every_section_is_identical([plain, sliced], cube) == 40 + 36 + 160
    # Nothing but the two volumes is left in the survey folder: no partial file of either step.
    assert sorted(p.name for p in Path(settings.VIFSITE_SURVEY_DIR).iterdir()) == sorted(
        Path(s.vds_url).name for s in (plain, sliced))


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["f3", "f3_withdead"])
def test_real_ibm_float_files_read_the_same_with_slice_layouts(segy_dir, name):
    plain, sliced = _import_both(segy_dir / f"{name}.sgy", name)
    assert sliced.slice_layouts and sliced.data_sha256 == plain.data_sha256
    for kind, number in (("inline", plain.inline_first + 2), ("crossline", plain.crossline_first + 3),
                         ("timeslice", plain.sample_first + 10 * plain.sample_step)):
        a = services.section_read(survey=plain, kind=kind, number=number)
        b = services.section_read(survey=sliced, kind=kind, number=number)
        assert _bits(a.data) == _bits(b.data) and np.array_equal(a.live, b.live), kind


@pytest.mark.slow
@pytest.mark.django_db
def test_sections_across_slice_brick_boundaries_are_identical(tmp_path):
    """Past 256 samples on every axis, each section spans several 2D bricks (and 64-sample 3D bricks)."""
    volume = synthetic.generate(synthetic.SyntheticSpec(n_inlines=260, n_crosslines=270, n_samples=280, seed=5))
    synthetic.write_segy(volume, tmp_path / "big.sgy")
    plain, sliced = _import_both(tmp_path / "big.sgy", "big")
    with segyio.open(str(tmp_path / "big.sgy")) as f:
        cube = segyio.tools.cube(f)
    assert _every_section_is_identical([plain, sliced], cube) == 260 + 270 + 280


@pytest.mark.django_db
def test_a_2d_line_is_imported_without_slice_layouts_it_cannot_have(segy_dir):
    survey = services.survey_import_segy(path=segy_dir / "penobscot_xl1155.sgy", name="2d", two_d=True,
                                         cdp_byte=189, slice_layouts=True)
    assert survey.slice_layouts is False and "Slice layouts" not in survey.import_log


@pytest.mark.django_db
def test_the_import_command_adds_slice_layouts_unless_told_not_to(segy_dir):
    call_command("import_segy", str(segy_dir / "f3.sgy"), name="default")
    call_command("import_segy", str(segy_dir / "f3.sgy"), name="off", slice_layouts=False)
    call_command("import_segy", str(segy_dir / "f3.sgy"), "--no-slice-layouts", name="off too")
    surveys = {s.name: s for s in Survey.objects.all()}
    assert services.SLICE_LAYOUTS_DEFAULT is True and surveys["default"].slice_layouts is True
    assert surveys["off"].slice_layouts is False and surveys["off too"].slice_layouts is False
    assert not vds.has_slice_layouts(surveys["off too"].vds_url)
    assert surveys["off"].data_sha256 == surveys["default"].data_sha256


@pytest.mark.django_db
def test_registering_a_volume_records_whether_it_has_slice_layouts(small_synthetic, tmp_path):
    _, _, plain_path = small_synthetic
    sliced_path = tmp_path / "sliced.vds"
    vds.copy_with_slice_layouts(str(plain_path), str(sliced_path))
    plain = services.survey_register_vds(url=str(plain_path), name="plain", restrict_to_roots=False)
    sliced = services.survey_register_vds(url=str(sliced_path), name="sliced", restrict_to_roots=False)
    assert (plain.slice_layouts, sliced.slice_layouts) == (False, True)
    assert plain.data_sha256 == sliced.data_sha256


def _upload(manager_agent, segy_dir, name: str, **fields):
    url = reverse("api:seismic:survey-import-create")
    with open(segy_dir / "f3.sgy", "rb") as handle:
        return manager_agent.post(url, {"file": handle, "name": name, **fields}, format="multipart")


def test_the_api_import_keeps_the_slice_layout_option_in_its_job(manager_agent, segy_dir,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        default = _upload(manager_agent, segy_dir, "default")  # omitted from the form: the default, not False
        off = _upload(manager_agent, segy_dir, "off", slice_layouts="false")
    assert default.status_code == 202 and off.status_code == 202
    assert default.json()["options"]["slice_layouts"] is True and off.json()["options"]["slice_layouts"] is False
    jobs = {job.name: job for job in SurveyImport.objects.all()}
    assert {name: job.status for name, job in jobs.items()} == {"default": "succeeded", "off": "succeeded"}
    assert jobs["default"].survey.slice_layouts is True and jobs["off"].survey.slice_layouts is False
    assert "Slice layouts added" in jobs["default"].log


def test_the_api_refuses_a_slice_layout_option_that_is_no_boolean(manager_agent, segy_dir):
    response = _upload(manager_agent, segy_dir, "x", slice_layouts="perhaps")
    assert response.status_code == 400 and "slice_layouts" in response.json()
    assert "boolean" in str(response.json()["slice_layouts"]) and not SurveyImport.objects.exists()


@pytest.mark.django_db
def test_progress_runs_once_to_100_through_both_tools(segy_dir):
    seen: list[float] = []
    services.survey_import_segy(path=segy_dir / "penobscot_xl1155.sgy", name="p", progress=seen.append)
    share = services.SEGYIMPORT_PROGRESS_SHARE  # SEGYImport's part, VDSCopy's after it
    assert seen == sorted(seen) and seen[-1] == 100.0
    assert any(value < share for value in seen) and any(share < value < 100.0 for value in seen)
