"""Identity: a source address over the failure threshold is paced, not locked — its attempts
take turns (``next_slot``) and are still checked, so correct credentials from a shared
(carrier-grade NAT) address get through.

Revision ID: identity_0002
Revises: identity_0001
Create Date: 2026-12-02
"""

from alembic import op

revision = "identity_0002"
down_revision = "identity_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE login_failures_by_source DROP COLUMN locked_until, "
        "ADD COLUMN next_slot timestamptz"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE login_failures_by_source DROP COLUMN next_slot, "
        "ADD COLUMN locked_until timestamptz"
    )
