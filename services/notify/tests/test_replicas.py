"""Two replicas of notify on one database (docs/scaling.md): a member's open stream on one
replica receives what the other replica wrote, and the schedulers of both replicas, ticking
at the same moment, fire each due reminder once."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
from sotay_kit.testing.harness import run_service
from sotay_notify.app import create_app
from sotay_notify.deps import NotifyState
from sotay_notify.worker import Worker

from .conftest import NotifyApp, serve
from .test_inbox import scheduled
from .test_security import _events


@contextlib.asynccontextmanager
async def second_replica(svc: NotifyApp) -> AsyncIterator[tuple[Worker, str]]:
    """Another notify process on the same database and NATS account, trusting the same tokens;
    yields its scheduler and the URL it is served on."""
    app = create_app(svc.settings)
    async with run_service(app, svc.settings, base_url="http://notify-b", trust_test_tokens=False):
        svc.tokens.install(app)
        state: NotifyState = app.state.resources
        state.worker.clock = svc.clock
        await asyncio.wait_for(state.hub.connected.wait(), 10)
        async with serve(app) as url:
            yield state.worker, url


async def test_a_stream_on_one_replica_receives_what_the_other_replica_wrote(
    svc: NotifyApp,
) -> None:
    """The member's SSE stream is held by replica B; the event is consumed and the
    notification written by replica A (its consumers and database connections): Postgres
    LISTEN/NOTIFY wakes B's stream."""
    async with second_replica(svc) as (_, url):
        async with (
            httpx.AsyncClient(base_url=url, timeout=10) as client,
            client.stream("GET", "/api/v1/inbox/stream", headers=svc.auth("a1")) as resp,
        ):
            assert resp.status_code == 200
            events = _events(resp)
            assert (await anext(events))[1] == "ready"
            event = scheduled(svc, "a1")
            await svc.publish(event)  # replica A's consumers write the notification
            _, kind, data = await asyncio.wait_for(anext(events), 10)
        assert kind == "notification"
        assert json.loads(data)["cause_id"] == str(event.meeting_id)


async def test_both_replicas_schedulers_tick_at_once_and_each_reminder_fires_once(
    svc: NotifyApp,
) -> None:
    meetings = [scheduled(svc) for _ in range(30)]  # 3 invitees each, same start
    await svc.publish(*meetings)
    due = meetings[0].starts_at - timedelta(hours=24)
    async with second_replica(svc) as (worker_b, _):
        reports = await asyncio.gather(
            svc.worker.tick(due), worker_b.tick(due), svc.worker.tick(due), worker_b.tick(due)
        )
    assert sum(r.reminders for r in reports) == len(meetings)
    rows = await svc.pool.fetch(
        "SELECT member_id, cause_id, count(*) AS n FROM notifications "
        "WHERE cause_type = 'meeting_reminder' GROUP BY member_id, cause_id"
    )
    assert len(rows) == 3 * len(meetings)
    assert {r["n"] for r in rows} == {1}
