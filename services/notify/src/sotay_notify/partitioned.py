"""Notify's tables that grow with members × time, partitioned by month (sotay_kit.partitions,
docs/scaling.md): the inbox (``notifications``), the delivery queue (``deliveries``) and its
log (``delivery_attempts``).

Their key is ``cause_id``, the id of what the notification is about (a publication, a meeting,
minutes, a document): every unique key of a partitioned table must hold the partition key, and
the idempotency key (cause, kind, member) holds it. A cause id is a UUIDv7 — its first 48 bits
are its creation time — so a cause's notifications, deliveries and attempts all live in the
partition of the month the cause was created, and a query that names the cause reads that one
partition. Causes created before meetings and documents used UUIDv7 (uuid4 ids) cannot be placed
by time: their rows stay in the DEFAULT partition, kept until they are deleted by hand.

Listed referencing tables first: maintenance drops a month of ``delivery_attempts`` before the
month of ``deliveries`` it references, and that before the month of ``notifications``.
"""

from __future__ import annotations

from sotay_kit.partitions import PartitionedTable

RETENTION_MONTHS = 12

DELIVERY_ATTEMPTS = PartitionedTable("delivery_attempts", "cause_id", "uuid7", RETENTION_MONTHS)
DELIVERIES = PartitionedTable("deliveries", "cause_id", "uuid7", RETENTION_MONTHS)
NOTIFICATIONS = PartitionedTable("notifications", "cause_id", "uuid7", RETENTION_MONTHS)
TABLES = (DELIVERY_ATTEMPTS, DELIVERIES, NOTIFICATIONS)
