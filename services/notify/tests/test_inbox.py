"""From events to the inbox: one notification per member per cause, in Vietnamese, with a
deep link; redeliveries create nothing; a member sees and marks only their own."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sotay_contracts import new_cloud_event
from sotay_contracts.events import documents as dev
from sotay_contracts.events import meetings as mev

from .conftest import NOW, NotifyApp, at


def scheduled(svc: NotifyApp, *names: str, **overrides: Any) -> mev.MeetingScheduled:
    w = svc.world
    values: dict[str, Any] = {
        "meeting_id": uuid.uuid4(),
        "org_id": w.orgs["cell_a"],
        "org_path": w.paths["cell_a"],
        "kind": mev.MeetingKind.REGULAR,
        "starts_at": at(days=3, hours=11, minutes=30),  # 19:30 Hà Nội, three days on
        "ends_at": at(days=3, hours=13, minutes=30),
        "invitee_member_ids": [w.members[n] for n in (names or ("sec", "a1", "a2"))],
        "revision": 1,
        "occurred_at": at(),
        "scheduled_by": w.members["sec"],
    }
    values.update(overrides)
    return mev.MeetingScheduled(**values)


def cancelled(e: mev.MeetingScheduled, revision: int = 2) -> mev.MeetingCancelled:
    data = e.model_dump(exclude={"scheduled_by", "revision", "occurred_at"})
    return mev.MeetingCancelled(
        **data,
        revision=revision,
        occurred_at=at(hours=1),
        reason_code=mev.CancellationReason.FORCE_MAJEURE,
        cancelled_by=e.invitee_member_ids[0],
    )


def published(svc: NotifyApp, *orgs: str, **overrides: Any) -> dev.DocumentPublished:
    w = svc.world
    values: dict[str, Any] = {
        "document_id": uuid.uuid4(),
        "version": 1,
        "publication_id": uuid.uuid4(),
        "audience_org_ids": [w.orgs[o] for o in orgs],
        "audience_org_paths": [w.paths[o] for o in orgs],
        "audience_size": 4,
        "study_required": True,
        "study_deadline": at(days=10),
        "classification": dev.Classification.INTERNAL,
        "kind": dev.DocumentKind.RESOLUTION,
        "published_by": w.members["sec"],
        "publisher_org_id": w.orgs["province"],
        "occurred_at": at(),
    }
    values.update(overrides)
    return dev.DocumentPublished(**values)


async def count(svc: NotifyApp, cause_id: uuid.UUID | None = None) -> int:
    n: int = await svc.pool.fetchval(
        "SELECT count(*) FROM notifications WHERE $1::uuid IS NULL OR cause_id = $1", cause_id
    )
    return n


async def test_meeting_scheduled_reaches_every_invitee_once(svc: NotifyApp) -> None:
    event = scheduled(svc)
    ce = new_cloud_event(event)
    await svc.publish(ce)
    for name in ("sec", "a1", "a2"):
        inbox = await svc.inbox(name)
        assert inbox["unread_count"] == 1
        [item] = inbox["items"]
        assert item["cause_type"] == "meeting_scheduled"
        assert item["link"] == f"/meetings/{event.meeting_id}"
        assert item["title"] == "Lịch họp mới: Sinh hoạt chi bộ thường kỳ"
        assert "Chi bộ 1.2.3" in item["body"] and "19:30 ngày 04/12/2026" in item["body"]
    assert (await svc.inbox("b1"))["items"] == []

    # The same event delivered again (a new NATS message, same event id): nothing new.
    await svc.publish(ce, msg_id=f"again-{uuid.uuid4()}")
    # Another event about the same cause (e.g. republished by a restarted producer).
    await svc.publish(event.model_copy(update={"occurred_at": at(minutes=1)}))
    assert await count(svc, event.meeting_id) == 3
    assert svc.consumers[1].duplicates >= 1


async def test_cancelling_notifies_again_and_drops_reminders(svc: NotifyApp) -> None:
    event = scheduled(svc)
    await svc.publish(event)
    await svc.publish(cancelled(event))
    inbox = await svc.inbox("a1")
    assert [i["cause_type"] for i in inbox["items"]] == ["meeting_cancelled", "meeting_scheduled"]
    assert inbox["items"][0]["title"] == "Hủy cuộc họp: Sinh hoạt chi bộ thường kỳ"
    assert inbox["items"][0]["seq"] > inbox["items"][1]["seq"]
    states = await svc.pool.fetch(
        "SELECT state FROM reminders WHERE cause_id = $1", event.meeting_id
    )
    assert {r["state"] for r in states} == {"cancelled"}


async def test_document_published_to_a_district_reaches_each_member_there_once(
    svc: NotifyApp,
) -> None:
    event = published(svc, "district")
    ce = new_cloud_event(event)
    await svc.publish(ce)
    await svc.publish(ce, msg_id=f"twice-{uuid.uuid4()}")  # delivered twice
    rows = await svc.pool.fetch(
        "SELECT member_id, count(*) AS n FROM notifications WHERE cause_id = $1 GROUP BY 1",
        event.publication_id,
    )
    w = svc.world
    expected = {w.members[n] for n in ("sec", "a1", "a2", "ex1", "b1")}
    assert {r["member_id"] for r in rows} == expected
    assert all(r["n"] == 1 for r in rows)
    [item] = (await svc.inbox("b1"))["items"]
    assert item["link"] == f"/documents/{event.document_id}"
    assert item["title"] == "Văn bản mới: nghị quyết"
    assert "học tập trước" in item["body"]
    assert (await svc.inbox("c1"))["items"] == []


async def test_unknown_members_are_skipped_and_unknown_orgs_dead_lettered(svc: NotifyApp) -> None:
    ghost = uuid.uuid4()
    event = scheduled(svc, "a1")
    event = event.model_copy(update={"invitee_member_ids": [svc.world.members["a1"], ghost]})
    await svc.publish(event)
    assert await count(svc, event.meeting_id) == 1

    # A publication to an org the projection never heard of, long after the fact.
    stray = published(svc, "district").model_copy(
        update={"audience_org_paths": ["9.9"], "occurred_at": NOW - timedelta(days=1)}
    )
    await svc.publish(stray)
    documents = svc.consumers[2]
    assert documents.dead_lettered == 1
    info = await svc.nc.jetstream().stream_info("DLQ")
    assert info.state.messages == 1
    # The consumer goes on: the next publication is applied.
    good = published(svc, "cell_c")
    await svc.publish(good)
    assert await count(svc, good.publication_id) == 1


async def test_list_read_and_read_all_only_touch_my_own(svc: NotifyApp) -> None:
    for _ in range(3):
        await svc.publish(scheduled(svc, "a1", "a2"))
    mine = await svc.inbox("a1", limit=2)
    assert len(mine["items"]) == 2 and mine["unread_count"] == 3 and mine["next_cursor"]
    rest = await svc.inbox("a1", limit=2, cursor=mine["next_cursor"])
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    theirs = (await svc.inbox("a2"))["items"][0]

    r = await svc.client.post(f"/api/v1/inbox/{theirs['id']}/read", headers=svc.auth("a1"))
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["title"] == "Không tìm thấy thông báo"
    r = await svc.client.post(f"/api/v1/inbox/{uuid.uuid4()}/read", headers=svc.auth("a1"))
    assert r.status_code == 404

    first = mine["items"][0]
    r = await svc.client.post(f"/api/v1/inbox/{first['id']}/read", headers=svc.auth("a1"))
    assert r.status_code == 200 and r.json()["read_at"] is not None
    unread = await svc.inbox("a1", unread="true")
    assert unread["unread_count"] == 2 and first["id"] not in [i["id"] for i in unread["items"]]

    r = await svc.client.post("/api/v1/inbox/read-all", headers=svc.auth("a1"))
    assert r.json() == {"marked": 2, "unread_count": 0}
    assert (await svc.inbox("a2"))["unread_count"] == 3  # a2's are untouched


async def test_bad_requests_are_clean_4xx(svc: NotifyApp) -> None:
    assert (await svc.client.get("/api/v1/inbox")).status_code == 401
    bad = {"authorization": "Bearer not-a-token"}
    assert (await svc.client.get("/api/v1/inbox", headers=bad)).status_code == 401
    r = await svc.client.get("/api/v1/inbox", params={"cursor": "!!"}, headers=svc.auth("a1"))
    assert r.status_code == 400
    r = await svc.client.get("/api/v1/inbox", params={"cursor": "Insi"}, headers=svc.auth("a1"))
    assert r.status_code == 400
    r = await svc.client.post("/api/v1/inbox/not-a-uuid/read", headers=svc.auth("a1"))
    assert r.status_code == 422
    r = await svc.client.get("/api/v1/inbox", params={"limit": 0}, headers=svc.auth("a1"))
    assert r.status_code == 422
