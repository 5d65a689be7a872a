"""Outbox and inbox tables that every service database carries.

Revision ID: kit_0001
Revises:
Create Date: 2026-11-30
"""

from alembic import op
from sotay_kit.schema import KIT_TABLES_DDL

revision = "kit_0001"
down_revision = None
branch_labels = ("kit",)
depends_on = None


def upgrade() -> None:
    op.execute(KIT_TABLES_DDL)


def downgrade() -> None:
    op.execute("DROP TABLE inbox; DROP TABLE outbox; DROP FUNCTION outbox_wake();")
