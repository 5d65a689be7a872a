"""Reminders from the durable schedule: fire once at the set time (the tests drive the
clock), skip cancelled meetings and members who have already studied."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sotay_contracts.events import documents as dev

from .conftest import NotifyApp, at
from .test_inbox import cancelled, published, scheduled


async def reminders_of(svc: NotifyApp, name: str) -> list[dict[str, object]]:
    items = (await svc.inbox(name))["items"]
    return [i for i in items if i["cause_type"] in ("meeting_reminder", "study_deadline_reminder")]


async def test_meeting_reminders_fire_once_at_their_time(svc: NotifyApp) -> None:
    event = scheduled(svc)  # starts at(days=3, hours=11.5)
    await svc.publish(event)
    start = event.starts_at

    report = await svc.tick(start - timedelta(hours=24, seconds=1))
    assert report.reminders == 0 and await reminders_of(svc, "a1") == []

    report = await svc.tick(start - timedelta(hours=24))
    assert report.reminders == 1
    [first] = await reminders_of(svc, "a1")
    assert first["title"] == "Nhắc lịch họp: Sinh hoạt chi bộ thường kỳ"
    assert "còn 1 ngày" in str(first["body"]) and first["link"] == f"/meetings/{event.meeting_id}"

    # Ticking again (or another replica ticking) fires nothing more.
    assert (await svc.tick(start - timedelta(hours=23))).reminders == 0
    assert (await svc.tick(start - timedelta(hours=2))).reminders == 0
    assert len(await reminders_of(svc, "a1")) == 1

    report = await svc.tick(start - timedelta(minutes=59))
    assert report.reminders == 1
    reminders = await reminders_of(svc, "a2")
    assert len(reminders) == 2 and "còn 1 giờ" in str(reminders[0]["body"])
    assert reminders[0]["urgent"] is True
    assert (await svc.tick(start + timedelta(hours=1))).reminders == 0
    n = await svc.pool.fetchval(
        "SELECT count(*) FROM notifications WHERE cause_type = 'meeting_reminder'"
    )
    assert n == 6  # 3 invitees x 2 reminders


async def test_no_reminder_for_a_cancelled_meeting(svc: NotifyApp) -> None:
    event = scheduled(svc)
    await svc.publish(event, cancelled(event))
    assert (await svc.tick(event.starts_at - timedelta(hours=1))).reminders == 0
    assert await reminders_of(svc, "a1") == []


async def test_a_late_scheduler_sends_only_the_latest_reminder(svc: NotifyApp) -> None:
    event = scheduled(svc)
    await svc.publish(event)
    await svc.tick(event.starts_at - timedelta(minutes=30))  # was down for a day
    reminders = await reminders_of(svc, "a1")
    assert len(reminders) == 1 and "còn 1 giờ" in str(reminders[0]["body"])


async def test_a_rescheduled_meeting_is_reminded_at_its_new_time(svc: NotifyApp) -> None:
    event = scheduled(svc)
    await svc.publish(event)
    await svc.tick(event.starts_at - timedelta(hours=24))
    later = event.starts_at + timedelta(days=2)
    from sotay_contracts.events import meetings as mev

    moved = mev.MeetingUpdated(
        **event.model_dump(exclude={"scheduled_by", "revision", "starts_at", "ends_at"}),
        starts_at=later,
        ends_at=later + timedelta(hours=2),
        revision=2,
        changed_fields=["starts_at", "ends_at"],
        updated_by=svc.world.members["sec"],
    )
    await svc.publish(moved)
    updates = [i for i in (await svc.inbox("a1"))["items"] if i["cause_type"] == "meeting_updated"]
    assert len(updates) == 1 and "thời gian" in str(updates[0]["body"])
    assert (await svc.tick(event.starts_at - timedelta(hours=1))).reminders == 0
    assert (await svc.tick(later - timedelta(hours=24))).reminders == 1
    assert len(await reminders_of(svc, "a1")) == 2


async def test_study_reminders_go_only_to_those_who_have_not_studied(svc: NotifyApp) -> None:
    event = published(svc, "cell_a", study_deadline=at(days=10))
    await svc.publish(event)
    w = svc.world
    await svc.publish(
        dev.DocumentRead(
            document_id=event.document_id,
            version=1,
            publication_id=event.publication_id,
            member_id=w.members["a1"],
            cell_id=w.orgs["cell_a"],
            org_path=w.paths["cell_a"],
            state=dev.ReadState.STUDIED,
            progress_percent=100,
            occurred_at=at(days=1),
        ),
        dev.DocumentRead(
            document_id=event.document_id,
            version=1,
            publication_id=event.publication_id,
            member_id=w.members["a2"],
            cell_id=w.orgs["cell_a"],
            org_path=w.paths["cell_a"],
            state=dev.ReadState.OPENED,
            progress_percent=10,
            occurred_at=at(days=1),
        ),
    )
    assert (await svc.tick(at(days=7) - timedelta(seconds=1))).reminders == 0
    assert (await svc.tick(at(days=7))).reminders == 1
    assert await reminders_of(svc, "a1") == []
    [reminder] = await reminders_of(svc, "a2")
    assert reminder["title"] == "Nhắc học tập văn bản" and "còn 3 ngày" in str(reminder["body"])
    assert (await svc.tick(at(days=9))).reminders == 1
    assert len(await reminders_of(svc, "a2")) == 2 and len(await reminders_of(svc, "sec")) == 2


async def test_retracted_publication_is_not_reminded_and_is_announced(svc: NotifyApp) -> None:
    event = published(svc, "cell_a", study_deadline=at(days=10))
    await svc.publish(event)
    await svc.publish(
        dev.DocumentRetracted(
            document_id=event.document_id,
            publication_id=None,
            reason_code=dev.RetractionReason.PUBLISHED_IN_ERROR,
            retracted_by=uuid.uuid4(),
            occurred_at=at(days=1),
        )
    )
    assert (await svc.tick(at(days=9))).reminders == 0
    items = (await svc.inbox("a1"))["items"]
    assert [i["cause_type"] for i in items] == ["document_retracted", "document_published"]
