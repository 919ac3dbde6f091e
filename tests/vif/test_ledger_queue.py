"""Witnesses are queued as leaves and integrated into the chain in batches: a queued leaf is not an entry
until it is integrated, one integration sequences every leaf it sees, a leaf left behind by a request that
died is integrated by the next batch or the task, and verification counts what is still queued."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.vif.conftest import witness_input
from vifsite.vif import ledger, services, signing, tasks
from vifsite.vif.models import IdempotentRequest, LedgerHead, Witness


def tool_leaf(n: int) -> Witness:
    return services.witness_record_tool(tool_id="t", parameters={"n": n}, result_hash="a" * 64,
                                        writer="agent:bot", integrate=False)


@pytest.mark.django_db
def test_a_queued_leaf_has_its_payload_but_no_entry_until_integrated():
    leaf = tool_leaf(1)
    row = Witness.objects.get(pk=leaf.pk)
    assert row.sequence is None and row.entry_hash is None and row.signature == ""
    assert row.payload_hash == signing.sha256_hex(row.payload_jcs.encode())
    assert LedgerHead.objects.get().sequence == 0
    result = ledger.verify()
    assert result.ok and result.checked == 0 and result.pending == 1
    assert "queued but not yet sequenced" in " ".join(result.notes)

    assert ledger.integrate([leaf]) == 1
    assert leaf.sequence == 1 and leaf.prev_hash == signing.GENESIS
    assert ledger.site_key().verify(leaf.entry_jcs.encode(), leaf.signature)
    result = ledger.verify()
    assert result.ok and result.checked == 1 and result.pending == 0


@pytest.mark.django_db
def test_one_integration_sequences_every_leaf_it_sees_in_one_batch_and_the_others_find_theirs_done():
    single = [tool_leaf(99)]
    with CaptureQueriesContext(connection) as one:
        assert ledger.integrate(single) == 1
    leaves = [tool_leaf(i) for i in range(5)]
    with CaptureQueriesContext(connection) as first:
        assert ledger.integrate([leaves[0]]) == 5
    # As many statements for a batch of five as for one: the lock is taken once per batch, not per leaf.
    assert len(first.captured_queries) == len(one.captured_queries), first.captured_queries
    with CaptureQueriesContext(connection) as later:
        assert ledger.integrate(leaves[1:]) == 0
    assert not any("ledger" in q["sql"].lower() and "update" in q["sql"].lower() for q in later.captured_queries)
    assert [w.sequence for w in leaves] == [2, 3, 4, 5, 6]
    assert all(b.prev_hash == a.entry_hash for a, b in zip(leaves, leaves[1:], strict=False))
    assert ledger.verify().ok


@pytest.mark.django_db
def test_with_nothing_queued_a_batch_neither_locks_nor_writes():
    tool_leaf(1)
    assert ledger.integrate() == 1
    moved = LedgerHead.objects.get().updated_at
    # The integrator thread goes round once more after each batch, and wakes after others took its leaves.
    with CaptureQueriesContext(connection) as idle:
        assert ledger.integrate() == 0
    assert len(idle.captured_queries) == 1 and idle.captured_queries[0]["sql"].startswith("SELECT 1 FROM")
    assert LedgerHead.objects.get().updated_at == moved
    tool_leaf(2)
    assert ledger.integrate() == 1 and LedgerHead.objects.get().sequence == 2


@pytest.mark.django_db
def test_a_leaf_left_by_a_dead_request_is_integrated_by_the_next_batch_or_the_task():
    orphan = tool_leaf(1)  # its request died before integrating
    recorded = services.witness_record_many(items=[witness_input()], writer="agent:bot")
    assert Witness.objects.get(pk=orphan.pk).sequence == 1 and recorded[0].witness.sequence == 2
    again = tool_leaf(2)
    assert tasks.ledger_integrate() == 1
    assert Witness.objects.get(pk=again.pk).sequence == 3
    assert tasks.ledger_integrate() == 0
    call_command("verify_ledger")


@pytest.mark.django_db
def test_integration_inside_a_transaction_that_rolls_back_leaves_no_entry_and_no_head_move():
    committed = services.witness_record_tool(tool_id="t", parameters={}, result_hash="b" * 64, writer="agent:bot")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.witness_record_tool(tool_id="t", parameters={}, result_hash="c" * 64, writer="agent:bot")
        raise RuntimeError("the request failed after witnessing")
    assert list(Witness.objects.values_list("sequence", flat=True)) == [committed.sequence]
    assert LedgerHead.objects.get().sequence == 1
    assert ledger.verify().ok


@pytest.mark.django_db
def test_a_tampered_leaf_is_caught_after_integration():
    leaf = tool_leaf(1)
    from django.db import models

    models.QuerySet(model=Witness).filter(pk=leaf.pk).update(tool_parameters={"n": 999})
    ledger.integrate([leaf])
    result = ledger.verify()
    assert not result.ok and result.first_bad_sequence == 1
    assert "differ from its signed payload" in result.problem


@pytest.mark.django_db
def test_expired_idempotency_answers_are_pruned():
    now = timezone.now()
    IdempotentRequest.objects.create(principal="agent:a", key="old", request_hash="x",
                                     created_at=now - services.IDEMPOTENCY_WINDOW - timedelta(minutes=1))
    IdempotentRequest.objects.create(principal="agent:a", key="new", request_hash="x", created_at=now)
    assert tasks.idempotency_prune() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
