"""Event ingest: events/s applied by ``EventConsumer`` ÷ raw nats-py pull + ack rate (§11).

One scratch stream holds ``n`` DocumentRead CloudEvents (real ``ce-type``, bench-only subject).
Two durables on it, provisioned like the platform's (explicit ack, ``max_ack_pending``,
backoff), each read it once from the start:

- raw: ``pull_subscribe_bind`` + ``fetch(batch)`` + ``msg.ack()`` for each message;
- applied: ``EventConsumer`` with a batch handler that upserts a per-member projection; the
  inbox rows and the projection commit together, then the messages are acked.

Same fetch batch size on both sides. The time runs until the last message is acked.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Sequence
from typing import Any

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import PubAck
from sotay_contracts.events.documents import DocumentRead
from sotay_kit import db, messaging, outbox
from sotay_kit.consumer import Delivery, EventConsumer
from sotay_kit.testing.events import read_event

from ._infra import BenchInfra, run_standalone, wait_for

DEFAULT_N = 20_000
BATCH_SIZE = 256  # EventConsumer's default
FETCH_TIMEOUT = 0.5
MEMBERS = 5_000  # distinct members, so the projection upsert both inserts and updates
TIMEOUT = 60.0

PROJECTION_DDL = """
CREATE TABLE bench_reads (
    member_id    uuid PRIMARY KEY,
    n            bigint NOT NULL,
    progress_sum bigint NOT NULL,
    last_seq     bigint NOT NULL
)
"""


async def apply_reads(conn: db.Connection, batch: Sequence[Delivery]) -> None:
    """The projection: per member, how many read events and their progress (one statement)."""
    reads = [(d.event, d.stream_seq) for d in batch if isinstance(d.event, DocumentRead)]
    await conn.execute(
        "INSERT INTO bench_reads (member_id, n, progress_sum, last_seq) "
        "SELECT m, count(*), sum(p), max(s) "
        "FROM unnest($1::uuid[], $2::int[], $3::bigint[]) AS t(m, p, s) GROUP BY m "
        "ON CONFLICT (member_id) DO UPDATE SET n = bench_reads.n + excluded.n, "
        "progress_sum = bench_reads.progress_sum + excluded.progress_sum, "
        "last_seq = greatest(bench_reads.last_seq, excluded.last_seq)",
        [e.member_id for e, _ in reads],
        [e.progress_percent for e, _ in reads],
        [s for _, s in reads],
    )


async def fill_stream(infra: BenchInfra, subject: str, n: int) -> None:
    rng = random.Random(11)
    members = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(MEMBERS)]
    js = infra.js
    futures = []
    for _ in range(n):
        ce = outbox.build(read_event(rng.choice(members), progress=rng.randrange(0, 101)))
        futures.append(await js.publish_async(subject, ce.data, headers=ce.to_nats_headers()))
    async with asyncio.timeout(TIMEOUT):
        acks = await asyncio.gather(*futures)
    if not all(isinstance(a, PubAck) and not a.duplicate for a in acks):
        raise RuntimeError("filling the stream failed")


async def _settled(infra: BenchInfra, spec: messaging.ConsumerSpec, n: int) -> None:
    """After the run (untimed): the server has every ack, nothing is pending or redelivered."""
    await infra.nc.flush()
    for _ in range(200):
        info = await infra.js.consumer_info(spec.stream, spec.name)
        if info.ack_floor.stream_seq >= n and not info.num_ack_pending:
            break
        await asyncio.sleep(0.05)
    else:
        raise TimeoutError(
            f"{spec.name}: acks not settled: {info.ack_floor}, {info.num_ack_pending}"
        )
    if info.num_redelivered:
        raise RuntimeError(f"{spec.name}: {info.num_redelivered} redeliveries")


async def raw_pull_ack(
    infra: BenchInfra, spec: messaging.ConsumerSpec, n: int, batch: int
) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process) to pull and ack ``n`` messages."""
    sub = await infra.js.pull_subscribe_bind(spec.name, stream=spec.stream)
    try:
        received = 0
        cpu = time.process_time()
        start = time.perf_counter()
        async with asyncio.timeout(TIMEOUT):
            while received < n:
                try:
                    msgs = await sub.fetch(batch, timeout=FETCH_TIMEOUT)
                except NatsTimeoutError:
                    continue
                for msg in msgs:
                    await msg.ack()
                received += len(msgs)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    return elapsed, cpu


