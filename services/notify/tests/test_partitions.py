"""The inbox, deliveries and delivery attempts partitioned by month of their cause's UUIDv7 id
(sotay_notify.partitioned, notify_0007): months ahead after the migration, rows kept both ways,
hot queries that read only their cause's month, and retention dropping a month of all three
tables despite the foreign keys between them."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from alembic import command
from sotay_contracts.events.notify import NotificationCause
from sotay_kit import partitions
from sotay_kit.migrations import alembic_config, upgrade_async
from sotay_kit.testing.partitions import partition_rows, plan_relations
from sotay_notify.delivery import repository as delivery_repo
from sotay_notify.events import repository as events_repo
from sotay_notify.partitioned import TABLES as NOTIFY_TABLES
from sotay_notify.texts import Content

TABLES = ("notifications", "deliveries", "delivery_attempts")


def uuid7_at(month: date, day: int = 15) -> uuid.UUID:
    """A UUIDv7 created on ``day`` of ``month`` (RFC 9562: 48-bit ms, version 7, variant 10)."""
    ms = int(datetime(month.year, month.month, day, 12, tzinfo=UTC).timestamp() * 1000)
    rand = secrets.randbits(74)
    return uuid.UUID(
        int=(ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & (2**62 - 1))
    )


def this_month() -> date:
    return partitions.month_of(datetime.now(UTC))


def name(table: str, month: date) -> str:
    return partitions.partition_name(table, month)


async def _notified(conn: asyncpg.Connection, cause_id: uuid.UUID, *, attempts: int = 1) -> int:
    """A notification of ``cause_id`` to a new member, with a push delivery and its attempts;
    returns the delivery's id."""
    notification_id = await conn.fetchval(
        "INSERT INTO notifications (member_id, seq, cause_type, cause_id, kind, title, body, "
        "link, created_at) VALUES ($1, 1, 'meeting_scheduled', $2, 'scheduled', 't', 'b', '/', "
        "now()) RETURNING id",
        uuid.uuid4(),
        cause_id,
    )
    delivery_id: int = await conn.fetchval(
        "INSERT INTO deliveries (notification_id, member_id, channel, next_attempt_at, "
        "created_at, cause_id) SELECT id, member_id, 'email', now(), now(), cause_id "
        "FROM notifications WHERE id = $1 RETURNING id",
        notification_id,
    )
    for attempt in range(1, attempts + 1):
        await conn.execute(
            "INSERT INTO delivery_attempts (delivery_id, attempt, status, at, cause_id) "
            "VALUES ($1, $2, 'failed', now(), $3)",
            delivery_id,
            attempt,
            cause_id,
        )
    return delivery_id


async def _rows_of(conn: asyncpg.Connection, cause_id: uuid.UUID) -> list[int]:
    return [
        await conn.fetchval(f"SELECT count(*) FROM {t} WHERE cause_id = $1", cause_id)  # noqa: S608
        for t in TABLES
    ]


async def test_the_migration_partitions_the_three_tables_with_months_ahead(
    notify_dsn: str,
) -> None:
    conn = await asyncpg.connect(notify_dsn)
    try:
        now = this_month()
        for table in TABLES:
            names = set(await partition_rows(conn, table))
            ahead = {name(table, m) for m in partitions.window(now, partitions.MONTHS_AHEAD)}
            before = {name(table, partitions.add_months(now, -i)) for i in range(1, 13)}
            assert names == ahead | before | {f"{table}_default"}, table
        keys = await conn.fetch(
            "SELECT conrelid::regclass::text AS t, pg_get_constraintdef(oid) AS def "
            "FROM pg_constraint WHERE conrelid = ANY($1::regclass[]) "
            "AND contype IN ('p', 'u', 'f') AND conparentid = 0 ORDER BY 1, 2",
            list(TABLES),
        )
        assert [(r["t"], r["def"]) for r in keys] == [
            ("deliveries", "FOREIGN KEY (notification_id, cause_id) REFERENCES "
             "notifications(id, cause_id) ON DELETE CASCADE"),
            ("deliveries", "PRIMARY KEY (id, cause_id)"),
            ("deliveries", "UNIQUE NULLS NOT DISTINCT (notification_id, channel, "
             "subscription_id, cause_id)"),
            ("delivery_attempts", "FOREIGN KEY (delivery_id, cause_id) REFERENCES "
             "deliveries(id, cause_id) ON DELETE CASCADE"),
            ("delivery_attempts", "PRIMARY KEY (delivery_id, attempt, cause_id)"),
            ("notifications", "PRIMARY KEY (id, cause_id)"),
            ("notifications", "UNIQUE (cause_type, cause_id, kind, member_id)"),
        ]  # fmt: skip
        # notify's own ids are UUIDv7 now; a cause of this month lands in its month.
        cause = uuid7_at(now, 1)
        await _notified(conn, cause)
        version = await conn.fetchval(
            "SELECT uuid_extract_version(id) FROM notifications WHERE cause_id = $1", cause
        )
        assert version == 7
        for table in TABLES:
            counts = await partition_rows(conn, table)
            assert counts[name(table, now)] == 1 and counts[f"{table}_default"] == 0
    finally:
        await conn.close()


