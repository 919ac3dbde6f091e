"""Every extraction is witnessed in the ledger and can be replayed bit for bit."""

import pytest
from django.urls import reverse

from seismic import synthetic, vds
from vifsite.vif import ledger, signing
from vifsite.vif.models import Witness


@pytest.fixture(autouse=True)
def ledger_dir(settings, tmp_path):
    settings.VIFSITE_LEDGER_DIR = tmp_path / "ledger"


def test_an_extraction_leaves_a_tool_witness_with_its_parameters_and_result_hash(agent, synthetic_survey):
    url = reverse("api:seismic:section", kwargs={"survey_id": synthetic_survey.pk, "section_type": "inline",
                                                 "section_number": "1010"})
    data = agent.get(url, {"crossline_min": 2005, "crossline_max": 2020}).json()
    witness = Witness.objects.get(vif_id=data["provenance"]["vif_id"])
    assert witness.operation == "tool" and witness.tool_ids == ["extract_section"] and witness.writer == "agent:bot"
    assert witness.tool_parameters["survey_id"] == synthetic_survey.pk
    assert witness.tool_parameters["ranges"] == {"crossline": [2005.0, 2020.0]}
    assert witness.tool_parameters["extraction_id"] == data["extraction_id"]
    expected = signing.sha256_hex(signing.canonical({"data_sha256": data["provenance"]["data_sha256"],
                                                     "statistics": data["statistics"]}))
    assert witness.tool_results_hash == expected
    assert ledger.verify().ok


def test_replaying_an_extraction_matches_bit_for_bit(agent, synthetic_survey):
    url = reverse("api:seismic:section", kwargs={"survey_id": synthetic_survey.pk, "section_type": "timeslice",
                                                 "section_number": str(synthetic_survey.sample_first + 40)})
    vif_id = agent.get(url).json()["provenance"]["vif_id"]
    result = agent.post(reverse("api:vif:witness-replay", kwargs={"vif_id": vif_id}), {"runs": 3},
                        format="json").json()
    assert result["matches"] and result["deterministic"] and result["distinct_results"] == 1
    assert result["differences"] == []


def test_a_replay_on_changed_data_names_the_survey_hash(agent, synthetic_survey, small_synthetic, tmp_path):
    url = reverse("api:seismic:section", kwargs={"survey_id": synthetic_survey.pk, "section_type": "crossline",
                                                 "section_number": "2010"})
    vif_id = agent.get(url).json()["provenance"]["vif_id"]
    # The survey's volume is replaced by another of the same geometry (a different noise seed).
    other = synthetic.generate(synthetic.SyntheticSpec(n_inlines=40, n_crosslines=36, n_samples=160, seed=4))
    synthetic.write_segy(other, tmp_path / "other.sgy")
    vds.segy_import(str(tmp_path / "other.sgy"), str(tmp_path / "other.vds"))
    geometry = vds.read_geometry(str(tmp_path / "other.vds"))
    synthetic_survey.vds_url = str(tmp_path / "other.vds")
    synthetic_survey.data_sha256 = vds.scan_volume(synthetic_survey.vds_url, geometry)[0]
    synthetic_survey.save()
    result = agent.post(reverse("api:vif:witness-replay", kwargs={"vif_id": vif_id}), {}, format="json").json()
    assert not result["matches"]
    assert [d["input"] for d in result["differences"]] == ["survey_data_sha256"]
    assert "survey_data_sha256" in result["explanation"]
    vds.close(synthetic_survey.vds_url)


def test_an_llm_replay_compares_the_output_and_names_changed_inputs(agent):
    body = {"model_id": "local-7b", "prompt": "p", "output": "answer", "confidence": 0.9,
            "task_criticality": "routine", "replay_seed": 42, "temperature": 0.0}
    vif_id = agent.post(reverse("api:vif:witness-create"), body, format="json").json()["vif_id"]
    replay_url = reverse("api:vif:witness-replay", kwargs={"vif_id": vif_id})
    same = agent.post(replay_url, {"output": "answer", "replay_seed": 42, "temperature": 0.0}, format="json").json()
    assert same["matches"] and same["differences"] == []
    differs = agent.post(replay_url, {"outputs": ["answer", "other answer"], "replay_seed": 43, "prompt": "p2"},
                         format="json").json()
    assert not differs["matches"] and differs["distinct_results"] == 2 and differs["matching_runs"] == 1
    assert {d["input"] for d in differs["differences"]} == {"replay_seed", "prompt_hash"}
    assert agent.post(replay_url, {}, format="json").status_code == 400


def test_a_section_error_leaves_no_witness(agent, synthetic_survey):
    url = reverse("api:seismic:section", kwargs={"survey_id": synthetic_survey.pk, "section_type": "inline",
                                                 "section_number": "9999"})
    assert agent.get(url).status_code == 400
    assert Witness.objects.count() == 0
