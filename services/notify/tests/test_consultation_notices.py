"""A consultation on a draft reaches the members of the consulted subtree: each asked once,
in their inbox with a link to the consultation, named by its title; a large subtree goes
through a fan-out job like a publication; a consultation that arrives after its deadline (a
replay) tells no one."""

from __future__ import annotations

import uuid
from typing import Any

from sotay_contracts import new_cloud_event
from sotay_contracts.events import documents as dev
from sotay_contracts.events import notify as nev

from .conftest import NotifyApp, at
from .test_fanout import big as big
from .test_fanout import broadcasts, district_members
from .test_inbox import count

TITLE = "Dự thảo Báo cáo chính trị trình Đại hội Đảng bộ huyện nhiệm kỳ 2025–2030"


def opened(svc: NotifyApp, org: str, **overrides: Any) -> dev.ConsultationOpened:
    w = svc.world
    values: dict[str, Any] = {
        "consultation_id": uuid.uuid4(),
        "document_id": uuid.uuid4(),
        "version": 1,
        "org_id": w.orgs[org],
        "org_path": w.paths[org],
        "committee_org_path": w.paths["district"],
        "deadline": at(days=14),
        "section_count": 5,
        "audience_size": 5,
        "opened_by": w.members["sec"],
        "occurred_at": at(),
        "title": TITLE,
    }
    values.update(overrides)
    return dev.ConsultationOpened(**values)


async def test_the_consulted_subtree_is_asked_once_with_a_link(svc: NotifyApp) -> None:
    event = opened(svc, "district")
    ce = new_cloud_event(event)
    await svc.publish(ce)
    await svc.publish(ce, msg_id=f"twice-{uuid.uuid4()}")  # delivered twice
    rows = await svc.pool.fetch(
        "SELECT member_id, count(*) AS n FROM notifications WHERE cause_id = $1 GROUP BY 1",
        event.consultation_id,
    )
    w = svc.world
    assert {r["member_id"] for r in rows} == {
        w.members[n] for n in ("sec", "a1", "a2", "ex1", "b1")
    }
    assert all(r["n"] == 1 for r in rows)
    [item] = (await svc.inbox("a2"))["items"]
    assert item["cause_type"] == "consultation_opened"
    assert item["link"] == f"/consultations/{event.consultation_id}"
    assert item["title"] == f"Lấy ý kiến góp ý: {TITLE}"
    assert f"“{TITLE}”" in item["body"] and "góp ý" in item["body"]
    assert (await svc.inbox("c1"))["items"] == []  # outside the consulted subtree
    # The in-app deliveries are reported like a publication's, per batch.
    await svc.tick()
    reported = [
        e
        for _, e in await svc.outbox()
        if isinstance(e, nev.NotificationBatchDelivered) and e.cause_id == event.consultation_id
    ]
    assert [set(e.member_ids) for e in reported] == [{r["member_id"] for r in rows}]
    assert reported[0].cause_type is nev.NotificationCause.CONSULTATION_OPENED


async def test_a_consultation_past_its_deadline_tells_no_one(svc: NotifyApp) -> None:
    late = opened(
        svc,
        "district",
        deadline=at(days=-1),
        occurred_at=at(days=-10),
        title=None,
    )
    await svc.publish(late)
    assert await count(svc, late.consultation_id) == 0


async def test_an_untitled_consultation_is_named_a_draft(svc: NotifyApp) -> None:
    event = opened(svc, "cell_b", title=None)
    await svc.publish(event)
    [item] = (await svc.inbox("b1"))["items"]
    assert item["title"] == "Lấy ý kiến góp ý: dự thảo văn bản"


async def test_a_large_subtree_is_a_fan_out_job_reported_once(big: NotifyApp) -> None:
    event = opened(big, "district", audience_size=30)
    await big.publish(event)
    [broadcast] = [b for b in await broadcasts(big) if b.cause_id == event.consultation_id]
    assert broadcast.cause_type is nev.NotificationCause.CONSULTATION_OPENED
    assert await count(big, event.consultation_id) == 0
    [item] = (await big.inbox("b3"))["items"]  # written at the member's read
    assert item["link"] == f"/consultations/{event.consultation_id}"
    await big.tick()
    assert await count(big, event.consultation_id) == len(district_members(big))
