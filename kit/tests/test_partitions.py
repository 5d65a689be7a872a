"""Monthly partitions of the tables that grow with time (sotay_kit.partitions): created ahead,
strays moved out of the default partition, old months dropped or archived, one maintainer at a
time, and queries that touch only the months they need."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest
from alembic import command
from sotay_kit import audit, db, outbox, partitions
from sotay_kit.migrations import alembic_config
from sotay_kit.partitions import INBOX, OUTBOX
from sotay_kit.testing.databases import EMPTY_VERSIONS
from sotay_kit.testing.partitions import partition_rows, plan_relations, uuid7_at


def at(year: int, month: int, day: int = 15) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


async def _inbox(conn: asyncpg.Connection, *moments: datetime) -> list[uuid.UUID]:
    ids = [uuid7_at(m) for m in moments]
    await conn.executemany(
        "INSERT INTO inbox (consumer, event_id, subject) VALUES ('c', $1, 's')", [(i,) for i in ids]
    )
    return ids


async def _outbox(conn: asyncpg.Connection, moment: datetime, *, sent: bool) -> uuid.UUID:
    event_id = uuid7_at(moment)
    await conn.execute(
        "INSERT INTO outbox (event_id, subject, headers, body, sent_at) "
        "VALUES ($1, 's', '{}', '', $2)",
        event_id,
        moment if sent else None,
    )
    return event_id


async def test_the_migration_partitions_outbox_and_inbox_by_month_ahead(kit_dsn: str) -> None:
    conn = await db.connect(kit_dsn)
    try:
        this_month = partitions.month_of(datetime.now(UTC))
        expected = {
            f"inbox_p{m:%Y%m}" for m in partitions.window(this_month, partitions.MONTHS_AHEAD)
        }
        assert set(await partition_rows(conn, "inbox")) == expected | {"inbox_default"}
        # A row of this month lands in this month's partition, not the default one.
        await _inbox(conn, datetime.now(UTC))
        counts = await partition_rows(conn, "inbox")
        assert counts[f"inbox_p{this_month:%Y%m}"] == 1
        assert counts["inbox_default"] == 0
    finally:
        await conn.close()


def month(offset: int) -> date:
    """The month ``offset`` months from the current one (the migration made its partitions)."""
    return partitions.add_months(partitions.month_of(datetime.now(UTC)), offset)


def mid(offset: int) -> datetime:
    m = month(offset)
    return at(m.year, m.month)


def name(table: str, offset: int) -> str:
    return partitions.partition_name(table, month(offset))


async def test_maintenance_creates_ahead_moves_strays_and_keeps_only_what_retention_allows(
    kit_dsn: str,
) -> None:
    """A database whose maintenance did not run for months: rows wait in the default partition.
    The next run gives each its month, creates the months ahead, drops the inbox's months past
    its retention and the outbox's — except a month still holding an event to publish."""
    conn = await db.connect(kit_dsn)
    try:
        await _inbox(conn, mid(-3), mid(7), mid(7))
        old_sent = await _outbox(conn, mid(-2), sent=True)
        unsent = await _outbox(conn, mid(-1), sent=False)
        assert (await partition_rows(conn, "inbox"))["inbox_default"] == 3
        assert (await partition_rows(conn, "outbox"))["outbox_default"] == 2

        today = month(1).replace(day=10)
        report = await partitions.maintain(conn, [OUTBOX, INBOX], today=today)

        assert report.moved_rows == 5
        inbox = await partition_rows(conn, "inbox")
        outbox = await partition_rows(conn, "outbox")
        assert inbox["inbox_default"] == outbox["outbox_default"] == 0
        assert inbox[name("inbox", 7)] == 2  # stray future rows got their month
        assert name("inbox", 1 + partitions.MONTHS_AHEAD) in inbox  # ahead of "today"'s month
        # Inbox: three whole months kept before "today"'s, so the fourth went with its row.
        assert name("inbox", -3) not in inbox
        assert await conn.fetchval("SELECT count(*) FROM inbox") == 2
        # Outbox: past months go once all sent (this one, empty, too); the unsent one stays.
        assert report.dropped == [name("outbox", -2), name("outbox", 0), name("inbox", -3)]
        assert report.kept == [name("outbox", -1)]
        remaining = {r[0] for r in await conn.fetch("SELECT event_id FROM outbox")}
        assert unsent in remaining and old_sent not in remaining

        again = await partitions.maintain(conn, [OUTBOX, INBOX], today=today)
        assert list(again) == [] and again.moved_rows == 0  # nothing left to do
    finally:
        await conn.close()


