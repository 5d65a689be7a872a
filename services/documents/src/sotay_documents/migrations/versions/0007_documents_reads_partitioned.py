"""Documents: reading progress partitioned by month of the document's UUIDv7 id
(sotay_documents.partitioned).

Revision ID: documents_0007
Revises: documents_0006
Create Date: 2026-12-03
"""

from datetime import UTC, datetime

from alembic import op
from sotay_documents.partitioned import READS, READS_DDL, READS_PLAIN_DDL
from sotay_kit import partitions

revision = "documents_0007"
down_revision = "documents_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(partitions.convert_sql(READS, READS_DDL, today=datetime.now(UTC).date()))


def downgrade() -> None:
    op.execute(partitions.revert_sql(["reads"], READS_PLAIN_DDL))
