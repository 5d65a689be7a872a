"""A consumer process for the chaos test: tallies read events per member.

The tally (``count + 1``, ``progress_sum + p``) is not idempotent by itself: only the inbox
makes a redelivered event change nothing, which is what the test checks.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence

from sotay_contracts.events.documents import DocumentRead
from sotay_kit import db, messaging
from sotay_kit.consumer import Delivery, EventConsumer

SPEC = messaging.ConsumerSpec(
    "documents-tally",
    "DOCUMENTS",
    ("documents.document.read.v1",),
    ack_wait=5.0,
    backoff=(0.2, 0.5, 1.0),
)


async def apply_reads(conn: db.Connection, batch: Sequence[Delivery]) -> None:
    members = [str(d.event.member_id) for d in batch if isinstance(d.event, DocumentRead)]
    progress = [d.event.progress_percent for d in batch if isinstance(d.event, DocumentRead)]
    await conn.execute(
        "INSERT INTO tally (member_id, n, progress_sum) "
        "SELECT m, count(*), sum(p) FROM unnest($1::uuid[], $2::int[]) AS t(m, p) GROUP BY m "
        "ON CONFLICT (member_id) DO UPDATE SET n = tally.n + excluded.n, "
        "progress_sum = tally.progress_sum + excluded.progress_sum",
        members,
        progress,
    )


# The batch after which the process stops between commit and ack (0: never).
HOLD_AFTER_BATCHES = int(os.environ.get("TALLY_HOLD_AFTER_BATCHES", "0"))


def _say(report: dict[str, int]) -> None:
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


class ReportingConsumer(EventConsumer):
    """Prints its running totals after each acknowledged batch: ``duplicates`` are
    deliveries the inbox had already applied — redeliveries of events whose batch committed
    but whose acks never reached the server.

    After its ``HOLD_AFTER_BATCHES``-th batch that applied events it announces ``holding``
    (the batch has committed) and waits before acking, for ever: the test kills it there, in
    the window between commit and ack, instead of hoping a timed kill lands in it."""

    batches = 0

    async def _ack_all(self, items, fresh):  # type: ignore[no-untyped-def]
        if fresh:
            self.batches += 1
            if self.batches == HOLD_AFTER_BATCHES:
                _say({"holding": len(fresh)})
                await asyncio.Event().wait()
        await super()._ack_all(items, fresh)
        _say({"applied": self.applied, "duplicates": self.duplicates})


async def main() -> None:
    pool = await db.create_pool(os.environ["TALLY_DSN"], max_size=2)
    nc = await messaging.connect(os.environ["TALLY_NATS_URL"], name="tally")
    consumer = ReportingConsumer(
        SPEC,
        pool=pool,
        nc=nc,
        js=nc.jetstream(),
        batch_handlers={DocumentRead.ce_type(): apply_reads},
        batch_size=100,
        fetch_timeout=0.5,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await consumer.run(stop)
    await nc.drain()
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
