"""Identity's problem types (``https://sotay.vn/problems/<slug>``), in one place: each has its
own slug, so a client can tell "ask for the second factor" from "wrong credentials" without
parsing Vietnamese text."""

from __future__ import annotations

from sotay_kit.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)


class InvalidCredentials(Unauthorized):
    """Unknown user, wrong password, wrong code, disabled account: one answer for all."""

    slug, title = "invalid-credentials", "Thông tin đăng nhập không đúng"

    def __init__(self) -> None:
        super().__init__("Tên đăng nhập, mật khẩu hoặc mã xác thực không đúng")


class SecondFactorRequired(Unauthorized):
    slug, title = "second-factor-required", "Cần mã xác thực hai lớp"

    def __init__(self) -> None:
        super().__init__(
            "Tài khoản này dùng xác thực hai lớp: nhập mã 6 chữ số từ ứng dụng xác thực (otp)"
        )


class PasswordChangeRequired(Forbidden):
    slug, title = "password-change-required", "Cần đổi mật khẩu"

    def __init__(self) -> None:
        super().__init__(
            "Bạn cần đặt mật khẩu mới trước khi đăng nhập: gọi POST /api/v1/auth/password "
            "với tên đăng nhập, mã kích hoạt (hoặc mật khẩu hiện tại) và mật khẩu mới",
            extensions={"password_change_endpoint": "/api/v1/auth/password"},
        )


class AccountLocked(TooManyRequests):
    slug, title = "account-locked", "Tài khoản tạm thời bị khóa"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Đăng nhập sai quá nhiều lần; tài khoản tạm khóa, vui lòng thử lại sau",
            retry_after=retry_after,
        )


class SourceThrottled(TooManyRequests):
    slug, title = "too-many-login-attempts", "Quá nhiều lần đăng nhập sai"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Quá nhiều lần đăng nhập sai từ địa chỉ này; vui lòng thử lại sau",
            retry_after=retry_after,
        )


class WeakPassword(Unprocessable):
    slug, title = "weak-password", "Mật khẩu mới không đạt yêu cầu"


class InvalidRefreshToken(Unauthorized):
    slug, title = "invalid-refresh-token", "Mã làm mới không hợp lệ"

    def __init__(self) -> None:
        super().__init__("Mã làm mới không hợp lệ, đã hết hạn hoặc đã bị thu hồi; đăng nhập lại")


class InvalidOtp(BadRequest):
    slug, title = "invalid-otp", "Mã xác thực không đúng"


class SecondFactorNotPending(Conflict):
    slug, title = "second-factor-not-pending", "Chưa bắt đầu đăng ký xác thực hai lớp"


class SecondFactorAlreadyEnabled(Conflict):
    slug, title = "second-factor-already-enabled", "Xác thực hai lớp đã được bật"


class SecondFactorMandatory(Forbidden):
    slug, title = "second-factor-mandatory", "Không được tắt xác thực hai lớp"


class SigningKeyConflict(Conflict):
    slug, title = "signing-key-conflict", "Không thể thay đổi khóa ký"


class BrowserHeaderRequired(Forbidden):
    """The refresh-token cookie came without the header a cross-site form cannot send."""

    slug, title = "browser-header-required", "Thiếu tiêu đề của ứng dụng"

    def __init__(self) -> None:
        super().__init__(
            "Mã làm mới trong cookie chỉ được chấp nhận cùng tiêu đề X-Sotay-Client: web "
            "do ứng dụng Sổ tay Đảng viên gửi"
        )


class RefreshTokenMissing(Unauthorized):
    slug, title = "invalid-refresh-token", "Mã làm mới không hợp lệ"

    def __init__(self) -> None:
        super().__init__("Không có mã làm mới (phiên đăng nhập đã kết thúc); đăng nhập lại")


class ImportRejected(Unprocessable):
    """422 with the per-row report; nothing was imported."""

    slug = "import-rejected"
    title = "Tệp nhập không hợp lệ, không có dòng nào được nhập"


# What checking a password can meet: wrong credentials, a second factor still to give, the account
# locked or the source address slowed down. Shared by sign-in and the password change.
PASSWORD_CHECK = (InvalidCredentials, SecondFactorRequired, AccountLocked, SourceThrottled)
