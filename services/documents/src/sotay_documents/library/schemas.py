"""API models of the document library: upload metadata, documents, versions, publications."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from sotay_contracts.events.documents import DocumentKind as EventKind
from sotay_contracts.events.documents import RetractionReason
from sotay_kit.text import NoControlMultiline, nfc


class Kind(StrEnum):
    RESOLUTION = "resolution"  # nghị quyết
    DIRECTIVE = "directive"  # chỉ thị
    CONCLUSION = "conclusion"  # kết luận
    REGULATION = "regulation"  # quy định
    RULES = "rules"  # quy chế
    GUIDANCE = "guidance"  # hướng dẫn
    NOTICE = "notice"  # thông báo
    PLAN = "plan"  # kế hoạch
    OFFICIAL_LETTER = "official_letter"  # công văn
    STUDY_MATERIAL = "study_material"  # tài liệu sinh hoạt
    REPORT = "report"  # báo cáo
    OTHER = "other"

    def event_kind(self) -> EventKind:
        """The contract's coarser kind (events carry the v1 vocabulary)."""
        return {
            Kind.RESOLUTION: EventKind.RESOLUTION,
            Kind.DIRECTIVE: EventKind.DIRECTIVE,
            Kind.CONCLUSION: EventKind.CONCLUSION,
            Kind.REGULATION: EventKind.REGULATION,
            Kind.RULES: EventKind.REGULATION,
            Kind.GUIDANCE: EventKind.GUIDANCE,
            Kind.NOTICE: EventKind.NOTICE,
            Kind.PLAN: EventKind.PLAN,
            Kind.REPORT: EventKind.REPORT,
        }.get(self, EventKind.OTHER)


Classification = Literal["public", "internal"]


def _nfc_or_none(value: object) -> object:
    if isinstance(value, str):
        value = nfc(value)
        return value or None
    return value


def _tags(value: object) -> object:
    """Tags from a form: repeated fields or one comma-separated field."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            return value  # let validation refuse it
        out += [nfc(t).lower() for t in item.split(",") if t.strip()]
    return list(dict.fromkeys(out))


Text = Annotated[str | None, BeforeValidator(_nfc_or_none), NoControlMultiline]
Tag = Annotated[str, Field(min_length=1, max_length=50), NoControlMultiline]


class DocumentMetadata(BaseModel):
    """Metadata sent with an upload (multipart text fields)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[
        str, BeforeValidator(_nfc_or_none), Field(min_length=1, max_length=500), NoControlMultiline
    ]
    kind: Kind
    number: Annotated[Text, Field(max_length=100, description="Số, ký hiệu: 21-NQ/TW")] = None
    issuer: Annotated[Text, Field(max_length=300, description="Cơ quan ban hành")] = None
    issued_on: date | None = None
    summary: Annotated[Text, Field(max_length=5000)] = None
    classification: Classification = "internal"
    tags: Annotated[list[Tag], BeforeValidator(_tags), Field(max_length=20)] = []
    org_id: uuid.UUID | None = Field(
        default=None,
        description="Tổ chức sở hữu văn bản (trong phạm vi của người tải lên); bỏ trống khi "
        "người tải lên chỉ có một phạm vi phát hành.",
    )
    confirm_duplicate: bool = Field(
        default=False,
        description="true: tạo văn bản mới dù đã có văn bản cùng số, ký hiệu và cơ quan ban "
        "hành (không có: trả lời 409 duplicate-document chỉ ra văn bản đã có).",
    )

    @field_validator("issued_on")
    @classmethod
    def _plausible(cls, value: date | None) -> date | None:
        if value is not None and not date(1930, 1, 1) <= value <= date(2100, 1, 1):
            raise ValueError("Ngày ban hành không hợp lệ")
        return value


class VersionMetadata(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[Text, Field(max_length=1000)] = None


class VersionOut(BaseModel):
    version: int
    sha256: str
    size: int
    content_type: str
    filename: str
    note: str | None
    uploaded_at: datetime


class PublicationOut(BaseModel):
    id: uuid.UUID
    version: int
    org_ids: list[uuid.UUID]
    org_paths: list[str]
    study_required: bool
    study_deadline: datetime | None
    audience_size: int
    published_at: datetime
    retracted_at: datetime | None


class MyReadOut(BaseModel):
    version: int
    first_opened_at: datetime
    last_read_at: datetime
    progress_percent: int
    studied_at: datetime | None


class DocumentSummary(BaseModel):
    id: uuid.UUID
    title: str
    number: str | None
    kind: Kind
    issuer: str | None
    issued_on: date | None
    summary: str | None
    classification: Classification
    tags: list[str]
    current_version: int
    published_at: datetime | None
    bookmarked: bool = False
    my_progress_percent: int | None = None
    studied: bool = False
    study_deadline: datetime | None = None
    rank: float | None = None


class DocumentOut(DocumentSummary):
    owner_org_id: uuid.UUID
    created_at: datetime
    versions: list[VersionOut]
    publications: list[PublicationOut]
    my_read: MyReadOut | None = None


class DownloadOut(BaseModel):
    url: str
    expires_at: datetime
    version: int
    filename: str
    content_type: str
    size: int
    sha256: str


class TextBlockOut(BaseModel):
    kind: Literal["heading", "paragraph"]
    text: str = Field(description="Văn bản thuần (không phải HTML)")
    anchor: str | None = Field(
        default=None,
        description="Mốc của mục (tiêu đề): s1, s2, … theo thứ tự; góp ý dự thảo gắn vào mốc này",
    )


class DocumentTextOut(BaseModel):
    """The reader view: the file's extracted text in headings and paragraphs."""

    document_id: uuid.UUID
    version: int
    title: str
    number: str | None
    content_type: str
    blocks: list[TextBlockOut] = Field(
        description="Rỗng khi tệp không có lớp chữ (bản quét): mở tệp gốc"
    )
    characters: int = Field(description="Tổng số ký tự của các khối")


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_ids: list[uuid.UUID] = Field(min_length=1, max_length=100)
    version: int | None = Field(
        default=None, ge=1, le=100_000, description="Mặc định: phiên bản mới nhất"
    )
    study_required: bool = False
    study_deadline: AwareDatetime | None = None


class RetractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason_code: RetractionReason = RetractionReason.OTHER