async def test_a_table_another_replica_is_maintaining_is_skipped(kit_dsn: str) -> None:
    holder = await db.connect(kit_dsn)
    conn = await db.connect(kit_dsn)
    try:
        async with holder.transaction():
            await holder.execute(
                "SELECT pg_advisory_xact_lock($1, 'inbox'::regclass::oid::int)",
                partitions._LOCK_NAMESPACE,
            )
            report = await partitions.maintain(conn, [OUTBOX, INBOX], today=month(6))
        assert report.skipped == ["inbox"]
        assert name("outbox", 6) in report.created and name("inbox", 6) not in report.created
    finally:
        await holder.close()
        await conn.close()


async def test_hot_queries_touch_only_their_months_partition(kit_dsn: str) -> None:
    """The relay marks published events by id: the plan reads this month's partition only
    (the months ahead and behind are pruned)."""
    conn = await db.connect(kit_dsn)
    try:
        await partitions.maintain(conn, [OUTBOX], today=datetime.now(UTC).date())
        event_id = await _outbox(conn, datetime.now(UTC), sent=False)
        read = await plan_relations(conn, outbox.MARK_SENT, [event_id])
        this_month = partitions.partition_name("outbox", partitions.month_of(datetime.now(UTC)))
        assert read == {"outbox", this_month}
    finally:
        await conn.close()


async def test_audit_retention_archives_old_months_and_the_chain_still_verifies(
    kit_dsn: str,
) -> None:
    conn = await db.connect(kit_dsn)
    await conn.execute(audit.AUDIT_DDL)
    await conn.execute(audit.partition_log_sql(date(2027, 1, 1)))
    try:
        moments = [at(2027, 1, 5), at(2027, 1, 20), at(2027, 2), at(2027, 3, 2), at(2027, 3, 9)]
        for i, moment in enumerate(moments):
            async with conn.transaction():
                await audit.record(conn, "members.imported", details={"n": i}, at=moment)

        report = await partitions.maintain(conn, [partitions.AUDIT_LOG], today=date(2028, 3, 1))

        assert report.archived == ["audit_log_p202701", "audit_log_p202702"]
        assert report.dropped == []
        assert await partitions.archived(conn, "audit_log") == [
            "archive.audit_log_p202701",
            "archive.audit_log_p202702",
        ]
        assert await conn.fetchval("SELECT count(*) FROM audit_log") == 2  # March, still live
        # The chain runs through the archive into the live log, and later entries extend it.
        async with conn.transaction():
            await audit.record(conn, "members.imported", details={"n": 5})
        assert await audit.verify(conn) == audit.ChainReport(True, 6, None)

        # Archived months are read-only, and live months refuse changes on the partition too.
        with pytest.raises(asyncpg.RaiseError, match="read-only"):
            await conn.execute("DELETE FROM archive.audit_log_p202701")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("DELETE FROM audit_log_p202703")
        # Someone who gets around the archive's trigger and edits a row: the chain shows it.
        await conn.execute("ALTER TABLE archive.audit_log_p202702 DISABLE TRIGGER ALL")
        await conn.execute("UPDATE archive.audit_log_p202702 SET details = '{\"n\": 9}'")
        tampered = await conn.fetchval("SELECT seq FROM archive.audit_log_p202702")
        assert await audit.verify(conn) == audit.ChainReport(False, 2, tampered)
    finally:
        await conn.close()


async def test_the_migration_keeps_rows_and_publication_order_both_ways(kit_dsn: str) -> None:
    """kit_0002 down (to the plain tables) and up again: every row kept, and the outbox's
    sequence carries on after the highest one, so the relay's order stays the commit order."""
    conn = await db.connect(kit_dsn)
    try:
        for _ in range(3):
            await _outbox(conn, datetime.now(UTC), sent=False)
        await _inbox(conn, datetime.now(UTC), mid(-5))  # one lands in the default partition
        cfg = alembic_config(kit_dsn, EMPTY_VERSIONS)
        await asyncio.to_thread(command.downgrade, cfg, "kit_0001")
        assert not await conn.fetchval("SELECT to_regclass('outbox_default') IS NOT NULL")
        await asyncio.to_thread(command.upgrade, cfg, "heads")

        assert await conn.fetchval("SELECT count(*) FROM inbox") == 2
        seqs = [r[0] for r in await conn.fetch("SELECT seq FROM outbox ORDER BY seq")]
        assert seqs == [1, 2, 3]
        await _outbox(conn, datetime.now(UTC), sent=False)
        assert await conn.fetchval("SELECT max(seq) FROM outbox") == 4
    finally:
        await conn.close()
