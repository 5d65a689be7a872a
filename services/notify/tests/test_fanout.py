"""A large audience is written by the worker chunk by chunk (a fan-out job), reported on the
bus as one ``delivered_batch.v1`` per chunk instead of one event per member, and a small
publication arriving behind it is served before the large one's remaining chunks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from nats.aio.client import Client as NATS
from sotay_contracts import new_cloud_event
from sotay_contracts.events import notify as nev
from sotay_devstack.testing import Infra
from sotay_kit.testing.databases import DatabaseFactory
from sotay_notify.delivery import service as delivery

from .conftest import NotifyApp, running
from .test_inbox import published

CHUNK = 10
EXTRA = 25  # members added to cell_b: the district holds 30 active members


@pytest_asyncio.fixture
async def big(
    infra: Infra, make_database: DatabaseFactory, nats_operator: NATS
) -> AsyncIterator[NotifyApp]:
    from sotay_notify.app import SPEC

    dsn = await make_database("notify", SPEC.versions_dir)
    async with running(infra, dsn, nats_operator, fanout_inline_max=5, dispatch_chunk=CHUNK) as svc:
        await svc.publish(*(svc.world.member(f"b{i}", "cell_b") for i in range(2, EXTRA + 2)))
        yield svc


async def batches(svc: NotifyApp) -> list[nev.NotificationBatchDelivered]:
    return [e for _, e in await svc.outbox() if isinstance(e, nev.NotificationBatchDelivered)]


def district_members(svc: NotifyApp) -> set[uuid.UUID]:
    w = svc.world
    return {w.members[n] for n, cell in w.cell_of.items() if cell in ("cell_a", "cell_b")}


async def test_a_large_audience_is_fanned_out_in_chunks_reported_per_batch(big: NotifyApp) -> None:
    large = published(big, "district")
    small = published(big, "cell_c")
    ce = new_cloud_event(large)
    await big.publish(ce, new_cloud_event(small))
    # The consumer wrote the cell's notification itself and only queued the district's.
    assert [i["cause_id"] for i in (await big.inbox("c1"))["items"]] == [str(small.publication_id)]
    assert (await big.inbox("a1"))["items"] == []

    # The worker serves the cell's dispatch before the district's first chunk.
    await delivery.background(big.pool, big.settings, big.worker.channels, big.clock.now)
    reported = await batches(big)
    assert reported[0].cause_id == small.publication_id
    assert reported[0].member_ids == [big.world.members["c1"]]

    district = district_members(big)
    assert len(district) == 30
    of_large = [b for b in reported if b.cause_id == large.publication_id]
    assert all(len(b.member_ids) <= CHUNK for b in of_large)
    assert len(of_large) == 3
    members = [m for b in of_large for m in b.member_ids]
    assert len(members) == len(set(members)) and set(members) == district
    assert all(b.channel is nev.Channel.INAPP for b in reported)
    # No per-member in-app events on the bus.
    assert not [e for _, e in await big.outbox() if isinstance(e, nev.NotificationDelivered)]

    rows = await big.pool.fetch(
        "SELECT member_id, count(*) AS n FROM notifications WHERE cause_id = $1 GROUP BY 1",
        large.publication_id,
    )
    assert {r["member_id"] for r in rows} == district and all(r["n"] == 1 for r in rows)
    item = (await big.inbox("b7"))["items"][0]
    assert item["link"] == f"/documents/{large.document_id}"
    assert item["seq"] == 1

    # A redelivered publication (another message id) and another tick change nothing.
    await big.publish(ce, msg_id=f"again-{uuid.uuid4()}")
    report = await big.tick()
    assert report.dispatched == 0
    assert len(await batches(big)) == len(reported)
    assert await big.pool.fetchval(
        "SELECT count(*) FROM notifications WHERE cause_id = $1", large.publication_id
    ) == len(district)


async def test_a_retraction_stops_a_fan_out_in_flight(big: NotifyApp) -> None:
    from sotay_contracts.events import documents as dev

    from .conftest import at

    large = published(big, "district")
    await big.publish(large)
    await delivery.fan_out_step(big.pool, big.settings, big.worker.channels, big.clock.now)
    told: Any = await big.pool.fetchval(
        "SELECT count(*) FROM notifications WHERE cause_id = $1", large.publication_id
    )
    assert told == CHUNK
    await big.publish(
        dev.DocumentRetracted(
            document_id=large.document_id,
            publication_id=large.publication_id,
            retracted_by=big.world.members["sec"],
            reason_code=dev.RetractionReason.SUPERSEDED,
            occurred_at=at(minutes=5),
        )
    )
    await big.tick()
    assert (
        await big.pool.fetchval(
            "SELECT count(*) FROM notifications WHERE cause_type = 'document_published' "
            "AND cause_id = $1",
            large.publication_id,
        )
        == CHUNK
    )
