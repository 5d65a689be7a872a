"""Analytics: members' display names (name, party-card number) from identity's directory and
documents' number and title from documents' directory, so member-level reports and their
CSV/XLSX exports show people (not ids) and document reach names the document. Filled by the
consumers from the start of each stream; a member's name is erased when they leave.

Revision ID: analytics_0003
Revises: analytics_0002
Create Date: 2026-12-02
"""

from alembic import op
from sotay_analytics.schema import DIRECTORY_DDL

revision = "analytics_0003"
down_revision = "analytics_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(DIRECTORY_DDL)


def downgrade() -> None:
    op.execute("DROP TABLE an_document_names, idp_member_names")
