"""API models of Web Push subscriptions (the browser's ``PushSubscription.toJSON()``)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from sotay_kit.text import has_control

_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def _b64url(value: str) -> bytes:
    if not _B64URL.fullmatch(value):
        raise PydanticCustomError("base64", "Khóa không đúng định dạng base64url")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise PydanticCustomError("base64", "Khóa không đúng định dạng base64url") from exc


class SubscriptionKeys(BaseModel):
    model_config = ConfigDict(extra="ignore")

    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)

    @field_validator("p256dh")
    @classmethod
    def _p256dh(cls, value: str) -> str:
        raw = _b64url(value)
        if len(raw) != 65 or raw[0] != 4:
            raise PydanticCustomError("p256dh", "Khóa p256dh phải là điểm P-256 không nén")
        return value

    @field_validator("auth")
    @classmethod
    def _auth(cls, value: str) -> str:
        if len(_b64url(value)) != 16:
            raise PydanticCustomError("auth", "Khóa auth phải dài 16 byte")
        return value


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    endpoint: str = Field(min_length=1, max_length=2048)
    keys: SubscriptionKeys
    expirationTime: float | None = None  # the browser's field name

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if has_control(value):
            raise PydanticCustomError("endpoint", "Địa chỉ không được chứa ký tự điều khiển")
        return value


class SubscriptionOut(BaseModel):
    id: UUID
    endpoint_origin: str = Field(description="Only the push service's origin is shown back.")
    created_at: datetime
    last_success_at: datetime | None = None


class VapidKeyOut(BaseModel):
    public_key: str = Field(description="applicationServerKey for PushManager.subscribe()")
