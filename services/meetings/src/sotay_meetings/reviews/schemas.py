"""API models of the annual review (kiểm điểm, đánh giá, xếp loại đảng viên)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError
from sotay_contracts.events.meetings import ReviewGrade
from sotay_kit.text import has_control

GRADE_TITLES: dict[ReviewGrade, str] = {
    ReviewGrade.EXCELLENT: "Hoàn thành xuất sắc nhiệm vụ",
    ReviewGrade.GOOD: "Hoàn thành tốt nhiệm vụ",
    ReviewGrade.COMPLETE: "Hoàn thành nhiệm vụ",
    ReviewGrade.INCOMPLETE: "Không hoàn thành nhiệm vụ",
}
# The order of a grading motion's options and of ``vote_totals``.
GRADE_ORDER: tuple[ReviewGrade, ...] = tuple(GRADE_TITLES)


def _text(limit: int) -> Callable[[str], str]:
    """NFC, trimmed, not empty, no control characters, and at most ``limit`` characters once
    normalised (NFC can lengthen a text the length check before it let through)."""

    def check(value: str) -> str:
        value = unicodedata.normalize("NFC", value).strip()
        if not value:
            raise PydanticCustomError("string_too_short", "Nội dung không được để trống")
        if len(value) > limit:
            raise PydanticCustomError(
                "string_too_long", "Nội dung dài quá {limit} ký tự", {"limit": limit}
            )
        if has_control(value, allowed="\n\t"):
            raise PydanticCustomError("control_characters", "Nội dung chứa ký tự điều khiển")
        return value

    return check


Assessment = Annotated[str, Field(max_length=8000), AfterValidator(_text(8000))]
Reason = Annotated[str, Field(max_length=2000), AfterValidator(_text(2000))]


class PeriodCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: UUID = Field(description="The committee's org: the period covers its subtree.")
    year: int = Field(ge=2000, le=2100, description="The year reviewed.")
    self_deadline: AwareDatetime = Field(description="Last moment for self-assessments.")
    excellent_share: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Quota: members graded xuất sắc may be at most this share of those graded "
        "tốt (per cell).",
    )


class PeriodOut(BaseModel):
    id: UUID
    org_id: UUID
    org_title: str | None
    org_path: str
    year: int
    self_deadline: datetime
    excellent_share: float
    opened_at: datetime


class SelfAssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assessment: Assessment = Field(description="Bản tự kiểm điểm.")
    grade: ReviewGrade = Field(description="The grade the member proposes for themselves.")


class MyReview(BaseModel):
    period: PeriodOut
    assessment: str | None
    self_grade: ReviewGrade | None
    submitted_at: datetime | None
    editable: bool = Field(description="Before the deadline and before the cell has proposed.")
    cell_grade: ReviewGrade | None = Field(description="The cell's proposal (its vote).")
    final_grade: ReviewGrade | None
    final_reason: str | None


class ReviewMember(BaseModel):
    member_id: UUID
    full_name: str | None
    card_number: str | None
    assessment: str | None
    self_grade: ReviewGrade | None
    submitted_at: datetime | None
    motion_id: UUID | None
    vote_totals: dict[ReviewGrade, int] | None = Field(
        description="The cell's secret vote per grade (phones and hands), once the motion closed."
    )
    voted_grade: ReviewGrade | None = Field(
        description="The grade more than half of the members present voted for, if any."
    )
    proposed_grade: ReviewGrade | None
    final_grade: ReviewGrade | None
    final_reason: str | None


class Quota(BaseModel):
    excellent: int
    good: int
    allowed_excellent: int = Field(description="floor(excellent_share × good)")


class CellReview(BaseModel):
    period: PeriodOut
    cell_id: UUID
    cell_title: str
    members: list[ReviewMember]
    proposed: Quota
    final: Quota
    can_propose: bool
    can_decide: bool


class CellProgress(BaseModel):
    cell_id: UUID
    cell_title: str
    cell_path: str
    members: int
    submitted: int
    voted: int
    proposed: int
    decided: int


class GradingMotionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    meeting_id: UUID = Field(description="The cell's review meeting, under way.")
    member_id: UUID


class GradeChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: UUID
    grade: ReviewGrade
    reason: Reason


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changes: list[GradeChange] = Field(
        default_factory=list,
        max_length=500,
        description="Grades the committee sets differently from the cell's proposal, each with "
        "its reason; every other proposed grade is approved as proposed.",
    )


class GradeOut(BaseModel):
    period_id: UUID
    year: int
    grade: ReviewGrade
    grade_title: str
    reason: str | None = Field(description="Why the committee changed the cell's proposal.")
    decided_at: datetime
