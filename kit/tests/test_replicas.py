"""Several replicas of a service against one database and one set of streams: what must be
single (the outbox relay) is single, and the death of the replica doing it loses nothing
(docs/scaling.md)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import asyncpg
from nats.js import JetStreamContext
from sotay_contracts import CloudEvent, new_cloud_event
from sotay_contracts.events.documents import DocumentRead
from sotay_kit import db, messaging, outbox
from sotay_kit.consumer import Delivery, EventConsumer
from sotay_kit.outbox import OutboxRelay
from sotay_kit.testing.events import read_event

STREAM = "DOCUMENTS"
LOCK_HOLDER = (
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


async def _stream_ids(js: JetStreamContext) -> list[str]:
    info = await js.stream_info(STREAM)
    ids = []
    for seq in range(1, info.state.messages + 1):
        msg = await js.get_msg(STREAM, seq, direct=True)
        ids.append(CloudEvent.from_nats(msg.headers, msg.data or b"").id)
    return ids


async def test_two_relays_publish_each_event_once_in_commit_order_and_survive_the_leaders_death(
    kit_dsn: str, js: JetStreamContext
) -> None:
    """Two replicas' relays run side by side on one database while writes keep coming: only
    the one holding the advisory lock publishes. The leader then dies abruptly in the middle
    of the flow (its task cancelled and its connection cut, as a SIGKILL does); the other
    takes the lock over and the stream holds every event once, in commit order."""
    pool = await db.create_pool(kit_dsn)
    relays = [OutboxRelay("kit", kit_dsn, js, batch_size=50, poll_interval=0.1) for _ in "ab"]
    stops = [asyncio.Event() for _ in relays]
    tasks = [asyncio.create_task(r.run(s)) for r, s in zip(relays, stops, strict=True)]
    ids: list[str] = []
    admin = await asyncpg.connect(kit_dsn)
    try:

        async def write(batches: int) -> None:
            for _ in range(batches):
                async with db.transaction(pool) as conn:
                    ids.extend(await outbox.enqueue(conn, *(read_event() for _ in range(20))))
                await asyncio.sleep(0)

        await write(50)
        deadline = time.monotonic() + 30
        while not any(r.published for r in relays):
            assert time.monotonic() < deadline, "no relay published"
            await asyncio.sleep(0.01)
        writer = asyncio.create_task(write(100))  # writes go on while the leader dies
        leader = next(i for i, r in enumerate(relays) if r.published)
        follower = 1 - leader
        assert relays[follower].published == 0  # one relay per database publishes
        holder = await admin.fetchval(LOCK_HOLDER)
        assert holder is not None
        tasks[leader].cancel()
        await admin.execute("SELECT pg_terminate_backend($1)", holder)
        # Bounded waits: a hang here once ran into the suite's timeout; now its line says which.
        async with asyncio.timeout(30):
            await asyncio.gather(tasks[leader], return_exceptions=True)
        before = relays[leader].published
        async with asyncio.timeout(60):
            await writer

        deadline = time.monotonic() + 60
        unsent = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
        while await pool.fetchval(unsent):
            assert time.monotonic() < deadline, "the surviving relay did not take over"
            await asyncio.sleep(0.05)
        assert relays[follower].published > 0  # the follower took the lock over
        assert 0 < before < len(ids)  # the leader died with writes still to publish
        received = await _stream_ids(js)
        assert received == ids  # none lost, none doubled, in commit order
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await admin.close()
        await pool.close()


async def test_two_replicas_consumers_share_the_durable_and_apply_each_event_once(
    kit_dsn: str, js: JetStreamContext
) -> None:
    """Each replica runs the service's consumer on the same durable: the server hands every
    message to one of them, both take a share, and a counter that is not idempotent by
    itself (``n + 1``) ends at exactly the number of events."""
    spec = messaging.ConsumerSpec("replicas", "DOCUMENTS", ("documents.document.read.v1",))
    await messaging.provision(js, [], [spec])
    admin = await asyncpg.connect(kit_dsn)
    await admin.execute("CREATE TABLE tally (replica int PRIMARY KEY, n int NOT NULL)")
    total = 2_000
    for _ in range(total):
        ce = new_cloud_event(read_event())
        await js.publish(ce.nats_subject, ce.data, headers=ce.to_nats_headers())

    def counting(replica: int):  # type: ignore[no-untyped-def]
        async def apply(conn: db.Connection, batch: Sequence[Delivery]) -> None:
            await conn.execute(
                "INSERT INTO tally VALUES ($1, $2) ON CONFLICT (replica) "
                "DO UPDATE SET n = tally.n + excluded.n",
                replica,
                len(batch),
            )

        return apply

    pools = [await db.create_pool(kit_dsn, max_size=2) for _ in range(2)]
    consumers = [
        EventConsumer(
            spec,
            pool=pool,
            nc=js._nc,
            js=js,
            batch_handlers={DocumentRead.ce_type(): counting(i)},
            batch_size=50,
            fetch_timeout=0.2,
        )
        for i, pool in enumerate(pools)
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(c.run(stop)) for c in consumers]
    try:
        deadline = time.monotonic() + 60
        while True:
            info = await js.consumer_info("DOCUMENTS", spec.name)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                break
            assert time.monotonic() < deadline, "consumers did not catch up"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for pool in pools:
            await pool.close()
    shares = dict(await admin.fetch("SELECT replica, n FROM tally"))
    applied = await admin.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", spec.name)
    await admin.close()
    assert sum(shares.values()) == total == applied
    assert all(shares.get(i, 0) > 0 for i in range(2)), shares  # both replicas took a share
