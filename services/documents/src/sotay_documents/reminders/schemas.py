"""API models of the study reminders."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class RemindIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: UUID = Field(description="Tổ chức (chi bộ) có đảng viên cần nhắc")


class RemindOut(BaseModel):
    publication_id: UUID
    org_id: UUID
    day: date = Field(description="Ngày nhắc (giờ Việt Nam): mỗi ngày một lần")
    pending: int = Field(description="Số đảng viên chưa học xong khi nhắc")
    already_sent_today: bool = Field(
        description="Hôm nay tổ chức này đã được nhắc; không gửi thêm lời nhắc"
    )
    requested_at: datetime
