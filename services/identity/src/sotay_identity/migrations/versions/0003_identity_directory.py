"""Identity: every member on the roll described once in the directory.

``identity.directory.described.v1`` for each active or exempt member, so that services which show members by name (minutes, who-studied lists, reports) learn
the names of members created before the directory existed. From now on each creation, import,
rename and transfer describes the member in its own transaction. Written to the outbox like any
event (the relay publishes it); nothing when there are no members (a new database).

Revision ID: identity_0003
Revises: identity_0002
Create Date: 2026-12-02
"""

import json
from datetime import UTC, datetime

from alembic import op
from sotay_contracts import new_cloud_event
from sotay_contracts.events.identity import MemberDescribed

revision = "identity_0003"
down_revision = "identity_0002"
branch_labels = None
depends_on = None

_CHUNK = 5000


def upgrade() -> None:
    bind = op.get_bind()
    members = bind.exec_driver_sql(
        "SELECT m.id, m.full_name, m.card_number, m.cell_id, o.path, m.revision "
        "FROM members m JOIN org_units o ON o.id = m.cell_id "
        "WHERE m.status IN ('active', 'exempt') ORDER BY m.created_at, m.id"
    ).fetchall()
    now = datetime.now(UTC)
    for start in range(0, len(members), _CHUNK):
        rows = []
        for member_id, full_name, card_number, cell_id, path, rev in members[
            start : start + _CHUNK
        ]:
            ce = new_cloud_event(
                MemberDescribed(
                    member_id=member_id,
                    full_name=full_name,
                    card_number=card_number,
                    cell_id=cell_id,
                    org_path=path,
                    revision=rev,
                    occurred_at=now,
                ),
                time=now,
            )
            rows.append((ce.id, ce.nats_subject, json.dumps(ce.to_nats_headers()), ce.data))
        bind.exec_driver_sql(
            "INSERT INTO outbox (event_id, subject, headers, body) "
            "VALUES (%s::uuid, %s, %s::jsonb, %s)",
            rows,
        )


def downgrade() -> None:
    """Events once written stay: the relay may already have published them."""
