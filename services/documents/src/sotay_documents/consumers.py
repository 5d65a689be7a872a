"""Event handlers of the documents service.

The identity projection (org tree, members, grants) comes from ``sotay_kit``; when an org
subtree moves, the paths this service stores (owners and audiences of documents and news) are
rewritten in the same transaction as the projection's own rewrite.
"""

from __future__ import annotations

from sotay_contracts.events import identity as ev
from sotay_kit.app import ConsumerBinding
from sotay_kit.consumer import Delivery
from sotay_kit.db import Connection
from sotay_kit.projections import identity as projection

_REWRITE = "$2 || substr({col}, length($1) + 1)"


def _rewrite_array(col: str) -> str:
    return (
        f"ARRAY(SELECT CASE WHEN p = $1 OR p LIKE $1 || '.%' THEN $2 || substr(p, length($1) + 1) "  # noqa: S608 - fixed SQL fragments
        f"ELSE p END FROM unnest({col}) WITH ORDINALITY AS u(p, i) ORDER BY i)"
    )


async def rewrite_paths(conn: Connection, old_path: str, new_path: str) -> None:
    """Move every stored path under ``old_path`` to ``new_path``."""
    within = "({col} = $1 OR {col} LIKE $1 || '.%')"
    await conn.execute(
        f"UPDATE documents SET owner_org_path = {_REWRITE.format(col='owner_org_path')} "  # noqa: S608 - fixed SQL fragments
        f"WHERE {within.format(col='owner_org_path')}",
        old_path,
        new_path,
    )
    await conn.execute(
        f"UPDATE publication_targets SET org_path = {_REWRITE.format(col='org_path')} "  # noqa: S608 - fixed SQL fragments
        f"WHERE {within.format(col='org_path')}",
        old_path,
        new_path,
    )
    moved = "EXISTS (SELECT 1 FROM unnest({col}) AS u(p) WHERE p = $1 OR p LIKE $1 || '.%')"
    for table, col in (
        ("documents", "audience_paths"),
        ("publications", "org_paths"),
        ("publications", "publisher_org_path"),
        ("news", "org_paths"),
        ("news", "publisher_org_path"),
    ):
        if col == "publisher_org_path":
            await conn.execute(
                f"UPDATE {table} SET {col} = {_REWRITE.format(col=col)} "  # noqa: S608
                f"WHERE {within.format(col=col)}",
                old_path,
                new_path,
            )
            continue
        await conn.execute(
            f"UPDATE {table} SET {col} = {_rewrite_array(col)} "  # noqa: S608
            f"WHERE {moved.format(col=col)}",
            old_path,
            new_path,
        )


def identity_binding() -> ConsumerBinding:
    base = projection.binding("documents")
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
