"""A small party organisation for service tests: names → ids and paths, and the identity
events that build it (fed through a service's projection consumer) plus the claims of each
member's token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sotay_contracts.events import identity as iev


@dataclass
class World:
    at: datetime = datetime(2026, 11, 1, tzinfo=UTC)  # when the events say things happened
    orgs: dict[str, uuid.UUID] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    members: dict[str, uuid.UUID] = field(default_factory=dict)
    cell_of: dict[str, str] = field(default_factory=dict)
    grants: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    revisions: dict[str, int] = field(default_factory=dict)

    def org(
        self, name: str, parent: str | None, path: str, kind: str, *, title: str | None = None
    ) -> iev.OrgCreated:
        self.orgs[name] = uuid.uuid4()
        self.paths[name] = path
        return iev.OrgCreated(
            org_id=self.orgs[name],
            parent_id=self.orgs[parent] if parent else None,
            path=path,
            kind=iev.OrgKind(kind),
            title=title or (f"Chi bộ {path}" if kind.endswith("cell") else f"Đảng bộ {path}"),
            status=iev.OrgStatus.ACTIVE,
            valid_from=date(2026, 1, 1),
            revision=1,
            occurred_at=self.at,
        )

    def member(
        self, name: str, cell: str, status: str = "active", at: datetime | None = None
    ) -> iev.MemberCreated:
        self.members[name] = uuid.uuid4()
        self.cell_of[name] = cell
        self.revisions[name] = 1
        return iev.MemberCreated(
            member_id=self.members[name],
            cell_id=self.orgs[cell],
            org_path=self.paths[cell],
            membership=iev.Membership.OFFICIAL,
            status=iev.MemberStatus(status),
            revision=1,
            occurred_at=at or self.at,
        )

    def described(self, name: str, full_name: str, card_number: str) -> iev.MemberDescribed:
        """The member's entry in identity's directory (display name and card number)."""
        cell = self.cell_of[name]
        return iev.MemberDescribed(
            member_id=self.members[name],
            full_name=full_name,
            card_number=card_number,
            cell_id=self.orgs[cell],
            org_path=self.paths[cell],
            revision=self.revisions[name],
            occurred_at=self.at,
        )

    def erased(self, name: str) -> iev.MemberErased:
        """The member left: identity's directory erases their name (a new revision)."""
        self.revisions[name] += 1
        return iev.MemberErased(
            member_id=self.members[name], revision=self.revisions[name], occurred_at=self.at
        )

    def grant(self, name: str, role: str, org: str) -> iev.RoleGranted:
        self.grants.setdefault(name, []).append((role, org))
        return iev.RoleGranted(
            grant_id=uuid.uuid4(),
            member_id=self.members[name],
            role=role,
            org_id=self.orgs[org],
            org_path=self.paths[org],
            granted_by=None,
            occurred_at=self.at,
        )

    def claims(self, name: str) -> dict[str, Any]:
        """What ``TokenFactory.mint`` needs for this member's token."""
        cell = self.cell_of[name]
        return {
            "member_id": self.members[name],
            "cell_id": self.orgs[cell],
            "org_path": self.paths[cell],
            "grants": [
                {"role": role, "org_path": self.paths[org]}
                for role, org in self.grants.get(name, [])
            ],
        }
