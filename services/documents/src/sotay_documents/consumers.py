"""Event handlers of the documents service.

The identity projection (org tree, members, grants, and members' display names for the
who-studied list) comes from ``sotay_kit``; when an org
subtree moves, the paths this service stores (owners and audiences of documents and news) are
rewritten in the same transaction as the projection's own rewrite.
"""

from __future__ import annotations

from sotay_kit.app import ConsumerBinding
from sotay_kit.db import Connection
from sotay_kit.projections import identity as projection
from sotay_kit.projections.identity import rewrite_path_array, rewrite_path_column


async def rewrite_paths(conn: Connection, old_path: str, new_path: str) -> None:
    """Move every stored path under ``old_path`` to ``new_path``."""
    for table, column in (
        ("documents", "owner_org_path"),
        ("publication_targets", "org_path"),
        ("publications", "publisher_org_path"),
        ("news", "publisher_org_path"),
        ("consultations", "org_path"),
        ("consultations", "committee_org_path"),
        ("consultation_comments", "cell_path"),
    ):
        await rewrite_path_column(conn, table, column, old_path, new_path)
    for table, column in (
        ("documents", "audience_paths"),
        ("publications", "org_paths"),
        ("news", "org_paths"),
    ):
        await rewrite_path_array(conn, table, column, old_path, new_path)


def identity_binding() -> ConsumerBinding:
    return projection.binding("documents", rewrite_paths=rewrite_paths, names=True)
