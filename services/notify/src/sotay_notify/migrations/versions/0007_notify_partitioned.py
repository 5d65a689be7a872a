"""Notify: the inbox (notifications), deliveries and delivery attempts partitioned by month of
their cause's UUIDv7 id, so that retention drops whole months instead of deleting rows
(sotay_notify.partitioned, docs/scaling.md).

Every unique key of a partitioned table must hold the partition key: the primary keys become
(id, cause_id); deliveries and attempts get their notification's cause_id, with foreign keys on
(id, cause_id). Partitions are created for this month and three ahead, for the months of
retention before this one (causes created before this migration that are notified after it) and
for every month the rows already need; rows of causes whose id is not a UUIDv7 stay in the
default partition.

Revision ID: notify_0007
Revises: notify_0006
Create Date: 2026-12-03
"""

from datetime import UTC, date, datetime

from alembic import op
from sotay_kit import partitions
from sotay_notify.partitioned import (
    DELIVERIES,
    DELIVERY_ATTEMPTS,
    NOTIFICATIONS,
    RETENTION_MONTHS,
)

revision = "notify_0007"
down_revision = "notify_0006"
branch_labels = None
depends_on = None

# deliveries and delivery_attempts get cause_id as their last column (convert_sql and
# revert_sql copy rows by column position); the foreign keys between the three tables go
# before the tables are rebuilt and come back with the new ones.
_ADD_CAUSE = """
ALTER TABLE deliveries ADD COLUMN cause_id uuid;
UPDATE deliveries d SET cause_id = n.cause_id FROM notifications n WHERE n.id = d.notification_id;
ALTER TABLE delivery_attempts ADD COLUMN cause_id uuid;
UPDATE delivery_attempts a SET cause_id = d.cause_id FROM deliveries d WHERE d.id = a.delivery_id;
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_delivery_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_notification_id_fkey;
"""

NOTIFICATIONS_DDL = """
CREATE TABLE notifications (
    -- UUIDv7 like every id notify makes; the cause's id is the partition key
    id          uuid NOT NULL DEFAULT uuidv7(),
    member_id   uuid NOT NULL,
    seq         bigint NOT NULL,
    cause_type  text NOT NULL,
    cause_id    uuid NOT NULL,
    kind        text NOT NULL CHECK (length(kind) <= 100),
    title       text NOT NULL,
    body        text NOT NULL,
    link        text NOT NULL,
    urgent      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    read_at     timestamptz,
    CONSTRAINT notifications_pkey PRIMARY KEY (id, cause_id),
    -- one notification per member per cause (and kind: scheduled, reminder:60m:…): the
    -- idempotency key; its order also serves the dispatcher's walk over one cause.
    CONSTRAINT notifications_once UNIQUE (cause_type, cause_id, kind, member_id)
) PARTITION BY RANGE (cause_id);
-- Not UNIQUE (a unique key must hold cause_id): a member's seq is unique by construction, each
-- one taken from the member's inbox_streams row (last_seq + 1) under its row lock.
CREATE INDEX notifications_member_seq ON notifications (member_id, seq);
CREATE INDEX notifications_unread ON notifications (member_id) WHERE read_at IS NULL;
"""

DELIVERIES_DDL = """
CREATE TABLE deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    notification_id  uuid NOT NULL,
    member_id        uuid NOT NULL,
    channel          text NOT NULL CHECK (channel IN ('webpush', 'email', 'sms')),
    subscription_id  uuid,
    state            text NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    lease_until      timestamptz,
    -- who holds the lease (one token per claim): only the holder records the outcome
    lease_token      uuid,
    last_error       text,
    created_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    -- the notification's cause: the partition key
    cause_id         uuid NOT NULL,
    CONSTRAINT deliveries_pkey PRIMARY KEY (id, cause_id),
    CONSTRAINT deliveries_notification_fkey FOREIGN KEY (notification_id, cause_id)
        REFERENCES notifications (id, cause_id) ON DELETE CASCADE,
    CONSTRAINT deliveries_once
        UNIQUE NULLS NOT DISTINCT (notification_id, channel, subscription_id, cause_id)
) PARTITION BY RANGE (cause_id);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
"""

DELIVERY_ATTEMPTS_DDL = """
CREATE TABLE delivery_attempts (
    delivery_id  bigint NOT NULL,
    attempt      integer NOT NULL,
    status       text NOT NULL CHECK (status IN ('delivered', 'failed')),
    error_code   text,
    detail       text,
    at           timestamptz NOT NULL,
    cause_id     uuid NOT NULL,
    CONSTRAINT delivery_attempts_pkey PRIMARY KEY (delivery_id, attempt, cause_id),
    CONSTRAINT delivery_attempts_delivery_fkey FOREIGN KEY (delivery_id, cause_id)
        REFERENCES deliveries (id, cause_id) ON DELETE CASCADE
) PARTITION BY RANGE (cause_id);
"""

