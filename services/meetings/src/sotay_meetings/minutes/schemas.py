"""API models of the minutes (biên bản)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError
from sotay_kit.text import has_control

MAX_MINUTES_CHARS = 200_000


def _content(value: str) -> str:
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n")
    if not value.strip():
        raise PydanticCustomError("string_too_short", "Biên bản không được để trống")
    if has_control(value, allowed="\n\t"):
        raise PydanticCustomError("control_characters", "Biên bản chứa ký tự điều khiển")
    return value


class MinutesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: Annotated[str, Field(max_length=MAX_MINUTES_CHARS), AfterValidator(_content)]


class MinutesSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        default=None,
        description="SHA-256 của nội dung người ký đã đọc; khác nội dung hiện tại → 409",
    )


class MinutesOut(BaseModel):
    meeting_id: UUID
    minutes_id: UUID | None = Field(description="Có khi biên bản đã được lưu hoặc đã ký")
    state: Literal["generated", "edited", "signed"]
    format: Literal["markdown"] = "markdown"
    content: str
    content_sha256: str = Field(description="SHA-256 (hex) của nội dung UTF-8 hiện tại")
    revision: int
    updated_at: datetime | None
    signed: bool
    signed_by: UUID | None
    signed_at: datetime | None
