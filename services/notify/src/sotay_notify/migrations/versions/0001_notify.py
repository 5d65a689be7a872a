"""Notify: identity projection, inbox (notifications with a per-member sequence), what notify
knows of meetings and publications, study state, reminder schedule, preferences and contacts,
push subscriptions, dispatch jobs, deliveries and their attempts.

Revision ID: notify_0001
Revises:
Create Date: 2026-12-01
"""

from alembic import op
from sotay_kit.projections.identity import DDL as IDENTITY_PROJECTION_DDL

revision = "notify_0001"
down_revision = None
branch_labels = ("notify",)
depends_on = "kit_0001"


def upgrade() -> None:
    op.execute(IDENTITY_PROJECTION_DDL)
    op.execute(
        """
-- Per-member stream position: a notification's seq is taken from its member's row, so the
-- row lock orders the member's notifications by commit and an SSE client resuming after
-- Last-Event-ID = n never misses one committed later with a smaller number.
CREATE TABLE inbox_streams (
    member_id  uuid PRIMARY KEY,
    last_seq   bigint NOT NULL
);

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
    -- one notification per member per cause (and kind: scheduled, reminder:60m:…): the
    -- idempotency key; its order also serves the dispatcher's walk over one cause.
    CONSTRAINT notifications_once UNIQUE (cause_type, cause_id, kind, member_id),
    CONSTRAINT notifications_member_seq UNIQUE (member_id, seq)
);
CREATE INDEX notifications_unread ON notifications (member_id) WHERE read_at IS NULL;

-- What notify knows of meetings (from meetings' events): to remind, and to tell the invitees
-- that minutes were signed.
CREATE TABLE meetings (
    meeting_id   uuid PRIMARY KEY,
    org_id       uuid NOT NULL,
    org_path     text NOT NULL,
    kind         text NOT NULL,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    invitee_ids  uuid[] NOT NULL,
    status       text NOT NULL CHECK (status IN ('scheduled', 'cancelled')),
    revision     integer NOT NULL
);

CREATE TABLE publications (
    publication_id    uuid PRIMARY KEY,
    document_id       uuid NOT NULL,
    version           integer NOT NULL,
    kind              text NOT NULL,
    audience_paths    text[] NOT NULL,
    publisher_org_id  uuid NOT NULL,
    study_deadline    timestamptz,
    retracted_at      timestamptz
);
CREATE INDEX publications_document ON publications (document_id);

-- Who has studied which document (documents.document.read.v1, state studied).
CREATE TABLE studied (
    document_id  uuid NOT NULL,
    member_id    uuid NOT NULL,
    version      integer NOT NULL,
    studied_at   timestamptz NOT NULL,
    PRIMARY KEY (document_id, member_id)
);

-- The durable reminder schedule: claimed FOR UPDATE SKIP LOCKED when due, fired once.
CREATE TABLE reminders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('meeting', 'study')),
    cause_id    uuid NOT NULL,
    label       text NOT NULL,
    due_at      timestamptz NOT NULL,
    target_at   timestamptz NOT NULL,
    state       text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'fired', 'skipped', 'cancelled')),
    recipients  integer,
    fired_at    timestamptz,
    CONSTRAINT reminders_once UNIQUE (kind, cause_id, label)
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE state = 'pending';

-- Channels, quiet hours and contact points a member (or their cell secretary) registered.
CREATE TABLE preferences (
    member_id      uuid PRIMARY KEY,
    webpush        boolean NOT NULL DEFAULT true,
    email          boolean NOT NULL DEFAULT false,
    sms            boolean NOT NULL DEFAULT false,
    email_address  text CHECK (length(email_address) <= 254),
    phone          text CHECK (phone ~ '^\\+[0-9]{8,15}$'),
    quiet_start    time,
    quiet_end      time,
    updated_by     uuid NOT NULL,
    updated_at     timestamptz NOT NULL,
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

CREATE TABLE push_subscriptions (
    id               uuid PRIMARY KEY,
    member_id        uuid NOT NULL,
    endpoint         text NOT NULL UNIQUE CHECK (length(endpoint) <= 2048),
    p256dh           text NOT NULL,
    auth             text NOT NULL,
    created_at       timestamptz NOT NULL,
    last_success_at  timestamptz
);
CREATE INDEX push_subscriptions_member ON push_subscriptions (member_id);

-- After a fan-out, one job walks the new notifications of a cause in member order, chunk by
-- chunk: plans the other channels' deliveries and reports the in-app deliveries.
CREATE TABLE dispatch_jobs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cause_type    text NOT NULL,
    cause_id      uuid NOT NULL,
    kind          text NOT NULL,
    after_member  uuid,
    created_at    timestamptz NOT NULL,
    done_at       timestamptz
);
CREATE INDEX dispatch_jobs_open ON dispatch_jobs (id) WHERE done_at IS NULL;

-- The durable delivery queue (push, email, SMS): leased, retried with backoff.
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
    -- who holds the lease (one token per claim): only the holder records the outcome
    lease_token      uuid,
    last_error       text,
    created_at       timestamptz NOT NULL,
    finished_at      timestamptz,
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
    PRIMARY KEY (delivery_id, attempt)
);
"""
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE delivery_attempts, deliveries, dispatch_jobs, push_subscriptions, "
        "preferences, reminders, studied, publications, meetings, notifications, inbox_streams; "
        "DROP TABLE idp_orgs, idp_members, idp_memberships, idp_grants"
    )
