"""Events produced by the identity service: org tree, members, role grants.

Identity's stream keeps all history: a new consumer rebuilds its projection of the org tree and of
the member -> cell mapping by replaying these events from the start. Each org/member event carries
the aggregate's full current state (not a diff) and a ``revision`` so that projections are
idempotent and can ignore stale events.

``identity.directory.*`` is the one exception to "no personal data on the bus" (DESIGN.md §6):
a member's display name and party-card number, for the services that show members to secretaries
and committees (minutes, who-studied lists, reports). Internal subjects: readable by the
services' NATS users only, never sourced into ``PUBLIC``.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from sotay_contracts.envelope import Event
from sotay_contracts.events._common import AwareDatetime, OrgPath, Revision, Role

__all__ = [
    "AccountActivated",
    "DeactivationReason",
    "MemberCreated",
    "MemberDeactivated",
    "MemberDescribed",
    "MemberErased",
    "MemberStatus",
    "MemberTransferred",
    "MemberUpdated",
    "Membership",
    "OrgClosed",
    "OrgCreated",
    "OrgKind",
    "OrgMoved",
    "OrgStatus",
    "OrgUpdated",
    "RoleGranted",
    "RoleRevoked",
]


class OrgKind(StrEnum):
    """Level of an org node in the party tree."""

    PROVINCE = "province"  # đảng bộ tỉnh
    DISTRICT = "district"  # đảng bộ cấp huyện / trực thuộc tỉnh
    GRASSROOTS_COMMITTEE = "grassroots_committee"  # đảng ủy cơ sở (has cells below it)
    GRASSROOTS_CELL = "grassroots_cell"  # chi bộ cơ sở (a grassroots org that is itself a cell)
    CELL = "cell"  # chi bộ trực thuộc đảng ủy cơ sở


class OrgStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class Membership(StrEnum):
    OFFICIAL = "official"  # đảng viên chính thức
    PROBATIONARY = "probationary"  # đảng viên dự bị


class MemberStatus(StrEnum):
    """A member's standing. Only ``active`` and ``exempt`` members belong to a cell's roster;
    exempt members (miễn sinh hoạt) are listed as exempt and left out of quorum bases."""

    ACTIVE = "active"  # đang sinh hoạt
    EXEMPT = "exempt"  # miễn công tác và sinh hoạt đảng
    TRANSFERRED_OUT = "transferred_out"  # chuyển sinh hoạt ra ngoài hệ thống
    DECEASED = "deceased"  # từ trần
    EXPELLED = "expelled"  # khai trừ / xóa tên


class DeactivationReason(StrEnum):
    """Why a member left the platform. Codes only: never free text."""

    TRANSFERRED_OUT = "transferred_out"  # moved to a party organisation outside this deployment
    MEMBERSHIP_ENDED = "membership_ended"  # expelled or removed from the rolls
    DECEASED = "deceased"
    DUPLICATE_RECORD = "duplicate_record"
    OTHER = "other"


# --------------------------------------------------------------------------------------- orgs


class OrgCreated(Event):
    """Fires when an org node (committee or cell) is created in the tree, once per node.

    Also fires for every node loaded by the initial province import.
    """

    SUBJECT: ClassVar[str] = "identity.org.created.v1"
    AGGREGATE: ClassVar[str] = "org_id"

    org_id: uuid.UUID
    parent_id: uuid.UUID | None = Field(description="None only for the root of the tree.")
    path: OrgPath
    kind: OrgKind
    title: str = Field(
        min_length=1, max_length=300, description="Official title of the organisation."
    )
    code: str | None = Field(
        default=None, max_length=64, description="Official administrative code, if any."
    )
    status: OrgStatus
    valid_from: date
    valid_to: date | None = None
    revision: Revision
    occurred_at: AwareDatetime


OrgField = Literal["title", "code", "kind", "status", "valid_from", "valid_to"]


class OrgUpdated(Event):
    """Fires when an org node's own attributes change: renamed, status changed (e.g. suspended
    or re-activated), validity dates changed. Not fired for moves (``identity.org.moved.v1``) or
    closure (``identity.org.closed.v1``). Carries the full current state plus the changed fields.
    """

    SUBJECT: ClassVar[str] = "identity.org.updated.v1"
    AGGREGATE: ClassVar[str] = "org_id"

    org_id: uuid.UUID
    path: OrgPath
    kind: OrgKind
    title: str = Field(min_length=1, max_length=300)
    code: str | None = Field(default=None, max_length=64)
    status: OrgStatus
    valid_from: date
    valid_to: date | None = None
    changed_fields: list[OrgField] = Field(min_length=1)
    revision: Revision
    occurred_at: AwareDatetime


class OrgMoved(Event):
    """Fires once when an org node is moved under another parent, with its whole subtree.

    Consumers rewrite every stored path equal to ``old_path`` or starting with ``old_path + '.'``
    by replacing that prefix with ``new_path``. No per-descendant events are sent.
    """

    SUBJECT: ClassVar[str] = "identity.org.moved.v1"
    AGGREGATE: ClassVar[str] = "org_id"

    org_id: uuid.UUID
    old_parent_id: uuid.UUID
    new_parent_id: uuid.UUID
    old_path: OrgPath
    new_path: OrgPath
    revision: Revision
    occurred_at: AwareDatetime


class OrgClosed(Event):
    """Fires when an org node is closed (dissolved or merged). A node is closed only when it has
    no open children and no active members; its history stays readable.
    """

    SUBJECT: ClassVar[str] = "identity.org.closed.v1"
    AGGREGATE: ClassVar[str] = "org_id"

    org_id: uuid.UUID
    path: OrgPath
    closed_on: date
    successor_org_id: uuid.UUID | None = Field(
        default=None, description="Org that took over this one's members and work, if merged."
    )
    revision: Revision
    occurred_at: AwareDatetime


# ------------------------------------------------------------------------------------ members


class MemberCreated(Event):
    """Fires when a member record is created in a cell: manual creation, CSV import (one event
    per imported member) or the demo/province load. Carries no personal data: only the ids and
    the cell's org path that other services need for their projections.
    """

    SUBJECT: ClassVar[str] = "identity.member.created.v1"
    AGGREGATE: ClassVar[str] = "member_id"

    member_id: uuid.UUID
    cell_id: uuid.UUID
    org_path: OrgPath = Field(description="Org path of the member's cell.")
    membership: Membership
    status: MemberStatus
    revision: Revision
    occurred_at: AwareDatetime


MemberField = Literal["membership", "status"]


class MemberUpdated(Event):
    """Fires when a member's non-personal attributes that other services use change (membership
    becomes official, account re-activated). Changes to personal data (name, phone, ...) fire no
    event. Cell changes fire ``identity.member.transferred.v1`` instead.
    """

    SUBJECT: ClassVar[str] = "identity.member.updated.v1"
    AGGREGATE: ClassVar[str] = "member_id"

    member_id: uuid.UUID
    cell_id: uuid.UUID
    org_path: OrgPath
    membership: Membership
    status: MemberStatus
    changed_fields: list[MemberField] = Field(min_length=1)
    revision: Revision
    occurred_at: AwareDatetime


class MemberTransferred(Event):
    """Fires when a member is transferred from one cell to another inside the deployment
    (chuyển sinh hoạt đảng). Leaving the deployment is ``identity.member.deactivated.v1``.
    """

    SUBJECT: ClassVar[str] = "identity.member.transferred.v1"
    AGGREGATE: ClassVar[str] = "member_id"

    member_id: uuid.UUID
    from_cell_id: uuid.UUID
    from_org_path: OrgPath
    to_cell_id: uuid.UUID
    to_org_path: OrgPath
    effective_on: date
    revision: Revision
    occurred_at: AwareDatetime

    @model_validator(mode="after")
    def _different_cells(self) -> Self:
        if self.from_cell_id == self.to_cell_id:
            raise ValueError("from_cell_id and to_cell_id must differ")
        return self


class MemberDeactivated(Event):
    """Fires when a member is deactivated: they can no longer log in, receive no notifications and
    stop counting in attendance and reach denominators from ``effective_on``.
    """

    SUBJECT: ClassVar[str] = "identity.member.deactivated.v1"
    AGGREGATE: ClassVar[str] = "member_id"

    member_id: uuid.UUID
    cell_id: uuid.UUID
    org_path: OrgPath
    reason_code: DeactivationReason
    effective_on: date
    revision: Revision
    occurred_at: AwareDatetime


class AccountActivated(Event):
    """Fires once per member when their account becomes usable for the first time: the member
    replaced the one-time activation code with a password of their own (first login), or an
    account was set up ready to use (e.g. the demo accounts). Never fires again for the same
    member (password changes, resets and logins fire nothing). Carries no personal data: the
    ids and the org path of the member's cell, which analytics needs for adoption reports.
    """

    SUBJECT: ClassVar[str] = "identity.account.activated.v1"
    AGGREGATE: ClassVar[str] = "member_id"

    member_id: uuid.UUID
    cell_id: uuid.UUID
    org_path: OrgPath = Field(description="Org path of the member's cell at activation.")
    occurred_at: AwareDatetime


# ---------------------------------------------------------------------------------- directory


class MemberDescribed(Event):
    """Fires in the same transaction as, and just after, every change of what a member is shown
    as or where: created (one by one, imported, the province load), renamed or given another
    card number, transferred. Carries the member's display name and party-card number, the only
    personal data on the bus (DESIGN.md §6), for the services that show members to secretaries
    and committees; they keep these two fields in their own projection and no other.

    A newer ``revision`` replaces an older one; ``identity.directory.erased.v1`` with a
    greater revision erases them. An internal directory subject: readable by the services'
    NATS users only, never sourced into ``PUBLIC``.
    """

    SUBJECT: ClassVar[str] = "identity.directory.described.v1"
    AGGREGATE: ClassVar[str] = "member_id"

    member_id: uuid.UUID
    full_name: str = Field(min_length=1, max_length=200, description="Họ và tên (NFC).")
    card_number: str = Field(
        min_length=1, max_length=64, description="Số thẻ đảng viên (party-card number)."
    )
    cell_id: uuid.UUID
    org_path: OrgPath = Field(description="Org path of the member's cell.")
    revision: Revision
    occurred_at: AwareDatetime


class MemberErased(Event):
    """Fires in the same transaction as ``identity.member.deactivated.v1``: the member left the
    platform, and every service erases the name and card number it keeps of them (ids, facts and
    counts stay). Carries no personal data. An internal directory subject, like
    ``identity.directory.described.v1``.
    """

    SUBJECT: ClassVar[str] = "identity.directory.erased.v1"
    AGGREGATE: ClassVar[str] = "member_id"

    member_id: uuid.UUID
    revision: Revision
    occurred_at: AwareDatetime


# -------------------------------------------------------------------------------------- roles


class RoleGranted(Event):
    """Fires when a role is granted to a member on an org node (applies to its whole subtree)."""

    SUBJECT: ClassVar[str] = "identity.role.granted.v1"
    AGGREGATE: ClassVar[str] = "grant_id"

    grant_id: uuid.UUID
    member_id: uuid.UUID
    role: Role
    org_id: uuid.UUID
    org_path: OrgPath
    granted_by: uuid.UUID | None = Field(
        description="Member who granted it; None for system grants (bootstrap, import)."
    )
    occurred_at: AwareDatetime


class RoleRevoked(Event):
    """Fires when a role grant is revoked (explicitly, or because the member was deactivated or
    transferred out of the subtree). Grants are immutable: a change is a revoke plus a grant.
    """

    SUBJECT: ClassVar[str] = "identity.role.revoked.v1"
    AGGREGATE: ClassVar[str] = "grant_id"

    grant_id: uuid.UUID
    member_id: uuid.UUID
    role: Role
    org_id: uuid.UUID
    org_path: OrgPath
    revoked_by: uuid.UUID | None = Field(
        description="Member who revoked it; None when revoked by the system."
    )
    occurred_at: AwareDatetime
