"""What a notification is about: the meeting's title and place, the document's title and
number (from the optional v1 event fields; NULL for events published before them).

Revision ID: notify_0003
Revises: notify_0002
Create Date: 2026-12-02
"""

from alembic import op

revision = "notify_0003"
down_revision = "notify_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE meetings ADD COLUMN title text, ADD COLUMN location text;
        ALTER TABLE publications ADD COLUMN title text, ADD COLUMN number text;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE meetings DROP COLUMN title, DROP COLUMN location;
        ALTER TABLE publications DROP COLUMN title, DROP COLUMN number;
        """
    )
