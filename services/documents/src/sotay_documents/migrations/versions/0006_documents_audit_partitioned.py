"""Documents: the audit log partitioned by month, archived past retention (sotay_kit.audit).

Revision ID: documents_0006
Revises: documents_0005
Create Date: 2026-12-03
"""

from datetime import UTC, datetime

from alembic import op
from sotay_kit import audit

revision = "documents_0006"
down_revision = "documents_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(audit.partition_log_sql(datetime.now(UTC).date()))


def downgrade() -> None:
    op.execute(audit.unpartition_log_sql())
