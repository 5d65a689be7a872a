"""API models of meetings: scheduling, replies, check-in, attendance, closing, lists."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError
from sotay_contracts.events.meetings import CancellationReason, MeetingKind
from sotay_kit.text import has_control

from ..times import Rfc3339

MAX_AGENDA_ITEMS = 100
MAX_AGENDA_ITEM_CHARS = 2_000
MAX_DOCUMENTS = 50
MAX_GUESTS = 100
MAX_NOTE_CHARS = 500
# A meeting lasts at most this long (a party congress-style day is 12 h; more is a typo).
MAX_DURATION_HOURS = 12


def _nfc_text(value: str) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if has_control(value, allowed="\n\t"):
        raise PydanticCustomError("control_characters", "Chuỗi chứa ký tự điều khiển")
    return value


def _non_empty(value: str) -> str:
    if not value:
        raise PydanticCustomError("string_too_short", "Chuỗi không được để trống")
    return value


Title = Annotated[str, Field(max_length=300), AfterValidator(_nfc_text), AfterValidator(_non_empty)]
Location = Annotated[str, Field(max_length=300), AfterValidator(_nfc_text)]
AgendaItem = Annotated[
    str,
    Field(max_length=MAX_AGENDA_ITEM_CHARS),
    AfterValidator(_nfc_text),
    AfterValidator(_non_empty),
]
Note = Annotated[str, Field(max_length=MAX_NOTE_CHARS), AfterValidator(_nfc_text)]
Label = Annotated[str, Field(max_length=200), AfterValidator(_nfc_text), AfterValidator(_non_empty)]

# Reasons a member gives (and the secretary records). Detail stays in this service: events carry
# only the coarse contract code (see service.EVENT_REASON).
ReasonCode = Literal["cong_tac", "om", "viec_gia_dinh", "other"]
MarkStatus = Literal["present", "late", "absent_excused", "absent_unexcused"]


def _unique(ids: list[UUID]) -> list[UUID]:
    if len(set(ids)) != len(ids):
        raise PydanticCustomError("duplicates", "Danh sách có phần tử trùng lặp")
    return ids


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Recurrence(_Input):
    """Monthly recurrence (RRULE FREQ=MONTHLY), evaluated in Asia/Ho_Chi_Minh: the same local
    time as the first meeting, on ``by_month_day`` (default: the first meeting's local day; -1 =
    the last day of the month; days 29–31 skip months that do not have them)."""

    freq: Literal["monthly"] = "monthly"
    by_month_day: int | None = Field(default=None, ge=-1, le=31)
    count: int | None = Field(default=None, ge=1, le=60, description="Số buổi sinh ra")

    @model_validator(mode="after")
    def _day(self) -> Self:
        if self.by_month_day == 0:
            raise PydanticCustomError("invalid_value", "Ngày trong tháng không hợp lệ")
        return self


class _Plan(_Input):
    @model_validator(mode="after")
    def _times(self) -> Self:
        starts, ends = getattr(self, "starts_at", None), getattr(self, "ends_at", None)
        if starts is not None and ends is not None:
            if ends <= starts:
                raise PydanticCustomError(
                    "ends_before_start", "Thời gian kết thúc phải sau thời gian bắt đầu"
                )
            if (ends - starts).total_seconds() > MAX_DURATION_HOURS * 3600:
                raise PydanticCustomError(
                    "too_long", f"Buổi họp không được dài quá {MAX_DURATION_HOURS} giờ"
                )
        return self


class MeetingCreate(_Plan):
    org_id: UUID
    kind: MeetingKind
    title: Title
    starts_at: Rfc3339
    ends_at: Rfc3339
    location: Location = ""
    agenda: Annotated[list[AgendaItem], Field(max_length=MAX_AGENDA_ITEMS)] = []
    document_ids: Annotated[
        list[UUID], Field(max_length=MAX_DOCUMENTS), AfterValidator(_unique)
    ] = []
    guest_member_ids: Annotated[
        list[UUID], Field(max_length=MAX_GUESTS), AfterValidator(_unique)
    ] = []
    chair_id: UUID | None = None
    minute_taker_id: UUID | None = None
    recurrence: Recurrence | None = None


class MeetingPatch(_Plan):
    """Changes to one meeting (one occurrence of a series: the others stay as they are)."""

    kind: MeetingKind | None = None
    title: Title | None = None
    starts_at: Rfc3339 | None = None
    ends_at: Rfc3339 | None = None
    location: Location | None = None
    agenda: Annotated[list[AgendaItem], Field(max_length=MAX_AGENDA_ITEMS)] | None = None
    document_ids: (
        Annotated[list[UUID], Field(max_length=MAX_DOCUMENTS), AfterValidator(_unique)] | None
    ) = None
    guest_member_ids: (
        Annotated[list[UUID], Field(max_length=MAX_GUESTS), AfterValidator(_unique)] | None
    ) = None
    chair_id: UUID | None = None
    minute_taker_id: UUID | None = None
    refresh_roster: bool = Field(
        default=False,
        description="Lấy lại danh sách đảng viên của chi bộ tại thời điểm này (giữ khách mời)",
    )


class MeetingCancel(_Input):
    reason_code: CancellationReason
    note: Note | None = None


class RsvpIn(_Input):
    response: Literal["attending", "absent"]
    reason_code: ReasonCode | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _reason_iff_absent(self) -> Self:
        if self.response == "absent" and self.reason_code is None:
            raise PydanticCustomError("reason_required", "Cần nêu lý do vắng mặt")
        if self.response == "attending" and (self.reason_code or self.note):
            raise PydanticCustomError("reason_forbidden", "Không nêu lý do khi tham dự")
        if self.reason_code == "other" and not self.note:
            raise PydanticCustomError("note_required", "Lý do khác cần ghi rõ")
        return self


class CheckinIn(_Input):
    code: Annotated[str, Field(min_length=1, max_length=64)]


class AttendanceMark(_Input):
    status: MarkStatus
    reason_code: ReasonCode | None = None

    @model_validator(mode="after")
    def _reason(self) -> Self:
        if self.reason_code is not None and self.status != "absent_excused":
            raise PydanticCustomError(
                "reason_forbidden", "Chỉ ghi lý do cho trường hợp vắng có lý do"
            )
        return self


class RosterLabels(_Input):
    labels: Annotated[dict[UUID, Label], Field(max_length=2_000)]


# ── answers ────────────────────────────────────────────────────────────────────────────────


class Times(BaseModel):
    utc: datetime
    local: datetime
    timezone: str = "Asia/Ho_Chi_Minh"


class OccurrenceOut(BaseModel):
    series_id: UUID
    index: int


class Counts(BaseModel):
    """Who is on the roster, what they replied before the meeting (``replied_…``) and who
    actually came (``attended``)."""

    invited: int = Field(description="Đảng viên trong danh sách (không tính khách mời)")
    exempt: int = Field(description="Đảng viên được miễn sinh hoạt")
    guests: int = Field(description="Khách mời")
    replied_attending: int = Field(description="Đã trả lời sẽ tham dự")
    replied_absent: int = Field(description="Đã báo vắng")
    attended: int = Field(
        description="Có mặt (kể cả đến muộn): đã điểm danh hoặc được bí thư ghi nhận"
    )


class MyPart(BaseModel):
    standing: Literal["member", "exempt", "guest"]
    rsvp: Literal["attending", "absent"] | None
    rsvp_reason: ReasonCode | None
    rsvp_note: str | None
    checked_in_at: datetime | None
    attendance: str | None
    final_status: str | None


class InviteeOut(BaseModel):
    member_id: UUID
    standing: Literal["member", "exempt", "guest"]
    full_name: str | None = Field(
        default=None,
        description="Họ và tên, from identity's directory; null once the member has left",
    )
    card_number: str | None = Field(default=None, description="Số thẻ đảng viên")
    label: str | None = Field(
        description="Deprecated: a name the secretary's client stored (PUT …/roster-labels) "
        "before the directory named members; full_name replaces it",
        json_schema_extra={"deprecated": True},
    )
    rsvp: Literal["attending", "absent"] | None
    rsvp_reason: ReasonCode | None
    rsvp_note: str | None
    checked_in_at: datetime | None
    attendance: str | None
    attendance_method: str | None
    final_status: str | None


class Tallies(BaseModel):
    invited: int
    present: int
    late: int
    absent_excused: int
    absent_unexcused: int
    exempt: int
    guests_present: int


class Quorum(BaseModel):
    required_ratio: float
    base: int
    attended: int = Field(description="Có mặt (kể cả đến muộn), tính vào số lượng")
    met: bool


class MeetingOut(BaseModel):
    id: UUID
    org_id: UUID
    org_path: str
    kind: MeetingKind
    title: str
    starts_at: Times
    ends_at: Times
    location: str
    agenda: list[str]
    document_ids: list[UUID]
    chair_id: UUID | None
    minute_taker_id: UUID | None
    status: Literal["scheduled", "cancelled", "closed"]
    occurrence: OccurrenceOut | None
    revision: int
    counts: Counts
    me: MyPart | None = Field(description="Phần của tôi (khi tôi có tên trong danh sách)")
    can_manage: bool
    roster: list[InviteeOut] | None = Field(
        default=None, description="Danh sách đầy đủ: chỉ bí thư, phó bí thư, chủ trì, thư ký"
    )
    tallies: Tallies | None = None
    quorum: Quorum | None = None


class MeetingSummary(BaseModel):
    id: UUID
    org_id: UUID
    org_path: str
    kind: MeetingKind
    title: str
    starts_at: Times
    ends_at: Times
    location: str
    status: Literal["scheduled", "cancelled", "closed"]
    occurrence: OccurrenceOut | None
    counts: Counts
    me: MyPart | None = None


class ScheduledOut(BaseModel):
    meetings: list[MeetingOut]


class RsvpOut(BaseModel):
    meeting_id: UUID
    member_id: UUID
    response: Literal["attending", "absent"]
    reason_code: ReasonCode | None
    recorded_at: datetime


class CheckinCodeOut(BaseModel):
    code: str
    expires_at: datetime
    step_seconds: int
    qr_payload: str
    qr_svg: str | None = Field(description="Ảnh QR (SVG) của qr_payload; null khi svg=false")


class AttendanceOut(BaseModel):
    meeting_id: UUID
    member_id: UUID
    status: str
    method: Literal["code", "marked"]
    recorded_at: datetime
    already_recorded: bool = False


class RosterLabelsOut(BaseModel):
    labelled: int
