"""Analytics' facts that grow with members × time, partitioned by month (sotay_kit.partitions).

Each fact table is partitioned by the month of the thing it is about: the publication, document
or meeting (their UUIDv7 ids) or, for final attendance, the meeting's start — the attendance
report asks for a range of months and reads those months only. Kept 60 months by default (a
congress term and then some; the reports look back at most that far), configurable per table
(``ANALYTICS_PARTITION_RETENTION_MONTHS='{"an_audience": 24}'``). Facts about things created
before UUIDv7 ids stay in the default partitions.

The rebuild (:mod:`sotay_analytics.rebuild`) creates these tables the same way in its scratch
schema, so a swapped-in projection is partitioned like the one it replaces.
"""

from __future__ import annotations

from datetime import date

from sotay_kit import partitions
from sotay_kit.partitions import PartitionedTable

from .schema import ANALYTICS_DDL

_KEEP = 60

AUDIENCE = PartitionedTable("an_audience", "publication_id", "uuid7", _KEEP)
READS = PartitionedTable("an_reads", "document_id", "uuid7", _KEEP)
NOTIFICATIONS = PartitionedTable("an_notifications", "cause_id", "uuid7", _KEEP)
RSVPS = PartitionedTable("an_rsvps", "meeting_id", "uuid7", _KEEP)
ATTENDANCE = PartitionedTable("an_attendance", "meeting_id", "uuid7", _KEEP)
ATTENDANCE_FINAL = PartitionedTable("an_attendance_final", "starts_at", "timestamptz", _KEEP)

TABLES = (AUDIENCE, READS, NOTIFICATIONS, RSVPS, ATTENDANCE, ATTENDANCE_FINAL)
# A meeting's final attendance keeps its start (set when it closed), so the key may hold it.
_PRIMARY_KEYS = {ATTENDANCE_FINAL.table: "meeting_id, member_id, starts_at"}


def partition_sql(today: date) -> str:
    """Rebuild every fact table partitioned, keeping its rows (the migration and the rebuild's
    scratch schema)."""
    return "".join(
        partitions.convert_sql(
            spec,
            partitions.partitioned_ddl(
                ANALYTICS_DDL, spec, primary_key=_PRIMARY_KEYS.get(spec.table)
            ),
            today=today,
        )
        for spec in TABLES
    )


def unpartition_sql() -> str:
    """The migration's downgrade: every fact table as analytics_0001 created it."""
    plain = "".join(
        partitions.partitioned_ddl(ANALYTICS_DDL, spec).replace(
            f") PARTITION BY RANGE ({spec.column});", ");"
        )
        for spec in TABLES
    )
    return partitions.revert_sql([spec.table for spec in TABLES], plain)
