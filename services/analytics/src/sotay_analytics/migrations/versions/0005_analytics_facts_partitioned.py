"""Analytics: the fact tables partitioned by month (sotay_analytics.partitioned).

Revision ID: analytics_0005
Revises: analytics_0004
Create Date: 2026-12-03
"""

from datetime import UTC, datetime

from alembic import op
from sotay_analytics import partitioned

revision = "analytics_0005"
down_revision = "analytics_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(partitioned.partition_sql(datetime.now(UTC).date()))


def downgrade() -> None:
    op.execute(partitioned.unpartition_sql())
