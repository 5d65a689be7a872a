"""Bad input and security: reach (404 outside), roles, check-in codes, windows, frozen states."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sotay_contracts.events import meetings as mev
from sotay_meetings.meetings import checkin

from .conftest import MeetingsApp, meeting_body, schedule

START = datetime.fromisoformat("2026-12-04T19:30:00+07:00")


def _slug(response: Any) -> str:
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["type"].rsplit("/", 1)[-1])


async def _code(svc: MeetingsApp, meeting_id: str, who: str = "sec") -> str:
    r = await svc.client.get(f"/api/v1/meetings/{meeting_id}/checkin-code", headers=svc.auth(who))
    assert r.status_code == 200, r.text
    return str(r.json()["code"])


async def _checkin(svc: MeetingsApp, meeting_id: str, code: str, who: str) -> Any:
    return await svc.client.post(
        f"/api/v1/meetings/{meeting_id}/checkin", json={"code": code}, headers=svc.auth(who)
    )


async def test_a_member_of_another_cell_cannot_see_reply_or_check_in(svc: MeetingsApp) -> None:
    meeting = await schedule(svc)
    mid = meeting["id"]
    r = await svc.client.get(f"/api/v1/meetings/{mid}", headers=svc.auth("b1"))
    assert r.status_code == 404
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/rsvp", json={"response": "attending"}, headers=svc.auth("b1")
    )
    assert r.status_code == 404
    r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("b1"))
    assert r.status_code == 404
    svc.clock.set(START)
    code = await _code(svc, mid)
    r = await _checkin(svc, mid, code, "b1")
    assert r.status_code == 404
    # Another cell's secretary is outside the subtree too: 404, not 403.
    for path in ("checkin-code", "minutes"):
        r = await svc.client.get(f"/api/v1/meetings/{mid}/{path}", headers=svc.auth("sec_b"))
        assert r.status_code == 404
    r = await svc.client.post(f"/api/v1/meetings/{mid}/close", headers=svc.auth("sec_b"))
    assert r.status_code == 404
    # An unknown meeting looks the same.
    r = await svc.client.get(
        "/api/v1/meetings/00000000-0000-4000-8000-000000000000", headers=svc.auth("sec")
    )
    assert r.status_code == 404
    # The list by org: my own cell is not mine to list unless I manage it.
    r = await svc.client.get(
        "/api/v1/meetings",
        params={"org_id": str(svc.world.orgs["cell_a"]), "month": "2026-12"},
        headers=svc.auth("m1"),
    )
    assert r.status_code == 404
    r = await svc.client.get("/api/v1/meetings", params={"scope": "mine"}, headers=svc.auth("b1"))
    assert r.status_code == 200 and r.json()["items"] == []
    # Without a token: 401.
    r = await svc.client.get(f"/api/v1/meetings/{mid}")
    assert r.status_code == 401


async def test_only_secretary_deputy_chair_or_committee_above_manage(svc: MeetingsApp) -> None:
    w = svc.world
    # Another cell's secretary cannot schedule here (404: the cell is outside their reach).
    r = await svc.client.post("/api/v1/meetings", json=meeting_body(svc), headers=svc.auth("sec_b"))
    assert r.status_code == 404 and _slug(r) == "org-not-found"
    r = await svc.client.post("/api/v1/meetings", json=meeting_body(svc), headers=svc.auth("m1"))
    assert r.status_code == 404
    # A committee member of the commune above schedules for the cell.
    meeting = await schedule(svc, who="com1", chair_id=str(w.members["m2"]))
    mid = meeting["id"]
    # A plain invitee sees it but cannot manage it.
    svc.clock.set(START)
    for method, path, body in (
        ("GET", "checkin-code", None),
        ("POST", f"attendance/{w.members['m4']}", {"status": "present"}),
        ("POST", "close", None),
        ("POST", "minutes/sign", None),
        ("POST", "cancel", {"reason_code": "other"}),
        ("PATCH", "", {"location": "Nơi khác"}),
    ):
        url = f"/api/v1/meetings/{mid}/{path}".rstrip("/")
        r = await svc.client.request(method, url, json=body, headers=svc.auth("m1"))
        assert r.status_code == 403, (path, r.text)
    # The chair (m2) and the deputy may; so may the committee member above.
    assert (
        await svc.client.get(f"/api/v1/meetings/{mid}/checkin-code", headers=svc.auth("m2"))
    ).status_code == 200
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/attendance/{w.members['m4']}",
        json={"status": "absent_excused", "reason_code": "cong_tac"},
        headers=svc.auth("dep"),
    )
    assert r.status_code == 200
    r = await svc.client.get(
        "/api/v1/meetings",
        params={"org_id": str(w.orgs["commune"]), "month": "2026-12"},
        headers=svc.auth("com1"),
    )
    assert r.status_code == 200
    [item] = r.json()["items"]
    assert item["id"] == mid and item["counts"]["invited"] == 7
    assert item["counts"]["attended"] == 0
    r = await svc.client.post(f"/api/v1/meetings/{mid}/close", headers=svc.auth("com1"))
    assert r.status_code == 200


async def test_expired_replayed_forged_and_foreign_codes_are_refused(svc: MeetingsApp) -> None:
    a = await schedule(svc)
    b = await schedule(svc, title="Sinh hoạt chuyên đề", kind="thematic")
    svc.clock.set(START)
    code_a, code_b = await _code(svc, a["id"]), await _code(svc, b["id"])

    # Another meeting's code, a forged one, garbage.
    r = await _checkin(svc, a["id"], code_b, "m1")
    assert r.status_code == 422 and _slug(r) == "code-invalid"
    for forged in ("12345678", "abc", "1" * 64, " "):
        r = await _checkin(svc, a["id"], forged, "m1")
        assert r.status_code == 422, forged
        assert _slug(r) in ("code-invalid", "validation-error")

    # The previous step is still accepted; two steps later the code has expired.
    svc.clock.advance(seconds=30)
    r = await _checkin(svc, a["id"], code_a, "m1")
    assert r.status_code == 200
    svc.clock.advance(seconds=30)
    r = await _checkin(svc, a["id"], code_a, "m2")
    assert r.status_code == 422 and _slug(r) == "code-expired"
    # m1 replays their (now expired) code: refused, and no second event.
    r = await _checkin(svc, a["id"], code_a, "m1")
    assert r.status_code == 422 and _slug(r) == "code-expired"
    # A fresh code again for m1: idempotent 200, still one event.
    r = await _checkin(svc, a["id"], await _code(svc, a["id"]), "m1")
    assert r.status_code == 200 and r.json()["already_recorded"] is True
    attendance = [
        e
        for _, e in await svc.outbox()
        if isinstance(e, mev.AttendanceRecorded) and e.member_id == svc.world.members["m1"]
    ]
    assert len(attendance) == 1
    # An exempt member is not checked in.
    r = await _checkin(svc, a["id"], await _code(svc, a["id"]), "ex1")
    assert r.status_code == 409 and _slug(r) == "member-exempt"
    # A manager who is not on the roster can't check in: not invited (404).
    r = await _checkin(svc, a["id"], await _code(svc, a["id"]), "com1")
    assert r.status_code == 404 and _slug(r) == "not-invited"


def test_code_verification_unit() -> None:
    secret, other = checkin.new_secret(), checkin.new_secret()
    mid = uuid.uuid4()
    now = START
    code = checkin.current(secret, mid, now, 30).code
    assert checkin.verify(secret, mid, code, now, 30) is checkin.Verdict.VALID
    assert checkin.verify(secret, mid, code, now + timedelta(seconds=30), 30).name == "VALID"
    assert checkin.verify(secret, mid, code, now + timedelta(seconds=61), 30).name == "EXPIRED"
    assert checkin.verify(secret, uuid.uuid4(), code, now, 30).name == "INVALID"
    assert checkin.verify(other, mid, code, now, 30).name == "INVALID"
    future = checkin.current(secret, mid, now + timedelta(seconds=60), 30).code
    assert checkin.verify(secret, mid, future, now, 30).name == "INVALID"


async def test_checkin_only_inside_the_window(svc: MeetingsApp) -> None:
    meeting = await schedule(svc)
    mid = meeting["id"]
    svc.clock.set(START)
    secret = await svc.pool.fetchval("SELECT checkin_secret FROM meetings WHERE id = $1::uuid", mid)

    # Too early (31 min before the start): a clear refusal with the window in it.
    svc.clock.set(START - timedelta(minutes=31))
    code = checkin.current(secret, uuid.UUID(mid), svc.clock.now, 30).code
    r = await _checkin(svc, mid, code, "m1")
    assert r.status_code == 409 and _slug(r) == "outside-window"
    problem = r.json()
    assert "19:00 04/12/2026" in problem["detail"] and "21:45 04/12/2026" in problem["detail"]
    assert problem["window_opens_at"].startswith("2026-12-04T12:00:00")
    # The secretary's code screen refuses too.
    r = await svc.client.get(f"/api/v1/meetings/{mid}/checkin-code", headers=svc.auth("sec"))
    assert r.status_code == 409
    # Opens 30 min before; within the grace after the end is still fine (and late).
    svc.clock.set(START - timedelta(minutes=30))
    r = await _checkin(svc, mid, await _code(svc, mid), "m1")
    assert r.status_code == 200 and r.json()["status"] == "present"
    svc.clock.set(START + timedelta(hours=2, minutes=15))
    r = await _checkin(svc, mid, await _code(svc, mid), "m2")
    assert r.status_code == 200 and r.json()["status"] == "late"
    svc.clock.set(START + timedelta(hours=2, minutes=15, seconds=1))
    code = checkin.current(secret, uuid.UUID(mid), svc.clock.now, 30).code
    r = await _checkin(svc, mid, code, "m3")
    assert r.status_code == 409 and _slug(r) == "outside-window"


async def test_closed_and_cancelled_meetings_do_not_change(svc: MeetingsApp) -> None:
    meeting = await schedule(svc)
    mid = meeting["id"]
    r = await svc.client.post(f"/api/v1/meetings/{mid}/close", headers=svc.auth("sec"))
    assert r.status_code == 409 and _slug(r) == "meeting-not-started"
    r = await svc.client.post(f"/api/v1/meetings/{mid}/minutes/sign", headers=svc.auth("sec"))
    assert r.status_code == 409 and _slug(r) == "meeting-not-closed"
    svc.clock.set(START + timedelta(hours=3))
    r = await svc.client.post(f"/api/v1/meetings/{mid}/close", headers=svc.auth("sec"))
    assert r.status_code == 200
    assert r.json()["quorum"]["met"] is False  # nobody came
    for method, path, body in (
        ("POST", "close", None),
        ("POST", f"attendance/{svc.world.members['m1']}", {"status": "late"}),
        ("POST", "checkin", {"code": "12345678"}),
        ("POST", "rsvp", {"response": "attending"}),
        ("PATCH", "", {"location": "Nơi khác"}),
        ("POST", "cancel", {"reason_code": "other"}),
    ):
        url = f"/api/v1/meetings/{mid}/{path}".rstrip("/")
        who = "m1" if path in ("checkin", "rsvp") else "sec"
        r = await svc.client.request(method, url, json=body, headers=svc.auth(who))
        assert r.status_code == 409, (path, r.text)
        assert _slug(r) == "meeting-closed"

    other = await schedule(
        svc, starts_at="2026-12-10T19:30:00+07:00", ends_at="2026-12-10T21:00:00+07:00"
    )
    r = await svc.client.post(
        f"/api/v1/meetings/{other['id']}/cancel",
        json={"reason_code": "force_majeure", "note": "Bão số 9"},
        headers=svc.auth("dep"),
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = await svc.client.post(
        f"/api/v1/meetings/{other['id']}/rsvp",
        json={"response": "attending"},
        headers=svc.auth("m1"),
    )
    assert r.status_code == 409 and _slug(r) == "meeting-cancelled"
    [cancelled] = [e for _, e in await svc.outbox() if isinstance(e, mev.MeetingCancelled)]
    assert cancelled.reason_code is mev.CancellationReason.FORCE_MAJEURE
    assert len(cancelled.invitee_member_ids) == 7


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"starts_at": "2026-12-04T19:30:00"}, "starts_at"),  # no timezone
        ({"ends_at": "2026-12-04 21:30"}, "ends_at"),
        ({"starts_at": 1796390000}, "starts_at"),  # a number is not RFC 3339
        ({"starts_at": "04/12/2026 19:30"}, "starts_at"),
        ({"ends_at": "2026-12-04T19:00:00+07:00"}, None),  # end before start
        ({"ends_at": "2026-12-04T19:30:00+07:00"}, None),  # end = start
        ({"ends_at": "2026-12-05T19:30:00+07:00"}, None),  # 24 h
        ({"agenda": ["Mục"] * 10_000}, "agenda"),
        ({"agenda": ["Mục"] * 101}, "agenda"),
        ({"agenda": ["x" * 2_001]}, "agenda"),
        ({"agenda": [""]}, "agenda"),
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"kind": "party"}, "kind"),
        ({"document_ids": ["not-a-uuid"]}, "document_ids"),
        ({"surprise": 1}, "surprise"),
        (
            {"starts_at": "1999-12-04T19:30:00+07:00", "ends_at": "1999-12-04T21:30:00+07:00"},
            "starts_at",
        ),
    ],
)
async def test_bad_schedules_get_a_clear_422(
    svc: MeetingsApp, overrides: dict[str, Any], where: str | None
) -> None:
    r = await svc.client.post(
        "/api/v1/meetings", json=meeting_body(svc, **overrides), headers=svc.auth("sec")
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["title"] == "Dữ liệu không hợp lệ"
    if where is not None:
        assert any(where in e["loc"] for e in problem["errors"]), problem
    assert await svc.pool.fetchval("SELECT count(*) FROM meetings") == 0


async def test_plan_rules(svc: MeetingsApp) -> None:
    w = svc.world
    cases = [
        # in the past
        {"starts_at": "2026-11-04T19:30:00+07:00", "ends_at": "2026-11-04T21:30:00+07:00"},
        # a regular meeting of a committee node that is not a cell
        {"org_id": str(w.orgs["commune"])},
        # chair not on the roster, guest unknown
        {"chair_id": str(w.members["b1"])},
        {"guest_member_ids": ["00000000-0000-4000-8000-000000000001"]},
        # a thematic meeting does not recur
        {"kind": "thematic", "recurrence": {"freq": "monthly"}},
        {"recurrence": {"freq": "monthly", "count": 30}},
    ]
    for overrides in cases:
        who = "com1" if "org_id" in overrides else "sec"
        r = await svc.client.post(
            "/api/v1/meetings", json=meeting_body(svc, **overrides), headers=svc.auth(who)
        )
        assert r.status_code == 422, (overrides, r.text)
        assert _slug(r) == "invalid-plan"


async def test_bad_replies_and_marks(svc: MeetingsApp) -> None:
    meeting = await schedule(svc)
    url = f"/api/v1/meetings/{meeting['id']}"
    for body in (
        {"response": "absent"},  # no reason
        {"response": "absent", "reason_code": "other"},  # "other" needs a note
        {"response": "absent", "reason_code": "om", "note": "x" * 501},
        {"response": "attending", "reason_code": "om"},
        {"response": "maybe"},
    ):
        r = await svc.client.post(f"{url}/rsvp", json=body, headers=svc.auth("m1"))
        assert r.status_code == 422, body
    r = await svc.client.post(
        f"{url}/attendance/{svc.world.members['m1']}",
        json={"status": "present", "reason_code": "om"},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 422
    r = await svc.client.post(
        f"{url}/attendance/{svc.world.members['b1']}",
        json={"status": "absent_unexcused"},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 404 and _slug(r) == "not-invited"
    # Replies close at the start.
    svc.clock.set(START)
    r = await svc.client.post(f"{url}/rsvp", json={"response": "attending"}, headers=svc.auth("m1"))
    assert r.status_code == 409 and _slug(r) == "rsvp-closed"
    # Lists need a scope.
    r = await svc.client.get("/api/v1/meetings", headers=svc.auth("m1"))
    assert r.status_code == 422
    r = await svc.client.get(
        "/api/v1/meetings",
        params={"org_id": str(svc.world.orgs["cell_a"]), "month": "2026-13"},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 422
    r = await svc.client.get(
        "/api/v1/meetings", params={"scope": "mine", "cursor": "@@@"}, headers=svc.auth("m1")
    )
    assert r.status_code == 400
