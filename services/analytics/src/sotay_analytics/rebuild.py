"""Rebuild every analytics projection from the streams (operator command).

    python -m sotay_analytics.rebuild --stack .data/stack.json          # compare only
    python -m sotay_analytics.rebuild --stack .data/stack.json --swap   # and swap it in
    ANALYTICS_DATABASE_URL=… ANALYTICS_REBUILD_NATS_URL=nats://operator:…@host:4222 \\
        python -m sotay_analytics.rebuild --swap

1. Creates the projection tables afresh in a scratch schema (``analytics_rebuild``).
2. Replays IDENTITY, then DOCUMENTS, MEETINGS and NOTIFY from sequence 1 through the very
   handlers the service runs (same inbox, so each event is applied once), using temporary
   consumers that the operator user creates and deletes (the service's durables are untouched).
3. Compares the numbers: row counts of every table and the reports (reach, attendance,
   meetings, adoption, lagging) of every root, computed at one instant on both sides.
4. ``--swap``: in one transaction moves the live tables to ``analytics_previous`` and the
   rebuilt ones in, then replays what arrived after the rebuild's cut-off (the inbox makes this
   safe while the service keeps consuming). Exit status 0 when the numbers are equal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sotay_kit import messaging, partitions
from sotay_kit.auth import Principal, RoleGrant
from sotay_kit.consumer import EventConsumer
from sotay_kit.partitions import INBOX
from sotay_kit.schema import INBOX_PARTITIONED_DDL, KIT_TABLES_DDL

from . import partitioned
from .projection import audiences
from .projection.consumers import BINDINGS
from .reports import repository as report_repo
from .reports import service as reports
from .schema import CURRENT_DDL, LATER_DDL, PROJECTION_TABLES

REBUILD_SCHEMA = "analytics_rebuild"
PREVIOUS_SCHEMA = "analytics_previous"
BATCH = 512


@dataclass
class RebuildResult:
    applied: dict[str, int] = field(default_factory=dict)  # per stream
    dead_lettered: int = 0
    last_seq: dict[str, int] = field(default_factory=dict)
    live: dict[str, Any] = field(default_factory=dict)
    rebuilt: dict[str, Any] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)
    swapped: bool = False
    caught_up: int = 0

    @property
    def equal(self) -> bool:
        return not self.differences


async def _pool(dsn: str, schema: str) -> asyncpg.Pool[asyncpg.Record]:
    pool = await asyncpg.create_pool(
        dsn, min_size=1, max_size=2, server_settings={"search_path": f"{schema}, public"}
    )
    assert pool is not None
    return pool


async def _prepare_schema(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {REBUILD_SCHEMA} CASCADE")
        await conn.execute(f"CREATE SCHEMA {REBUILD_SCHEMA}")
        async with conn.transaction():
            await conn.execute(f"SET LOCAL search_path TO {REBUILD_SCHEMA}")
            await conn.execute(KIT_TABLES_DDL)
            # The inbox as the live one is (partitioned), or the swap would leave it unbounded.
            today = datetime.now(UTC).date()
            await conn.execute(partitions.convert_sql(INBOX, INBOX_PARTITIONED_DDL, today=today))
            await conn.execute(CURRENT_DDL)
            await conn.execute(partitioned.partition_sql(today))
            await conn.execute(LATER_DDL)
    finally:
        await conn.close()


async def replay(
    pool: asyncpg.Pool[asyncpg.Record],
    nc: NATS,
    js: JetStreamContext,
    *,
    start_after: dict[str, int] | None = None,
) -> tuple[dict[str, int], dict[str, int], int]:
    """Apply every stream (identity first) through the service's handlers into ``pool``'s
    tables. Returns (applied per stream, last sequence per stream, dead-lettered)."""
    applied: dict[str, int] = {}
    last: dict[str, int] = {}
    dead = 0
    for binding in BINDINGS:
        spec = binding.spec
        after = (start_after or {}).get(spec.stream, 0)
        info = await js.stream_info(spec.stream)
        last[spec.stream] = max(after, info.state.last_seq)
        if info.state.last_seq <= after:
            applied[spec.stream] = 0
            continue
        name = f"analytics-rebuild-{uuid.uuid4().hex[:8]}"
        config = ConsumerConfig(
            name=name,
            durable_name=None,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if after else DeliverPolicy.ALL,
            opt_start_seq=after + 1 if after else None,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=60,
            max_ack_pending=BATCH * 4,
            filter_subjects=list(spec.filter_subjects) or None,
            inactive_threshold=300,
        )
        await js.add_consumer(spec.stream, config)
        # Same consumer name in the inbox as the live one; a refused event is dead-lettered at
        # once instead of being retried for minutes.
        consumer = EventConsumer(
            replace(spec, max_deliver=1),
            pool=pool,
            nc=nc,
            js=js,
            handlers=binding.handlers,
            batch_handlers=binding.batch_handlers,
        )
        sub = await js.pull_subscribe_bind(name, stream=spec.stream)
        try:
            while True:
                try:
                    msgs = await sub.fetch(BATCH, timeout=1.0)
                except TimeoutError:
                    # nats' own, or a bare asyncio one when the server's 408 meets the deadline
                    # (nats-py raises that on a busy machine): either way, nothing fetched.
                    msgs = []
                if msgs:
                    await consumer.handle_batch(msgs)
                    last[spec.stream] = max(last[spec.stream], msgs[-1].metadata.sequence.stream)
                    if msgs[-1].metadata.num_pending:
                        continue
                state = await js.consumer_info(spec.stream, name)
                if state.num_pending == 0 and state.num_ack_pending == 0:
                    break
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            with contextlib.suppress(Exception):
                await js.delete_consumer(spec.stream, name)
        applied[spec.stream] = consumer.applied
        dead += consumer.dead_lettered
    # Large audiences the replay queued, written now: the rebuilt tables are compared whole.
    await audiences.drain(pool)
    return applied, last, dead


async def numbers(pool: asyncpg.Pool[asyncpg.Record], now: datetime) -> dict[str, Any]:
    """Row counts and every report of every root, at ``now`` (JSON-comparable)."""
    out: dict[str, Any] = {}
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        for table in PROJECTION_TABLES:
            out[f"rows.{table}"] = await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
        months = reports.period(None, None, now, default_months=12)
        for root in await report_repo.roots(conn):
            who = Principal(
                member_id=root["org_id"],
                cell_id=None,
                org_path=None,
                grants=(RoleGrant("org_admin", root["path"]),),
            )
            org_id = root["org_id"]
            built = [
                await reports.document_reach(
                    conn,
                    who,
                    org_id=org_id,
                    document_id=None,
                    publication_id=None,
                    months=None,
                    now=now,
                ),
                await reports.attendance(conn, who, org_id=org_id, months=months, now=now),
                await reports.meetings(
                    conn, who, org_id=org_id, months=months, now=now, max_rows=None
                ),
                await reports.adoption(conn, who, org_id=org_id, now=now),
                await reports.lagging(
                    conn,
                    who,
                    org_id=org_id,
                    months=months,
                    min_unexcused=1,
                    now=now,
                    max_rows=None,
                ),
            ]
            for report in built:
                key = f"{report.report}.{root['path']}"
                out[key] = json.loads(
                    json.dumps({"rows": report.rows, "total": report.total}, default=str)
                )
    return out


def _differences(live: dict[str, Any], rebuilt: dict[str, Any]) -> list[str]:
    diffs = []
    for key in sorted(set(live) | set(rebuilt)):
        if key.startswith("rows.inbox"):
            continue  # the live inbox also holds events refused and retried differently
        if live.get(key) != rebuilt.get(key):
            a, b = live.get(key), rebuilt.get(key)
            if isinstance(a, int | None) and isinstance(b, int | None):
                diffs.append(f"{key}: live {a}, rebuilt {b}")
            else:
                diffs.append(f"{key}: differs")
    return diffs


async def _swap(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute(f"DROP SCHEMA IF EXISTS {PREVIOUS_SCHEMA} CASCADE")
            await conn.execute(f"CREATE SCHEMA {PREVIOUS_SCHEMA}")
            for table in PROJECTION_TABLES:
                await conn.execute(f"LOCK TABLE public.{table} IN ACCESS EXCLUSIVE MODE")
            for table in PROJECTION_TABLES:
                await partitions.set_schema(conn, table, "public", PREVIOUS_SCHEMA)
                await partitions.set_schema(conn, table, REBUILD_SCHEMA, "public")
        await conn.execute(f"DROP SCHEMA {REBUILD_SCHEMA} CASCADE")
    finally:
        await conn.close()


async def rebuild(
    dsn: str, nats_url: str, *, swap: bool = False, now: datetime | None = None
) -> RebuildResult:
    result = RebuildResult()
    await _prepare_schema(dsn)
    nc = await messaging.connect(nats_url, name="analytics-rebuild")
    try:
        js = nc.jetstream()
        pool = await _pool(dsn, REBUILD_SCHEMA)
        live_pool = await _pool(dsn, "public")
        try:
            applied, last, dead = await replay(pool, nc, js)
            result.applied, result.last_seq, result.dead_lettered = applied, last, dead
            at = now or datetime.now(UTC)
            result.live = await numbers(live_pool, at)
            result.rebuilt = await numbers(pool, at)
            result.differences = _differences(result.live, result.rebuilt)
        finally:
            await pool.close()
        try:
            if swap:
                await _swap(dsn)
                result.swapped = True
                caught, _, dead = await replay(live_pool, nc, js, start_after=result.last_seq)
                result.caught_up = sum(caught.values())
                result.dead_lettered += dead
        finally:
            await live_pool.close()
    finally:
        await nc.close()
    return result


def _from_stack(path: Path) -> tuple[str, str]:
    stack = json.loads(path.read_text())
    return str(stack["services"]["analytics"]["dsn"]), str(stack["nats_url"])


def main(argv: Sequence[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(prog="python -m sotay_analytics.rebuild")
    parser.add_argument("--stack", type=Path, help="a running stack's stack.json")
    parser.add_argument("--database-url", default=os.environ.get("ANALYTICS_DATABASE_URL"))
    parser.add_argument("--nats-url", default=os.environ.get("ANALYTICS_REBUILD_NATS_URL"))
    parser.add_argument("--swap", action="store_true", help="swap the rebuilt tables in")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    dsn, url = args.database_url, args.nats_url
    if args.stack:
        dsn, url = _from_stack(args.stack)
    if not dsn or not url:
        parser.error("give --stack, or --database-url and --nats-url (operator credentials)")
    result = asyncio.run(rebuild(dsn, url, swap=args.swap))
    if args.json:
        print(
            json.dumps(
                {
                    "applied": result.applied,
                    "last_seq": result.last_seq,
                    "dead_lettered": result.dead_lettered,
                    "equal": result.equal,
                    "differences": result.differences,
                    "swapped": result.swapped,
                    "caught_up": result.caught_up,
                    "rebuilt": result.rebuilt,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for stream, n in result.applied.items():
            print(f"replayed {stream:<10} {n:>8} events (to seq {result.last_seq[stream]})")
        for key, value in result.rebuilt.items():
            if key.startswith("rows."):
                print(f"  {key[5:]:<22} {value:>8} rows (live {result.live.get(key)})")
        for key, value in result.rebuilt.items():
            if not key.startswith("rows.") and isinstance(value, dict):
                total = value.get("total") or {}
                shown = ", ".join(f"{k}={v}" for k, v in total.items() if v is not None)
                print(f"  {key:<28} {shown}")
        if result.dead_lettered:
            print(f"dead-lettered: {result.dead_lettered}")
        print("numbers: identical" if result.equal else "numbers differ:")
        for diff in result.differences:
            print(f"  {diff}")
        if result.swapped:
            print(f"swapped in; {result.caught_up} later events applied after the cut-off")
    return 0 if result.equal else 1


if __name__ == "__main__":
    sys.exit(main())
