"""A repeated section read takes its statistics from the cache, says so in its witness, and replays."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from seismic import services, synthetic, vds
from vifsite.vif import replay
from vifsite.vif.models import Witness


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def _extract(survey, kind="inline", number=1010.0, ranges=None):
    section, extraction = services.section_extract(survey=survey, kind=kind, number=number, ranges=ranges,
                                                   principal="agent:bot")
    return extraction, Witness.objects.get(vif_id=extraction.vif_id)


def test_a_repeat_read_is_served_from_the_cache_and_both_witnesses_replay(synthetic_survey):
    first, first_witness = _extract(synthetic_survey, ranges={"crossline": (2005, 2020)})
    second, second_witness = _extract(synthetic_survey, ranges={"crossline": (2005, 2020)})

    assert first_witness.tool_parameters["statistics_cached"] is False
    assert second_witness.tool_parameters["statistics_cached"] is True
    assert (first.parameters["statistics_cached"], second.parameters["statistics_cached"]) == (False, True)
    assert second.statistics == first.statistics
    assert second.array_sha256 == first.array_sha256
    assert second_witness.tool_results_hash == first_witness.tool_results_hash
    # The statistics served are those a fresh computation gives.
    section = services.section_read(survey=synthetic_survey, kind="inline", number=1010.0,
                                    ranges={"crossline": (2005, 2020)})
    assert second.statistics == services.section_statistics(section)
    for witness in (first_witness, second_witness):
        outcome = replay.replay_tool(witness)
        assert outcome["matches"] and outcome["differences"] == []


def test_the_cache_flag_reaches_the_agent_in_the_provenance(agent, synthetic_survey):
    url = reverse("api:seismic:section", kwargs={"survey_id": synthetic_survey.pk, "section_type": "timeslice",
                                                 "section_number": str(synthetic_survey.sample_first + 40)})
    first, second = agent.get(url).json(), agent.get(url).json()
    assert first["provenance"]["parameters"]["statistics_cached"] is False
    assert second["provenance"]["parameters"]["statistics_cached"] is True
    assert second["statistics"] == first["statistics"]
    result = agent.post(reverse("api:vif:witness-replay", kwargs={"vif_id": second["provenance"]["vif_id"]}), {},
                        format="json").json()
    assert result["matches"]


def test_another_section_or_other_ranges_are_computed(synthetic_survey):
    _extract(synthetic_survey)
    _, other_ranges = _extract(synthetic_survey, ranges={"sample": (100, 400)})
    _, other_section = _extract(synthetic_survey, number=1011.0)
    _, crossline = _extract(synthetic_survey, kind="crossline", number=2010.0)
    _, again = _extract(synthetic_survey)
    assert [w.tool_parameters["statistics_cached"] for w in (other_ranges, other_section, crossline, again)] == [
        False, False, False, True]


def test_data_changed_behind_the_surveys_recorded_hash_is_not_served_stale(synthetic_survey, tmp_path):
    before, _ = _extract(synthetic_survey)
    # The volume is replaced by one of the same geometry and different noise, the recorded hash left as it was.
    other = synthetic.generate(synthetic.SyntheticSpec(n_inlines=40, n_crosslines=36, n_samples=160, seed=4))
    synthetic.write_segy(other, tmp_path / "other.sgy")
    vds.segy_import(str(tmp_path / "other.sgy"), str(tmp_path / "other.vds"))
    synthetic_survey.vds_url = str(tmp_path / "other.vds")
    synthetic_survey.save(update_fields=["vds_url"])
    after, witness = _extract(synthetic_survey)
    assert witness.tool_parameters["statistics_cached"] is False
    assert after.array_sha256 != before.array_sha256 and after.statistics["mean"] != before.statistics["mean"]
    section = services.section_read(survey=synthetic_survey, kind="inline", number=1010.0)
    assert after.statistics == services.section_statistics(section)
    vds.close(synthetic_survey.vds_url)


def test_an_unreachable_cache_costs_the_computation_not_the_extraction(synthetic_survey, settings, caplog):
    settings.CACHES = {"default": {"BACKEND": "vifsite.cache.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    first, first_witness = _extract(synthetic_survey)
    second, second_witness = _extract(synthetic_survey)
    assert [first_witness.tool_parameters["statistics_cached"],
            second_witness.tool_parameters["statistics_cached"]] == [False, False]
    assert second.statistics == first.statistics
    assert replay.replay_tool(second_witness)["matches"]
    assert "statistics cache could not be read" in caplog.text
