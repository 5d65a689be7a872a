"""Who may do what with documents and news, from the caller's token and the org tree.

- A member sees what an active publication addresses to a node on the path from their cell to
  the root (``ancestors``).
- Holders of a publishing role (committee member, org admin, cell secretary or deputy) also see
  the documents owned by, or published to, a node inside their subtrees (``publisher_roots``),
  publish inside those subtrees, and see who has studied what there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sotay_kit.auth import Principal, path_within

PUBLISHER_ROLES = ("committee_member", "org_admin", "cell_secretary", "cell_deputy")
REPORT_ROLES = PUBLISHER_ROLES


def ancestors(path: str | None) -> list[str]:
    """``"1.2.3"`` → ``["1", "1.2", "1.2.3"]``: the nodes whose publications reach that path."""
    if not path:
        return []
    labels = path.split(".")
    return [".".join(labels[: i + 1]) for i in range(len(labels))]


@dataclass(frozen=True, slots=True)
class Scope:
    """The caller's reach, as SQL parameters."""

    ancestors: list[str]
    publisher_roots: list[str]

    @classmethod
    def of(cls, who: Principal) -> Scope:
        roots = who.subtree_roots(PUBLISHER_ROLES)
        # Nested grants: keep only the outermost roots.
        outer = [r for r in roots if not any(o != r and path_within(r, o) for o in roots)]
        return cls(ancestors(who.org_path), outer)

    @property
    def is_publisher(self) -> bool:
        return bool(self.publisher_roots)


def publisher_path(who: Principal, paths: list[str]) -> str | None:
    """The committee something addressed to ``paths`` is published by: the narrowest of the
    caller's publishing grants that covers every one of them (None: no single grant does)."""
    covering = [
        g.org_path
        for g in who.grants
        if g.role in PUBLISHER_ROLES and all(path_within(p, g.org_path) for p in paths)
    ]
    return max(covering, key=lambda p: p.count(".")) if covering else None


def visible_sql(doc: str, a: str, r: str) -> str:
    """SQL: the document aliased ``doc`` is visible to a caller whose ancestor paths are the
    parameter ``a`` and whose publishing roots are ``r``."""
    return (
        f"({doc}.audience_paths && {a}::text[] OR EXISTS (SELECT 1 FROM unnest({r}::text[]) "  # noqa: S608 - fixed SQL fragments
        f"AS root(p) WHERE {doc}.owner_org_path = root.p OR {doc}.owner_org_path LIKE root.p "
        f"|| '.%' OR EXISTS (SELECT 1 FROM unnest({doc}.audience_paths) AS ap(p) "
        "WHERE ap.p = root.p OR ap.p LIKE root.p || '.%')))"
    )
