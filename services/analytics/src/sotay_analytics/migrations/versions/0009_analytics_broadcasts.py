"""Analytics: in-app notifications that reached a whole audience at once (notify's
broadcast_delivered.v1), one row per cause instead of one per member.

Revision ID: analytics_0009
Revises: analytics_0008
Create Date: 2026-12-03
"""

from alembic import op
from sotay_analytics.schema import BROADCASTS_DDL

revision = "analytics_0009"
down_revision = "analytics_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(BROADCASTS_DDL)


def downgrade() -> None:
    op.execute("DROP TABLE an_broadcasts")
