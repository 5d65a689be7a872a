"""Who may see and change what in the org tree (DESIGN.md §8), in one place.

A grant applies to its org node and the whole subtree below it. Every check is made against the
*target's* org path:

- **reach**: the caller holds any grant covering the target, or the target lies on the path from
  the caller's own cell up to the root. Outside their reach a caller is told 404 (the target's
  existence is not confirmed); inside it but without the needed role, 403.
- **read** an org node or a member: ``org_admin``, ``committee_member``, ``cell_secretary`` or
  ``cell_deputy`` on an ancestor-or-self of the target; a member may also read their own member
  record and their own cell's node.
- **change**: ``org_admin`` on an ancestor-or-self of the target (both ends of a move or a
  transfer; the new parent of a created org). The ``operator`` role is granted and revoked only
  by an operator.
"""

from __future__ import annotations

from collections.abc import Iterable

from sotay_contracts.tokens import ROLES
from sotay_kit.auth import Principal
from sotay_kit.errors import Forbidden, NotFound

READ_ROLES: tuple[str, ...] = ("org_admin", "committee_member", "cell_secretary", "cell_deputy")
ADMIN = "org_admin"
OPERATOR = "operator"

ORG_NOT_FOUND = "Không tìm thấy tổ chức đảng"
MEMBER_NOT_FOUND = "Không tìm thấy đảng viên"
FORBIDDEN = "Bạn không có quyền thực hiện thao tác này trên tổ chức này"


def in_reach(who: Principal, path: str) -> bool:
    """The caller may learn that something at ``path`` exists (403 rather than 404)."""
    return who.can(ROLES, path) or who.is_addressed(path)


def authorize(
    who: Principal,
    roles: str | Iterable[str],
    path: str,
    *,
    not_found: str = ORG_NOT_FOUND,
    forbidden: str = FORBIDDEN,
) -> None:
    """Allow when ``who`` holds one of ``roles`` on ``path`` or an ancestor; else 403 inside
    the caller's reach and 404 outside it."""
    if who.can(roles, path):
        return
    if in_reach(who, path):
        raise Forbidden(forbidden)
    raise NotFound(not_found)


def hide_unless_reachable(who: Principal, path: str, not_found: str = ORG_NOT_FOUND) -> None:
    if not in_reach(who, path):
        raise NotFound(not_found)
