"""The analytics projections' tables (filled only by the consumers, DESIGN.md §2).

One DDL for the migration and for :mod:`sotay_analytics.rebuild`, which creates the same tables
in a scratch schema, replays the streams into them and swaps them in.
"""

from sotay_kit.projections.identity import DDL as IDENTITY_PROJECTION_DDL
from sotay_kit.projections.identity import NAMES_DDL

ANALYTICS_DDL = """
-- Publications with their audience: the members in the target subtrees when it was published
-- (from the membership history of the identity projection), stored so reach stays stable.
CREATE TABLE an_publications (
    publication_id    uuid PRIMARY KEY,
    document_id       uuid NOT NULL,
    version           integer NOT NULL,
    audience_org_ids  uuid[] NOT NULL,
    audience_paths    text[] NOT NULL,
    audience_size     integer NOT NULL,   -- as the documents service counted it
    audience_complete boolean NOT NULL,   -- our member set reached audience_size
    study_required    boolean NOT NULL,
    study_deadline    timestamptz,
    kind              text NOT NULL,
    publisher_org_id  uuid NOT NULL,
    published_by      uuid NOT NULL,
    published_at      timestamptz NOT NULL,
    retracted_at      timestamptz
);
CREATE INDEX an_publications_document ON an_publications (document_id);

CREATE TABLE an_audience (
    publication_id uuid NOT NULL,
    member_id      uuid NOT NULL,
    cell_id        uuid NOT NULL,
    org_path       text NOT NULL,          -- the member's cell when it was published
    PRIMARY KEY (publication_id, member_id)
);
CREATE INDEX an_audience_path ON an_audience (org_path text_pattern_ops);
CREATE INDEX an_audience_member ON an_audience (member_id);

-- Per member and document version: opened, progress, studied (only moves forward).
CREATE TABLE an_reads (
    document_id     uuid NOT NULL,
    version         integer NOT NULL,
    member_id       uuid NOT NULL,
    cell_id         uuid NOT NULL,
    org_path        text NOT NULL,
    first_opened_at timestamptz NOT NULL,
    progress        integer NOT NULL,
    studied_at      timestamptz,
    PRIMARY KEY (document_id, version, member_id)
);

-- Notification outcomes per cause and member: delivered on some channel = notified.
CREATE TABLE an_notifications (
    cause_type   text NOT NULL,
    cause_id     uuid NOT NULL,
    member_id    uuid NOT NULL,
    delivered_at timestamptz,
    failed_at    timestamptz,             -- a final failure on some channel
    PRIMARY KEY (cause_type, cause_id, member_id)
);

CREATE TABLE an_meetings (
    meeting_id          uuid PRIMARY KEY,
    org_id              uuid NOT NULL,
    org_path            text NOT NULL,
    kind                text NOT NULL,
    scheduled_starts_at timestamptz NOT NULL,   -- the first plan (for "held on schedule")
    starts_at           timestamptz NOT NULL,
    ends_at             timestamptz,
    invitees            uuid[] NOT NULL DEFAULT '{}',
    series_id           uuid,
    status              text NOT NULL,          -- scheduled | cancelled | closed
    revision            integer NOT NULL,
    invited             integer,
    present             integer,
    late                integer,
    absent_excused      integer,
    absent_unexcused    integer,
    exempt              integer,
    quorum_met          boolean,
    closed_at           timestamptz
);
CREATE INDEX an_meetings_path ON an_meetings (org_path text_pattern_ops);
CREATE INDEX an_meetings_starts ON an_meetings (starts_at);

CREATE TABLE an_rsvps (
    meeting_id  uuid NOT NULL,
    member_id   uuid NOT NULL,
    response    text NOT NULL,
    reason_code text,
    answered_at timestamptz NOT NULL,
    PRIMARY KEY (meeting_id, member_id)
);

-- The last attendance record per (meeting, member), by occurred_at.
CREATE TABLE an_attendance (
    meeting_id  uuid NOT NULL,
    member_id   uuid NOT NULL,
    status      text NOT NULL,
    method      text NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (meeting_id, member_id)
);

-- Final status per invitee, fixed when the meeting closes (the meetings service's rule).
CREATE TABLE an_attendance_final (
    meeting_id uuid NOT NULL,
    member_id  uuid NOT NULL,
    org_path   text NOT NULL,             -- of the meeting
    kind       text NOT NULL,
    starts_at  timestamptz NOT NULL,
    status     text NOT NULL,
    PRIMARY KEY (meeting_id, member_id)
);
CREATE INDEX an_attendance_final_member ON an_attendance_final (member_id, starts_at);

-- Adoption: when a member's account was first activated (identity.account.activated.v1, or
-- implied by the first thing the member did themselves) and when they last did something.
CREATE TABLE an_member_activity (
    member_id       uuid PRIMARY KEY,
    activated_at    timestamptz,
    first_active_at timestamptz,
    last_active_at  timestamptz
);

-- Organisations using the platform: the last meeting held, document published or read.
CREATE TABLE an_org_activity (
    org_id         uuid PRIMARY KEY,
    last_active_at timestamptz NOT NULL
);
"""

