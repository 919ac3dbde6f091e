"""The high-stakes classifier (seismic.stakes): every hydrocarbon, reserves, well or drilling claim of the
labelled sets reaches a human, harmless sentences do not (measured on a held-out set), and the review gate
and the audit's out-of-scope rule use it alike."""

import json
from pathlib import Path

import pytest
from django.urls import reverse

from review.models import Escalation
from seismic import audit, stakes
from tests.review.conftest import own_ledger_no_sampling  # noqa: F401  (a fixture)

CORPUS = Path(stakes.__file__).resolve().parent / "corpus"
TRAINING = json.loads((CORPUS / "high_stakes.json").read_text(encoding="utf-8"))
HOLDOUT = json.loads((CORPUS / "high_stakes_holdout.json").read_text(encoding="utf-8"))
HELD_OUT_FALSE_ESCALATION_BOUND = 0.15  # measured 14.3 % (16.3 % on the first run), see the report in the file

# The four wordings of the issue that reached no human.
ISSUE_EXAMPLES = [
    ("No question, this is oil.", "hydrocarbon presence"),  # a certainty phrase with a negation word
    ("The trap holds an oil column whose thickness is unknown.", "hydrocarbon presence"),  # claim and limitation
    ("Condensate fills the upper sand.", "hydrocarbon presence"),  # a fluid outside the old vocabulary
    ("Spud the next appraisal on the crest.", "well location"),  # well placement in other words
    ("The crest is where the next well belongs.", "well location"),
]
CONTEXT = audit.Context(inline=audit.Axis(100, 750, 1), crossline=audit.Axis(300, 1250, 1),
                        sample=audit.Axis(0, 2000, 4))


def _high(corpus):
    return [case for case in corpus["cases"] if case["topics"]]


def _harmless(corpus):
    return [case for case in corpus["cases"] if not case["topics"]]


def _out_of_scope(text):
    return [(f["severity"], f["evidence"]["topic"]) for f in audit.audit(text, CONTEXT)["findings"]
            if f["category"] == "out_of_scope"]


def test_the_labelled_sets_are_large_and_use_the_gate_topics():
    assert len(_high(TRAINING)) >= 80 and len(_harmless(TRAINING)) >= 80
    assert len(_high(HOLDOUT)) >= 40 and len(_harmless(HOLDOUT)) >= 40
    assert {t for case in TRAINING["cases"] + HOLDOUT["cases"] for t in case["topics"]} == set(stakes.TOPICS)
    assert not {c["text"] for c in TRAINING["cases"]} & {c["text"] for c in HOLDOUT["cases"]}


@pytest.mark.parametrize("case", _high(TRAINING), ids=lambda case: case["text"][:60])
def test_every_high_stakes_training_sentence_is_escalated_with_its_topics(case):
    assert stakes.topics(case["text"]) == [t for t in stakes.TOPICS if t in case["topics"]], \
        [(h.topic, h.span) for h in stakes.classify(case["text"])]


@pytest.mark.parametrize("case", _high(HOLDOUT), ids=lambda case: case["text"][:60])
def test_every_high_stakes_held_out_sentence_is_escalated_with_its_topics(case):
    found = stakes.topics(case["text"])
    assert found, "would pass unreviewed"
    assert set(case["topics"]) <= set(found)


def test_no_harmless_training_sentence_is_escalated():
    escalated = {case["text"]: stakes.topics(case["text"]) for case in _harmless(TRAINING)}
    assert {text: topics for text, topics in escalated.items() if topics} == {}


def test_few_harmless_held_out_sentences_are_escalated(capsys):
    harmless = _harmless(HOLDOUT)
    escalated = [(case["text"], stakes.topics(case["text"])) for case in harmless if stakes.topics(case["text"])]
    rate = len(escalated) / len(harmless)
    with capsys.disabled():
        print(f"\nheld-out false escalations: {len(escalated)}/{len(harmless)} ({rate:.1%}); first run "
              f"{HOLDOUT['first_run']['harmless_escalated']}")
        for text, topics in escalated:
            print(f"  {text} -> {', '.join(topics)}")
    assert rate <= HELD_OUT_FALSE_ESCALATION_BOUND, escalated


