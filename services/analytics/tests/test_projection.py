"""The projections: refused events never crash the consumer, replays change nothing, and a
rebuild from the streams arrives at the same numbers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY
from sotay_analytics import rebuild
from sotay_contracts import new_cloud_event
from sotay_contracts.events import documents as dev
from sotay_contracts.events import meetings as mev
from sotay_devstack.testing import Infra

from .conftest import REPORT_NOW, AnalyticsApp, at, month_scenario, notified_batch


def _refused(reason: str) -> float:
    return (
        REGISTRY.get_sample_value("sotay_analytics_events_refused_total", {"reason": reason}) or 0.0
    )


async def _dlq_reasons(svc: AnalyticsApp) -> list[str]:
    js = svc.nc.jetstream()
    info = await js.stream_info("DLQ")
    reasons = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg("DLQ", seq)
        assert msg.headers is not None
        reasons.append(msg.headers["Sotay-Dlq-Reason"])
    return reasons


async def test_event_from_the_future_is_dead_lettered(svc: AnalyticsApp) -> None:
    w = svc.world
    before = _refused("future")
    good = dev.DocumentRead(
        document_id=uuid.uuid4(),
        version=1,
        member_id=w.members["a1"],
        cell_id=w.orgs["cell_a"],
        org_path="1.2.3.4",
        state=dev.ReadState.OPENED,
        progress_percent=10,
        occurred_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    future = good.model_copy(
        update={"member_id": w.members["a2"], "occurred_at": datetime.now(UTC) + timedelta(days=2)}
    )
    await svc.publish(good, future, good.model_copy(update={"member_id": w.members["a3"]}))
    assert await svc.consume() == 1
    assert _refused("future") == before + 1
    [reason] = await _dlq_reasons(svc)
    assert reason.startswith("rejected: occurred_at in the future")
    # The other events of the batch were applied.
    readers = await svc.pool.fetch("SELECT member_id FROM an_reads")
    assert {r[0] for r in readers} == {w.members["a1"], w.members["a3"]}


async def test_event_for_an_unknown_org_is_retried_then_dead_lettered(svc: AnalyticsApp) -> None:
    w = svc.world
    before = _refused("unknown_org")
    start = at("2026-11-10T12:00:00+00:00")
    stranger = mev.AttendanceRecorded(
        meeting_id=uuid.uuid4(),
        member_id=w.members["a1"],
        org_id=uuid.uuid4(),
        org_path="1.99",
        meeting_kind=mev.MeetingKind.REGULAR,
        meeting_starts_at=start,
        status=mev.AttendanceStatus.PRESENT,
        method=mev.AttendanceMethod.CODE,
        recorded_by=w.members["a1"],
        occurred_at=start,
    )
    await svc.publish(stranger)
    # One delivery allowed: the retry budget is exhausted at once (the default is 8 with
    # backoff, which covers an identity projection that is merely behind).
    assert await svc.consume(max_deliver=1) == 1
    assert _refused("unknown_org") > before
    [reason] = await _dlq_reasons(svc)
    assert reason == "max_deliveries: UnknownOrg"
    assert await svc.pool.fetchval("SELECT count(*) FROM an_attendance") == 0


async def test_a_redelivered_batch_of_deliveries_changes_nothing(svc: AnalyticsApp) -> None:
    """Notified counts from delivered_batch.v1: the same batch again (redelivered under
    another message id) or reported again later (another event) changes no number."""
    scenario = month_scenario(svc.world)
    await svc.feed(*scenario.events)
    rows = "SELECT * FROM an_notifications ORDER BY cause_type, cause_id, member_id"
    before = [tuple(r) for r in await svc.pool.fetch(rows)]
    reach = await svc.report("document-reach", "b4", org_id=str(svc.world.orgs["cell_a"]))

    batch = notified_batch(svc.world, scenario.p1, "a1", "a2", "a3")
    ce = new_cloud_event(batch)
    js = svc.nc.jetstream()
    headers = ce.to_nats_headers()
    await js.publish(ce.nats_subject, ce.data, headers=headers)
    await js.publish(
        ce.nats_subject, ce.data, headers=headers | {"Nats-Msg-Id": f"again-{uuid.uuid4()}"}
    )
    later = batch.model_copy(update={"occurred_at": at("2026-10-06T00:00:00+00:00")})
    await svc.publish(later)
    assert await svc.consume() == 0

    assert [tuple(r) for r in await svc.pool.fetch(rows)] == before
    again = await svc.report("document-reach", "b4", org_id=str(svc.world.orgs["cell_a"]))
    assert again["rows"] == reach["rows"] and again["total"] == reach["total"]


async def test_audience_waits_for_members_that_arrive_late(svc: AnalyticsApp) -> None:
    """A publication applied before the identity events of its members (the identity
    consumer behind): the audience completes when they arrive, as of publication time."""
    w = svc.world
    cell = w.org("cell_d", "commune", "1.2.3.8", "cell")
    await svc.feed(cell)
    late = [w.member(f"d{i}", "cell_d", at=at("2026-10-01T00:00:00+00:00")) for i in range(3)]
    pub = dev.DocumentPublished(
        document_id=uuid.uuid4(),
        version=1,
        publication_id=uuid.uuid4(),
        audience_org_ids=[w.orgs["cell_d"]],
        audience_org_paths=["1.2.3.8"],
        audience_size=3,
        study_required=False,
        classification=dev.Classification.PUBLIC,
        kind=dev.DocumentKind.NOTICE,
        published_by=w.members["b4"],
        publisher_org_id=w.orgs["district"],
        occurred_at=at("2026-10-05T00:00:00+00:00"),
    )
    await svc.feed(pub)
    assert await svc.pool.fetchval("SELECT count(*) FROM an_audience") == 0
    await svc.feed(*late)
    assert await svc.pool.fetchval("SELECT count(*) FROM an_audience") == 3
    assert await svc.pool.fetchval("SELECT bool_and(audience_complete) FROM an_publications")


async def test_rebuild_from_the_streams_gives_the_same_numbers(
    svc: AnalyticsApp, infra: Infra
) -> None:
    scenario = month_scenario(svc.world)
    await svc.feed(*scenario.events)
    before = await svc.report("attendance", "c1", **{"from": "2026-10", "to": "2026-11"})
    dsn = svc.settings.database_url

    result = await rebuild.rebuild(dsn, infra.nats_url(), now=REPORT_NOW)
    assert result.equal, result.differences
    assert result.dead_lettered == 0
    assert result.applied["MEETINGS"] == 22 and result.applied["DOCUMENTS"] == 10
    assert result.rebuilt["rows.an_audience"] == 17  # P1 10 + P2 3 + P3 4 (retracted)
    assert result.rebuilt["adoption.1"]["total"]["members"] == 13

    # Swap the rebuilt tables in, then keep consuming: nothing applied twice.
    w = svc.world
    more = dev.DocumentRead(
        document_id=scenario.doc1,
        version=1,
        publication_id=scenario.p1,
        member_id=w.members["b2"],
        cell_id=w.orgs["cell_b"],
        org_path="1.2.3.5",
        state=dev.ReadState.STUDIED,
        progress_percent=100,
        occurred_at=at("2026-11-12T00:00:00+00:00"),
    )
    await svc.publish(more)  # after the rebuild's cut-off, before the swap: caught up by it
    result = await rebuild.rebuild(dsn, infra.nats_url(), swap=True, now=REPORT_NOW)
    assert result.swapped and result.caught_up == 0
    assert await svc.consume() == 0
    after = await svc.report("attendance", "c1", **{"from": "2026-10", "to": "2026-11"})
    assert after["rows"] == before["rows"]
    reach = await svc.report("document-reach", "b4")
    assert reach["total"]["studied"] == 3  # a1, a3 and now b2
    assert (
        await svc.pool.fetchval("SELECT count(*) FROM analytics_previous.an_reads") >= 5
    )  # the old tables are kept for inspection
    # The swapped-in inbox is partitioned like the one it replaced, its months beside it.
    schemas = await svc.pool.fetch(
        "SELECT DISTINCT n.nspname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.inhparent = 'public.inbox'::regclass"
    )
    assert [r[0] for r in schemas] == ["public"]
    assert (
        await svc.pool.fetchval("SELECT count(*) FROM inbox_default") == 0
    )  # every consumed event sits in its month's partition
