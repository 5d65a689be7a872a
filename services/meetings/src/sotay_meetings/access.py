"""Who may do what with a meeting (DESIGN.md §8: grants apply to an org node and its subtree).

- manage (schedule, update, cancel, show the check-in code, mark, close, label the roster,
  sign the minutes): the cell's secretary or deputy, or a committee member of the cell or of
  any org above it — and the meeting's chair;
- edit the minutes draft: those, and the meeting's minute-taker;
- see: those, and everyone on the meeting's roster (members, exempt members, guests).

Anyone else gets 404: a meeting outside the caller's reach is not confirmed to exist.
"""

from __future__ import annotations

from uuid import UUID

from sotay_kit.auth import Principal

MANAGER_ROLES = ("cell_secretary", "cell_deputy", "committee_member")


def manages_org(who: Principal, org_path: str) -> bool:
    return who.can(MANAGER_ROLES, org_path)


def manages(who: Principal, org_path: str, chair_id: UUID | None) -> bool:
    return manages_org(who, org_path) or (chair_id is not None and who.member_id == chair_id)


def edits_minutes(
    who: Principal, org_path: str, chair_id: UUID | None, minute_taker_id: UUID | None
) -> bool:
    return manages(who, org_path, chair_id) or (
        minute_taker_id is not None and who.member_id == minute_taker_id
    )
