"""Documents' names from documents' internal directory subject (documents.directory.described.v1):
document id → number and title, the only display facts notify keeps. They no longer travel on
documents.document.published.v1, a PUBLIC subject, so they leave the publications rows.

Revision ID: notify_0004
Revises: notify_0003
Create Date: 2026-12-02
"""

from alembic import op

revision = "notify_0004"
down_revision = "notify_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE documents (
            document_id  uuid PRIMARY KEY,
            version      integer NOT NULL,
            number       text,
            title        text NOT NULL,
            described_at timestamptz NOT NULL
        );
        INSERT INTO documents (document_id, version, number, title, described_at)
        SELECT DISTINCT ON (document_id) document_id, version, number, title, now()
          FROM publications WHERE title IS NOT NULL
         ORDER BY document_id, version DESC;
        ALTER TABLE publications DROP COLUMN title, DROP COLUMN number;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE publications ADD COLUMN title text, ADD COLUMN number text;
        UPDATE publications p SET title = d.title, number = d.number
          FROM documents d WHERE d.document_id = p.document_id;
        DROP TABLE documents;
        """
    )
