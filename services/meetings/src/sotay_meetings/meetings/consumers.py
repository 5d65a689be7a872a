"""Event handlers of meetings: the identity projection (org tree, who is in which cell, role
grants), kept by kit's handlers on a durable consumer named ``meetings``. Meetings never calls
identity: the roster snapshot at scheduling reads this projection.

When an org subtree moves (``identity.org.moved.v1``), the org paths meetings stores (meetings
and monthly series) are rewritten in the same transaction as the projection's own rewrite, and
only when the projection applied the move (its revision advanced): every access check reads
``meetings.org_path``, so a stale path would leave the meeting with its old committee.
"""

from __future__ import annotations

from sotay_kit.app import ConsumerBinding
from sotay_kit.db import Connection
from sotay_kit.projections import identity as identity_projection
from sotay_kit.projections.identity import rewrite_path_column


async def rewrite_paths(conn: Connection, old_path: str, new_path: str) -> None:
    """Move every stored org path under ``old_path`` to ``new_path``."""
    for table in ("meetings", "meeting_series"):
        await rewrite_path_column(conn, table, "org_path", old_path, new_path)


BINDINGS: tuple[ConsumerBinding, ...] = (
    identity_projection.binding("meetings", rewrite_paths=rewrite_paths),
)
