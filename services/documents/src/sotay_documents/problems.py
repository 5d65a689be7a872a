"""The documents service's problem types (``https://sotay.vn/problems/<slug>``), in one place."""

from __future__ import annotations

from typing import ClassVar

from sotay_kit.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    Problem,
    Unprocessable,
    UnsupportedMediaType,
)


class UnsupportedFileType(Problem):
    status, slug, title = 415, "unsupported-file-type", "Loại tệp không được hỗ trợ"


class BrokenFile(Unprocessable):
    slug: ClassVar[str] = "broken-file"
    title: ClassVar[str] = "Tệp bị hỏng hoặc không đọc được"


class EmptyFile(Unprocessable):
    slug: ClassVar[str] = "empty-file"
    title: ClassVar[str] = "Tệp rỗng"


class DuplicateDocument(Problem):
    """A document with the same number and issuer is already in the caller's library: the
    answer names it (``existing``: id, number, title, issuer, issued_on, kind) so the client
    links to it; sending ``confirm_duplicate=true`` creates the new one anyway."""

    status, slug, title = (
        409,
        "duplicate-document",
        "Văn bản cùng số, ký hiệu và cơ quan ban hành đã có",
    )


class StorageUnavailable(Problem):
    status, slug, title = 503, "storage-unavailable", "Kho lưu trữ tệp chưa sẵn sàng"


# What a file upload can meet: no form or file field, too large, a file of another type, broken or
# empty, or no object storage configured. Shared by the routes that take a file.
UPLOAD = (
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    UnsupportedFileType,
    BrokenFile,
    EmptyFile,
    StorageUnavailable,
)


class ConsultationEnded(Problem):
    """A comment (or its edit or withdrawal) after the deadline or once the committee closed
    the consultation."""

    status, slug, title = 409, "consultation-ended", "Đợt lấy ý kiến đã hết hạn góp ý"


class UnknownSection(Unprocessable):
    slug: ClassVar[str] = "unknown-section"
    title: ClassVar[str] = "Mục được góp ý không có trong dự thảo"


class InvalidQuizFile(Unprocessable):
    """A quiz CSV with bad rows: ``errors`` lists each as ``{"line": n, "message": "..."}``
    (line 1 is the header), so the author fixes them all in one go."""

    slug: ClassVar[str] = "invalid-quiz-file"
    title: ClassVar[str] = "Tệp câu hỏi không hợp lệ"


class QuizNotFound(NotFound):
    """The document version has no quiz (told apart from a document one cannot see)."""

    slug: ClassVar[str] = "quiz-not-found"
    title: ClassVar[str] = "Chưa có bài kiểm tra"


class QuizLocked(Problem):
    """The quiz has been attempted: it can no longer be replaced (results would mean nothing)."""

    status, slug, title = 409, "quiz-locked", "Bài kiểm tra đã có người làm"


class DocumentNotOpened(Problem):
    """A member submits a quiz attempt before opening the document version."""

    status, slug, title = 409, "document-not-opened", "Chưa mở văn bản"
