"""Notify fan-out: time to put one publication in the inbox of each of 60,000 members (the
reference province) — beside a raw COPY of 60,000 rows into the same table, same run (§11).

The identity projection of a scratch notify database (real migrations) holds 60,000 active
members in 2,220 cells of 27 under one province, written by COPY (the bench is about the
fan-out, not about projecting). Then:

- fan-out: one ``documents.document.published.v1`` addressed to the province is published to a
  scratch stream and applied by ``EventConsumer`` with notify's own handlers — inbox claim,
  audience from the projection, per-member stream positions and 60,000 notifications written
  by one INSERT … SELECT, a dispatch job, ``pg_notify`` — timed from publish until the
  transaction has committed and the message is acked;
- raw COPY: ``copy_records_to_table`` of 60,000 notification rows (another cause) into the
  same ``notifications`` table, in one transaction, commit included.

``ratio`` = raw COPY time ÷ fan-out time (1.0 would be a fan-out as fast as a bare COPY).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sotay_contracts.events import documents as dev
from sotay_kit import db, messaging, migrations, outbox
from sotay_kit.consumer import EventConsumer
from sotay_notify.app import SPEC
from sotay_notify.events.consumers import bindings
from sotay_notify.events.service import Policy

from ._infra import BenchInfra, _admin, run_standalone, wait_for

MEMBERS = 60_000
PER_CELL = 27
TIMEOUT = 120.0


async def _database(infra: BenchInfra) -> str:
    name = f"bench_{infra.tag}_notify"
    await _admin(infra.admin_dsn, f'CREATE DATABASE "{name}"')
    infra._databases.append(name)
    dsn = infra.dsn(name)
    await migrations.upgrade_async(dsn, SPEC.versions_dir)
    return dsn


async def _seed(dsn: str, members: int) -> uuid.UUID:
    province = uuid.uuid4()
    cells = (members + PER_CELL - 1) // PER_CELL
    orgs = [(province, None, "1", "province", "Đảng bộ tỉnh", "active", 1)]
    cell_ids = [uuid.uuid4() for _ in range(cells)]
    orgs += [
        (c, province, f"1.{i + 2}", "cell", f"Chi bộ {i + 1}", "active", 1)
        for i, c in enumerate(cell_ids)
    ]
    rows = [
        (uuid.uuid4(), cell_ids[i // PER_CELL], f"1.{i // PER_CELL + 2}", "official", "active", 1)
        for i in range(members)
    ]
    conn = await db.connect(dsn)
    try:
        await conn.execute("ALTER TABLE idp_orgs ALTER COLUMN valid_from SET DEFAULT current_date")
        await conn.copy_records_to_table(
            "idp_orgs",
            records=orgs,
            columns=["org_id", "parent_id", "path", "kind", "title", "status", "revision"],
        )
        await conn.copy_records_to_table(
            "idp_members",
            records=rows,
            columns=["member_id", "cell_id", "org_path", "membership", "status", "revision"],
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return province


async def _fan_out(infra: BenchInfra, dsn: str, province: uuid.UUID, members: int) -> float:
    stream, prefix = await infra.scratch_stream("notify")
    subject = f"{prefix}.document.published.v1"
    spec = messaging.ConsumerSpec("bench-notify", stream, (subject,), ack_wait=60.0)
    await messaging.provision(infra.js, [], [spec])
    documents = bindings(Policy())[2]
    pool = await db.create_pool(dsn, min_size=1, max_size=2)
    try:
        consumer = EventConsumer(
            spec,
            pool=pool,
            nc=infra.nc,
            js=infra.js,
            handlers=documents.handlers,
            batch_handlers=documents.batch_handlers,
            fetch_timeout=0.2,
        )
        now = datetime.now(UTC)
        event = dev.DocumentPublished(
            document_id=uuid.uuid4(),
            version=1,
            publication_id=uuid.uuid4(),
            audience_org_ids=[province],
            audience_org_paths=["1"],
            audience_size=members,
            study_required=True,
            study_deadline=now + timedelta(days=30),
            classification=dev.Classification.INTERNAL,
            kind=dev.DocumentKind.RESOLUTION,
            published_by=uuid.uuid4(),
            publisher_org_id=province,
            occurred_at=now,
        )
        ce = outbox.build(event)
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        await asyncio.sleep(0.5)  # the consumer is bound and waiting
        start = time.perf_counter()
        await infra.js.publish(subject, ce.data, headers=ce.to_nats_headers())
        end = await wait_for(
            lambda: consumer.applied >= 1 or consumer.dead_lettered > 0 or task.done(),
            TIMEOUT,
            "fan-out applied",
        )
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        if consumer.applied != 1:
            raise RuntimeError(f"fan-out not applied (dead-lettered {consumer.dead_lettered})")
        written = await pool.fetchval(
            "SELECT count(*) FROM notifications WHERE cause_id = $1", event.publication_id
        )
        if written != members:
            raise RuntimeError(f"{written} notifications written, expected {members}")
    finally:
        await pool.close()
    return end - start


async def _raw_copy(dsn: str, members: int) -> float:
    conn = await db.connect(dsn)
    try:
        ids = [r["member_id"] for r in await conn.fetch("SELECT member_id FROM idp_members")]
        cause = uuid.uuid4()
        now = datetime.now(UTC)
        records = [
            (
                uuid.uuid4(),
                m,
                1_000_000 + i,
                "document_published",
                cause,
                "published",
                "Văn bản mới: nghị quyết",
                "Đảng bộ tỉnh đã phát hành nghị quyết mới.",
                f"/documents/{cause}",
                False,
                now,
            )
            for i, m in enumerate(ids[:members])
        ]
        columns = [
            "id", "member_id", "seq", "cause_type", "cause_id", "kind", "title", "body", "link",
            "urgent", "created_at",
        ]  # fmt: skip
        start = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("notifications", records=records, columns=columns)
        return time.perf_counter() - start
    finally:
        await conn.close()


async def main(infra: BenchInfra, n: int = MEMBERS) -> dict[str, Any]:
    members = MEMBERS  # the reference province, whatever the run's n
    dsn = await _database(infra)
    province = await _seed(dsn, members)
    fan_out_s = await _fan_out(infra, dsn, province, members)
    copy_s = await _raw_copy(dsn, members)
    return {
        "members": members,
        "fanout_seconds": round(fan_out_s, 3),
        "raw_copy_seconds": round(copy_s, 3),
        "fanout_rows_per_s": round(members / fan_out_s, 1),
        "raw_copy_rows_per_s": round(members / copy_s, 1),
        "ratio": round(copy_s / fan_out_s, 3),
        "aim": 0.5,
    }


if __name__ == "__main__":
    print(run_standalone(main, __doc__, MEMBERS))
