"""API models of study tracking: my progress, my to-study list, who has studied what."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..library.schemas import Kind, MyReadOut

Status = Literal["not_opened", "opened", "studied", "overdue"]


class ProgressIn(BaseModel):
    """Tiến độ đọc của chính tôi. Tiến độ chỉ tăng; gửi ``studied: true`` khi đã học xong."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(
        default=None, ge=1, le=100_000, description="Mặc định: phiên bản mới nhất"
    )
    progress_percent: int = Field(default=0, ge=0, le=100)
    studied: bool = False


class ProgressOut(MyReadOut):
    document_id: uuid.UUID


class ToStudyItem(BaseModel):
    document_id: uuid.UUID
    title: str
    number: str | None
    kind: Kind
    version: int
    publication_id: uuid.UUID
    study_deadline: datetime | None
    overdue: bool
    progress_percent: int
    opened: bool


class MemberStudy(BaseModel):
    member_id: uuid.UUID
    full_name: str | None = Field(
        default=None, description="Họ và tên (from identity's directory; null once erased)"
    )
    card_number: str | None = Field(default=None, description="Số thẻ đảng viên")
    cell_id: uuid.UUID
    org_path: str
    status: Status
    progress_percent: int
    first_opened_at: datetime | None
    last_read_at: datetime | None
    studied_at: datetime | None
    study_deadline: datetime | None
    quiz_attempts: int = Field(default=0, description="Số lần làm bài kiểm tra")
    quiz_best_score: int | None = Field(
        default=None, description="Điểm bài kiểm tra cao nhất (phần trăm); null khi chưa làm"
    )
    quiz_passed_at: datetime | None = Field(default=None, description="Lần đầu đạt bài kiểm tra")


class StudyTotals(BaseModel):
    members: int
    not_opened: int
    opened: int
    studied: int
    overdue: int
    passed: int = Field(default=0, description="Đã đạt bài kiểm tra (khi phiên bản có bài)")


class StudyReport(BaseModel):
    document_id: uuid.UUID
    version: int
    org_id: uuid.UUID
    org_path: str
    quiz: bool = Field(default=False, description="Phiên bản này có bài kiểm tra")
    totals: StudyTotals
    items: list[MemberStudy]
    next_cursor: str | None = None
