"""API models of notification preferences."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

_EMAIL = re.compile(
    r"^[^@\s<>\"',;\x00-\x1f\x7f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
)
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def normalise_phone(value: str) -> str:
    """``0912 345 678`` / ``84912345678`` / ``+84912345678`` → ``+84912345678``."""
    digits = _PHONE_SEPARATORS.sub("", value)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = "+84" + digits[1:]
    elif digits.startswith("84"):
        digits = "+" + digits
    if not re.fullmatch(r"\+[0-9]{8,15}", digits):
        raise PydanticCustomError("phone", "Số điện thoại không hợp lệ")
    return digits


class Channels(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inapp: Literal[True] = Field(default=True, description="Hộp thư trong ứng dụng: luôn bật.")
    webpush: bool = True
    email: bool = False
    sms: bool = False


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(pattern=_HHMM, examples=["22:00"])
    end: str = Field(pattern=_HHMM, examples=["06:00"])

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise PydanticCustomError("quiet_hours", "Giờ bắt đầu và kết thúc phải khác nhau")
        return self

    @staticmethod
    def parse(value: str) -> time:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))


class PreferencesIn(BaseModel):
    """Thay toàn bộ tùy chọn. Giờ yên lặng theo giờ Việt Nam (Asia/Ho_Chi_Minh): trong khoảng
    này không gửi thông báo đẩy và SMS, trừ thông báo khẩn; ``null`` là không có giờ yên lặng."""

    model_config = ConfigDict(extra="forbid")

    channels: Channels = Field(default_factory=Channels)
    email_address: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    quiet_hours: QuietHours | None = None

    @field_validator("email_address")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not _EMAIL.match(value):
            raise PydanticCustomError("email", "Địa chỉ email không hợp lệ")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else normalise_phone(value)


class PreferencesOut(BaseModel):
    member_id: UUID
    channels: Channels
    email_address: str | None
    phone: str | None
    quiet_hours: QuietHours | None
    timezone: str = "Asia/Ho_Chi_Minh"
    updated_at: datetime | None = None
