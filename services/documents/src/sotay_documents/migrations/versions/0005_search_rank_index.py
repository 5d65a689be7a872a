"""Search at the scale of a province's library: a GIN index on the small ``rank_tsv`` (title,
number, metadata), so a search finds its title/metadata matches without reading the body's
vector when the words are rare; common words are read in the order of ``documents_recent``
and stop after a bounded candidate set (library/repository.py ``search``).

Revision ID: documents_0005
Revises: documents_0004
Create Date: 2026-12-02
"""

from alembic import op

revision = "documents_0005"
down_revision = "documents_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX documents_rank ON documents USING gin (rank_tsv)")


def downgrade() -> None:
    op.execute("DROP INDEX documents_rank")
