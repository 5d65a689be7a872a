"""Transactional outbox: events leave with their transaction, in order, exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest
from nats.js import JetStreamContext
from sotay_contracts import CloudEvent
from sotay_devstack.testing import Infra
from sotay_kit import db, outbox
from sotay_kit.outbox import OutboxRelay
from sotay_kit.testing.events import read_event

STREAM = "DOCUMENTS"


async def _stream_events(js: JetStreamContext, n: int) -> list[CloudEvent]:
    """Every message of the stream, in order, decoded as CloudEvents."""
    out = []
    for seq in range(1, n + 1):
        msg = await js.get_msg(STREAM, seq, direct=True)
        out.append(CloudEvent.from_nats(msg.headers, msg.data or b""))
    return out


async def _run_relay_until_drained(relay: OutboxRelay, dsn: str) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    conn = await asyncpg.connect(dsn)
    try:
        async with asyncio.timeout(30):
            while await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task
        await conn.close()


async def test_enqueue_refuses_to_run_outside_a_transaction(kit_dsn: str) -> None:
    conn = await db.connect(kit_dsn)
    try:
        with pytest.raises(RuntimeError, match="transaction"):
            await outbox.enqueue(conn, read_event())
    finally:
        await conn.close()


async def test_enqueue_after_adds_the_events_only_when_the_change_returned_a_row(
    kit_dsn: str,
) -> None:
    """A state change and its events in one statement: a repeated change that changes nothing
    adds no event (a second check-in of the same member)."""
    pool = await db.create_pool(kit_dsn)
    try:
        with pytest.raises(ZeroDivisionError):
            async with db.transaction(pool) as conn:
                await conn.execute(
                    "CREATE TEMP TABLE seats (id int PRIMARY KEY, taken boolean NOT NULL) "
                    "ON COMMIT DROP; INSERT INTO seats VALUES (1, false)"
                )
                before = await conn.fetchval("SELECT count(*) FROM outbox")
                take = "UPDATE seats SET taken = true WHERE id = $1 AND NOT taken RETURNING id"
                assert await outbox.enqueue_after(conn, take, (1,), read_event()) is True
                assert await outbox.enqueue_after(conn, take, (1,), read_event()) is False
                assert await conn.fetchval("SELECT taken FROM seats WHERE id = 1") is True
                rows = await conn.fetch("SELECT subject FROM outbox ORDER BY seq OFFSET $1", before)
                assert [r["subject"] for r in rows] == ["documents.document.read.v1"]
                raise ZeroDivisionError  # roll back: leave nothing for the other tests' relays
        conn = await db.connect(kit_dsn)
        try:
            with pytest.raises(RuntimeError, match="transaction"):
                await outbox.enqueue_after(conn, "SELECT 1", (), read_event())
        finally:
            await conn.close()
    finally:
        await pool.close()


async def test_rolled_back_change_publishes_nothing_and_commit_publishes_in_order(
    kit_dsn: str, js: JetStreamContext
) -> None:
    pool = await db.create_pool(kit_dsn)
    try:
        with pytest.raises(ZeroDivisionError):
            async with db.transaction(pool) as conn:
                await outbox.enqueue(conn, read_event())
                raise ZeroDivisionError  # the state change failed
        ids: list[str] = []
        for _ in range(3):
            async with db.transaction(pool) as conn:
                ids += await outbox.enqueue(conn, read_event(), read_event())
        relay = OutboxRelay("documents", kit_dsn, js)
        await _run_relay_until_drained(relay, kit_dsn)
        info = await js.stream_info(STREAM)
        assert info.state.messages == 6
        events = await _stream_events(js, 6)
        assert [e.id for e in events] == ids
        assert all(e.type == "vn.sotay.documents.document.read.v1" for e in events)
        msg = await js.get_msg(STREAM, 1, direct=True)
        assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == ids[0]
    finally:
        await pool.close()


async def test_republished_row_is_dropped_by_the_stream_dedup(
    kit_dsn: str, js: JetStreamContext
) -> None:
    """A relay that dies after the PubAck but before marking the row republishes it."""
    pool = await db.create_pool(kit_dsn)
    try:
        async with db.transaction(pool) as conn:
            ids = await outbox.enqueue(conn, read_event(), read_event())
        row = await pool.fetchrow("SELECT subject, headers, body FROM outbox ORDER BY seq LIMIT 1")
        assert row is not None
        await js.publish(row["subject"], row["body"], headers=dict(row["headers"]))
        relay = OutboxRelay("documents", kit_dsn, js)
        await _run_relay_until_drained(relay, kit_dsn)
        assert relay.duplicates == 1
        assert relay.published == 2
        assert (await js.stream_info(STREAM)).state.messages == 2
        assert [e.id for e in await _stream_events(js, 2)] == ids
    finally:
        await pool.close()


def _start_relay(dsn: str, nats_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SOTAY_RELAY_DSN": dsn, "SOTAY_RELAY_NATS_URL": nats_url}
    with log.open("ab") as out:
        out.write(b"-- relay started\n")  # each process's running totals start again
        out.flush()
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sotay_kit.relay",
                "--service",
                "documents",
                "--batch-size",
                "250",
                "--publish-timeout",
                "2",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


MARKED_SENT = "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"


async def _in_flight(pool: db.Pool, js: JetStreamContext) -> int:
    """Rows in the stream but not yet marked sent: the relay is between a publish and its
    commit. The stream is read first, so a positive answer is never a race with progress."""
    stored = (await js.stream_info(STREAM)).state.messages
    return int(stored - await pool.fetchval(MARKED_SENT))


@pytest.mark.chaos
async def test_relay_killed_repeatedly_and_nats_restarted_loses_and_doubles_nothing(
    kit_dsn: str,
    js: JetStreamContext,
    infra: Infra,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SIGKILL the relay between publishing a batch and marking it sent — the risky window —
    again and again (and restart NATS once): the next relay republishes those rows, the
    stream's duplicate window drops the copies, and every event is in the stream once."""
    total = 10_000
    pool = await db.create_pool(kit_dsn)
    ids: list[str] = []
    try:
        for _ in range(total // 500):
            async with db.transaction(pool) as conn:
                ids += await outbox.enqueue(conn, *(read_event() for _ in range(500)))
        log = tmp_path / "relay.log"
        unsent = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
        kills = kills_in_window = rows_in_window = 0
        nats_restarted = False
        # Kill the relay once it has made some progress and is caught with rows published but
        # not marked; restart NATS once on the way. The schedule goes on (bounded) until at
        # least one kill was inside the window.
        thresholds = [9_000, 7_500, 6_000, 4_000, 2_500, 2_000, 1_500, 1_000, 500]
        for n, threshold in enumerate(thresholds):
            if n >= 5 and kills_in_window:
                break
            proc = _start_relay(kit_dsn, infra.nats_url("documents"), log)
            deadline = time.monotonic() + 60
            while await pool.fetchval(unsent) > threshold or not await _in_flight(pool, js):
                assert time.monotonic() < deadline, "relay made no progress"
                assert proc.poll() is None, log.read_text()[-2000:]
                await asyncio.sleep(0.001)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            caught = await _in_flight(pool, js)  # the relay is dead: these wait for a re-send
            kills_in_window += caught > 0
            rows_in_window += caught
            if threshold <= 6_000 and not nats_restarted:
                await asyncio.to_thread(infra.nats.restart)
                nats_restarted = True
        proc = _start_relay(kit_dsn, infra.nats_url("documents"), log)
        try:
            deadline = time.monotonic() + 120
            while await pool.fetchval(unsent) > 0:
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                await asyncio.sleep(0.02)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
        # Every event is in the stream exactly once, in enqueue order for each batch.
        info = await js.stream_info(STREAM)
        received = await _stream_events(js, info.state.messages)
        received_ids = [e.id for e in received]
        duplicates_suppressed = _duplicates_reported(log)
        lost = len(set(ids) - set(received_ids))
        doubled = len(received_ids) - len(set(received_ids))
        with capsys.disabled():  # the counts are the test's report: show them
            print(
                f"\noutbox chaos: enqueued={total} relay_kills={kills} nats_restarts=1 "
                f"kills_in_window={kills_in_window} rows_published_not_marked={rows_in_window} "
                f"duplicates_suppressed={duplicates_suppressed} "
                f"received={len(received_ids)} doubled={doubled} lost={lost}"
            )
        # The window was hit, and the stream dropped the copies the next relays sent again.
        assert kills_in_window >= 1 and rows_in_window >= 1
        assert duplicates_suppressed >= 1
        assert lost == 0
        assert doubled == 0
        assert info.state.messages == total
        assert sorted(received_ids) == sorted(ids)
    finally:
        await pool.close()


def _duplicates_reported(log: Path) -> int:
    """Sum of the duplicates each relay process reported (the last running total after each
    start marker: a killed process's counters die with it)."""
    total = last = 0
    for line in log.read_text().splitlines():
        if line.startswith("-- relay started"):
            total, last = total + last, 0
        elif line.startswith('{"published"'):
            last = json.loads(line)["duplicates"]
    return total + last