@pytest.mark.parametrize("text, topics", [
    ("Gas cannot be established without AVO.", []),
    ("Whether the sand holds oil cannot be determined from seismic alone.", []),
    ("Fluid content is unknown.", []),
    ("The thickness of the gas column is unknown.", ["hydrocarbon presence"]),
    ("Gas cannot be established without AVO, but the next well belongs on the crest.", ["well location"]),
    ("The reservoir is barren.", ["hydrocarbon presence"]),
    ("There is no doubt the crest should be drilled.", ["drilling go/no-go"]),
    ("We should drill a well at the crest, as well as test the flank.", ["well location", "drilling go/no-go"]),
    ("The synthetic from the nearest well ties well; we reserve the deep window for QC.", []),
])
def test_only_a_clause_that_says_it_cannot_tell_is_exempt(text, topics):
    assert stakes.topics(text) == topics


def test_a_hit_names_its_words_its_clause_and_whether_it_is_hedged():
    text = "Lithology is unknown. The sand may hold gas, although this cannot be confirmed; the crest is gas-charged."
    hedged, definite = stakes.classify(text)
    assert (hedged.topic, hedged.span, hedged.hedged) == ("hydrocarbon presence", "gas", True)
    assert text[hedged.start:hedged.end] == "gas" and hedged.clause == "The sand may hold gas"
    assert (definite.span, definite.hedged, definite.clause) == ("gas-charged", False, "the crest is gas-charged.")


@pytest.mark.parametrize("text, expected", [
    ("The sand is oil-bearing, although porosity cannot be estimated from amplitudes.", [("CRITICAL", "hydrocarbons")]),
    ("The lower unit is a limestone, but its age cannot be determined.", [("HIGH", "lithology")]),
    ("The trap is barren.", [("CRITICAL", "hydrocarbons")]),
    ("Drill the crest, although lithology cannot be determined.", [("HIGH", "drilling or well placement")]),
    ("The bright spot might indicate gas.", [("MEDIUM", "hydrocarbons")]),
    ("The bright spot might indicate gas; AVO analysis would be needed to confirm it.", []),
    ("Porosity cannot be estimated from amplitudes, and gas cannot be established without AVO.", []),
])
def test_the_audit_finds_a_claim_next_to_an_unrelated_limitation(text, expected):
    assert _out_of_scope(text) == expected


def _submit(agent, survey, text):
    """A confident answer for a low-stakes task: nothing but the high-stakes rule would send it to a human."""
    url = reverse("api:seismic:section", kwargs={"survey_id": survey.pk, "section_type": "inline",
                                                 "section_number": "120"})
    section = agent.get(url).json()
    return agent.post(reverse("api:review:interpretation-submit"), {
        "text": text, "extraction_ids": [section["extraction_id"]], "model_id": "gpt-test", "confidence": 0.99,
        "task_criticality": "low_stakes"}, format="json")


@pytest.mark.usefixtures("own_ledger_no_sampling")
@pytest.mark.parametrize("text, topic", ISSUE_EXAMPLES)
def test_the_issue_wordings_are_escalated_and_flagged_by_the_audit(agent, f3, text, topic):
    response = _submit(agent, f3, text)
    data = response.json()
    assert response.status_code == 201 and data["status"] == "escalated", data
    assert Escalation.Reason.HIGH_STAKES in [r["code"] for r in data["escalation"]["reasons"]]
    assert topic in Escalation.objects.get(pk=data["escalation"]["id"]).high_stakes
    assert any(f["category"] == "out_of_scope" for f in data["findings"])


@pytest.mark.usefixtures("own_ledger_no_sampling")
def test_a_harmless_answer_with_false_trigger_words_is_accepted(agent, f3):
    text = ("The synthetic from the nearest well ties the main reflector as well as the deeper events; gas cannot "
            "be established without AVO.")
    data = _submit(agent, f3, text).json()
    assert data["status"] == "accepted" and "escalation" not in data, data


@pytest.mark.parametrize("sentence", ["No question, the fault offsets the reflector.",
                                      "The channel is not in any doubt.", "It is beyond any doubt a dome."])
def test_a_certainty_phrase_with_a_negation_word_is_overconfidence_in_the_audit(sentence):
    from seismic import audit

    assert [f.category for f in audit.check_certainty(sentence)] == ["overconfidence"]
