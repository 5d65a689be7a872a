"""API models of the attendance history."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

FinalStatus = str


class MemberAttendance(BaseModel):
    member_id: UUID
    meetings: int = Field(description="Số cuộc họp đã kết thúc có tên đồng chí trong danh sách")
    present: int
    late: int
    absent_excused: int
    absent_unexcused: int
    exempt: int
    recent: list[FinalStatus] = Field(
        description="Kết quả điểm danh các cuộc họp gần nhất (tối đa 6), mới nhất trước: "
        "present | late | absent_excused | absent_unexcused | exempt"
    )


class AttendanceHistory(BaseModel):
    org_id: UUID
    since: date = Field(description="Ngày đầu của khoảng thời gian (giờ Việt Nam)")
    meetings: int = Field(description="Số cuộc họp của chi bộ đã kết thúc trong khoảng thời gian")
    items: list[MemberAttendance]
    next_cursor: str | None = None
