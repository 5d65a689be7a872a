"""Outbox: events/s relayed by ``OutboxRelay`` ÷ raw nats-py ``publish_async`` rate (§11).

Both sides send the same number of DocumentRead CloudEvents of the same size, with the same
headers (``Nats-Msg-Id`` = a fresh event id), to the same scratch stream, configured like the
platform's (file storage, 20-minute duplicate window, the server's ``sync_interval``).

- raw: ``js.publish_async`` for every message, then wait for every PubAck;
- relayed: the rows are enqueued beforehand through kit's ``enqueue_cloud_events``; the time
  runs from the relay's start until the relay has marked every row sent.

The events keep their real ``ce-type`` but travel on a bench-only subject, so a running stack's
DOCUMENTS stream never sees them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from nats.js.api import PubAck
from sotay_contracts import CloudEvent
from sotay_kit import db, outbox
from sotay_kit.outbox import OutboxRelay
from sotay_kit.testing.events import read_event

from ._infra import BenchInfra, run_standalone, wait_for

DEFAULT_N = 20_000
RELAY_BATCH_SIZE = 1000  # OutboxRelay's default
ENQUEUE_CHUNK = 1000
TIMEOUT = 60.0


@dataclass(frozen=True)
class _Rerouted(CloudEvent):
    """A CloudEvent published on a bench-only subject instead of the one its type implies."""

    route: str = ""

    @property
    def nats_subject(self) -> str:
        return self.route


def make_events(n: int, subject: str) -> list[CloudEvent]:
    events: list[CloudEvent] = []
    for _ in range(n):
        ce = outbox.build(read_event())
        events.append(_Rerouted(**{**ce.__dict__, "route": subject}))
    return events


async def raw_publish(infra: BenchInfra, subject: str, n: int) -> tuple[float, float]:
    """Wall and CPU (this process) seconds for ``n`` ``publish_async`` calls and their PubAcks."""
    payloads = [(ce.data, ce.to_nats_headers()) for ce in make_events(n, subject)]
    js = infra.js
    cpu = time.process_time()
    start = time.perf_counter()
    futures = [await js.publish_async(subject, body, headers=h) for body, h in payloads]
    async with asyncio.timeout(TIMEOUT):
        acks = await asyncio.gather(*futures)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    bad = [a for a in acks if not isinstance(a, PubAck) or a.duplicate]
    if bad:
        raise RuntimeError(f"raw publish: {len(bad)} messages not stored: {bad[:3]}")
    return elapsed, cpu


async def enqueue_all(dsn: str, events: list[CloudEvent]) -> None:
    conn = await db.connect(dsn)
    try:
        for i in range(0, len(events), ENQUEUE_CHUNK):
            async with conn.transaction():
                await outbox.enqueue_cloud_events(conn, events[i : i + ENQUEUE_CHUNK])
        # Fresh statistics, so the relay's first claim plans like a steady state's.
        await conn.execute("ANALYZE outbox")
    finally:
        await conn.close()


async def relayed(infra: BenchInfra, dsn: str, n: int, batch_size: int) -> tuple[float, float, int]:
    """Wall and CPU seconds for a fresh relay to publish and mark ``n`` rows; its duplicates."""
    relay = OutboxRelay("bench", dsn, infra.js, batch_size=batch_size, poll_interval=0.5)
    stop = asyncio.Event()
    cpu = time.process_time()
    start = time.perf_counter()
    task = asyncio.create_task(relay.run(stop))
    try:
        await wait_for(lambda: relay.published >= n or task.done(), TIMEOUT, "relay drained")
        if task.done():
            task.result()
            raise RuntimeError("relay stopped early")
        # published counts rows marked sent in the open transaction: wait for its commit too.
        conn = await db.connect(dsn)
        try:
            for _ in range(10_000):  # the last batch's commit: milliseconds
                if not await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
                    break
                await asyncio.sleep(0.001)
            else:
                raise TimeoutError("the relay did not commit its last batch")
        finally:
            await conn.close()
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    return elapsed, cpu, relay.duplicates


async def main(
    infra: BenchInfra, n: int = DEFAULT_N, batch_size: int = RELAY_BATCH_SIZE
) -> dict[str, Any]:
    stream, prefix = await infra.scratch_stream("out")
    subject = f"{prefix}.document.read.v1"
    dsn = await infra.scratch_database("outbox")

    raw_s, raw_cpu = await raw_publish(infra, subject, n)

    await enqueue_all(dsn, make_events(n, subject))
    relay_s, relay_cpu, duplicates = await relayed(infra, dsn, n, batch_size)

    info = await infra.js.stream_info(stream)
    if info.state.messages != 2 * n or duplicates:
        raise RuntimeError(
            f"stream holds {info.state.messages} messages, expected {2 * n} "
            f"(relay reported {duplicates} duplicates)"
        )
    raw_rate, relay_rate = n / raw_s, n / relay_s
    result = {
        "n": n,
        "relay_batch_size": batch_size,
        "relayed_per_s": round(relay_rate, 1),
        "raw_publish_per_s": round(raw_rate, 1),
        "ratio": round(relay_rate / raw_rate, 3),
        "aim": 0.5,
        # Per event, this process: wall and CPU time on each side.
        "relayed_wall_us_per_ev": round(relay_s / n * 1e6, 1),
        "relayed_cpu_us_per_ev": round(relay_cpu / n * 1e6, 1),
        "raw_wall_us_per_ev": round(raw_s / n * 1e6, 1),
        "raw_cpu_us_per_ev": round(raw_cpu / n * 1e6, 1),
    }
    print(
        f"outbox: relayed {relay_rate:,.0f} ev/s, raw publish {raw_rate:,.0f} ev/s, "
        f"ratio {result['ratio']:.2f} (aim >= 0.5)"
    )
    print(
        f"  per event: relayed {result['relayed_wall_us_per_ev']} us wall / "
        f"{result['relayed_cpu_us_per_ev']} us cpu, raw {result['raw_wall_us_per_ev']} us wall / "
        f"{result['raw_cpu_us_per_ev']} us cpu (bench process)"
    )
    return result


if __name__ == "__main__":
    run_standalone(main, __doc__, DEFAULT_N)
