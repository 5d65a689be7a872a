"""What notifications say, in Vietnamese (NFC), and where they link to.

Events carry ids, org paths and facts only, so a notification names the kind of meeting or
document, the organisation (from the identity projection) and the time in Asia/Ho_Chi_Minh;
the deep link opens the thing itself in the app. Nothing here is secret: email and SMS bodies
are built from the same text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from sotay_contracts.events.notify import NotificationCause

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

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
    meeting_id: UUID, kind: str, org_title: str | None, starts_at: datetime, *, series: bool
) -> Content:
    label = MEETING_KINDS.get(kind, "Cuộc họp")
    extra = " Lịch họp lặp lại hằng tháng." if series else ""
    return Content(
        NotificationCause.MEETING_SCHEDULED,
        meeting_id,
        "scheduled",
        nfc(f"Lịch họp mới: {label}"),
        nfc(
            f"{label} của {_org(org_title)} vào lúc {when(starts_at)}.{extra} "
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
) -> Content:
    label = MEETING_KINDS.get(kind, "Cuộc họp")
    what = ", ".join(dict.fromkeys(FIELD_NAMES.get(c, c) for c in changed)) or "nội dung"
    return Content(
        NotificationCause.MEETING_UPDATED,
        meeting_id,
        f"updated:r{revision}",
        nfc(f"Thay đổi cuộc họp: {label}"),
        nfc(f"{label} của {_org(org_title)} đã thay đổi ({what}). Thời gian: {when(starts_at)}."),
        meeting_link(meeting_id),
        urgent="starts_at" in changed or "location" in changed,
    )


def meeting_cancelled(
    meeting_id: UUID, kind: str, org_title: str | None, starts_at: datetime, *, soon: bool
) -> Content:
    label = MEETING_KINDS.get(kind, "Cuộc họp")
    return Content(
        NotificationCause.MEETING_CANCELLED,
        meeting_id,
        "cancelled",
        nfc(f"Hủy cuộc họp: {label}"),
        nfc(f"{label} của {_org(org_title)} dự kiến lúc {when(starts_at)} đã bị hủy."),
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
) -> Content:
    label = MEETING_KINDS.get(kind, "Cuộc họp")
    return Content(
        NotificationCause.MEETING_REMINDER,
        meeting_id,
        f"reminder:{minutes_before}m:{int(starts_at.timestamp())}",
        nfc(f"Nhắc lịch họp: {label}"),
        nfc(
            f"{label} của {_org(org_title)} bắt đầu lúc {when(starts_at)} "
            f"(còn {_before(minutes_before)})."
        ),
        meeting_link(meeting_id),
        urgent=minutes_before <= 120,
    )


def minutes_signed(
    minutes_id: UUID, meeting_id: UUID, kind: str, org_title: str | None, starts_at: datetime
) -> Content:
    label = MEETING_KINDS.get(kind, "Cuộc họp")
    return Content(
        NotificationCause.MINUTES_SIGNED,
        minutes_id,
        "signed",
        "Biên bản cuộc họp đã được ký",
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
) -> Content:
    label = DOCUMENT_KINDS.get(kind, "văn bản")
    if study_deadline is not None:
        study = f" Yêu cầu học tập trước {when(study_deadline)}."
    elif study_required:
        study = " Yêu cầu học tập."
    else:
        study = ""
    return Content(
        NotificationCause.DOCUMENT_PUBLISHED,
        publication_id,
        "published",
        nfc(f"Văn bản mới: {label}"),
        nfc(f"{_org(publisher_title)} đã phát hành {label} mới.{study}"),
        document_link(document_id),
    )


def study_reminder(
    publication_id: UUID, document_id: UUID, kind: str, deadline: datetime, minutes_before: int
) -> Content:
    label = DOCUMENT_KINDS.get(kind, "văn bản")
    return Content(
        NotificationCause.STUDY_DEADLINE_REMINDER,
        publication_id,
        f"study:{minutes_before}m:{int(deadline.timestamp())}",
        "Nhắc học tập văn bản",
        nfc(
            f"Bạn chưa hoàn thành học tập {label} được giao; hạn chót {when(deadline)} "
            f"(còn {_before(minutes_before)})."
        ),
        document_link(document_id),
    )


def document_retracted(document_id: UUID, publication_id: UUID | None, kind: str) -> Content:
    label = DOCUMENT_KINDS.get(kind, "văn bản")
    return Content(
        NotificationCause.DOCUMENT_RETRACTED,
        document_id,
        f"retracted:{publication_id or 'all'}",
        "Văn bản đã bị thu hồi",
        nfc(f"Một {label} bạn đã nhận đã bị thu hồi."),
        document_link(document_id),
    )


def plain(text: str) -> str:
    """Without diacritics (đ → d), case kept: SMS in the GSM 7-bit alphabet (160 characters
    per part instead of 70)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))
