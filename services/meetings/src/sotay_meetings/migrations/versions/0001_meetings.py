"""Meetings: identity projection, meetings and series, invitees (roster snapshot, replies,
attendance), roster labels and minutes.

Revision ID: meetings_0001
Revises:
Create Date: 2026-12-01
"""

from alembic import op
from sotay_kit.audit import AUDIT_DDL
from sotay_kit.projections.identity import DDL as IDENTITY_PROJECTION_DDL

revision = "meetings_0001"
down_revision = None
branch_labels = ("meetings",)
depends_on = "kit_0001"


def upgrade() -> None:
    op.execute(IDENTITY_PROJECTION_DDL)
    op.execute(AUDIT_DDL)
    op.execute(
        """
-- A monthly series: the rule that generated its occurrences (each one a row of meetings).
CREATE TABLE meeting_series (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL,
    org_path      text NOT NULL,
    rrule         text NOT NULL,
    created_by    uuid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE meetings (
    id               uuid PRIMARY KEY,
    org_id           uuid NOT NULL,
    org_path         text NOT NULL,
    kind             text NOT NULL
                       CHECK (kind IN ('regular', 'thematic', 'extraordinary', 'committee')),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    location         text NOT NULL DEFAULT '' CHECK (length(location) <= 300),
    agenda           jsonb NOT NULL DEFAULT '[]',
    document_ids     uuid[] NOT NULL DEFAULT '{}',
    chair_id         uuid,
    minute_taker_id  uuid,
    status           text NOT NULL DEFAULT 'scheduled'
                       CHECK (status IN ('scheduled', 'cancelled', 'closed')),
    series_id        uuid REFERENCES meeting_series (id),
    series_index     integer,
    checkin_secret   bytea NOT NULL,
    revision         integer NOT NULL DEFAULT 1,
    created_by       uuid NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    cancel_reason    text,
    cancel_note      text,
    cancelled_by     uuid,
    cancelled_at     timestamptz,
    closed_by        uuid,
    closed_at        timestamptz,
    quorum_required  double precision,
    quorum_met       boolean,
    tallies          jsonb,
    CHECK (ends_at > starts_at),
    CHECK ((series_id IS NULL) = (series_index IS NULL))
);
CREATE INDEX meetings_path_start ON meetings (org_path text_pattern_ops, starts_at);
CREATE INDEX meetings_start ON meetings (starts_at, id);
CREATE INDEX meetings_series ON meetings (series_id) WHERE series_id IS NOT NULL;

-- The roster, snapshot at scheduling: later transfers do not change it.
CREATE TABLE meeting_invitees (
    meeting_id          uuid NOT NULL REFERENCES meetings (id),
    member_id           uuid NOT NULL,
    standing            text NOT NULL CHECK (standing IN ('member', 'exempt', 'guest')),
    rsvp                text CHECK (rsvp IN ('attending', 'absent')),
    rsvp_reason         text CHECK (rsvp_reason IN ('cong_tac', 'om', 'viec_gia_dinh', 'other')),
    rsvp_note           text CHECK (length(rsvp_note) <= 500),
    rsvp_at             timestamptz,
    checked_in_at       timestamptz,
    attendance          text CHECK (attendance IN
                          ('present', 'late', 'absent_excused', 'absent_unexcused', 'exempt')),
    attendance_method   text CHECK (attendance_method IN ('code', 'marked')),
    attendance_reason   text CHECK (attendance_reason IN
                          ('cong_tac', 'om', 'viec_gia_dinh', 'other')),
    attendance_by       uuid,
    attendance_at       timestamptz,
    final_status        text CHECK (final_status IN
                          ('present', 'late', 'absent_excused', 'absent_unexcused', 'exempt')),
    PRIMARY KEY (meeting_id, member_id)
);
CREATE INDEX meeting_invitees_member ON meeting_invitees (member_id);

-- Display names the secretary's client supplies for the minutes (personal data: stays here,
-- never in events or logs).
CREATE TABLE meeting_roster_labels (
    meeting_id  uuid NOT NULL REFERENCES meetings (id),
    member_id   uuid NOT NULL,
    label       text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    updated_by  uuid NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, member_id)
);

CREATE TABLE meeting_minutes (
    id              uuid PRIMARY KEY,
    meeting_id      uuid NOT NULL UNIQUE REFERENCES meetings (id),
    content         text NOT NULL,
    revision        integer NOT NULL DEFAULT 1,
    updated_by      uuid NOT NULL,
    updated_at      timestamptz NOT NULL,
    content_sha256  text CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    signed_by       uuid,
    signed_at       timestamptz,
    CHECK ((content_sha256 IS NULL) = (signed_at IS NULL))
);

-- Signed minutes are immutable, whatever code path tries to change them.
CREATE FUNCTION meeting_minutes_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.signed_at IS NOT NULL THEN
        RAISE EXCEPTION 'signed minutes are immutable' USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER meeting_minutes_frozen BEFORE UPDATE OR DELETE ON meeting_minutes
    FOR EACH ROW EXECUTE FUNCTION meeting_minutes_frozen();
"""
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE meeting_minutes, meeting_roster_labels, meeting_invitees, meetings, "
        "meeting_series; DROP FUNCTION meeting_minutes_frozen(); "
        "DROP TABLE idp_orgs, idp_members, idp_memberships, idp_grants, audit_log; "
        "DROP FUNCTION audit_log_append_only()"
    )
