"""Analytics: the last stage of document reach — when a member first passed the study quiz of
a document version (documents.quiz.passed.v1), on ``an_reads`` (partitioned: the column is
added to every partition).

Revision ID: analytics_0006
Revises: analytics_0005
Create Date: 2026-12-03
"""

from alembic import op
from sotay_analytics.schema import QUIZ_DDL

revision = "analytics_0006"
down_revision = "analytics_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(QUIZ_DDL)


def downgrade() -> None:
    op.execute("ALTER TABLE an_reads DROP COLUMN passed_at")
