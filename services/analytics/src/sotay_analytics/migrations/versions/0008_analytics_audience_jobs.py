"""Analytics: large publications' audiences projected in the background, in chunks, so a
small publication's audience is not written behind a province's 60,000 rows.

Revision ID: analytics_0008
Revises: analytics_0007
Create Date: 2026-12-03
"""

from alembic import op
from sotay_analytics.schema import AUDIENCE_JOBS_DDL

revision = "analytics_0008"
down_revision = "analytics_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(AUDIENCE_JOBS_DDL)


def downgrade() -> None:
    op.execute("DROP TABLE an_audience_jobs")
