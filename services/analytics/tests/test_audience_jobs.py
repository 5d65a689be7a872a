"""Large audiences are projected in the background, in chunks: the DOCUMENTS consumer queues a
publication over the inline limit and moves on, so a small publication behind it is in the
reports at once; the chunks write exactly the audience the inline path writes, a chunk that
rolls back (a killed process) changes nothing, and a redone chunk writes nothing twice."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sotay_analytics.projection import audiences
from sotay_analytics.projection import repository as repo
from sotay_contracts.events import documents as dev
from sotay_contracts.events import notify as nev

from .conftest import REPORT_NOW, AnalyticsApp


def _published(svc: AnalyticsApp, org: str, size: int, minutes: int) -> dev.DocumentPublished:
    w = svc.world
    return dev.DocumentPublished(
        document_id=uuid.uuid4(),
        version=1,
        publication_id=uuid.uuid4(),
        audience_org_ids=[w.orgs[org]],
        audience_org_paths=[w.paths[org]],
        audience_size=size,
        study_required=False,
        classification=dev.Classification.INTERNAL,
        kind=dev.DocumentKind.RESOLUTION,
        published_by=w.members["c1"],
        publisher_org_id=w.orgs["province"],
        occurred_at=REPORT_NOW - timedelta(hours=1, minutes=-minutes),
    )


async def _audience(svc: AnalyticsApp, publication_id: uuid.UUID) -> set[tuple[object, ...]]:
    async with svc.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT member_id, cell_id, org_path FROM an_audience WHERE publication_id = $1",
            publication_id,
        )
    return {tuple(r) for r in rows}


async def _reach(svc: AnalyticsApp, publication_id: uuid.UUID) -> dict[str, object]:
    return await svc.report("document-reach", "c1", publication_id=str(publication_id))


def _figures(report: dict[str, Any]) -> tuple[object, ...]:
    """What a reach report says, without which publication it is about."""
    rows = [{k: v for k, v in r.items() if k not in ("publications",)} for r in report["rows"]]
    return (rows, report["total"])


async def test_a_large_audience_is_written_in_chunks_behind_a_small_one(
    svc: AnalyticsApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    province_size = 12  # every member of the test province (a6 exempt included)
    inline = _published(svc, "province", province_size, 0)
    await svc.feed(inline)
    expected = await _audience(svc, inline.publication_id)
    assert len(expected) == province_size
    whole = _figures(await _reach(svc, inline.publication_id))

    monkeypatch.setattr(audiences, "INLINE_MAX", 3)
    large = _published(svc, "province", province_size, 1)
    small = _published(svc, "cell_c", 2, 2)
    await svc.feed(large, small)
    # The small one, published after, is written; the large one is only queued, and its report
    # is whole already (read from the membership history while the job runs).
    assert len(await _audience(svc, small.publication_id)) == 2
    assert await _audience(svc, large.publication_id) == set()
    report = await _reach(svc, large.publication_id)
    assert report["projecting"] == 0 and report["total"]["audience"] == province_size
    assert _figures(report) == whole

    # A chunk that rolls back (the process killed before its commit) leaves no row and the
    # cursor where it was.
    class Killed(Exception):
        pass

    with pytest.raises(Killed):
        async with svc.pool.acquire() as conn, conn.transaction():
            job = await repo.claim_audience_job(conn)
            assert job is not None
            await repo.audience_chunk(conn, job, 5)
            raise Killed
    assert await _audience(svc, large.publication_id) == set()

    assert await audiences.step(svc.pool, 5)
    first = await _audience(svc, large.publication_id)
    assert len(first) == 5
    # Half written: still whole, each member counted once.
    assert _figures(await _reach(svc, large.publication_id)) == whole
    # A chunk redone from the start (its commit reached the database, its cursor did not)
    # writes nothing twice.
    async with svc.pool.acquire() as conn:
        await conn.execute("UPDATE an_audience_jobs SET after_member = NULL")
    assert await audiences.drain(svc.pool, 5) == 3  # 5 + 5 + 2, the short chunk ends the job
    assert await _audience(svc, large.publication_id) == expected
    report = await _reach(svc, large.publication_id)
    assert report["projecting"] == 0 and _figures(report) == whole
    async with svc.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM an_audience_jobs") == 0
        complete = await conn.fetchval(
            "SELECT audience_complete FROM an_publications WHERE publication_id = $1",
            large.publication_id,
        )
    assert complete is True
    assert not await audiences.step(svc.pool)


async def test_the_service_loop_finishes_queued_audiences_and_stops(
    svc: AnalyticsApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audiences, "INLINE_MAX", 3)
    monkeypatch.setattr(audiences, "CHUNK", 4)
    large = _published(svc, "district", 10, 0)
    await svc.feed(large)
    stop = asyncio.Event()
    loop = asyncio.create_task(audiences.run(svc.pool, stop))

    deadline = time.monotonic() + 30
    while await svc.pool.fetchval("SELECT count(*) FROM an_audience_jobs"):
        assert time.monotonic() < deadline, "the loop did not finish the audience"
        await asyncio.sleep(0.05)
    assert len(await _audience(svc, large.publication_id)) == 10
    stop.set()
    await asyncio.wait_for(loop, 5)


async def test_a_broadcast_notifies_the_whole_audience_with_no_row_per_member(
    svc: AnalyticsApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """notify reports a large fan-out once (broadcast_delivered.v1): every member of the
    publication's audience counts as notified, while the audience is still being written and
    after; another publication's members are not."""
    monkeypatch.setattr(audiences, "INLINE_MAX", 3)
    large = _published(svc, "district", 10, 0)
    other = _published(svc, "cell_c", 2, 1)
    await svc.feed(large, other)
    assert (await _reach(svc, large.publication_id))["total"]["notified"] == 0
    broadcast = nev.NotificationBroadcastDelivered(
        cause_type=nev.NotificationCause.DOCUMENT_PUBLISHED,
        cause_id=large.publication_id,
        audience_org_paths=[svc.world.paths["district"]],
        occurred_at=large.occurred_at + timedelta(seconds=1),
    )
    await svc.feed(broadcast, broadcast)  # a redelivery changes nothing
    for _ in range(2):  # queued, then written
        report = await _reach(svc, large.publication_id)
        assert report["total"]["audience"] == report["total"]["notified"] == 10
        assert all(r["notified"] == r["audience"] for r in report["rows"])
        await audiences.drain(svc.pool)
    assert (await _reach(svc, other.publication_id))["total"]["notified"] == 0
    assert await svc.pool.fetchval("SELECT count(*) FROM an_notifications") == 0
    assert await svc.pool.fetchval("SELECT count(*) FROM an_broadcasts") == 1


async def test_a_failing_job_goes_behind_the_others(
    svc: AnalyticsApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audiences, "INLINE_MAX", 3)
    broken = _published(svc, "district", 10, 0)
    other = _published(svc, "province", 12, 1)
    await svc.feed(broken, other)
    write = repo.audience_chunk

    async def failing(conn: Any, job: Any, size: int) -> None:
        if job["publication_id"] == broken.publication_id:
            raise RuntimeError("disk full")
        await write(conn, job, size)

    monkeypatch.setattr(repo, "audience_chunk", failing)
    assert await audiences.step(svc.pool)  # the broken one, oldest: fails, counted
    await audiences.step(svc.pool)  # the other one now comes first, and completes
    assert len(await _audience(svc, other.publication_id)) == 12
    assert await _audience(svc, broken.publication_id) == set()
    async with svc.pool.acquire() as conn:
        assert await conn.fetchval("SELECT failures FROM an_audience_jobs") == 1
    monkeypatch.setattr(repo, "audience_chunk", write)
    await audiences.drain(svc.pool)
    assert len(await _audience(svc, broken.publication_id)) == 10
