"""Event handlers of meetings: the identity projection (org tree, who is in which cell, role
grants, and members' display names from identity's directory), kept by kit's handlers on a
durable consumer named ``meetings``. Meetings never calls identity: the roster snapshot at
scheduling reads this projection. A second ``meetings`` durable, on ``DOCUMENTS``, keeps each
document's number and title (``documents.directory.described.v1``) for the minutes draft.

When an org subtree moves (``identity.org.moved.v1``), the org paths meetings stores (meetings,
monthly series, review periods and members' reviews) are rewritten in the same transaction as
the projection's own rewrite, and only when the projection applied the move (its revision
advanced): every access check reads these paths, so a stale one would leave a meeting or a
review period with its old committee.
"""

from __future__ import annotations

from sotay_contracts.events import documents as dev
from sotay_kit.app import ConsumerBinding
from sotay_kit.consumer import Delivery
from sotay_kit.db import Connection
from sotay_kit.messaging import ConsumerSpec
from sotay_kit.projections import identity as identity_projection
from sotay_kit.projections.identity import rewrite_path_column


async def rewrite_paths(conn: Connection, old_path: str, new_path: str) -> None:
    """Move every stored org path under ``old_path`` to ``new_path``."""
    for table in ("meetings", "meeting_series", "review_periods"):
        await rewrite_path_column(conn, table, "org_path", old_path, new_path)
    await rewrite_path_column(conn, "member_reviews", "cell_path", old_path, new_path)


async def _document_described(conn: Connection, d: Delivery) -> None:
    e = d.event
    assert isinstance(e, dev.DocumentDescribed)
    await conn.execute(
        "INSERT INTO document_names (document_id, version, number, title) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (document_id) DO UPDATE SET "
        "version = excluded.version, number = excluded.number, title = excluded.title "
        "WHERE document_names.version <= excluded.version",
        e.document_id,
        e.version,
        e.number,
        e.title,
    )


BINDINGS: tuple[ConsumerBinding, ...] = (
    identity_projection.binding("meetings", rewrite_paths=rewrite_paths, names=True),
    ConsumerBinding(
        spec=ConsumerSpec(
            name="meetings",
            stream="DOCUMENTS",
            filter_subjects=(dev.DocumentDescribed.SUBJECT,),
            description="meetings: documents' numbers and titles, for the minutes",
        ),
        handlers={dev.DocumentDescribed.ce_type(): _document_described},
    ),
)
