"""API models of members. Names are NFC-normalised; phones stored as ``0XXXXXXXXX``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError
from sotay_contracts.events.identity import DeactivationReason, Membership, MemberStatus

from . import fields


def _rule(check: Callable[[Any], Any]) -> AfterValidator:
    """A field rule whose Vietnamese message reaches the client as is."""

    def run(value: Any) -> Any:
        try:
            return check(value)
        except ValueError as exc:
            raise PydanticCustomError("invalid_value", str(exc)) from None

    return AfterValidator(run)


CardNumber = Annotated[str, Field(max_length=64), _rule(fields.card_number)]
FullName = Annotated[str, Field(max_length=1000), _rule(fields.full_name)]
Phone = Annotated[str, Field(max_length=40), _rule(fields.phone)]
Email = Annotated[str, Field(max_length=320), _rule(fields.email)]
CitizenId = Annotated[str, Field(max_length=40), _rule(fields.citizen_id)]
PastDate = Annotated[date, _rule(fields.past_date)]
Sex = Literal["male", "female"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_dates(dob: date | None, admitted: date | None, official: date | None) -> None:
    problems = fields.date_order_problems(dob, admitted, official)
    if problems:
        raise PydanticCustomError("invalid_dates", "; ".join(reason for _, reason in problems))


class MemberCreate(_Input):
    card_number: CardNumber
    full_name: FullName
    date_of_birth: PastDate | None = None
    sex: Sex | None = None
    phone: Phone | None = None
    email: Email | None = None
    admitted_on: PastDate | None = None
    official_on: PastDate | None = None
    membership: Membership | None = Field(
        default=None,
        description="Mặc định: chính thức nếu có ngày chính thức, dự bị nếu chỉ có ngày vào Đảng",
    )
    cell_id: UUID
    citizen_id: CitizenId | None = Field(default=None, description="Số CCCD, 12 chữ số")

    @model_validator(mode="after")
    def _dates(self) -> Self:
        _check_dates(self.date_of_birth, self.admitted_on, self.official_on)
        return self


class MemberPatch(_Input):
    """Only the fields sent change; ``null`` clears an optional field. ``status`` moves a member
    between active and exempt (miễn sinh hoạt); leaving is ``POST /{id}/deactivate``."""

    card_number: CardNumber | None = None
    full_name: FullName | None = None
    date_of_birth: PastDate | None = None
    sex: Sex | None = None
    phone: Phone | None = None
    email: Email | None = None
    admitted_on: PastDate | None = None
    official_on: PastDate | None = None
    membership: Membership | None = None
    citizen_id: CitizenId | None = None
    status: Literal["active", "exempt"] | None = None


class MemberTransfer(_Input):
    to_cell_id: UUID
    effective_on: PastDate


class MemberDeactivate(_Input):
    reason_code: DeactivationReason
    effective_on: PastDate


class MemberOut(BaseModel):
    id: UUID
    card_number: str
    full_name: str
    date_of_birth: date | None
    sex: Sex | None
    phone: str | None
    email: str | None
    admitted_on: date | None
    official_on: date | None
    membership: Membership
    status: MemberStatus
    cell_id: UUID
    org_path: str
    citizen_id: str | None = Field(
        description="Số CCCD; chỉ quản trị tổ chức thấy đầy đủ, người khác thấy 4 số cuối"
    )
    revision: int
    created_at: datetime
    updated_at: datetime


class MemberCreated(MemberOut):
    activation_code: str = Field(
        description="Mã kích hoạt dùng một lần; chỉ trả về một lần, không lưu lại được"
    )
    activation_expires_at: datetime


class MembershipOut(BaseModel):
    cell_id: UUID
    cell_title: str
    org_path: str
    started_on: date
    ended_on: date | None
    end_reason: str | None


class ActivationOut(BaseModel):
    member_id: UUID
    card_number: str
    full_name: str
    activation_code: str


class ImportResult(BaseModel):
    imported: int
    activation_expires_at: datetime
    accounts: list[ActivationOut]


class ActivationSheetPrinted(_Input):
    """The members whose activation cards an admin is printing (ids only: the codes themselves
    are never sent back to the server)."""

    member_ids: list[UUID] = Field(min_length=1, max_length=100_000)


class ActivationReissued(BaseModel):
    member_id: UUID
    card_number: str
    full_name: str
    activation_code: str = Field(description="Mã kích hoạt mới; mã cũ hết hiệu lực")
    activation_expires_at: datetime


class ImportProblem(BaseModel):
    row: int = Field(description="Số dòng trong tệp; dòng tiêu đề là dòng 1")
    column: str | None
    reason: str
