"""Meetings: the audit log partitioned by month, archived past retention (sotay_kit.audit).

Revision ID: meetings_0003
Revises: meetings_0002
Create Date: 2026-12-03
"""

from datetime import UTC, datetime

from alembic import op
from sotay_kit import audit

revision = "meetings_0003"
down_revision = "meetings_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(audit.partition_log_sql(datetime.now(UTC).date()))


def downgrade() -> None:
    op.execute(audit.unpartition_log_sql())
