"""Tables that kit's outbox and idempotent consumers need in every service database.

Each service's first migration executes :data:`KIT_TABLES_DDL`; later kit changes ship as
further constants that services' migrations apply in order.
"""

OUTBOX_CHANNEL = "sotay_outbox"

KIT_TABLES_DDL = f"""
CREATE TABLE outbox (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    uuid        NOT NULL UNIQUE,
    subject     text        NOT NULL,
    headers     jsonb       NOT NULL,
    body        bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at     timestamptz
);
-- The relay scans only what is still to send.
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;

CREATE FUNCTION outbox_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{OUTBOX_CHANNEL}', '');
    RETURN NULL;
END $$;
-- One notification per statement (not per row): a bulk insert wakes the relay once.
CREATE TRIGGER outbox_wake AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake();

-- Idempotent consumers: the event ids each consumer has applied.
CREATE TABLE inbox (
    consumer    text        NOT NULL,
    event_id    uuid        NOT NULL,
    subject     text        NOT NULL,
    stream_seq  bigint,
    applied_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, event_id)
);
"""

# kit_0002: the same two tables partitioned by month of their UUIDv7 event id
# (sotay_kit.partitions). A unique key must hold the partition key, so the outbox's key is its
# event id; ``seq`` still orders publication.
OUTBOX_PARTITIONED_DDL = """
CREATE TABLE outbox (
    seq         bigint      GENERATED ALWAYS AS IDENTITY,
    event_id    uuid        NOT NULL PRIMARY KEY,
    subject     text        NOT NULL,
    headers     jsonb       NOT NULL,
    body        bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at     timestamptz
) PARTITION BY RANGE (event_id);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
CREATE TRIGGER outbox_wake AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake();
"""

INBOX_PARTITIONED_DDL = """
CREATE TABLE inbox (
    consumer    text        NOT NULL,
    event_id    uuid        NOT NULL,
    subject     text        NOT NULL,
    stream_seq  bigint,
    applied_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, event_id)
) PARTITION BY RANGE (event_id);
"""
