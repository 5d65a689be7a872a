"""Tables that grow with members × time, partitioned by month (docs/scaling.md, "Growth").

Each such table is ``PARTITION BY RANGE`` on a time key: a ``timestamptz`` column, or a UUIDv7
id, whose first 48 bits are its creation time in milliseconds — a month is then a range of ids,
and a unique key on the id (an idempotency key) stays unique across partitions. Every parent
has a DEFAULT partition, so an insert never fails for want of a partition.

:func:`maintain` is each service's hourly job (and runs at start). Per table, in its own
transaction under a transaction-scoped advisory lock (one replica at a time, the others skip):

- creates the partitions of this month and of ``ahead`` months beyond it;
- moves the rows that fell into the default partition (the table was just converted, or the
  job did not run for months) into partitions of their month — except where another table's
  foreign key references rows of the default partition, which Postgres then refuses to detach:
  those rows stay in the default partition (reported as ``unmoved``);
- past the table's retention, drops its old partitions (detached first: Postgres refuses to
  drop a partition that a foreign key references; list the referencing tables first, so their
  month is gone when the referenced one is detached) — or, for a table whose history is kept
  (the audit log), detaches them into schema ``archive`` — except a partition still holding a
  row that matches ``keep_while`` (an outbox row not yet published).

Invariants: partitions are named ``<table>_pYYYYMM`` and ``<table>_default``; months are UTC;
DDL waits at most ``lock_timeout`` for a table's lock and otherwise leaves the work to the next
run. Maintenance may delete rows only while moving them out of the default partition, under the
transaction-local setting ``sotay.partition_maintenance`` that the audit log's append-only
trigger honours.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal
from uuid import UUID

import asyncpg

from .db import Connection

log = logging.getLogger("sotay.partitions")

KeyKind = Literal["timestamptz", "uuid7"]
ARCHIVE_SCHEMA = "archive"
# Partitions made ahead of this month. One is margin enough for an hourly job, and every
# partition costs each statement on the table something (measured: docs/performance.md).
MONTHS_AHEAD = 1
_LOCK_NAMESPACE = 0x70617274  # with the table's oid: one maintainer per table at a time
_MONTH_SUFFIX = re.compile(r"_p(\d{4})(\d{2})$")


@dataclass(frozen=True)
class PartitionedTable:
    table: str
    column: str
    key: KeyKind
    # Whole months kept before the current one; None keeps every partition.
    retention_months: int | None
    # Past retention, detach into schema ``archive`` (kept, read-only) instead of dropping.
    archive: bool = False
    # A partition holding a row that matches this predicate is never dropped.
    keep_while: str | None = None


# Kit's tables, in every service database. The outbox only needs what is still to publish (the
# stream keeps the events): past months go as soon as all their rows are sent. The inbox guards
# against redelivery, which a durable consumer only does for messages not yet acknowledged — a
# few minutes' worth, kept three months.
OUTBOX = PartitionedTable("outbox", "event_id", "uuid7", 0, keep_while="sent_at IS NULL")
INBOX = PartitionedTable("inbox", "event_id", "uuid7", 3)
AUDIT_LOG = PartitionedTable("audit_log", "at", "timestamptz", 12, archive=True)
KIT_TABLES = (OUTBOX, INBOX, AUDIT_LOG)


def month_of(moment: datetime | date) -> date:
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC).date()
    return moment.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def bound(key: KeyKind, month: date) -> str:
    """The SQL literal of ``month``'s first instant in a key of kind ``key``."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    if key == "timestamptz":
        return f"'{start.isoformat()}'"
    # UUIDv7: the smallest id of the first millisecond of the month.
    return f"'{UUID(int=int(start.timestamp() * 1000) << 80)}'"


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


def create_partition_sql(spec: PartitionedTable, month: date) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(spec.table, month)} "
        f"PARTITION OF {spec.table} FOR VALUES FROM ({bound(spec.key, month)}) "
        f"TO ({bound(spec.key, add_months(month, 1))})"
    )


def window(today: date, ahead: int) -> list[date]:
    """The months that must have a partition: this one and ``ahead`` beyond it."""
    first = month_of(today)
    return [add_months(first, i) for i in range(ahead + 1)]


def partitioned_ddl(
    schema_ddl: str, spec: PartitionedTable, *, primary_key: str | None = None
) -> str:
    """``spec.table``'s ``CREATE TABLE`` and ``CREATE INDEX`` statements taken from
    ``schema_ddl`` (the plain schema), made ``PARTITION BY RANGE (spec.column)``; the same
    columns in the same order, as :func:`convert_sql` needs. ``primary_key`` replaces the
    primary key's columns when they lack the partition key."""
    table = re.search(rf"CREATE TABLE {spec.table} \(.*?\n\);", schema_ddl, re.DOTALL)
    if table is None:
        raise ValueError(f"no CREATE TABLE {spec.table} in the schema")
    create = table[0].removesuffix(");") + f") PARTITION BY RANGE ({spec.column});"
    if primary_key is not None:
        create, n = re.subn(r"PRIMARY KEY \([^)]*\)", f"PRIMARY KEY ({primary_key})", create)
        if n != 1:
            raise ValueError(f"{spec.table} has no table-level PRIMARY KEY to replace")
    indexes = re.findall(rf"CREATE (?:UNIQUE )?INDEX \w+ ON {spec.table} .*?;", schema_ddl)
    return "\n".join([create, *indexes]) + "\n"


