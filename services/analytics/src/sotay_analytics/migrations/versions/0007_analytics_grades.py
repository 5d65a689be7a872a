"""Analytics: the annual review's grades per review period and cell (counts only), for the
grades report by org subtree and year.

Revision ID: analytics_0007
Revises: analytics_0006
Create Date: 2026-12-03
"""

from alembic import op
from sotay_analytics.schema import GRADES_DDL

revision = "analytics_0007"
down_revision = "analytics_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(GRADES_DDL)


def downgrade() -> None:
    op.execute("DROP TABLE an_grades")
