"""API models of the member's record (lý lịch đảng viên): work history, rewards, discipline."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError
from sotay_kit.text import has_control

from ..members.schemas import MembershipOut

RewardForm = Literal["huy_hieu", "bang_khen", "giay_khen", "khen_thuong_khac"]
DisciplineForm = Literal["khien_trach", "canh_cao", "cach_chuc", "khai_tru"]
REWARD_FORMS: tuple[str, ...] = RewardForm.__args__  # type: ignore[attr-defined]


def _text(value: str) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise PydanticCustomError("string_too_short", "Chuỗi không được để trống")
    if has_control(value, allowed="\n\t"):
        raise PydanticCustomError("control_characters", "Chuỗi chứa ký tự điều khiển")
    return value


DecisionNumber = Annotated[str, Field(max_length=50), AfterValidator(_text)]
Reason = Annotated[str, Field(max_length=2000), AfterValidator(_text)]


class DistinctionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["reward", "discipline"]
    form: RewardForm | DisciplineForm
    decision_number: DecisionNumber = Field(description="Số quyết định, e.g. 12-QĐ/ĐU.")
    decided_on: date
    org_id: UUID = Field(description="The party body that decided (its grant is checked).")
    reason: Reason

    @model_validator(mode="after")
    def _form_of_kind(self) -> Self:
        if (self.kind == "reward") != (self.form in REWARD_FORMS):
            raise PydanticCustomError(
                "form_of_kind", "Hình thức không thuộc loại đã chọn (khen thưởng / kỷ luật)"
            )
        return self


class DistinctionOut(BaseModel):
    id: UUID
    kind: str
    form: str
    decision_number: str
    decided_on: date
    decided_by: UUID
    decided_by_title: str
    reason: str
    recorded_at: datetime


class MemberRecord(BaseModel):
    member_id: UUID
    full_name: str
    card_number: str
    admitted_on: date | None = Field(description="Ngày vào Đảng.")
    official_on: date | None = Field(description="Ngày chính thức.")
    membership: str
    status: str
    history: list[MembershipOut] = Field(description="Quá trình sinh hoạt, the open one last.")
    rewards: list[DistinctionOut]
    discipline: list[DistinctionOut]
