"""Meetings: motions put to the vote (biểu quyết), their tallies and who voted.

A secret ballot leaves no link between a member and a choice in any table: ``motion_voters``
says who voted (the one-vote rule) and nothing else, and every vote updates every tally row of
the motion, so no row version tells which option a vote went to.

Revision ID: meetings_0005
Revises: meetings_0004
Create Date: 2026-12-03
"""

from alembic import op

revision = "meetings_0005"
down_revision = "meetings_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE motions (
    id          uuid PRIMARY KEY,
    meeting_id  uuid NOT NULL REFERENCES meetings (id),
    number      integer NOT NULL CHECK (number >= 1),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    options     text[] NOT NULL CHECK (cardinality(options) BETWEEN 2 AND 10),
    secret      boolean NOT NULL,
    status      text NOT NULL CHECK (status IN ('open', 'closed')),
    opened_by   uuid NOT NULL,
    opened_at   timestamptz NOT NULL,
    closed_by   uuid,
    closed_at   timestamptz,
    present     integer CHECK (present >= 0),  -- members present when it closed
    UNIQUE (meeting_id, number),
    UNIQUE (id, secret),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);

-- Per option: votes cast from phones, and the chair's show-of-hands count.
CREATE TABLE motion_tallies (
    motion_id    uuid NOT NULL REFERENCES motions (id),
    option_index integer NOT NULL CHECK (option_index >= 0),
    votes        integer NOT NULL DEFAULT 0 CHECK (votes >= 0),
    hands        integer NOT NULL DEFAULT 0 CHECK (hands >= 0),
    PRIMARY KEY (motion_id, option_index)
);

-- Who voted, once; the choice only for an open ballot (NULL, always, for a secret one). No time
-- column: the order of votes is not kept.
CREATE TABLE motion_voters (
    motion_id  uuid NOT NULL,
    secret     boolean NOT NULL,
    member_id  uuid NOT NULL,
    choice     integer CHECK (choice >= 0),
    PRIMARY KEY (motion_id, member_id),
    FOREIGN KEY (motion_id, secret) REFERENCES motions (id, secret),
    CHECK (NOT secret OR choice IS NULL)
);
"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE motion_voters, motion_tallies, motions")
