"""Analytics: the hash-chained audit log (``sotay_kit.audit``) of sensitive actions — report
files downloaded, and the lagging report, which names members. Not a projection: a rebuild
leaves it alone.

Revision ID: analytics_0002
Revises: analytics_0001
Create Date: 2026-12-02
"""

from alembic import op
from sotay_kit.audit import AUDIT_DDL

revision = "analytics_0002"
down_revision = "analytics_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(AUDIT_DDL)


def downgrade() -> None:
    op.execute("DROP TABLE audit_log; DROP FUNCTION audit_log_append_only()")
