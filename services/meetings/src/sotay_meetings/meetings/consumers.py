"""Event handlers of meetings: the identity projection (org tree, who is in which cell, role
grants), kept by kit's handlers on a durable consumer named ``meetings``. Meetings never calls
identity: the roster snapshot at scheduling reads this projection.

When an org subtree moves (``identity.org.moved.v1``), the org paths meetings stores (meetings
and monthly series) are rewritten in the same transaction as the projection's own rewrite, and
only when the projection applied the move (its revision advanced): every access check reads
``meetings.org_path``, so a stale path would leave the meeting with its old committee.
"""

from __future__ import annotations

from sotay_contracts.events import identity as ev
from sotay_kit.app import ConsumerBinding
from sotay_kit.consumer import Delivery
from sotay_kit.db import Connection
from sotay_kit.projections import identity as identity_projection


async def rewrite_paths(conn: Connection, old_path: str, new_path: str) -> None:
    """Move every stored org path under ``old_path`` to ``new_path``."""
    for table in ("meetings", "meeting_series"):
        await conn.execute(
            f"UPDATE {table} SET org_path = $2 || substr(org_path, length($1) + 1) "  # noqa: S608 - fixed table names
            "WHERE org_path = $1 OR org_path LIKE $1 || '.%'",
            old_path,
            new_path,
        )


def identity_binding() -> ConsumerBinding:
    base = identity_projection.binding("meetings")
    apply_move = base.handlers[ev.OrgMoved.ce_type()]

    async def org_moved(conn: Connection, d: Delivery) -> None:
        e = d.event
        assert isinstance(e, ev.OrgMoved)
        current = await conn.fetchval("SELECT revision FROM idp_orgs WHERE org_id = $1", e.org_id)
        await apply_move(conn, d)
        if current is not None and current < e.revision:
            await rewrite_paths(conn, e.old_path, e.new_path)

    return ConsumerBinding(
        spec=base.spec,
        handlers={**base.handlers, ev.OrgMoved.ce_type(): org_moved},
        batch_handlers=base.batch_handlers,
    )


BINDINGS: tuple[ConsumerBinding, ...] = (identity_binding(),)
