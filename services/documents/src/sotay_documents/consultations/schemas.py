"""API models of consultations on draft documents (lấy ý kiến góp ý dự thảo)."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError
from sotay_kit.text import MULTILINE, has_control

MAX_COMMENT_CHARS = 4000
MAX_REASON_CHARS = 1000


def _nfc_text(value: str) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if has_control(value, allowed=MULTILINE):
        raise PydanticCustomError("control_characters", "Chuỗi chứa ký tự điều khiển")
    return value


def _single_line(value: str) -> str:
    if has_control(value):
        raise PydanticCustomError("control_characters", "Chuỗi chứa ký tự điều khiển")
    return value


def _non_empty(value: str) -> str:
    if not value:
        raise PydanticCustomError("string_too_short", "Nội dung không được để trống")
    return value


def _at_most(n: int) -> AfterValidator:
    """Length checked after NFC (a decomposed text is longer than what the member typed)."""

    def check(value: str) -> str:
        if len(value) > n:
            raise PydanticCustomError("string_too_long", f"Tối đa {n} ký tự")
        return value

    return AfterValidator(check)


Title = Annotated[
    str,
    Field(max_length=600),
    AfterValidator(_nfc_text),
    AfterValidator(_single_line),
    AfterValidator(_non_empty),
    _at_most(300),
]
Purpose = Annotated[str, Field(max_length=4000), AfterValidator(_nfc_text), _at_most(2000)]
CommentText = Annotated[
    str,
    Field(max_length=2 * MAX_COMMENT_CHARS, description="1–4000 ký tự"),
    AfterValidator(_nfc_text),
    AfterValidator(_non_empty),
    _at_most(MAX_COMMENT_CHARS),
]
ReplyText = Annotated[
    str,
    Field(max_length=2 * MAX_COMMENT_CHARS),
    AfterValidator(_nfc_text),
    _at_most(MAX_COMMENT_CHARS),
]
Reason = Annotated[
    str, Field(max_length=2 * MAX_REASON_CHARS), AfterValidator(_nfc_text), _at_most(1000)
]
Anchor = Annotated[str, Field(pattern=r"^s[1-9][0-9]{0,5}$", description="Mốc mục: s1, s2, …")]
Disposition = Literal["pending", "accepted", "rejected"]
Status = Literal["open", "ended", "closed"]


class ConsultationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document_id: uuid.UUID = Field(description="Dự thảo: một văn bản đã tải lên")
    version: int | None = Field(
        default=None, ge=1, le=100_000, description="Mặc định: phiên bản hiện hành"
    )
    org_id: uuid.UUID = Field(description="Tổ chức được lấy ý kiến (cả cây bên dưới)")
    title: Title
    purpose: Purpose | None = None
    deadline: datetime = Field(description="Hạn góp ý (có múi giờ)")

    @model_validator(mode="after")
    def _aware(self) -> Self:
        if self.deadline.tzinfo is None:
            raise PydanticCustomError("timezone_aware", "Hạn góp ý phải có múi giờ")
        return self


class SectionOut(BaseModel):
    anchor: str
    title: str
    comments: int | None = Field(default=None, description="Số góp ý (chỉ cấp ủy lấy ý kiến thấy)")


class ConsultationOut(BaseModel):
    id: uuid.UUID
    document_id: uuid.UUID
    version: int
    document_title: str
    document_number: str | None
    title: str
    purpose: str | None
    org_id: uuid.UUID
    org_path: str
    org_title: str | None
    deadline: datetime
    opened_at: datetime
    closed_at: datetime | None
    status: Status = Field(description="open: đang lấy ý kiến; ended: quá hạn; closed: đã kết thúc")
    sections: list[SectionOut]
    can_manage: bool = Field(description="Người gọi là cấp ủy lấy ý kiến")
    can_comment: bool
    my_comments: int
    comments: int | None = Field(default=None, description="Tổng số góp ý (chỉ cấp ủy)")


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    section: Anchor | None = Field(default=None, description="Mốc mục; bỏ trống: góp ý chung")
    text: CommentText


class CommentEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: CommentText


class MyCommentOut(BaseModel):
    """A member's own comment, with the committee's reply."""

    id: uuid.UUID
    section: str | None
    section_title: str | None
    text: str
    created_at: datetime
    updated_at: datetime
    reply: str | None
    replied_at: datetime | None
    disposition: Disposition
    disposition_reason: str | None


class CommentOut(MyCommentOut):
    """A comment as the consulting committee sees it: who wrote it, from which cell."""

    member_id: uuid.UUID
    author_name: str | None = Field(description="Trống khi đảng viên đã rời phạm vi")
    card_number: str | None
    cell_id: uuid.UUID
    cell_title: str | None


class ResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reply: ReplyText | None = Field(default=None, description="Trả lời đảng viên; trống: xóa")
    disposition: Disposition = "pending"
    reason: Reason | None = Field(default=None, description="Lý do không tiếp thu")

    @model_validator(mode="after")
    def _reason_when_rejected(self) -> Self:
        if self.disposition == "rejected" and not self.reason:
            raise PydanticCustomError("reason_required", "Cần nêu lý do khi không tiếp thu góp ý")
        return self


class OrgCount(BaseModel):
    cell_id: uuid.UUID
    cell_title: str | None
    comments: int
    members: int


class SummaryOut(BaseModel):
    """Counts for the committee: by section (``None``: on the whole) and by cell."""

    total: int
    members: int
    by_section: list[SectionOut]
    whole: int = Field(description="Góp ý chung cho cả văn bản")
    by_org: list[OrgCount]
    accepted: int
    rejected: int
    pending: int