async def test_the_migration_keeps_rows_and_ids_both_ways(notify_dsn: str) -> None:
    from sotay_notify.app import SPEC

    config = alembic_config(notify_dsn, SPEC.versions_dir)
    await asyncio.to_thread(command.downgrade, config, "notify_0006")
    conn = await asyncpg.connect(notify_dsn)
    try:
        recent, legacy = uuid7_at(partitions.add_months(this_month(), -2)), uuid.uuid4()
        old = uuid7_at(partitions.add_months(this_month(), -30))  # before retention
        for cause in (recent, legacy, old):
            notification = await conn.fetchval(
                "INSERT INTO notifications (member_id, seq, cause_type, cause_id, kind, title, "
                "body, link, created_at) VALUES ($1, 1, 'system', $2, 'k', 't', 'b', '/', now()) "
                "RETURNING id",
                uuid.uuid4(),
                cause,
            )
            delivery = await conn.fetchval(
                "INSERT INTO deliveries (notification_id, member_id, channel, next_attempt_at, "
                "created_at) VALUES ($1, $2, 'sms', now(), now()) RETURNING id",
                notification,
                uuid.uuid4(),
            )
            await conn.execute(
                "INSERT INTO delivery_attempts (delivery_id, attempt, status, at) "
                "VALUES ($1, 1, 'failed', now())",
                delivery,
            )
        last = await conn.fetchval("SELECT max(id) FROM deliveries")

        await upgrade_async(notify_dsn, SPEC.versions_dir)
        for cause in (recent, legacy, old):
            assert await _rows_of(conn, cause) == [1, 1, 1]
        month = partitions.add_months(this_month(), -2)
        oldest = partitions.add_months(this_month(), -30)
        for table in TABLES:
            counts = await partition_rows(conn, table)
            assert counts[name(table, month)] == 1
            assert counts[name(table, oldest)] == 1  # a partition for the rows' month
            assert counts[f"{table}_default"] == 1  # the uuid4 cause's
        # The identity continues after the rows put back.
        assert await _notified(conn, recent) > last

        await asyncio.to_thread(command.downgrade, config, "notify_0006")
        assert await conn.fetchval("SELECT count(*) FROM delivery_attempts") == 4
        assert await conn.fetchval(
            "SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification_id"
        ) == 4  # fmt: skip
        assert not await conn.fetchval(
            "SELECT EXISTS (SELECT FROM pg_partitioned_table "
            "WHERE partrelid = ANY($1::regclass[]))",
            list(TABLES),
        )
        await upgrade_async(notify_dsn, SPEC.versions_dir)
    finally:
        await conn.close()


class Recording:
    """A connection that remembers the statements run through it (a repository's SQL)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, attr: str) -> Any:
        method = getattr(self.conn, attr)

        async def call(sql: str, *args: Any, **kwargs: Any) -> Any:
            self.statements.append((sql, args))
            return await method(sql, *args, **kwargs)

        return call


async def _read(conn: asyncpg.Connection, sql: str, args: tuple[Any, ...]) -> set[str]:
    """The partitions of the three tables that ``sql``'s plan reads."""
    read = await plan_relations(conn, sql, *args)
    return {r for r in read if r.startswith(TABLES) and r not in TABLES}


