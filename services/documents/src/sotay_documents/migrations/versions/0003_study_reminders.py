"""A cell's reminders to study a publication: at most one per publication, org and day (Vietnam's
date), so a secretary's repeated taps remind the members once.

Revision ID: documents_0003
Revises: documents_0002
Create Date: 2026-12-02
"""

from alembic import op

revision = "documents_0003"
down_revision = "documents_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE study_reminders (
    publication_id  uuid NOT NULL REFERENCES publications (id),
    org_id          uuid NOT NULL,
    day             date NOT NULL,
    requested_by    uuid NOT NULL,
    requested_at    timestamptz NOT NULL,
    pending         integer NOT NULL CHECK (pending >= 0),
    PRIMARY KEY (publication_id, org_id, day)
);
"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE study_reminders")
