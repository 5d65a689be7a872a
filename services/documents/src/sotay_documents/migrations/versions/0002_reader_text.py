"""The extracted text of each stored file, kept for the reader view (search keeps only a folded
copy, unfit to read). NULL for files stored before this revision: extracted again on first read.

Revision ID: documents_0002
Revises: documents_0001
Create Date: 2026-12-02
"""

from alembic import op

revision = "documents_0002"
down_revision = "documents_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE blobs ADD COLUMN text text")


def downgrade() -> None:
    op.execute("ALTER TABLE blobs DROP COLUMN text")
