"""Documents: consultations on draft documents (lấy ý kiến góp ý dự thảo). A committee opens a
document version for comments by one org subtree until a deadline; members comment per section
of the reader view or on the whole; the committee replies and records a disposition.

Revision ID: documents_0008
Revises: documents_0007
Create Date: 2026-12-03
"""

from alembic import op

revision = "documents_0008"
down_revision = "documents_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE consultations (
    id                 uuid PRIMARY KEY,
    document_id        uuid NOT NULL REFERENCES documents (id),
    version            integer NOT NULL,
    title              text NOT NULL,
    purpose            text,
    org_id             uuid NOT NULL,
    org_path           text NOT NULL,
    -- The committee that runs it: the caller's narrowest publishing grant covering org_path.
    committee_org_path text NOT NULL,
    -- The reader view's sections at opening: [{"anchor": "s1", "title": "..."}, ...].
    sections           jsonb NOT NULL,
    deadline           timestamptz NOT NULL,
    opened_by          uuid NOT NULL,
    opened_at          timestamptz NOT NULL,
    closed_by          uuid,
    closed_at          timestamptz,
    FOREIGN KEY (document_id, version) REFERENCES document_versions (document_id, version)
);
CREATE INDEX consultations_path ON consultations (org_path text_pattern_ops);
CREATE INDEX consultations_committee ON consultations (committee_org_path text_pattern_ops);

CREATE TABLE consultation_comments (
    id                 uuid PRIMARY KEY,
    consultation_id    uuid NOT NULL REFERENCES consultations (id),
    member_id          uuid NOT NULL,
    cell_id            uuid NOT NULL,
    cell_path          text NOT NULL,
    section            text,          -- an anchor of consultations.sections; NULL: the whole
    body               text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    reply              text CHECK (char_length(reply) <= 4000),
    replied_by         uuid,
    replied_at         timestamptz,
    disposition        text NOT NULL DEFAULT 'pending'
                       CHECK (disposition IN ('pending', 'accepted', 'rejected')),
    disposition_reason text CHECK (char_length(disposition_reason) <= 1000)
);
CREATE INDEX consultation_comments_of ON consultation_comments (consultation_id, created_at);
CREATE INDEX consultation_comments_mine ON consultation_comments (member_id, consultation_id);
"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE consultation_comments; DROP TABLE consultations")
