"""Problems (RFC 9457) clients of meetings must tell apart, each with its own slug."""

from __future__ import annotations

from sotay_kit.errors import Conflict, NotFound, Unprocessable


class MeetingNotFound(NotFound):
    slug, title = "meeting-not-found", "Không tìm thấy cuộc họp"


class OrgNotFound(NotFound):
    slug, title = "org-not-found", "Không tìm thấy tổ chức"


class NotInvited(NotFound):
    slug, title = "not-invited", "Không có tên trong danh sách cuộc họp"


class MeetingClosed(Conflict):
    slug, title = "meeting-closed", "Cuộc họp đã kết thúc"


class MeetingCancelled(Conflict):
    slug, title = "meeting-cancelled", "Cuộc họp đã bị hủy"


class MeetingNotStarted(Conflict):
    slug, title = "meeting-not-started", "Cuộc họp chưa bắt đầu"


class RsvpClosed(Conflict):
    slug, title = "rsvp-closed", "Đã hết thời hạn trả lời"


class OutsideWindow(Conflict):
    slug, title = "outside-window", "Ngoài thời gian điểm danh"


class CodeExpired(Unprocessable):
    slug, title = "code-expired", "Mã điểm danh đã hết hạn"


class CodeInvalid(Unprocessable):
    slug, title = "code-invalid", "Mã điểm danh không hợp lệ"


class MemberExempt(Conflict):
    slug, title = "member-exempt", "Đảng viên được miễn sinh hoạt"


class MinutesSigned(Conflict):
    slug, title = "minutes-signed", "Biên bản đã ký, không thể thay đổi"


class MinutesChanged(Conflict):
    slug, title = "minutes-changed", "Nội dung biên bản đã thay đổi so với bản bạn đã đọc"


class InvalidPlan(Unprocessable):
    slug, title = "invalid-plan", "Kế hoạch cuộc họp không hợp lệ"


class MinutesNotFound(NotFound):
    slug, title = "minutes-not-found", "Chưa có biên bản đã ký"


class MeetingNotClosed(Conflict):
    slug, title = "meeting-not-closed", "Cuộc họp chưa kết thúc"


class MotionNotFound(NotFound):
    slug, title = "motion-not-found", "Không tìm thấy nội dung biểu quyết"


class MotionClosed(Conflict):
    slug, title = "motion-closed", "Biểu quyết đã kết thúc"


class AlreadyVoted(Conflict):
    slug, title = "already-voted", "Đã biểu quyết"


class InvalidChoice(Unprocessable):
    slug, title = "invalid-choice", "Phương án không hợp lệ"


class TooManyBallots(Unprocessable):
    slug, title = "too-many-ballots", "Số phiếu vượt số đảng viên có mặt"


# What an action on one open meeting can meet: the meeting is not there (or not visible), or
# already closed or cancelled. Shared by the routes that act on a meeting.
OPEN_MEETING = (MeetingNotFound, MeetingClosed, MeetingCancelled)


class MemberNotFound(NotFound):
    slug, title = "member-not-found", "Không tìm thấy đảng viên"


class ReviewPeriodNotFound(NotFound):
    slug, title = "review-period-not-found", "Không tìm thấy đợt kiểm điểm"


class ReviewPeriodExists(Conflict):
    slug, title = "review-period-exists", "Đã có đợt kiểm điểm năm này"


class ReviewClosed(Conflict):
    slug, title = "review-closed", "Không còn thay đổi được bước này của việc kiểm điểm"


class NothingToPropose(Conflict):
    slug, title = "nothing-to-propose", "Không có kết quả nào để gửi hoặc quyết định"


class GradeQuotaExceeded(Unprocessable):
    slug, title = "grade-quota-exceeded", "Vượt tỷ lệ xếp loại Hoàn thành xuất sắc nhiệm vụ"


class NotAllVoted(Conflict):
    slug, title = "not-all-voted", "Chưa biểu quyết xếp loại xong cho mọi đảng viên"
