"""API models of authentication (``/api/v1/auth``, ``/api/v1/me``, signing keys)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from sotay_kit.text import NoControl

from .passwords import MAX_LENGTH

# Bounds the work a request can ask of argon2 (a hash over a megabyte is still one hash, but
# there is no reason to accept one).
_SECRET = Field(min_length=1, max_length=1024)


class LoginRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"username": "093001234567", "password": "…", "otp": None}}
    )

    # No control characters (NUL would reach Postgres, which refuses it).
    username: Annotated[
        str,
        Field(min_length=1, max_length=64, description="Số thẻ đảng viên hoặc số điện thoại"),
        NoControl,
    ]
    password: str = _SECRET
    otp: str | None = Field(
        default=None, max_length=16, description="Mã 6 chữ số (tài khoản có xác thực hai lớp)"
    )


class TokenResponse(BaseModel):
    """OAuth 2.0 token response (RFC 6749 §5.1)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a scheme name
    expires_in: int
    refresh_token: str | None = Field(
        default=None,
        description="Mã làm mới; không có trong chế độ trình duyệt (tiêu đề X-Sotay-Client: web), "
        "khi mã nằm trong cookie HttpOnly",
    )
    second_factor_enrolment_required: bool = Field(
        default=False,
        description="Tài khoản quản trị/vận hành chưa đăng ký xác thực hai lớp: mã truy cập "
        "không mang quyền quản trị cho đến khi đăng ký",
    )


class RefreshRequest(BaseModel):
    refresh_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="Bắt buộc, trừ chế độ trình duyệt (mã lấy từ cookie)",
    )


class LogoutRequest(RefreshRequest):
    all_devices: bool = Field(
        default=False, description="Đăng xuất khỏi mọi thiết bị (thu hồi mọi phiên của tôi)"
    )


class PasswordChangeRequest(BaseModel):
    username: Annotated[
        str | None,
        Field(
            max_length=64,
            description="Bắt buộc khi không gửi mã truy cập (đổi mật khẩu lần đầu)",
        ),
        NoControl,
    ] = None
    current_password: str = Field(
        min_length=1, max_length=1024, description="Mật khẩu hiện tại hoặc mã kích hoạt"
    )
    new_password: str = Field(min_length=1, max_length=MAX_LENGTH * 4)
    otp: str | None = Field(default=None, max_length=16)


class TotpEnrolment(BaseModel):
    secret: str = Field(description="Khóa bí mật base32 (nhập tay nếu không quét được mã QR)")
    otpauth_uri: str
    qr_svg: str = Field(description="Mã QR của otpauth_uri, dạng SVG")


class TotpConfirmRequest(BaseModel):
    otp: str = Field(min_length=1, max_length=16)


class Jwk(BaseModel):
    model_config = ConfigDict(extra="allow")

    kty: str
    crv: str
    x: str
    kid: str
    alg: str
    use: str


class Jwks(BaseModel):
    keys: list[Jwk]


class OrgRef(BaseModel):
    id: UUID
    title: str
    kind: str
    path: str


class RoleRef(BaseModel):
    role: str
    org: OrgRef


class SecondFactorState(BaseModel):
    enabled: bool
    pending_confirmation: bool
    required: bool = Field(description="Bắt buộc vì giữ vai trò quản trị hoặc vận hành")


class Me(BaseModel):
    id: UUID
    card_number: str
    full_name: str
    status: str
    cell: OrgRef
    org_path: list[OrgRef] = Field(description="Từ gốc (tỉnh) đến chi bộ")
    roles: list[RoleRef]
    second_factor: SecondFactorState


class SigningKeyRotated(BaseModel):
    kid: str
