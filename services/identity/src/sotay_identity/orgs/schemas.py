"""API models of the org tree. Titles and codes are NFC-normalised on input."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sotay_contracts.events.identity import Membership, MemberStatus, OrgKind, OrgStatus

from ..members import fields

Title = Annotated[str, Field(max_length=1000), AfterValidator(fields.title)]
Code = Annotated[str, Field(max_length=200), AfterValidator(fields.org_code)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrgOut(BaseModel):
    id: UUID
    parent_id: UUID | None
    path: str
    code: str | None
    title: str
    kind: OrgKind
    status: OrgStatus
    valid_from: date
    valid_to: date | None
    successor_id: UUID | None
    revision: int
    created_at: datetime
    updated_at: datetime


class OrgCreate(_Input):
    parent_id: UUID
    title: Title
    kind: OrgKind
    code: Code | None = None
    valid_from: date | None = Field(default=None, description="Mặc định: hôm nay")


class OrgPatch(_Input):
    """Only the fields sent are changed; ``code: null`` clears the code."""

    title: Title | None = None
    code: Code | None = None
    status: Literal["active", "suspended"] | None = Field(
        default=None, description="Đóng tổ chức dùng POST /{id}/close"
    )
    valid_from: date | None = None
    valid_to: date | None = None


class OrgMove(_Input):
    new_parent_id: UUID


class OrgClose(_Input):
    closed_on: date
    successor_id: UUID | None = Field(
        default=None, description="Tổ chức tiếp nhận (khi hợp nhất, sáp nhập)"
    )


class OrgMemberOut(BaseModel):
    """A roster line: no contact or identity numbers."""

    id: UUID
    card_number: str
    full_name: str
    status: MemberStatus
    membership: Membership
    cell_id: UUID


class CellMateOut(BaseModel):
    """A member of my cell as fellow members know them: name, card and roles in the cell."""

    id: UUID
    card_number: str
    full_name: str
    roles: list[str] = Field(
        description="Vai trò được phân tại chi bộ (cell_secretary, cell_deputy, …); rỗng với "
        "đảng viên không giữ chức vụ"
    )


class SecretaryOut(BaseModel):
    grant_id: UUID
    member_id: UUID
    full_name: str
    role: Literal["cell_secretary", "cell_deputy"]


class OrgTrailItem(BaseModel):
    id: UUID
    title: str
    kind: OrgKind


class OrgFound(OrgOut):
    """An org found by search, with the orgs above it (from the caller's widest grant down to
    its parent) so that two cells of the same name can be told apart."""

    trail: list[OrgTrailItem]
