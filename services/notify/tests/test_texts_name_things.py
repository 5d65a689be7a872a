"""Notifications say what they are about: six resolutions published together arrive as six
different notifications, each naming the document's number and title; meeting notices name the
meeting, its time in Asia/Ho_Chi_Minh and its place — reminders and retractions too.

A document's number and title come from documents' internal directory subject
(``documents.directory.described.v1``, just before the publication on the stream): the
publication itself is a PUBLIC subject and names no document."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sotay_contracts.events import documents as dev
from sotay_contracts.events import meetings as mev

from .conftest import NotifyApp, at
from .test_inbox import published, scheduled


def named(
    svc: NotifyApp, *orgs: str, title: str, number: str, **overrides: Any
) -> tuple[dev.DocumentDescribed, dev.DocumentPublished]:
    """A publication and, before it, its document's directory entry, as documents relays them."""
    publication = published(svc, *orgs, **overrides)
    description = dev.DocumentDescribed(
        document_id=publication.document_id,
        version=publication.version,
        number=number,
        title=title,
        kind=publication.kind,
        classification=publication.classification,
        owner_org_id=publication.publisher_org_id,
        occurred_at=publication.occurred_at,
    )
    return description, publication


RESOLUTIONS = [
    (f"0{i}-NQ/TU", f"Nghị quyết về nhiệm vụ trọng tâm số {i} năm 2027") for i in range(1, 7)
]


async def test_six_resolutions_arrive_as_six_named_notifications(svc: NotifyApp) -> None:
    for number, title in RESOLUTIONS:
        await svc.publish(*named(svc, "cell_a", title=title, number=number))
    items = (await svc.inbox("a1"))["items"]
    assert sorted(i["title"] for i in items) == sorted(
        f"Văn bản mới: {number} – {title}" for number, title in RESOLUTIONS
    )
    for item in items:
        number = item["title"].removeprefix("Văn bản mới: ").split(" – ")[0]
        assert f"nghị quyết số {number} “Nghị quyết về" in item["body"]
        assert "học tập trước" in item["body"]


async def test_a_long_title_is_shortened_in_the_heading_only(svc: NotifyApp) -> None:
    title = "Nghị quyết về " + "tăng cường công tác xây dựng Đảng " * 8
    await svc.publish(*named(svc, "cell_a", title=title.strip(), number="21-NQ/TW"))
    [item] = (await svc.inbox("a1"))["items"]
    assert len(item["title"]) <= len("Văn bản mới: ") + 120 and item["title"].endswith("…")
    assert title.strip()[:200] in item["body"]


async def test_meeting_notices_name_the_meeting_its_time_and_place(svc: NotifyApp) -> None:
    event = scheduled(svc, title="Sinh hoạt chi bộ tháng 12/2026", location="Nhà văn hóa thôn Đông")
    await svc.publish(event)
    [item] = (await svc.inbox("a1"))["items"]
    assert item["title"] == "Lịch họp mới: Sinh hoạt chi bộ tháng 12/2026"
    assert "19:30 ngày 04/12/2026 tại Nhà văn hóa thôn Đông" in item["body"]

    await svc.tick(event.starts_at - timedelta(hours=24))
    reminder = (await svc.inbox("a1"))["items"][0]
    assert reminder["title"] == "Nhắc lịch họp: Sinh hoạt chi bộ tháng 12/2026"
    assert "tại Nhà văn hóa thôn Đông (còn 1 ngày)" in reminder["body"]

    moved = mev.MeetingUpdated(
        **event.model_dump(exclude={"scheduled_by", "revision", "occurred_at", "location"}),
        location="Hội trường xã An Phú",
        revision=2,
        occurred_at=at(hours=1),
        changed_fields=["location"],
        updated_by=event.invitee_member_ids[0],
    )
    await svc.publish(moved)
    update = (await svc.inbox("a1"))["items"][0]
    assert update["title"] == "Thay đổi cuộc họp: Sinh hoạt chi bộ tháng 12/2026"
    assert "(địa điểm)" in update["body"] and "Địa điểm: Hội trường xã An Phú." in update["body"]

    await svc.publish(
        mev.MeetingCancelled(
            **moved.model_dump(exclude={"revision", "occurred_at", "changed_fields", "updated_by"}),
            revision=3,
            occurred_at=at(hours=2),
            reason_code=mev.CancellationReason.FORCE_MAJEURE,
            cancelled_by=event.invitee_member_ids[0],
        )
    )
    gone = (await svc.inbox("a1"))["items"][0]
    assert gone["title"] == "Hủy cuộc họp: Sinh hoạt chi bộ tháng 12/2026"
    assert "tại Hội trường xã An Phú đã bị hủy" in gone["body"]


async def test_study_reminder_and_retraction_name_the_document(svc: NotifyApp) -> None:
    description, event = named(
        svc,
        "cell_a",
        kind=dev.DocumentKind.PLAN,
        title="Kế hoạch học tập chuyên đề 2027",
        number="12-KH/ĐU",
    )
    await svc.publish(description, event)
    await svc.tick(at(days=7))
    reminder = (await svc.inbox("a2"))["items"][0]
    assert reminder["title"] == "Nhắc học tập: 12-KH/ĐU – Kế hoạch học tập chuyên đề 2027"
    assert (
        "hạn chót" in reminder["body"] and "“Kế hoạch học tập chuyên đề 2027”" in (reminder["body"])
    )
    await svc.publish(
        dev.DocumentRetracted(
            document_id=event.document_id,
            publication_id=event.publication_id,
            reason_code=dev.RetractionReason.PUBLISHED_IN_ERROR,
            retracted_by=uuid.uuid4(),
            occurred_at=at(days=8),
        )
    )
    retracted = (await svc.inbox("a2"))["items"][0]
    assert retracted["title"] == (
        "Văn bản đã bị thu hồi: 12-KH/ĐU – Kế hoạch học tập chuyên đề 2027"
    )
    assert retracted["body"] == (
        "Kế hoạch số 12-KH/ĐU “Kế hoạch học tập chuyên đề 2027” bạn đã nhận đã bị thu hồi."
    )


async def test_the_newest_description_names_the_document(svc: NotifyApp) -> None:
    """A later description replaces the name; one delivered late (older) does not."""
    older, first = named(svc, "cell_a", title="Dự thảo kế hoạch", number="03-KH/TU")
    newer = older.model_copy(
        update={"version": 2, "title": "Kế hoạch tổng kết năm", "occurred_at": at(hours=1)}
    )
    await svc.publish(newer, older)
    again = first.model_copy(
        update={"version": 2, "publication_id": uuid.uuid4(), "occurred_at": at(hours=1)}
    )
    await svc.publish(again)
    titles = [i["title"] for i in (await svc.inbox("a1"))["items"]]
    assert "Văn bản mới: 03-KH/TU – Kế hoạch tổng kết năm" in titles
    assert not any("Dự thảo" in t for t in titles)
