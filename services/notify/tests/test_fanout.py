"""A large audience is a fan-out job: reported on the bus once (``broadcast_delivered.v1``)
when it is queued, in every member's inbox from then on (written at the member's first read
if the worker has not reached them), written by the worker chunk by chunk, and a small
publication arriving behind it is served before the large one's remaining chunks."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from nats.aio.client import Client as NATS
from sotay_contracts import new_cloud_event
from sotay_contracts.events import notify as nev
from sotay_devstack.testing import Infra
from sotay_kit.testing.databases import DatabaseFactory
from sotay_notify.delivery import service as delivery

from .conftest import NotifyApp, running
from .test_inbox import published
from .test_replicas import second_replica
from .test_security import _events

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


async def broadcasts(svc: NotifyApp) -> list[nev.NotificationBroadcastDelivered]:
    return [e for _, e in await svc.outbox() if isinstance(e, nev.NotificationBroadcastDelivered)]


async def test_a_large_audience_is_reported_once_and_written_in_chunks(big: NotifyApp) -> None:
    large = published(big, "district")
    small = published(big, "cell_c")
    ce = new_cloud_event(large)
    await big.publish(ce, new_cloud_event(small))
    # The consumer wrote the cell's notification itself and only queued the district's, which
    # it reported on the bus as reaching the whole district at once: one event, no member ids.
    assert (
        await big.pool.fetchval(
            "SELECT count(*) FROM notifications WHERE cause_id = $1", large.publication_id
        )
        == 0
    )
    [broadcast] = await broadcasts(big)
    assert broadcast.cause_id == large.publication_id
    assert broadcast.cause_type is nev.NotificationCause.DOCUMENT_PUBLISHED
    assert broadcast.audience_org_paths == [big.world.paths["district"]]
    assert broadcast.channel is nev.Channel.INAPP
    # True at once: a member of the district who opens the inbox before the worker reached
    # them has it (written at that read, first in their stream).
    assert [i["cause_id"] for i in (await big.inbox("c1"))["items"]] == [str(small.publication_id)]
    [early] = (await big.inbox("a1"))["items"]
    assert early["cause_id"] == str(large.publication_id) and early["seq"] == 1
    assert (await big.inbox("a1"))["unread_count"] == 1  # a second read writes nothing more

    # The worker serves the cell's dispatch before the district's chunks, and reports the
    # district's members in no batch (the broadcast said it all).
    await delivery.background(big.pool, big.settings, big.worker.channels, big.clock.now)
    reported = await batches(big)
    assert [(b.cause_id, b.member_ids) for b in reported] == [
        (small.publication_id, [big.world.members["c1"]])
    ]
    # No per-member in-app events on the bus.
    assert not [e for _, e in await big.outbox() if isinstance(e, nev.NotificationDelivered)]

    district = district_members(big)
    assert len(district) == 30
    rows = await big.pool.fetch(
        "SELECT member_id, count(*) AS n, max(seq) AS seq FROM notifications "
        "WHERE cause_id = $1 GROUP BY 1",
        large.publication_id,
    )
    assert {r["member_id"] for r in rows} == district and all(r["n"] == 1 for r in rows)
    assert {r["seq"] for r in rows} == {1}
    assert (
        await big.pool.fetchval(
            "SELECT written FROM fanout_jobs WHERE cause_id = $1", large.publication_id
        )
        == len(district) - 1
    )  # a1's was written at a1's read
    item = (await big.inbox("b7"))["items"][0]
    assert item["link"] == f"/documents/{large.document_id}"
    assert item["seq"] == 1

    # A redelivered publication (another message id) and another tick change nothing.
    await big.publish(ce, msg_id=f"again-{uuid.uuid4()}")
    report = await big.tick()
    assert report.dispatched == 0
    assert len(await batches(big)) == len(reported)
    assert len(await broadcasts(big)) == 1
    assert await big.pool.fetchval(
        "SELECT count(*) FROM notifications WHERE cause_id = $1", large.publication_id
    ) == len(district)


async def test_a_live_stream_gets_a_queued_fan_out_before_the_worker_runs(big: NotifyApp) -> None:
    """A member holding the inbox stream (on another replica, woken through Postgres) is
    told of a large publication as soon as it is queued, not when the worker's chunks reach
    them; members outside the audience are not."""
    async with (
        second_replica(big) as (_, url),
        httpx.AsyncClient(base_url=url, timeout=10) as client,
        client.stream("GET", "/api/v1/inbox/stream", headers=big.auth("b9")) as resp,
    ):
        assert resp.status_code == 200
        events = _events(resp)
        assert (await anext(events))[1] == "ready"
        large = published(big, "district")
        await big.publish(large)  # queued only: no worker runs in this test
        _, kind, data = await asyncio.wait_for(anext(events), 10)
    assert kind == "notification"
    assert json.loads(data)["cause_id"] == str(large.publication_id)
    assert json.loads(data)["seq"] == 1
    assert (
        await big.pool.fetchval(
            "SELECT count(*) FROM notifications WHERE cause_id = $1", large.publication_id
        )
        == 1
    )
    assert (await big.inbox("c1"))["items"] == []  # cell_c is outside the district


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