# The tables as notify_0001 made them, cause_id last in deliveries and attempts (dropped after
# the rows are back).
_PLAIN_DDL = """
CREATE TABLE notifications (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    member_id   uuid NOT NULL,
    seq         bigint NOT NULL,
    cause_type  text NOT NULL,
    cause_id    uuid NOT NULL,
    kind        text NOT NULL CHECK (length(kind) <= 100),
    title       text NOT NULL,
    body        text NOT NULL,
    link        text NOT NULL,
    urgent      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    read_at     timestamptz,
    CONSTRAINT notifications_once UNIQUE (cause_type, cause_id, kind, member_id),
    CONSTRAINT notifications_member_seq UNIQUE (member_id, seq)
);
CREATE INDEX notifications_unread ON notifications (member_id) WHERE read_at IS NULL;

CREATE TABLE deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id  uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    member_id        uuid NOT NULL,
    channel          text NOT NULL CHECK (channel IN ('webpush', 'email', 'sms')),
    subscription_id  uuid,
    state            text NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    lease_until      timestamptz,
    lease_token      uuid,
    last_error       text,
    created_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    cause_id         uuid,
    CONSTRAINT deliveries_once UNIQUE NULLS NOT DISTINCT (notification_id, channel, subscription_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';

CREATE TABLE delivery_attempts (
    delivery_id  bigint NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    status       text NOT NULL CHECK (status IN ('delivered', 'failed')),
    error_code   text,
    detail       text,
    at           timestamptz NOT NULL,
    cause_id     uuid,
    PRIMARY KEY (delivery_id, attempt)
);
"""

# Rows put back with their ids: the identity continues after the largest.
_SEQ = (
    "SELECT setval(pg_get_serial_sequence('deliveries', 'id'), max(id)) FROM deliveries "
    "HAVING count(*) > 0"
)

# Maintenance looks for UUIDv7 rows in the default partitions every hour; these hold the rows
# of uuid4 causes, so it reads a partial index of the few UUIDv7 ones instead of all of them.
_DEFAULT_INDEXES = """
CREATE INDEX notifications_default_uuid7 ON notifications_default (cause_id)
    WHERE uuid_extract_version(cause_id) = 7;
CREATE INDEX deliveries_default_uuid7 ON deliveries_default (cause_id)
    WHERE uuid_extract_version(cause_id) = 7;
CREATE INDEX delivery_attempts_default_uuid7 ON delivery_attempts_default (cause_id)
    WHERE uuid_extract_version(cause_id) = 7;
"""


def _months(today: date) -> list[date]:
    """The months before this one that get a partition now: those of retention, and those of
    the UUIDv7 causes already notified."""
    this_month = partitions.month_of(today)
    months = {partitions.add_months(this_month, -i) for i in range(1, RETENTION_MONTHS + 1)}
    rows = op.get_bind().exec_driver_sql(
        "SELECT DISTINCT date_trunc('month', uuid_extract_timestamp(cause_id) AT TIME ZONE 'UTC')"
        "::date FROM notifications WHERE uuid_extract_version(cause_id) = 7"
    )
    months |= {r[0] for r in rows}
    return sorted(m for m in months if m < this_month)


def upgrade() -> None:
    today = datetime.now(UTC).date()
    months = _months(today)
    op.execute(_ADD_CAUSE)
    for spec, ddl in (
        (NOTIFICATIONS, NOTIFICATIONS_DDL),
        (DELIVERIES, DELIVERIES_DDL),
        (DELIVERY_ATTEMPTS, DELIVERY_ATTEMPTS_DDL),
    ):
        before = "\n".join(f"{partitions.create_partition_sql(spec, m)};" for m in months)
        op.execute(partitions.convert_sql(spec, f"{ddl}\n{before}", today=today))
    op.execute(_SEQ)
    op.execute(_DEFAULT_INDEXES)


def downgrade() -> None:
    op.execute(
        "ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_delivery_fkey;"
        "ALTER TABLE deliveries DROP CONSTRAINT deliveries_notification_fkey;"
    )
    op.execute(
        partitions.revert_sql(["notifications", "deliveries", "delivery_attempts"], _PLAIN_DDL)
    )
    op.execute(
        "ALTER TABLE delivery_attempts DROP COLUMN cause_id;"
        "ALTER TABLE deliveries DROP COLUMN cause_id;"
    )
    op.execute(_SEQ)
