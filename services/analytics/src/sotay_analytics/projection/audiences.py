"""The background projection of large audiences (``an_audience_jobs``).

Invariants:
- a publication whose audience is larger than ``INLINE_MAX`` is queued by the DOCUMENTS
  consumer (in the transaction that records the publication) instead of being written there,
  so the consumer moves on to the next publication in milliseconds;
- each chunk (``CHUNK`` members, in member id order from the job's cursor) is written with the
  cursor's move in one transaction: a kill -9 redoes at most the chunk in flight, and
  ``ON CONFLICT DO NOTHING`` on an_audience makes a redone chunk write nothing twice;
- jobs are claimed ``FOR UPDATE SKIP LOCKED``: replicas and workers share them with no
  coordination; the oldest job first, so the publications complete in the order they came —
  except a job whose chunks failed, which goes behind the others
  (``sotay_analytics_audience_chunk_failures_total`` counts the failures);
- while a job runs, the publication's ``audience_complete`` is false and the reach report
  says how many of its publications are still being projected (``extra.projecting``).
"""

from __future__ import annotations

import asyncio
import logging

from sotay_kit.db import Pool
from sotay_kit.stopping import sleep_or_stop

from .. import metrics
from . import repository as repo

INLINE_MAX = 2_000
CHUNK = 10_000
IDLE_SECONDS = 0.2

log = logging.getLogger("sotay.analytics.audiences")


async def step(pool: Pool, size: int | None = None) -> bool:
    """One chunk (``CHUNK`` members unless told) of one job; False when no job was waiting.
    A chunk that fails is rolled back to a savepoint and counted on its job, which then goes
    behind the others (it is retried, last); the failure is logged and counted."""
    async with pool.acquire() as conn, conn.transaction():
        job = await repo.claim_audience_job(conn)
        if job is None:
            return False
        try:
            async with conn.transaction():
                await repo.audience_chunk(conn, job, size or CHUNK)
        except Exception as exc:
            failures = await repo.audience_job_failed(conn, job["publication_id"])
            metrics.AUDIENCE_CHUNK_FAILURES.inc()
            log.warning(
                "audience chunk failed",
                extra={
                    "publication_id": str(job["publication_id"]),
                    "failures": failures,
                    "error": type(exc).__name__,
                },
            )
        return True


async def drain(pool: Pool, size: int | None = None) -> int:
    """Run every queued job to its end (a rebuild, the tests); the chunks written."""
    chunks = 0
    while await step(pool, size):
        chunks += 1
    return chunks


async def run(pool: Pool, stop: asyncio.Event) -> None:
    """The service's background loop: chunks while there are jobs, a short nap when none."""
    while not stop.is_set():
        try:
            worked = await step(pool)
        except Exception as exc:  # the database unreachable: the next turn retries
            log.warning("audience projection failed", extra={"error": type(exc).__name__})
            worked = False
        if not worked and await sleep_or_stop(stop, IDLE_SECONDS):
            return