def convert_sql(
    spec: PartitionedTable, partitioned_ddl: str, *, today: date, ahead: int = MONTHS_AHEAD
) -> str:
    """For a migration: rebuild ``spec.table`` as the partitioned table ``partitioned_ddl``
    creates (same columns in the same order), with its default partition and the window's, and
    keep its rows (those outside the window wait in the default one for :func:`maintain`)."""
    t = spec.table
    months = "\n".join(f"{create_partition_sql(spec, m)};" for m in window(today, ahead))
    return f"""
CREATE TEMP TABLE {t}_rows AS SELECT * FROM {t};
DROP TABLE {t};
{partitioned_ddl}
CREATE TABLE {t}_default PARTITION OF {t} DEFAULT;
{months}
INSERT INTO {t} OVERRIDING SYSTEM VALUE SELECT * FROM {t}_rows;
DROP TABLE {t}_rows;
"""  # noqa: S608 - fixed names


def revert_sql(tables: Sequence[str], plain_ddl: str, *, drop_also: str = "") -> str:
    """For a migration's downgrade: rebuild ``tables`` (partitioned) as ``plain_ddl`` creates
    them, keeping their rows; ``drop_also`` runs between (objects the DDL creates again)."""
    keep = "\n".join(f"CREATE TEMP TABLE {t}_rows AS SELECT * FROM {t};" for t in tables)  # noqa: S608
    drop = "\n".join(f"DROP TABLE {t};" for t in tables)
    put_back = "\n".join(
        f"INSERT INTO {t} OVERRIDING SYSTEM VALUE SELECT * FROM {t}_rows; DROP TABLE {t}_rows;"  # noqa: S608
        for t in tables
    )
    return f"{keep}\n{drop}\n{drop_also}\n{plain_ddl}\n{put_back}\n"


@dataclass
class MaintenanceReport:
    created: list[str] = field(default_factory=list)
    moved_rows: int = 0
    dropped: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # past retention but holding rows to keep
    skipped: list[str] = field(default_factory=list)  # another replica held the table's lock
    # ``<table>_default:YYYYMM``: stray rows left in the default partition, referenced by
    # another table's rows (the default partition of a referenced table cannot be detached)
    unmoved: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[str]:  # for logs: what changed, by name
        yield from (f"+{n}" for n in self.created)
        yield from (f"-{n}" for n in self.dropped)
        yield from (f">{n}" for n in self.archived)


async def maintain(
    conn: Connection,
    tables: Iterable[PartitionedTable],
    *,
    today: date,
    ahead: int = MONTHS_AHEAD,
    retention: dict[str, int] | None = None,
    lock_timeout: str = "5s",
) -> MaintenanceReport:
    """Bring each table's partitions in line with ``today`` (see the module's docstring).
    ``retention`` overrides a table's ``retention_months`` by table name."""
    report = MaintenanceReport()
    overrides = retention or {}
    for spec in tables:
        months = overrides.get(spec.table, spec.retention_months)
        if not await conn.fetchval(
            "SELECT EXISTS (SELECT FROM pg_partitioned_table p WHERE p.partrelid = "
            "to_regclass($1))",
            spec.table,
        ):
            continue  # not in this database, or not converted yet (its migration will)
        async with conn.transaction():
            locked = await conn.fetchval(
                "SELECT pg_try_advisory_xact_lock($1, $2::regclass::oid::int)",
                _LOCK_NAMESPACE,
                spec.table,
            )
            if not locked:
                report.skipped.append(spec.table)
                continue
            await conn.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")
            await conn.execute("SET LOCAL sotay.partition_maintenance = 'on'")
            await _maintain_table(conn, spec, today, ahead, months, report)
    return report