# Display names (analytics_0003): members' name and card number from identity's directory, and
# documents' number and title from documents' directory, for reports and their exports.
DIRECTORY_DDL = (
    NAMES_DDL
    + """
CREATE TABLE an_document_names (
    document_id     uuid PRIMARY KEY,
    version         integer NOT NULL,
    number          text,
    title           text NOT NULL,
    classification  text NOT NULL
);
"""
)

# Annual review grades (analytics_0007): per review period and cell, the members graded per
# grade by the competent committee (meetings.review.cell_graded.v1, counts only).
GRADES_DDL = """
CREATE TABLE an_grades (
    period_id    uuid NOT NULL,
    org_id       uuid NOT NULL,            -- the cell
    org_path     text NOT NULL,
    year         integer NOT NULL,
    excellent    integer NOT NULL,
    good         integer NOT NULL,
    complete     integer NOT NULL,
    incomplete   integer NOT NULL,
    decided_at   timestamptz NOT NULL,
    PRIMARY KEY (period_id, org_id)
);
CREATE INDEX an_grades_path ON an_grades (org_path text_pattern_ops, year);
"""

# Large audiences projected in the background (analytics_0008): a publication over the inline
# limit is queued here and its an_audience rows are written in chunks, in member id order
# (``after_member`` = the last member written), so a small publication behind it waits for
# no one.
AUDIENCE_JOBS_DDL = """
CREATE TABLE an_audience_jobs (
    publication_id uuid PRIMARY KEY,
    after_member   uuid,
    queued_at      timestamptz NOT NULL,
    failures       integer NOT NULL DEFAULT 0   -- chunks that failed: such a job goes last
);
"""

# In-app notifications that reached a whole audience at once (analytics_0009): notify's
# broadcast_delivered.v1 of a large fan-out. Every member of the cause's audience counts as
# notified from delivered_at on, with no row per member.
BROADCASTS_DDL = """
CREATE TABLE an_broadcasts (
    cause_type   text NOT NULL,
    cause_id     uuid NOT NULL,
    delivered_at timestamptz NOT NULL,
    PRIMARY KEY (cause_type, cause_id)
);
"""

# Tables a rebuild replaces (projection state plus the consumers' inbox).
PROJECTION_TABLES: tuple[str, ...] = (
    "idp_orgs",
    "idp_members",
    "idp_memberships",
    "idp_grants",
    "an_publications",
    "an_audience",
    "an_reads",
    "an_notifications",
    "an_meetings",
    "an_rsvps",
    "an_attendance",
    "an_attendance_final",
    "an_member_activity",
    "an_org_activity",
    "idp_member_names",
    "an_document_names",
    "an_grades",
    "an_audience_jobs",
    "an_broadcasts",
    "inbox",
)

# analytics_0001's tables (a released migration: never changed; later ones add their own DDL).
ALL_DDL = IDENTITY_PROJECTION_DDL + ANALYTICS_DDL
# Every projection table as of the newest migration (a rebuild, the benchmark).
CURRENT_DDL = ALL_DDL + DIRECTORY_DDL + GRADES_DDL + AUDIENCE_JOBS_DDL + BROADCASTS_DDL

# The quiz stage of reach (analytics_0006): when the member first passed the version's quiz
# (documents.quiz.passed.v1).
QUIZ_DDL = "ALTER TABLE an_reads ADD COLUMN passed_at timestamptz;\n"
# Columns added to fact tables after they were partitioned (analytics_0005 rebuilds them from
# ANALYTICS_DDL): run after CURRENT_DDL and, where they are partitioned, after that.
LATER_DDL = QUIZ_DDL
