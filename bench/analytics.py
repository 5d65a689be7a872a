"""Analytics ingest: DocumentRead events/s applied into the analytics projections ÷ raw nats-py
pull + ack rate on the same stream, same run (§11).

A scratch database gets the analytics tables and an org tree of ``CELLS`` cells; one scratch
stream holds ``n`` DocumentRead CloudEvents of ``MEMBERS`` members reading ``DOCUMENTS``
documents. Two durables read it once from the start:

- raw: ``pull_subscribe_bind`` + ``fetch`` + ``ack`` (bench.consumer.raw_pull_ack);
- applied: ``EventConsumer`` with the analytics service's own DOCUMENTS handlers — org check,
  per-member read state, member and org activity, inbox — committed per batch, then acked.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.js.api import PubAck
from sotay_analytics.projection.consumers import BINDINGS
from sotay_analytics.schema import CURRENT_DDL, LATER_DDL
from sotay_contracts.events.documents import DocumentRead, ReadState
from sotay_kit import db, messaging, outbox
from sotay_kit.consumer import EventConsumer

from ._infra import BenchInfra, run_standalone, wait_for
from .consumer import BATCH_SIZE, FETCH_TIMEOUT, TIMEOUT, _settled, raw_pull_ack

DEFAULT_N = 20_000
CELLS = 200
MEMBERS = 5_000
DOCUMENTS = 20


async def _seed(dsn: str, rng: random.Random) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """The analytics tables, an org tree and members; returns (member, cell, cell path)."""
    conn = await db.connect(dsn)
    try:
        await conn.execute(CURRENT_DDL + LATER_DDL)
        cells = [
            (uuid.UUID(int=rng.getrandbits(128), version=4), f"1.2.{i + 3}") for i in range(CELLS)
        ]
        await conn.executemany(
            "INSERT INTO idp_orgs (org_id, path, kind, title, status, valid_from, revision) "
            "VALUES ($1, $2, 'cell', 'Chi bộ', 'active', '2026-01-01', 1)",
            cells,
        )
        members = []
        for _ in range(MEMBERS):
            cell, path = rng.choice(cells)
            members.append((uuid.UUID(int=rng.getrandbits(128), version=4), cell, path))
        return members
    finally:
        await conn.close()


async def _fill(
    infra: BenchInfra, subject: str, n: int, members: list[Any], rng: random.Random
) -> None:
    docs = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(DOCUMENTS)]
    base = datetime.now(UTC) - timedelta(days=1)
    futures = []
    for i in range(n):
        member, cell, path = rng.choice(members)
        progress = rng.randrange(0, 101)
        event = DocumentRead(
            document_id=rng.choice(docs),
            version=1,
            member_id=member,
            cell_id=cell,
            org_path=path,
            state=ReadState.STUDIED if progress == 100 else ReadState.PROGRESS,
            progress_percent=progress,
            occurred_at=base + timedelta(milliseconds=i),
        )
        ce = outbox.build(event)
        futures.append(await infra.js.publish_async(subject, ce.data, headers=ce.to_nats_headers()))
    async with asyncio.timeout(TIMEOUT):
        acks = await asyncio.gather(*futures)
    if not all(isinstance(a, PubAck) and not a.duplicate for a in acks):
        raise RuntimeError("filling the stream failed")


async def _applied(
    infra: BenchInfra, spec: messaging.ConsumerSpec, dsn: str, n: int
) -> tuple[float, float]:
    [documents] = [b for b in BINDINGS if b.spec.stream == "DOCUMENTS"]
    pool = await db.create_pool(dsn, min_size=1, max_size=2)
    try:
        consumer = EventConsumer(
            spec,
            pool=pool,
            nc=infra.nc,
            js=infra.js,
            handlers=documents.handlers,
            batch_handlers=documents.batch_handlers,
            batch_size=BATCH_SIZE,
            fetch_timeout=FETCH_TIMEOUT,
        )
        stop = asyncio.Event()
        cpu = time.process_time()
        start = time.perf_counter()
        task = asyncio.create_task(consumer.run(stop))
        try:
            end = await wait_for(
                lambda: (
                    consumer.applied + consumer.duplicates + consumer.dead_lettered >= n
                    or task.done()
                ),
                TIMEOUT,
                "analytics consumer caught up",
            )
            cpu = time.process_time() - cpu
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=FETCH_TIMEOUT + 10)
        if consumer.applied != n:
            raise RuntimeError(
                f"applied {consumer.applied}, dead-lettered {consumer.dead_lettered}; expected {n}"
            )
        inbox = await pool.fetchval("SELECT count(*) FROM inbox")
        readers = await pool.fetchval("SELECT count(DISTINCT member_id) FROM an_reads")
        if inbox != n or not readers:
            raise RuntimeError(f"inbox {inbox}, readers {readers}")
    finally:
        await pool.close()
    return end - start, cpu


async def main(infra: BenchInfra, n: int = DEFAULT_N) -> dict[str, Any]:
    rng = random.Random(7)
    stream, prefix = await infra.scratch_stream("an")
    subject = f"{prefix}.document.read.v1"
    raw_spec = messaging.ConsumerSpec("bench-raw", stream, (subject,))
    apply_spec = messaging.ConsumerSpec(
        "bench-analytics", stream, (subject,), max_ack_pending=20_000
    )
    await messaging.provision(infra.js, [], [raw_spec, apply_spec])
    dsn = await infra.scratch_database("analytics")
    members = await _seed(dsn, rng)
    await _fill(infra, subject, n, members, rng)

    raw_s, raw_cpu = await raw_pull_ack(infra, raw_spec, n, BATCH_SIZE)
    await _settled(infra, raw_spec, n)
    applied_s, applied_cpu = await _applied(infra, apply_spec, dsn, n)
    await _settled(infra, apply_spec, n)

    applied_rate, raw_rate = n / applied_s, n / raw_s
    result = {
        "n": n,
        "batch": BATCH_SIZE,
        "applied_per_s": round(applied_rate),
        "raw_pull_ack_per_s": round(raw_rate),
        "ratio": round(applied_rate / raw_rate, 3),
        "aim": 0.5,
        "applied_cpu_us_per_ev": round(applied_cpu / n * 1e6, 1),
        "raw_cpu_us_per_ev": round(raw_cpu / n * 1e6, 1),
    }
    print(
        f"analytics: read events ingested {applied_rate:,.0f} ev/s, raw pull+ack "
        f"{raw_rate:,.0f} ev/s, ratio {result['ratio']:.2f} (aim >= 0.5)"
    )
    return result


if __name__ == "__main__":
    run_standalone(main, __doc__, DEFAULT_N)