async def applied(
    infra: BenchInfra, spec: messaging.ConsumerSpec, dsn: str, n: int, batch: int
) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process) to apply ``n`` events."""
    pool = await db.create_pool(dsn, min_size=1, max_size=2)
    try:
        consumer = EventConsumer(
            spec,
            pool=pool,
            nc=infra.nc,
            js=infra.js,
            batch_handlers={DocumentRead.ce_type(): apply_reads},
            batch_size=batch,
            fetch_timeout=FETCH_TIMEOUT,
        )
        stop = asyncio.Event()
        cpu = time.process_time()
        start = time.perf_counter()
        task = asyncio.create_task(consumer.run(stop))
        try:
            end = await wait_for(
                lambda: consumer.applied + consumer.duplicates >= n or task.done(),
                TIMEOUT,
                "consumer caught up",
            )
            cpu = time.process_time() - cpu
            if task.done():
                task.result()
                raise RuntimeError("consumer stopped early")
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=FETCH_TIMEOUT + 10)
        if consumer.applied != n or consumer.dead_lettered:
            raise RuntimeError(
                f"applied {consumer.applied}, duplicates {consumer.duplicates}, "
                f"dead-lettered {consumer.dead_lettered}; expected {n} applied"
            )
        total = await pool.fetchval("SELECT sum(n) FROM bench_reads")
        inbox = await pool.fetchval("SELECT count(*) FROM inbox")
        if total != n or inbox != n:
            raise RuntimeError(f"projection counts {total} events, inbox {inbox}; expected {n}")
    finally:
        await pool.close()
    return end - start, cpu


async def main(
    infra: BenchInfra, n: int = DEFAULT_N, batch_size: int = BATCH_SIZE
) -> dict[str, Any]:
    stream, prefix = await infra.scratch_stream("in")
    subject = f"{prefix}.document.read.v1"
    raw_spec = messaging.ConsumerSpec("bench-raw", stream, (subject,))
    apply_spec = messaging.ConsumerSpec("bench-apply", stream, (subject,))
    await messaging.provision(infra.js, [], [raw_spec, apply_spec])
    dsn = await infra.scratch_database("consumer")
    conn = await db.connect(dsn)
    try:
        await conn.execute(PROJECTION_DDL)
    finally:
        await conn.close()
    await fill_stream(infra, subject, n)

    raw_s, raw_cpu = await raw_pull_ack(infra, raw_spec, n, batch_size)
    await _settled(infra, raw_spec, n)
    applied_s, applied_cpu = await applied(infra, apply_spec, dsn, n, batch_size)
    await _settled(infra, apply_spec, n)

    raw_rate, applied_rate = n / raw_s, n / applied_s
    result = {
        "n": n,
        "batch_size": batch_size,
        "applied_per_s": round(applied_rate, 1),
        "raw_pull_ack_per_s": round(raw_rate, 1),
        "ratio": round(applied_rate / raw_rate, 3),
        "aim": 0.5,
        # CPU time of this (single-threaded) process per event: what Python costs on each side.
        "applied_cpu_us_per_ev": round(applied_cpu / n * 1e6, 1),
        "raw_cpu_us_per_ev": round(raw_cpu / n * 1e6, 1),
        "applied_wall_us_per_ev": round(applied_s / n * 1e6, 1),
        "raw_wall_us_per_ev": round(raw_s / n * 1e6, 1),
    }
    print(
        f"consumer: applied {applied_rate:,.0f} ev/s, raw pull+ack {raw_rate:,.0f} ev/s, "
        f"ratio {result['ratio']:.2f} (aim >= 0.5)"
    )
    print(
        f"  per event: applied {result['applied_wall_us_per_ev']} us wall / "
        f"{result['applied_cpu_us_per_ev']} us cpu, raw {result['raw_wall_us_per_ev']} us wall / "
        f"{result['raw_cpu_us_per_ev']} us cpu (bench process)"
    )
    return result


if __name__ == "__main__":
    run_standalone(main, __doc__, DEFAULT_N)