async def test_hot_queries_read_only_their_causes_month(notify_dsn: str) -> None:
    conn = await asyncpg.connect(notify_dsn)
    try:
        month = partitions.add_months(this_month(), -1)
        cause = uuid7_at(month)
        members = [uuid.uuid4() for _ in range(3)]
        await conn.executemany(
            "INSERT INTO idp_members (member_id, cell_id, org_path, membership, status, revision) "
            "VALUES ($1, $2, '1', 'official', 'active', 1)",
            [(m, uuid.uuid4()) for m in members],
        )
        content = Content(NotificationCause.DOCUMENT_PUBLISHED, cause, "published", "t", "b", "/")
        now = datetime.now(UTC)
        rec = Recording(conn)

        # The fan-out: the idempotency check and the insert.
        async with conn.transaction():
            written = await events_repo.fan_out(
                rec,
                content,
                events_repo.AUDIENCE_MEMBERS,
                members,
                events_repo.active_statuses(),
                now=now,
            )
        assert written == 3
        fan_out = rec.statements[0]
        assert await _read(conn, *fan_out) == {name("notifications", month)}

        # The dispatcher's walk over the cause, and its plan of deliveries.
        job = {"cause_type": "document_published", "cause_id": cause, "kind": "published",
               "after_member": None}  # fmt: skip
        rec.statements.clear()
        chunk = await delivery_repo.job_chunk(rec, job, 10)
        await conn.execute(
            "INSERT INTO preferences (member_id, email, email_address, updated_by, updated_at) "
            "SELECT m, true, 'a@b.vn', m, now() FROM unnest($1::uuid[]) AS m",
            members,
        )
        await delivery_repo.plan_deliveries(
            rec, job, max(members), now, webpush=True, email=True, sms=True
        )
        walk, plan = rec.statements
        assert await _read(conn, *walk) == {name("notifications", month)}
        assert await _read(conn, *plan) == {name("notifications", month)}
        assert len(chunk) == 3

        # A delivery's lease: its details, its outcome and the attempt's upsert.
        rec.statements.clear()
        async with conn.transaction():
            [lease, *_] = await delivery_repo.claim_due(rec, now, 10, 30.0)
            assert lease["cause_id"] == cause
            assert await delivery_repo.retry_at(rec, lease, "provider_error", now)
            await delivery_repo.record_attempt(rec, lease, 1, "failed", "x", None, now)
            await delivery_repo.record_attempt(rec, lease, 1, "failed", "y", None, now)
        _claim, details, retry, _attempt, _again = rec.statements
        assert await _read(conn, *details) == {
            name("deliveries", month),
            name("notifications", month),
        }
        assert await _read(conn, *retry) == {name("deliveries", month)}
        counts = await partition_rows(conn, "delivery_attempts")
        assert counts[name("delivery_attempts", month)] == 1  # upserted once
    finally:
        await conn.close()


async def test_retention_drops_a_month_of_all_three_tables(notify_dsn: str) -> None:
    conn = await asyncpg.connect(notify_dsn)
    try:
        now = this_month()
        old_month, kept_month = partitions.add_months(now, -6), partitions.add_months(now, -1)
        old, kept, legacy = uuid7_at(old_month), uuid7_at(kept_month), uuid.uuid4()
        # Older than any partition: lands in the default partitions.
        ancient = uuid7_at(partitions.add_months(now, -40))
        for cause in (old, kept, legacy, ancient):
            await _notified(conn, cause, attempts=2)
        assert await _rows_of(conn, ancient) == [1, 1, 2]

        # Seven months on: retention (12) keeps the months from five months ago.
        today = partitions.add_months(now, 7)
        report = await partitions.maintain(conn, NOTIFY_TABLES, today=today)

        assert await _rows_of(conn, old) == [0, 0, 0]
        assert await _rows_of(conn, kept) == [1, 1, 2]
        assert await _rows_of(conn, legacy) == [1, 1, 2]
        gone = [partitions.add_months(now, -i) for i in range(6, 13)]
        for table in TABLES:
            names = set(await partition_rows(conn, table))
            assert not names & {name(table, m) for m in gone}, table
            assert name(table, kept_month) in names
            assert name(table, partitions.add_months(today, partitions.MONTHS_AHEAD)) in names
        assert name("notifications", old_month) in report.dropped
        # The default partitions of the referenced tables cannot be detached to move the
        # ancient cause's rows out: they stay (its attempts, unreferenced, went to their month,
        # dropped as past retention); maintenance goes on.
        assert report.unmoved == [
            f"deliveries_default:{partitions.add_months(now, -40):%Y%m}",
            f"notifications_default:{partitions.add_months(now, -40):%Y%m}",
        ]
        assert await _rows_of(conn, ancient) == [1, 1, 0]
        again = await partitions.maintain(conn, NOTIFY_TABLES, today=today)
        assert list(again) == [] and again.unmoved == report.unmoved
    finally:
        await conn.close()
