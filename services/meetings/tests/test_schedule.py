"""Monthly series, single-occurrence changes, roster snapshots across transfers, lists."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sotay_contracts.events import identity as iev
from sotay_contracts.events import meetings as mev

from .conftest import MeetingsApp, schedule


async def test_monthly_series_in_local_time_and_one_occurrence_moves_alone(
    svc: MeetingsApp,
) -> None:
    r = await svc.client.post(
        "/api/v1/meetings",
        json={
            "org_id": str(svc.world.orgs["cell_a"]),
            "kind": "regular",
            "title": "Sinh hoạt chi bộ thường kỳ",
            "location": "Nhà văn hóa thôn Đông",
            # 4th of each month at 19:30 Hà Nội time, given in UTC on the wire.
            "starts_at": "2026-12-04T12:30:00Z",
            "ends_at": "2026-12-04T14:30:00Z",
            "recurrence": {"freq": "monthly", "by_month_day": 4, "count": 12},
        },
        headers=svc.auth("sec"),
    )
    assert r.status_code == 201, r.text
    meetings = r.json()["meetings"]
    assert len(meetings) == 12
    series = {m["occurrence"]["series_id"] for m in meetings}
    assert len(series) == 1
    locals_ = [datetime.fromisoformat(m["starts_at"]["local"]) for m in meetings]
    assert [(d.year, d.month) for d in locals_][:3] == [(2026, 12), (2027, 1), (2027, 2)]
    assert all((d.day, d.hour, d.minute) == (4, 19, 30) for d in locals_)
    assert all(m["ends_at"]["local"].endswith("T21:30:00+07:00") for m in meetings)
    assert [m["occurrence"]["index"] for m in meetings] == list(range(1, 13))

    # Move the February occurrence; cancel the March one. The others stay.
    feb, mar = meetings[2], meetings[3]
    r = await svc.client.patch(
        f"/api/v1/meetings/{feb['id']}",
        json={
            "starts_at": "2027-02-06T19:30:00+07:00",
            "ends_at": "2027-02-06T21:30:00+07:00",
            "title": "Sinh hoạt chi bộ tháng 2 (dời sau Tết)",
        },
        headers=svc.auth("dep"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["starts_at"]["local"] == "2027-02-06T19:30:00+07:00"
    assert r.json()["revision"] == 2
    r = await svc.client.post(
        f"/api/v1/meetings/{mar['id']}/cancel",
        json={"reason_code": "rescheduled"},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 200
    for m in meetings:
        current = (
            await svc.client.get(f"/api/v1/meetings/{m['id']}", headers=svc.auth("m1"))
        ).json()
        if m["id"] == feb["id"]:
            continue
        assert current["starts_at"] == m["starts_at"]
        assert current["status"] == ("cancelled" if m["id"] == mar["id"] else "scheduled")

    events = [e for _, e in await svc.outbox()]
    scheduled = [e for e in events if isinstance(e, mev.MeetingScheduled)]
    assert len(scheduled) == 12
    assert all(e.occurrence is not None and e.occurrence.rule == "monthly" for e in scheduled)
    # What notifications name: the meeting's title and place travel with the plan.
    assert {(e.title, e.location) for e in scheduled} == {
        ("Sinh hoạt chi bộ thường kỳ", "Nhà văn hóa thôn Đông")
    }
    [updated] = [e for e in events if isinstance(e, mev.MeetingUpdated)]
    assert updated.meeting_id == uuid.UUID(feb["id"])
    assert updated.title == "Sinh hoạt chi bộ tháng 2 (dời sau Tết)"
    assert set(updated.changed_fields) == {"starts_at", "ends_at"}
    assert updated.revision == 2 and updated.occurrence is not None
    [cancelled] = [e for e in events if isinstance(e, mev.MeetingCancelled)]
    assert cancelled.meeting_id == uuid.UUID(mar["id"]) and cancelled.revision == 2

    # "My meetings": upcoming, in order, with my part.
    r = await svc.client.get(
        "/api/v1/meetings",
        params={"scope": "mine", "when": "upcoming", "limit": 5},
        headers=svc.auth("m1"),
    )
    page = r.json()
    assert [i["id"] for i in page["items"]][:2] == [meetings[0]["id"], meetings[1]["id"]]
    assert page["items"][0]["me"]["standing"] == "member"
    assert page["next_cursor"]
    r = await svc.client.get(
        "/api/v1/meetings",
        params={"scope": "mine", "when": "upcoming", "limit": 50, "cursor": page["next_cursor"]},
        headers=svc.auth("m1"),
    )
    assert len(r.json()["items"]) == 7
    # The org listing by month uses Hà Nội months.
    r = await svc.client.get(
        "/api/v1/meetings",
        params={"org_id": str(svc.world.orgs["cell_a"]), "month": "2027-02"},
        headers=svc.auth("sec"),
    )
    assert [i["id"] for i in r.json()["items"]] == [feb["id"]]


async def test_a_transfer_after_scheduling_keeps_the_roster(svc: MeetingsApp) -> None:
    w = svc.world
    before = await schedule(svc, guest_member_ids=[str(w.members["c1"])])
    standings = {r["member_id"]: r["standing"] for r in before["roster"]}
    assert standings[str(w.members["c1"])] == "guest"
    assert before["counts"]["guests"] == 1 and before["counts"]["invited"] == 7

    # m1 moves to cell B (a real identity event through the projection consumer).
    await svc.publish_identity(
        iev.MemberTransferred(
            member_id=w.members["m1"],
            from_cell_id=w.orgs["cell_a"],
            from_org_path=w.paths["cell_a"],
            to_cell_id=w.orgs["cell_b"],
            to_org_path=w.paths["cell_b"],
            effective_on=date(2026, 12, 2),
            revision=2,
            occurred_at=datetime.fromisoformat("2026-12-02T03:00:00+00:00"),
        )
    )
    path = await svc.pool.fetchval(
        "SELECT org_path FROM idp_members WHERE member_id = $1", w.members["m1"]
    )
    assert path == w.paths["cell_b"]
    w.cell_of["m1"] = "cell_b"  # the token now carries the new cell

    # Still on the roster of the meeting scheduled before: sees it, replies to it.
    r = await svc.client.get(f"/api/v1/meetings/{before['id']}", headers=svc.auth("m1"))
    assert r.status_code == 200 and r.json()["counts"]["invited"] == 7
    r = await svc.client.post(
        f"/api/v1/meetings/{before['id']}/rsvp",
        json={"response": "absent", "reason_code": "cong_tac"},
        headers=svc.auth("m1"),
    )
    assert r.status_code == 200
    # A guest from another district sees and answers it too.
    r = await svc.client.post(
        f"/api/v1/meetings/{before['id']}/rsvp",
        json={"response": "attending"},
        headers=svc.auth("c1"),
    )
    assert r.status_code == 200

    # A meeting scheduled after the transfer no longer invites m1.
    after = await schedule(
        svc, starts_at="2026-12-18T19:30:00+07:00", ends_at="2026-12-18T21:00:00+07:00"
    )
    assert str(w.members["m1"]) not in {r["member_id"] for r in after["roster"]}
    assert after["counts"]["invited"] == 6
    r = await svc.client.get(f"/api/v1/meetings/{after['id']}", headers=svc.auth("m1"))
    assert r.status_code == 404

    # Refreshing the earlier meeting's roster on purpose applies the transfer (guests stay).
    r = await svc.client.patch(
        f"/api/v1/meetings/{before['id']}",
        json={"refresh_roster": True},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 200
    ids = {x["member_id"] for x in r.json()["roster"]}
    assert str(w.members["m1"]) not in ids and str(w.members["c1"]) in ids
    [updated] = [e for _, e in await svc.outbox() if isinstance(e, mev.MeetingUpdated)]
    assert updated.changed_fields == ["invitees"]
    assert w.members["m1"] not in updated.invitee_member_ids


async def test_a_committee_meeting_invites_the_committee(svc: MeetingsApp) -> None:
    meeting = await schedule(
        svc,
        who="com1",
        org_id=str(svc.world.orgs["commune"]),
        kind="committee",
        title="Họp Ban Thường vụ Đảng ủy xã",
    )
    assert [r["member_id"] for r in meeting["roster"]] == [str(svc.world.members["com1"])]
