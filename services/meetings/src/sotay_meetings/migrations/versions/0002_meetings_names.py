"""Meetings: members' display names (name, party-card number) from identity's directory and
documents' number and title from documents' directory, so the roster and the minutes draft
show people and documents, not ids. Filled by the consumers from the start of each stream.

Revision ID: meetings_0002
Revises: meetings_0001
Create Date: 2026-12-02
"""

from alembic import op
from sotay_kit.projections.identity import NAMES_DDL

revision = "meetings_0002"
down_revision = "meetings_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        NAMES_DDL
        + """
        CREATE TABLE document_names (
            document_id  uuid PRIMARY KEY,
            version      integer NOT NULL,
            number       text,
            title        text NOT NULL
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE document_names, idp_member_names")
