"""Meetings: rosters and attendance partitioned by month of the meeting's UUIDv7 id
(sotay_meetings.partitioned).

Revision ID: meetings_0004
Revises: meetings_0003
Create Date: 2026-12-03
"""

from datetime import UTC, datetime

from alembic import op
from sotay_kit import partitions
from sotay_meetings.partitioned import INVITEES, INVITEES_DDL, INVITEES_PLAIN_DDL

revision = "meetings_0004"
down_revision = "meetings_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(partitions.convert_sql(INVITEES, INVITEES_DDL, today=datetime.now(UTC).date()))


def downgrade() -> None:
    op.execute(partitions.revert_sql(["meeting_invitees"], INVITEES_PLAIN_DDL))
