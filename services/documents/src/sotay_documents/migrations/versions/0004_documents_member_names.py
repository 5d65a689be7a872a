"""Documents: members' display names (name, party-card number) from identity's directory, so the
who-studied list (``GET /api/v1/documents/{id}/reads``) shows people, not ids. Filled by the
identity consumer from the start of the stream; erased when a member leaves.

Revision ID: documents_0004
Revises: documents_0003
Create Date: 2026-12-02
"""

from alembic import op
from sotay_kit.projections.identity import NAMES_DDL

revision = "documents_0004"
down_revision = "documents_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(NAMES_DDL)


def downgrade() -> None:
    op.execute("DROP TABLE idp_member_names")
