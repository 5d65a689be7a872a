"""Analytics: identity projection and the report projections.

Revision ID: analytics_0001
Revises:
Create Date: 2026-12-10
"""

from alembic import op
from sotay_analytics.schema import ALL_DDL

revision = "analytics_0001"
down_revision = None
branch_labels = ("analytics",)
depends_on = "kit_0001"


def upgrade() -> None:
    op.execute(ALL_DDL)


def downgrade() -> None:
    raise NotImplementedError("analytics projections are rebuilt, not downgraded")