async def _maintain_table(
    conn: Connection,
    spec: PartitionedTable,
    today: date,
    ahead: int,
    retention_months: int | None,
    report: MaintenanceReport,
) -> None:
    existing = await _partitions(conn, spec.table)
    stray = await _months_in_default(conn, spec)
    for month in sorted(set(window(today, ahead)) | stray):
        if month in existing:
            continue
        if month in stray:
            try:
                async with conn.transaction():  # a savepoint: a refusal undoes the detach
                    report.moved_rows += await _create_moving_rows(conn, spec, month)
            except asyncpg.ForeignKeyViolationError:
                # Rows of another table reference the default partition's rows (notify's
                # deliveries → notifications): Postgres refuses to detach it, so its rows of
                # this month stay there, like ids that are not UUIDv7.
                report.unmoved.append(f"{spec.table}_default:{month:%Y%m}")
                continue
        else:
            await conn.execute(create_partition_sql(spec, month))
        existing[month] = partition_name(spec.table, month)
        report.created.append(existing[month])
    if retention_months is None:
        return
    oldest_kept = add_months(month_of(today), -retention_months)
    for month, name in sorted(existing.items()):
        if month >= oldest_kept:
            break
        if spec.keep_while:
            # Locked before the check, parent first as writers lock it: no row to keep may
            # arrive between the check and the drop, and no deadlock with a writer.
            await conn.execute(f"LOCK TABLE {spec.table}, {name} IN ACCESS EXCLUSIVE MODE")
        if spec.keep_while and await conn.fetchval(
            f"SELECT EXISTS (SELECT FROM ONLY {name} WHERE {spec.keep_while})"  # noqa: S608 - fixed names
        ):
            report.kept.append(name)
        elif spec.archive:
            await _archive(conn, spec.table, name)
            report.archived.append(name)
        else:
            # Detached first: Postgres refuses to drop a partition that a foreign key
            # references (even with no referencing row left); detaching checks there is none.
            await conn.execute(f"ALTER TABLE {spec.table} DETACH PARTITION {name}")
            await conn.execute(f"DROP TABLE {name}")
            report.dropped.append(name)


async def _partitions(conn: Connection, table: str) -> dict[date, str]:
    names = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = $1::regclass",
        table,
    )
    found = {}
    for (name,) in names:
        if m := _MONTH_SUFFIX.search(name):
            found[date(int(m[1]), int(m[2]), 1)] = name
    return found


async def _months_in_default(conn: Connection, spec: PartitionedTable) -> set[date]:
    if spec.key == "uuid7":
        # Ids of another version cannot be placed by time: they stay in the default partition.
        moment = f"uuid_extract_timestamp({spec.column})"
        where = f"WHERE uuid_extract_version({spec.column}) = 7"
    else:
        moment, where = spec.column, ""
    rows = await conn.fetch(
        f"SELECT DISTINCT date_trunc('month', {moment} AT TIME ZONE 'UTC')::date "  # noqa: S608
        f"FROM {spec.table}_default {where}"
    )
    return {r[0] for r in rows}


async def _create_moving_rows(conn: Connection, spec: PartitionedTable, month: date) -> int:
    """A partition for ``month`` when the default one already holds rows of it: Postgres
    refuses to create it then, so detach the default, create it, move the rows, re-attach."""
    t = spec.table
    lo, hi = bound(spec.key, month), bound(spec.key, add_months(month, 1))
    await conn.execute(f"ALTER TABLE {t} DETACH PARTITION {t}_default")
    await conn.execute(create_partition_sql(spec, month))
    moved = await conn.fetchval(
        f"WITH moved AS (DELETE FROM {t}_default WHERE {spec.column} >= {lo} "  # noqa: S608
        f"AND {spec.column} < {hi} RETURNING *), "
        f"ins AS (INSERT INTO {t} OVERRIDING SYSTEM VALUE SELECT * FROM moved RETURNING 1) "
        "SELECT count(*) FROM ins"
    )
    await conn.execute(f"ALTER TABLE {t} ATTACH PARTITION {t}_default DEFAULT")
    return int(moved)


_ARCHIVE_READ_ONLY = """
CREATE OR REPLACE FUNCTION archive_read_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'archived partitions are read-only';
END $$;
"""


async def _archive(conn: Connection, table: str, name: str) -> None:
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {ARCHIVE_SCHEMA}")
    await conn.execute(_ARCHIVE_READ_ONLY)
    await conn.execute(f"ALTER TABLE {table} DETACH PARTITION {name}")
    await conn.execute(f"ALTER TABLE {name} SET SCHEMA {ARCHIVE_SCHEMA}")
    await conn.execute(
        f"CREATE TRIGGER {name}_read_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {ARCHIVE_SCHEMA}.{name} FOR EACH STATEMENT EXECUTE FUNCTION archive_read_only()"
    )


async def archived(conn: Connection, table: str) -> list[str]:
    """``table``'s archived partitions (schema-qualified), oldest first."""
    rows = await conn.fetch(
        "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname ~ $2 ORDER BY relname",
        ARCHIVE_SCHEMA,
        f"^{table}_p[0-9]{{6}}$",
    )
    return [f"{ARCHIVE_SCHEMA}.{r[0]}" for r in rows]


async def set_schema(conn: Connection, table: str, source: str, target: str) -> None:
    """Move ``source.table`` to schema ``target`` with its partitions: ``ALTER TABLE … SET
    SCHEMA`` moves a partitioned table's parent alone."""
    children = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass($1)",
        f"{source}.{table}",
    )
    await conn.execute(f"ALTER TABLE {source}.{table} SET SCHEMA {target}")
    for (child,) in children:
        await conn.execute(f"ALTER TABLE {source}.{child} SET SCHEMA {target}")
