"""Idempotent consumers: each event applied once, poison messages dead-lettered."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import asyncpg
import pytest
from nats.js import JetStreamContext
from sotay_contracts import new_cloud_event
from sotay_contracts.events.documents import DocumentRead
from sotay_devstack.testing import Infra
from sotay_kit import db, messaging
from sotay_kit.consumer import Delivery, EventConsumer, RejectEvent
from sotay_kit.testing.events import read_event

PROCS = Path(__file__).parent / "procs"
TALLY_DDL = (
    "CREATE TABLE tally (member_id uuid PRIMARY KEY, n int NOT NULL, progress_sum int NOT NULL)"
)


async def _publish(js: JetStreamContext, event: DocumentRead) -> str:
    ce = new_cloud_event(event)
    await js.publish(ce.nats_subject, ce.data, headers=ce.to_nats_headers())
    return ce.id


async def _wait_consumed(js: JetStreamContext, stream: str, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        info = await js.consumer_info(stream, name)
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        assert time.monotonic() < deadline, f"consumer stuck: {info}"
        await asyncio.sleep(0.05)


async def _run_consumer(consumer: EventConsumer, js: JetStreamContext) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await _wait_consumed(js, consumer.spec.stream, consumer.spec.name, 30)
    finally:
        stop.set()
        await task


async def test_redelivered_event_is_applied_once(kit_dsn: str, js: JetStreamContext) -> None:
    spec = messaging.ConsumerSpec("documents-test", "DOCUMENTS", backoff=(0.1,), ack_wait=2)
    await messaging.provision(js, [], [spec])
    pool = await db.create_pool(kit_dsn)
    seen: list[str] = []

    async def handle(conn: db.Connection, d: Delivery) -> None:
        seen.append(d.cloud_event.id)

    try:
        event = read_event()
        ce = new_cloud_event(event)
        # The same event twice, as a redelivery after a crash would bring it.
        await js.publish(ce.nats_subject, ce.data, headers=ce.to_nats_headers())
        headers = {**ce.to_nats_headers(), "Nats-Msg-Id": "bypass-dedup"}
        await js.publish(ce.nats_subject, ce.data, headers=headers)
        consumer = EventConsumer(
            spec,
            pool=pool,
            nc=js._nc,
            js=js,
            handlers={DocumentRead.ce_type(): handle},
            fetch_timeout=0.2,
        )
        await _run_consumer(consumer, js)
        assert seen == [ce.id]
        assert (consumer.applied, consumer.duplicates) == (1, 1)
        assert await pool.fetchval("SELECT count(*) FROM inbox") == 1
    finally:
        await pool.close()


async def test_poison_messages_go_to_dlq_with_reason_and_the_rest_flows(
    kit_dsn: str, js: JetStreamContext
) -> None:
    spec = messaging.ConsumerSpec(
        "documents-test", "DOCUMENTS", max_deliver=3, backoff=(0.05,), ack_wait=2
    )
    await messaging.provision(js, [], [spec])
    pool = await db.create_pool(kit_dsn)
    await pool.execute("CREATE TABLE applied (seq serial, member_id uuid)")
    doomed = uuid.uuid4()

    async def handle(conn: db.Connection, d: Delivery) -> None:
        assert isinstance(d.event, DocumentRead)
        await conn.execute("INSERT INTO applied (member_id) VALUES ($1)", d.event.member_id)
        if d.event.member_id == doomed:
            raise RejectEvent("unknown member")

    try:
        good_before, good_after = read_event(), read_event()
        await _publish(js, good_before)
        await js.publish("documents.document.read.v1", b"not json at all")  # no envelope
        unknown = new_cloud_event(read_event())
        unknown_headers = {
            **unknown.to_nats_headers(),
            "ce-type": "vn.sotay.documents.document.eaten.v1",
        }
        await js.publish("documents.document.eaten.v1", unknown.data, headers=unknown_headers)
        bad = new_cloud_event(read_event())
        await js.publish(bad.nats_subject, b'{"document_id": 5}', headers=bad.to_nats_headers())
        await _publish(js, read_event(member=doomed))
        await _publish(js, good_after)
        consumer = EventConsumer(
            spec,
            pool=pool,
            nc=js._nc,
            js=js,
            handlers={DocumentRead.ce_type(): handle},
            fetch_timeout=0.2,
        )
        await _run_consumer(consumer, js)
        applied = await pool.fetch("SELECT member_id FROM applied ORDER BY seq")
        assert [r["member_id"] for r in applied] == [good_before.member_id, good_after.member_id]
        dlq = await js.stream_info("DLQ")
        assert dlq.state.messages == 4
        reasons = []
        for seq in range(1, 5):
            msg = await js.get_msg("DLQ", seq, direct=True)
            assert msg.headers is not None
            assert msg.headers["Sotay-Dlq-Consumer"] == "documents-test"
            reasons.append(msg.headers["Sotay-Dlq-Reason"].split(":")[0])
        assert reasons == ["invalid_envelope", "unknown_type", "invalid_data", "rejected"]
    finally:
        await pool.close()


async def test_failing_handler_is_retried_then_dead_lettered(
    kit_dsn: str, js: JetStreamContext
) -> None:
    spec = messaging.ConsumerSpec(
        "documents-test", "DOCUMENTS", max_deliver=3, backoff=(0.05,), ack_wait=2
    )
    await messaging.provision(js, [], [spec])
    pool = await db.create_pool(kit_dsn)
    attempts = Counter[str]()

    async def handle(conn: db.Connection, d: Delivery) -> None:
        attempts[d.cloud_event.id] += 1
        await conn.execute("CREATE TEMP TABLE IF NOT EXISTS scratch (x int)")
        raise ConnectionResetError("database went away")

    try:
        event_id = await _publish(js, read_event())
        consumer = EventConsumer(
            spec,
            pool=pool,
            nc=js._nc,
            js=js,
            handlers={DocumentRead.ce_type(): handle},
            fetch_timeout=0.2,
        )
        await _run_consumer(consumer, js)
        assert attempts[event_id] == 3
        msg = await js.get_msg("DLQ", 1, direct=True)
        assert msg.headers is not None
        assert msg.headers["Sotay-Dlq-Reason"].startswith("max_deliveries")
        # Nothing of the failed attempts was committed, not even the inbox row.
        assert await pool.fetchval("SELECT count(*) FROM inbox") == 0
    finally:
        await pool.close()


@pytest.mark.chaos
async def test_consumer_killed_mid_batch_applies_every_event_once(
    kit_dsn: str,
    js: JetStreamContext,
    infra: Infra,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SIGKILL the consumer after a batch committed and before its acks left — the risky
    window, which the consumer process announces and waits in — again and again: those events
    come back (after ack_wait), the inbox recognises them, and each event changes the tally
    exactly once."""
    spec_module = PROCS / "tally_consumer.py"
    conn = await asyncpg.connect(kit_dsn)
    await conn.execute(TALLY_DDL)
    members = [uuid.uuid4() for _ in range(50)]
    expected_n: Counter[uuid.UUID] = Counter()
    expected_sum: Counter[uuid.UUID] = Counter()
    rng = random.Random(7)
    total = 6_000
    for _ in range(total):
        member, progress = rng.choice(members), rng.randint(0, 100)
        await _publish(js, read_event(member=member, progress=progress))
        expected_n[member] += 1
        expected_sum[member] += progress
    spec = messaging.ConsumerSpec(
        "documents-tally",
        "DOCUMENTS",
        ("documents.document.read.v1",),
        ack_wait=5.0,
        backoff=(0.2, 0.5, 1.0),
    )
    await messaging.provision(js, [], [spec])
    env = {**os.environ, "TALLY_DSN": kit_dsn, "TALLY_NATS_URL": infra.nats_url()}
    log_path = tmp_path / "consumer.log"
    applied = "SELECT count(*) FROM inbox WHERE consumer = 'documents-tally'"
    held: list[int] = []  # per kill: the events its process had committed and not acked

    async def run_until_held(hold_after: int) -> None:
        """Start a consumer that stops between commit and ack after its ``hold_after``-th
        batch; SIGKILL it there."""
        with log_path.open("a") as log:
            log.write("-- consumer started\n")  # each process's running totals start again
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(spec_module),
            env={**env, "TALLY_HOLD_AFTER_BATCHES": str(hold_after)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert proc.stdout is not None
        kills_before = len(held)
        try:
            async with asyncio.timeout(60):
                while line := await proc.stdout.readline():
                    with log_path.open("ab") as log:
                        log.write(line)
                    if line.startswith(b'{"holding"'):
                        held.append(json.loads(line)["holding"])
                        break
            assert len(held) == kills_before + 1, "the consumer exited before holding a batch"
        finally:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()

    # Batches of up to 100: kill after batches 3, 9, 2, 14, 6 of successive processes.
    for hold_after in (3, 9, 2, 14, 6):
        await run_until_held(hold_after)
    committed_before_restart = await conn.fetchval(applied)
    with log_path.open("ab") as log:
        log.write(b"-- consumer started\n")
        proc = subprocess.Popen(
            [sys.executable, str(spec_module)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        await _wait_consumed(js, "DOCUMENTS", "documents-tally", 120)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    try:
        rows = await conn.fetch("SELECT member_id, n, progress_sum FROM tally")
        got_n = {r["member_id"]: r["n"] for r in rows}
        got_sum = {r["member_id"]: r["progress_sum"] for r in rows}
        applied_n = await conn.fetchval(applied)
        redelivered_applied = _reported(log_path, "duplicates")
        with capsys.disabled():  # the counts are the test's report: show them
            print(
                f"\nconsumer chaos: published={total} kills_between_commit_and_ack={len(held)} "
                f"committed_not_acked={sum(held)} applied_before_last_start="
                f"{committed_before_restart} redelivered_and_skipped={redelivered_applied} "
                f"applied={applied_n} doubled={sum(got_n.values()) - total} "
                f"lost={total - applied_n}"
            )
        # Every kill left its committed batch unacknowledged; those events came back and
        # changed nothing.
        assert len(held) == 5 and all(n >= 1 for n in held)
        assert redelivered_applied >= sum(held)
        assert applied_n == total
        assert got_n == dict(expected_n)
        assert got_sum == dict(expected_sum)
    finally:
        await conn.close()


def _reported(log: Path, key: str) -> int:
    """Sum over the consumer processes of the last running total ``key`` each printed."""
    total = last = 0
    for line in log.read_text().splitlines():
        if line.startswith("-- consumer started"):
            total, last = total + last, 0
        elif line.startswith('{"applied"'):
            last = json.loads(line)[key]
    return total + last
