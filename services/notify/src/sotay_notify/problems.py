"""Problems (RFC 9457) clients of notify must tell apart, each with its own slug."""

from __future__ import annotations

from sotay_kit.errors import Conflict, NotFound, Problem, Unprocessable


class NotificationNotFound(NotFound):
    slug, title = "notification-not-found", "Không tìm thấy thông báo"


class MemberNotFound(NotFound):
    slug, title = "member-not-found", "Không tìm thấy đảng viên"


class SubscriptionNotFound(NotFound):
    slug, title = "push-subscription-not-found", "Không tìm thấy đăng ký nhận thông báo đẩy"


class InvalidPushEndpoint(Unprocessable):
    slug, title = "invalid-push-endpoint", "Địa chỉ nhận thông báo đẩy không hợp lệ"


class TooManySubscriptions(Conflict):
    slug, title = "too-many-push-subscriptions", "Quá nhiều thiết bị đăng ký nhận thông báo"


class InvalidPreferences(Unprocessable):
    slug, title = "invalid-preferences", "Tùy chọn thông báo không hợp lệ"


class PushUnavailable(Problem):
    status, slug, title = 503, "push-unavailable", "Thông báo đẩy chưa được cấu hình"
