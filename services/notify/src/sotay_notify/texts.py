"""What notifications say, in Vietnamese (NFC), and where they link to.

Events carry ids, org paths and facts, so a notification names the meeting (its title, the
organisation from the identity projection, the time in Asia/Ho_Chi_Minh and the place) or the
document (its number and title) — six resolutions published at once arrive as six different
notifications. Events published before those optional fields existed fall back to the kind of
meeting or document. The deep link opens the thing itself in the app. Nothing here is secret:
email and SMS bodies are built from the same text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sotay_contracts.events.notify import NotificationCause
from sotay_kit.clock import LOCAL_TZ

MEETING_KINDS = {
    "regular": "Sinh hoạt chi bộ thường kỳ",
    "thematic": "Sinh hoạt chuyên đề",
    "extraordinary": "Họp chi bộ bất thường",
    "committee": "Họp cấp ủy",
}
DOCUMENT_KINDS = {
    "resolution": "nghị quyết",
    "directive": "chỉ thị",
    "conclusion": "kết luận",
    "regulation": "quy định",
    "guidance": "hướng dẫn",
    "plan": "kế hoạch",
    "notice": "thông báo",
    "report": "báo cáo",
    "other": "văn bản",
}
FIELD_NAMES = {
    "kind": "hình thức",
    "starts_at": "thời gian",
    "ends_at": "thời gian",
    "invitees": "thành phần",
    "location": "địa điểm",
    "agenda": "nội dung",
    "documents": "tài liệu",
}


@dataclass(frozen=True, slots=True)
class Content:
    """One notification, as every recipient of a cause gets it."""

    cause_type: NotificationCause
    cause_id: UUID
    kind: str
    title: str
    body: str
    link: str
    urgent: bool = False


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


TITLE_NAME_MAX = 120  # a push notification's title shows one or two lines


def _clip(text: str, limit: int = TITLE_NAME_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _meeting_name(label: str, meeting_title: str | None) -> str:
    return _clip(meeting_title) if meeting_title else label


def _at(location: str | None) -> str:
    return f" tại {location}" if location else ""


def _document_name(label: str, title: str | None, number: str | None) -> str:
    """Short, for a notification title: ``05-NQ/HU – Nghị quyết về …``."""
    if title and number:
        return _clip(f"{number} – {title}")
    if title:
        return _clip(title)
    if number:
        return f"{label} {number}"
    return label


def _document_phrase(label: str, title: str | None, number: str | None) -> str:
    """For a body: ``nghị quyết số 05-NQ/HU “Nghị quyết về …”``."""
    phrase = label + (f" số {number}" if number else "")
    return phrase + (f" “{_clip(title, 300)}”" if title else "")


def when(value: datetime) -> str:
    """``19:30 ngày 04/12/2026`` in Hà Nội time."""
    local = value.astimezone(LOCAL_TZ)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def meeting_link(meeting_id: UUID) -> str:
    return f"/meetings/{meeting_id}"


def document_link(document_id: UUID) -> str:
    return f"/documents/{document_id}"


def _org(title: str | None) -> str:
    return title or "tổ chức đảng"


def meeting_scheduled(
    meeting_id: UUID,
    kind: str,
    org_title: str | None,
    starts_at: datetime,
    *,
    series: bool,
    meeting_title: str | None = None,
    location: str | None = None,
) -> Content:
    label = MEETING_KINDS.get(kind, "Cuộc họp")
    extra = " Lịch họp lặp lại hằng tháng." if series else ""
    return Content(
        NotificationCause.MEETING_SCHEDULED,
        meeting_id,
        "scheduled",
        nfc(f"Lịch họp mới: {_meeting_name(label, meeting_title)}"),
        nfc(
            f"{label} của {_org(org_title)} vào lúc {when(starts_at)}{_at(location)}.{extra} "
            "Vui lòng xác nhận tham dự."
        ),
        meeting_link(meeting_id),
        urgent=kind == "extraordinary",
    )


def meeting_updated(
    meeting_id: UUID,
    kind: str,
    org_title: str | None,
    starts_at: datetime,
    revision: int,
    changed: Sequence[str],
    *,
    meeting_title: str | None = None,
    location: str | None = None,
) -> Content:
    label = MEETING_KINDS.get(kind, "Cuộc họp")
    what = ", ".join(dict.fromkeys(FIELD_NAMES.get(c, c) for c in changed)) or "nội dung"
    place = f" Địa điểm: {location}." if location else ""
    return Content(
        NotificationCause.MEETING_UPDATED,
        meeting_id,
        f"updated:r{revision}",
        nfc(f"Thay đổi cuộc họp: {_meeting_name(label, meeting_title)}"),
        nfc(
            f"{label} của {_org(org_title)} đã thay đổi ({what}). "
            f"Thời gian: {when(starts_at)}.{place}"
        ),
        meeting_link(meeting_id),
        urgent="starts_at" in changed or "location" in changed,
    )


def meeting_cancelled(
    meeting_id: UUID,
    kind: str,
    org_title: str | None,
    starts_at: datetime,
    *,
    soon: bool,
    meeting_title: str | None = None,
    location: str | None = None,
) -> Content:
    label = MEETING_KINDS.get(kind, "Cuộc họp")
    return Content(
        NotificationCause.MEETING_CANCELLED,
        meeting_id,
        "cancelled",
        nfc(f"Hủy cuộc họp: {_meeting_name(label, meeting_title)}"),
        nfc(
            f"{label} của {_org(org_title)} dự kiến lúc {when(starts_at)}{_at(location)} đã bị hủy."
        ),
        meeting_link(meeting_id),
        urgent=soon,
    )


def _before(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)} ngày"
    if minutes % 60 == 0:
        return f"{minutes // 60} giờ"
    return f"{minutes} phút"


def meeting_reminder(
    meeting_id: UUID,
    kind: str,
    org_title: str | None,
    starts_at: datetime,
    minutes_before: int,
    *,
    meeting_title: str | None = None,
    location: str | None = None,
) -> Content:
    label = MEETING_KINDS.get(kind, "Cuộc họp")
    return Content(
        NotificationCause.MEETING_REMINDER,
        meeting_id,
        f"reminder:{minutes_before}m:{int(starts_at.timestamp())}",
        nfc(f"Nhắc lịch họp: {_meeting_name(label, meeting_title)}"),
        nfc(
            f"{label} của {_org(org_title)} bắt đầu lúc {when(starts_at)}{_at(location)} "
            f"(còn {_before(minutes_before)})."
        ),
        meeting_link(meeting_id),
        urgent=minutes_before <= 120,
    )


def minutes_signed(
    minutes_id: UUID,
    meeting_id: UUID,
    kind: str,
    org_title: str | None,
    starts_at: datetime,
    *,
    meeting_title: str | None = None,
) -> Content:
    label = MEETING_KINDS.get(kind, "Cuộc họp")
    return Content(
        NotificationCause.MINUTES_SIGNED,
        minutes_id,
        "signed",
        nfc(f"Biên bản đã được ký: {meeting_title}")
        if meeting_title
        else "Biên bản cuộc họp đã được ký",
        nfc(f"Biên bản {label.lower()} của {_org(org_title)} lúc {when(starts_at)} đã được ký."),
        f"/meetings/{meeting_id}/minutes",
    )


def document_published(
    publication_id: UUID,
    document_id: UUID,
    kind: str,
    publisher_title: str | None,
    study_deadline: datetime | None,
    study_required: bool,
    *,
    title: str | None = None,
    number: str | None = None,
) -> Content:
    label = DOCUMENT_KINDS.get(kind, "văn bản")
    if study_deadline is not None:
        study = f" Yêu cầu học tập trước {when(study_deadline)}."
    elif study_required:
        study = " Yêu cầu học tập."
    else:
        study = ""
    what = _document_phrase(label, title, number) if title or number else f"{label} mới"
    return Content(
        NotificationCause.DOCUMENT_PUBLISHED,
        publication_id,
        "published",
        nfc(f"Văn bản mới: {_document_name(label, title, number)}"),
        nfc(f"{_org(publisher_title)} đã phát hành {what}.{study}"),
        document_link(document_id),
    )


def consultation_link(consultation_id: UUID) -> str:
    return f"/consultations/{consultation_id}"


def consultation_opened(
    consultation_id: UUID, committee_title: str | None, deadline: datetime, title: str | None
) -> Content:
    about = f"“{_clip(title, 300)}”" if title else "một dự thảo văn bản"
    return Content(
        NotificationCause.CONSULTATION_OPENED,
        consultation_id,
        "opened",
        nfc(f"Lấy ý kiến góp ý: {_clip(title) if title else 'dự thảo văn bản'}"),
        nfc(
            f"{_org(committee_title)} lấy ý kiến đảng viên về {about} đến {when(deadline)}. "
            "Mời đồng chí đọc dự thảo và góp ý."
        ),
        consultation_link(consultation_id),
    )


def study_reminder(
    publication_id: UUID,
    document_id: UUID,
    kind: str,
    deadline: datetime,
    minutes_before: int,
    *,
    title: str | None = None,
    number: str | None = None,
) -> Content:
    label = DOCUMENT_KINDS.get(kind, "văn bản")
    named = title or number
    return Content(
        NotificationCause.STUDY_DEADLINE_REMINDER,
        publication_id,
        f"study:{minutes_before}m:{int(deadline.timestamp())}",
        nfc(f"Nhắc học tập: {_document_name(label, title, number)}")
        if named
        else "Nhắc học tập văn bản",
        nfc(
            f"Bạn chưa hoàn thành học tập {_document_phrase(label, title, number)} được giao; "
            f"hạn chót {when(deadline)} (còn {_before(minutes_before)})."
        ),
        document_link(document_id),
    )


def study_nudge(
    publication_id: UUID,
    document_id: UUID,
    kind: str,
    deadline: datetime | None,
    org_id: UUID,
    day: str,
    *,
    title: str | None = None,
    number: str | None = None,
) -> Content:
    """The cell secretary's reminder to those who have not studied (once per org and day)."""
    label = DOCUMENT_KINDS.get(kind, "văn bản")
    named = title or number
    due = f"; hạn chót {when(deadline)}" if deadline is not None else ""
    return Content(
        NotificationCause.STUDY_DEADLINE_REMINDER,
        publication_id,
        f"nudge:{org_id}:{day}",
        nfc(f"Bí thư chi bộ nhắc học tập: {_document_name(label, title, number)}")
        if named
        else "Bí thư chi bộ nhắc học tập văn bản",
        nfc(
            f"Đồng chí chưa hoàn thành học tập {_document_phrase(label, title, number)} "
            f"được giao{due}. Đề nghị đồng chí sắp xếp thời gian học tập."
        ),
        document_link(document_id),
    )


def document_retracted(
    document_id: UUID,
    publication_id: UUID | None,
    kind: str,
    *,
    title: str | None = None,
    number: str | None = None,
) -> Content:
    label = DOCUMENT_KINDS.get(kind, "văn bản")
    if title or number:
        heading = nfc(f"Văn bản đã bị thu hồi: {_document_name(label, title, number)}")
        phrase = _document_phrase(label, title, number)
        body = f"{phrase[:1].upper()}{phrase[1:]} bạn đã nhận đã bị thu hồi."
    else:
        heading, body = "Văn bản đã bị thu hồi", f"Một {label} bạn đã nhận đã bị thu hồi."
    return Content(
        NotificationCause.DOCUMENT_RETRACTED,
        document_id,
        f"retracted:{publication_id or 'all'}",
        heading,
        nfc(body),
        document_link(document_id),
    )


def plain(text: str) -> str:
    """Without diacritics (đ → d), case kept: SMS in the GSM 7-bit alphabet (160 characters
    per part instead of 70)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))
