"""Outbox and inbox partitioned by month of their UUIDv7 event id, so that retention drops
whole months instead of deleting rows (sotay_kit.partitions, docs/scaling.md).

Revision ID: kit_0002
Revises: kit_0001
Create Date: 2026-12-03
"""

from datetime import UTC, datetime

from alembic import op
from sotay_kit import partitions
from sotay_kit.schema import INBOX_PARTITIONED_DDL, KIT_TABLES_DDL, OUTBOX_PARTITIONED_DDL

revision = "kit_0002"
down_revision = "kit_0001"
branch_labels = None
depends_on = None

_SEQ = "SELECT setval(pg_get_serial_sequence('outbox', 'seq'), max(seq)) FROM outbox"


def upgrade() -> None:
    today = datetime.now(UTC).date()
    op.execute(partitions.convert_sql(partitions.OUTBOX, OUTBOX_PARTITIONED_DDL, today=today))
    op.execute(f"{_SEQ} HAVING count(*) > 0")  # publication order continues after the old rows
    op.execute(partitions.convert_sql(partitions.INBOX, INBOX_PARTITIONED_DDL, today=today))


def downgrade() -> None:
    op.execute(
        partitions.revert_sql(
            ["outbox", "inbox"], KIT_TABLES_DDL, drop_also="DROP FUNCTION outbox_wake();"
        )
    )
    op.execute(f"{_SEQ} HAVING count(*) > 0")
