"""Lookups compiled once per connection (vifsite/db/compiled.py) give what the ORM gives, row for row, and
follow the database: a change, a deletion or a revoked key is seen by the next call. Rows inserted by a
compiled INSERT are the rows bulk_create writes."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from seismic import services
from seismic.models import Extraction, Survey
from tests.processes import manage, pg_url  # noqa: F401  (pg_url is a fixture)
from vifsite.db.compiled import CompiledInsert, CompiledQuery
from vifsite.errors import NotFound
from vifsite.vif import auth
from vifsite.vif.models import AgentKey

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    """Every loaded field (deferred ones read on demand, as the ORM's instance would)."""
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_a_compiled_survey_lookup_equals_the_orms_and_runs_one_query(f3):
    orm = Survey.objects.defer(*services.SURVEY_BULKY_FIELDS).get(pk=f3.pk)
    services.survey_get(survey_id=f3.pk)  # compiled for this connection
    with CaptureQueriesContext(connection) as queries:
        compiled = services.survey_get(survey_id=f3.pk)
    assert len(queries) == 1 and f'"seismic_survey"."id" = {f3.pk}' in queries[0]["sql"].replace("%s", str(f3.pk))
    assert "import_log" not in queries[0]["sql"]  # still deferred
    assert compiled.get_deferred_fields() == orm.get_deferred_fields() == set(services.SURVEY_BULKY_FIELDS)
    assert compiled.created_at.tzinfo is not None and type(compiled.imported) is bool  # the converters ran
    assert isinstance(compiled.coordinate_system, dict)
    assert _fields(compiled) == _fields(orm)  # JSON, dates, floats, the deferred import log read on demand
    assert compiled._state.db == "default" and not compiled._state.adding


def test_the_next_call_sees_a_change_and_a_deletion(f3):
    assert services.survey_get(survey_id=f3.pk).name == f3.name
    Survey.objects.filter(pk=f3.pk).update(name="renamed", inline_first=17)
    again = services.survey_get(survey_id=f3.pk)
    assert (again.name, again.inline_first) == ("renamed", 17)
    Survey.objects.filter(pk=f3.pk).delete()
    with pytest.raises(NotFound):
        services.survey_get(survey_id=f3.pk)


@pytest.mark.parametrize("survey_id", [2**63, -(2**63) - 1, 10**30])
def test_ids_no_column_can_hold_are_not_found_as_the_orm_says(f3, agent, survey_id):
    with pytest.raises(NotFound):
        services.survey_get(survey_id=survey_id)
    response = agent.get(f"/api/v1/surveys/{survey_id}/sections/inline/100/")
    assert response.status_code == 404 and "detail" in response.json()


def test_arguments_of_another_type_go_through_the_orm(f3):
    lookup = CompiledQuery(lambda name: Survey.objects.filter(name=name), probes=["\x00probe"])
    assert [s.pk for s in lookup.all(f3.name)] == [f3.pk]
    assert lookup.all(123) == []  # an int where the probe is a str: the ORM's answer, nothing compiled for it
    assert lookup.first("no such survey") is None


def test_queries_it_cannot_reuse_are_refused_when_first_compiled(f3):
    with pytest.raises(ValueError, match="plain model querysets"):
        CompiledQuery(lambda pk: Survey.objects.filter(pk=pk).values("name"), probes=[-5]).all(f3.pk)
    with pytest.raises(ValueError, match="appears 0 times"):  # the probe is changed on its way into SQL
        CompiledQuery(lambda name: Survey.objects.filter(name__contains=name), probes=["x-probe"]).all("F3")
    with pytest.raises(ValueError, match="appears 2 times"):
        CompiledQuery(lambda name: Survey.objects.filter(name=name) | Survey.objects.filter(description=name),
                      probes=["x-probe"]).all("F3")
    with pytest.raises(ValueError, match="distinct"):
        CompiledQuery(lambda a, b: Survey.objects.filter(pk=a, inline_first=b), probes=[-5, -5])


def test_an_agent_key_revoked_or_expired_after_its_lookup_was_compiled_is_refused_at_once(agent, agent_key):
    assert agent.get("/api/v1/surveys/").status_code == 200  # compiled and used
    row = AgentKey.objects.get(prefix=agent_key.partition(".")[0])
    row.revoked = True
    row.save()
    response = agent.get("/api/v1/surveys/")
    assert response.status_code in (401, 403) and response.json()["detail"] == "This API key has been revoked."
    row.revoked, row.expiry_date = False, timezone.now() - timedelta(seconds=1)
    row.save()
    response = agent.get("/api/v1/surveys/")
    assert response.status_code in (401, 403) and response.json()["detail"] == "This API key has expired."
    with pytest.raises(Exception, match="Unknown API key"):
        auth.agent_key_check(agent_key[:-1] + ("x" if agent_key[-1] != "x" else "y"))  # right prefix, wrong key


def _extraction(survey: Survey, **changes) -> Extraction:
    values = {"survey": survey, "kind": Extraction.Kind.INLINE, "number": 120.0, "ranges": {"sample": [0.0, 4.0]},
              "parameters": {"format": "float32", "cached": True}, "shape": [3, 2],
              "statistics": {"mean": -0.0123, "p": [1.5, None]}, "array_sha256": "a" * 64,
              "survey_data_sha256": "b" * 64, "openvds_version": "3", "app_version": "v", "principal": "agent:x",
              "vif_id": uuid.uuid4()}
    return Extraction(**{**values, **changes})


def _row(model, pk) -> dict:
    return {k: v for k, v in model.objects.filter(pk=pk).values().get().items() if k not in ("id", "vif_id")}


def test_a_compiled_insert_writes_the_row_bulk_create_writes(f3):
    insert = CompiledInsert(Extraction)
    for _ in range(2):  # compiled, then reused
        compiled = insert.insert(_extraction(f3))
        reference = Extraction.objects.bulk_create([_extraction(f3)])[0]
        assert compiled.pk is not None and compiled.pk != reference.pk and not compiled._state.adding
        assert compiled._state.db == "default" and compiled.created_at is not None  # auto_now_add ran
        compiled_row, reference_row = _row(Extraction, compiled.pk), _row(Extraction, reference.pk)
        assert abs(compiled_row.pop("created_at") - reference_row.pop("created_at")) < timedelta(seconds=5)
        assert compiled_row == reference_row
    assert Extraction.objects.get(pk=compiled.pk).vif_id == compiled.vif_id


def test_a_compiled_insert_leaves_expressions_and_given_ids_to_bulk_create(f3):
    from django.db.models import Value
    from django.db.models.functions import Upper

    insert = CompiledInsert(Extraction)
    insert.insert(_extraction(f3))
    shouted = insert.insert(_extraction(f3, principal=Upper(Value("agent:y"))))
    assert Extraction.objects.get(pk=shouted.pk).principal == "AGENT:Y"
    given = insert.insert(_extraction(f3, id=987654))
    assert given.pk == 987654 and Extraction.objects.filter(pk=987654).exists()
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017  a duplicate fails as bulk_create's does
        insert.insert(_extraction(f3, vif_id=given.vif_id))
    assert Extraction.objects.filter(vif_id=given.vif_id).count() == 1


@pytest.mark.postgres
@pytest.mark.slow
def test_compiled_lookups_equal_the_orms_on_postgresql(pg_url, tmp_path, segy_dir):  # noqa: F811
    manage(pg_url, tmp_path, "migrate", "--noinput", "-v", "0")
    manage(pg_url, tmp_path, "import_segy", str(segy_dir / "f3_withdead.sgy"), "--name", "f3")
    script = (
        "import json; from django.db import connection; from seismic import services; "
        "from seismic.models import Survey; from vifsite.vif import auth; from vifsite.vif.models import AgentKey; "
        "_, key = AgentKey.objects.create_key(name='pg'); s = Survey.objects.get(name='f3'); "
        "fields = lambda o: {f.attname: str(getattr(o, f.attname)) for f in type(o)._meta.concrete_fields}; "
        "orm = Survey.objects.defer(*services.SURVEY_BULKY_FIELDS).get(pk=s.pk); "
        "runs = [fields(services.survey_get(survey_id=s.pk)) for _ in range(3)]; "
        "k = [fields(auth.agent_key_check(key)) for _ in range(2)]; "
        "from vifsite.db.compiled import CompiledInsert; from seismic.models import Extraction; import uuid; "
        "new = lambda: Extraction(survey=s, kind='inline', number=1.0, ranges={'a': [1.5]}, statistics={'m': None}, "
        "array_sha256='a', survey_data_sha256='b', openvds_version='3', app_version='v', principal='p', "
        "vif_id=uuid.uuid4()); ins = CompiledInsert(Extraction); "
        "made = [ins.insert(new()) for _ in range(3)]; ref = Extraction.objects.bulk_create([new()])[0]; "
        "row = lambda pk: {k: str(v) for k, v in Extraction.objects.filter(pk=pk).values().get().items() "
        "if k not in ('id', 'vif_id', 'created_at')}; "
        "print(json.dumps({'vendor': connection.vendor, 'same': all(r == fields(orm) for r in runs), "
        "'key': all(x == fields(AgentKey.objects.get(name='pg')) for x in k), "
        "'insert': all(row(m.pk) == row(ref.pk) and m.pk for m in made) and len({m.pk for m in made}) == 3, "
        "'deferred': sorted(services.survey_get(survey_id=s.pk).get_deferred_fields())}))"
    )
    out = json.loads(manage(pg_url, tmp_path, "shell", "-v", "0", "-c", script).stdout)
    assert out == {"vendor": "postgresql", "same": True, "key": True, "insert": True,
                   "deferred": sorted(services.SURVEY_BULKY_FIELDS)}


@pytest.mark.django_db(transaction=True)
def test_a_compiled_insert_outside_a_transaction_runs_in_one_as_bulk_create_does(f3):
    insert = CompiledInsert(Extraction)
    insert.insert(_extraction(f3))
    with CaptureQueriesContext(connection) as queries:
        made = insert.insert(_extraction(f3))
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    # SQLite's writers of a process queue in turn at BEGIN (vifsite/db/sqlite3); a bare INSERT would not.
    assert statements == ["BEGIN", "INSERT", "COMMIT"], statements
    assert Extraction.objects.filter(pk=made.pk).exists()
