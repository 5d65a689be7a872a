"""Meetings through the gateway with the demo province (issue 5's acceptance path).

The demo cell's secretary schedules next month's regular meeting with a document attached, and
members reply. A meeting next month cannot be checked into today, so the same secretary also
holds a meeting that starts a few seconds from now — its check-in window (which opens 30 min
before the start) is already open, replies are still accepted, and the close is possible once
the start has passed (a bounded wait of about ten seconds). On that meeting the members reply,
check in with the rotating code, the secretary marks the members who cannot log in (the demo
gives passwords only to the admin, the secretary and one member), closes it with tallies and
quorum, labels the roster, downloads the minutes as DOCX (read back with python-docx: the
present and absent members are named), signs them, and every later change is refused. Every
step's event is on NATS as a valid CloudEvent that names nobody."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import docx
import httpx
import pytest
from sotay_contracts.events import meetings as mev

from .conftest import (
    Platform,
    a_cell_outside,
    all_pages,
    events_on_nats,
    make_pdf,
    new_member,
    wait_until,
)

pytestmark = pytest.mark.e2e

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
MEETINGS = "/api/v1/meetings"
START_IN = timedelta(seconds=10)  # replies need a future start; closing needs a past one


def _next_month_4th_1930() -> datetime:
    today = datetime.now(HANOI)
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return datetime(year, month, 4, 19, 30, tzinfo=HANOI)


def _problem(r: httpx.Response, status: int, slug: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith(f"/{slug}"), r.text


def _sections(document: Any) -> dict[str, list[str]]:
    """The minutes' attendance groups as the DOCX shows them: "Có mặt: 3" (a List Bullet
    paragraph) followed by one List Bullet 2 paragraph per person."""
    groups: dict[str, list[str]] = {}
    current: list[str] | None = None
    for p in document.paragraphs:
        style = p.style.name if p.style is not None else ""
        if style == "List Bullet" and ":" in p.text:
            title, _, count = p.text.rpartition(":")
            current = groups.setdefault(title.strip(), [])
            groups[f"{title.strip()}#"] = [count.strip()]
        elif style == "List Bullet 2" and current is not None:
            current.append(p.text)
        else:
            current = None
    return groups


async def test_meeting_from_notice_to_signed_minutes(platform: Platform) -> None:
    creds = platform.credentials
    cell_id = creds["orgs"]["cell_id"]
    secretary_id = creds["secretary"]["member_id"]
    member_id = creds["member"]["member_id"]
    secretary = await platform.auth("secretary")
    member = await platform.auth("member")

    async with platform.client() as client:
        # ── the notice: next month's regular meeting, with a document attached ─────────────
        r = await client.post(
            "/api/v1/documents",
            data={
                "title": "Tài liệu sinh hoạt chi bộ tháng tới",
                "kind": "study_material",
                "classification": "internal",
                "org_id": cell_id,
            },
            files={
                "file": (
                    "tai-lieu.pdf",
                    make_pdf(["Tài liệu sinh hoạt chi bộ", "Chuyên đề học tập và làm theo"]),
                    "application/pdf",
                )
            },
            headers=secretary,
        )
        assert r.status_code == 201, r.text
        document_id = r.json()["id"]
        r = await client.post(
            f"/api/v1/documents/{document_id}/publish",
            json={"org_ids": [cell_id]},
            headers=secretary,
        )
        assert r.status_code == 201, r.text

        next_start = _next_month_4th_1930()
        plan = {
            "org_id": cell_id,
            "kind": "regular",
            "title": "Sinh hoạt chi bộ thường kỳ tháng tới",
            "starts_at": next_start.isoformat(),
            "ends_at": (next_start + timedelta(hours=2)).isoformat(),
            "location": "Nhà văn hóa thôn",
            "agenda": ["Thông báo thời sự", "Kiểm điểm công tác tháng", "Nhiệm vụ tháng tới"],
            "document_ids": [document_id],
        }
        r = await client.post(MEETINGS, json=plan, headers=secretary)
        assert r.status_code == 201, r.text
        [later] = r.json()["meetings"]
        later_id = later["id"]
        assert later["starts_at"]["local"] == next_start.isoformat()
        assert later["starts_at"]["timezone"] == "Asia/Ho_Chi_Minh"
        assert datetime.fromisoformat(later["starts_at"]["utc"]) == next_start.astimezone(UTC)
        assert later["document_ids"] == [document_id]
        # The chair is by default a secretary of the cell (identity's secretaries, by role).
        r = await client.get(f"/api/v1/orgs/{cell_id}/secretaries", headers=secretary)
        assert r.status_code == 200, r.text
        secretaries = {s["member_id"] for s in r.json()["items"] if s["role"] == "cell_secretary"}
        assert secretary_id in secretaries
        assert later["chair_id"] in secretaries
        assert later["status"] == "scheduled" and later["can_manage"] is True
        roster = {i["member_id"]: i["standing"] for i in later["roster"]}
        assert roster[secretary_id] == roster[member_id] == "member"

        # The roster is the cell's members as identity lists them (the meetings service's
        # projection of identity may still be catching up just after the stack started).
        on_roll = await all_pages(client, f"/api/v1/orgs/{cell_id}/members", secretary)
        names = {m["id"]: m["full_name"] for m in on_roll}
        expected = {m["id"] for m in on_roll if m["status"] in ("active", "exempt")}

        async def roster_complete() -> bool:
            if set(roster) == expected:
                return True
            r = await client.patch(
                f"{MEETINGS}/{later_id}", json={"refresh_roster": True}, headers=secretary
            )
            assert r.status_code == 200, r.text
            roster.clear()
            roster.update({i["member_id"]: i["standing"] for i in r.json()["roster"]})
            return set(roster) == expected

        await wait_until(roster_complete, "the meeting's roster to be the cell's members")

        # The member sees the notice (without the roster) and the attached document, and
        # replies: away on business. The secretary will attend.
        r = await client.get(f"{MEETINGS}/{later_id}", headers=member)
        assert r.status_code == 200, r.text
        assert r.json()["roster"] is None and r.json()["me"]["standing"] == "member"
        r = await client.get(f"/api/v1/documents/{document_id}", headers=member)
        assert r.status_code == 200, r.text
        r = await client.post(
            f"{MEETINGS}/{later_id}/rsvp",
            json={"response": "absent", "reason_code": "cong_tac", "note": "Đi tập huấn"},
            headers=member,
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"{MEETINGS}/{later_id}/rsvp", json={"response": "attending"}, headers=secretary
        )
        assert r.status_code == 200, r.text
        r = await client.get(f"{MEETINGS}?scope=mine&when=upcoming", headers=member)
        assert r.status_code == 200, r.text
        [listed] = [m for m in r.json()["items"] if m["id"] == later_id]
        assert listed["me"]["rsvp"] == "absent" and listed["me"]["rsvp_reason"] == "cong_tac"
        assert listed["counts"]["replied_absent"] == 1
        assert listed["counts"]["replied_attending"] == 1
        assert listed["counts"]["attended"] == 0
        # Its check-in window is a month away.
        r = await client.get(f"{MEETINGS}/{later_id}/checkin-code", headers=secretary)
        _problem(r, 409, "outside-window")
        opens = datetime.fromisoformat(r.json()["window_opens_at"])
        assert opens == next_start - timedelta(minutes=30)

        # ── a meeting held now: starts in a few seconds, its check-in window already open ──
        starts = (datetime.now(UTC) + START_IN).replace(microsecond=0)
        r = await client.post(
            MEETINGS,
            json={
                **plan,
                "kind": "thematic",
                "title": "Sinh hoạt chuyên đề",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "chair_id": secretary_id,
                "minute_taker_id": member_id,
            },
            headers=secretary,
        )
        assert r.status_code == 201, r.text
        [now_meeting] = r.json()["meetings"]
        mid = now_meeting["id"]
        roster_now = {i["member_id"]: i["standing"] for i in now_meeting["roster"]}
        assert set(roster_now) == expected

        # Replies (until the start).
        for who in (member, secretary):
            r = await client.post(
                f"{MEETINGS}/{mid}/rsvp", json={"response": "attending"}, headers=who
            )
            assert r.status_code == 200, r.text

        # The secretary's screen shows the code; the two members with phones check in with it.
        r = await client.get(f"{MEETINGS}/{mid}/checkin-code", headers=secretary)
        assert r.status_code == 200, r.text
        shown = r.json()
        code = shown["code"]
        assert shown["qr_svg"].startswith("<svg") and code in shown["qr_payload"]
        assert r.headers["cache-control"] == "no-store"
        for who, who_id in ((member, member_id), (secretary, secretary_id)):
            r = await client.post(f"{MEETINGS}/{mid}/checkin", json={"code": code}, headers=who)
            assert r.status_code == 200, r.text
            assert r.json() == {
                **r.json(),
                "member_id": who_id,
                "status": "present",
                "method": "code",
                "already_recorded": False,
            }
        r = await client.post(f"{MEETINGS}/{mid}/checkin", json={"code": code}, headers=member)
        assert r.status_code == 200 and r.json()["already_recorded"] is True  # no second event
        forged = f"{(int(code) + 1) % 10**8:08d}"
        r = await client.post(f"{MEETINGS}/{mid}/checkin", json={"code": forged}, headers=member)
        _problem(r, 422, "code-invalid")
        r = await client.post(f"{MEETINGS}/{mid}/checkin", json={"code": code}, headers=member)
        assert r.json()["already_recorded"] is True

        # A member of another cell can neither see the meeting nor check into it.
        other_cell = await a_cell_outside(platform, client, cell_id)
        outsider = await new_member(platform, client, other_cell["id"], "Lê Văn Chi Bộ Khác")
        r = await client.get(f"{MEETINGS}/{mid}", headers=outsider.auth)
        _problem(r, 404, "meeting-not-found")
        r = await client.post(
            f"{MEETINGS}/{mid}/checkin", json={"code": code}, headers=outsider.auth
        )
        assert r.status_code == 404, r.text

        # The secretary marks those without phones: one present, one late, one absent with a
        # reason (ill), and as many more present as the quorum (2/3) needs; the rest are not
        # marked and end absent without reason.
        others = sorted(m for m, s in roster_now.items() if s == "member")
        others = [m for m in others if m not in (member_id, secretary_id)]
        exempt = [m for m, s in roster_now.items() if s == "exempt"]
        base = len(roster_now) - len(exempt)
        needed = -(-2 * base // 3)  # ceil(2/3 · base): the fewest attending for a quorum
        marked_present, marked_late, excused = others[0], others[1], others[2]
        fillers = others[3 : 3 + max(0, needed - 4)]
        marks = [
            (marked_present, {"status": "present"}),
            (marked_late, {"status": "late"}),
            (excused, {"status": "absent_excused", "reason_code": "om"}),
            *((m, {"status": "present"}) for m in fillers),
        ]
        lanes = asyncio.Semaphore(16)  # a big cell (an import ran before) is marked quickly

        async def mark(target: str, body: dict[str, str]) -> None:
            async with lanes:
                r = await client.post(
                    f"{MEETINGS}/{mid}/attendance/{target}", json=body, headers=secretary
                )
            assert r.status_code == 200, r.text
            assert r.json()["method"] == "marked" and r.json()["status"] == body["status"]

        await asyncio.gather(*(mark(target, body) for target, body in marks))
        present = {member_id, secretary_id, marked_present, *fillers}
        late = {marked_late}
        unexcused = set(others) - present - late - {excused}
        assert unexcused, "the demo cell is too small to leave someone absent"

        # Closing: not before the start; then tallies and quorum are what happened.
        if time.time() < starts.timestamp() - 1:
            r = await client.post(f"{MEETINGS}/{mid}/close", headers=secretary)
            _problem(r, 409, "meeting-not-started")
        closed: dict[str, Any] = {}

        async def close() -> bool:
            r = await client.post(f"{MEETINGS}/{mid}/close", headers=secretary)
            if r.status_code == 409 and r.json()["type"].endswith("/meeting-not-started"):
                return False
            assert r.status_code == 200, r.text
            closed.update(r.json())
            return True

        await wait_until(close, "the meeting's start", timeout=START_IN.total_seconds() + 20)
        assert closed["status"] == "closed"
        assert closed["tallies"] == {
            "invited": len(roster_now),
            "present": len(present),
            "late": 1,
            "absent_excused": 1,
            "absent_unexcused": len(unexcused),
            "exempt": len(exempt),
            "guests_present": 0,
        }
        assert closed["quorum"] == {
            "required_ratio": pytest.approx(2 / 3, abs=1e-4),
            "base": base,
            "attended": len(present) + 1,
            "met": True,
        }
        finals = {i["member_id"]: i["final_status"] for i in closed["roster"]}
        assert {m for m, s in finals.items() if s == "present"} == present
        assert {m for m, s in finals.items() if s == "late"} == late
        assert finals[excused] == "absent_excused"
        assert {m for m, s in finals.items() if s == "absent_unexcused"} == unexcused
        # A closed meeting's attendance cannot change.
        r = await client.post(
            f"{MEETINGS}/{mid}/attendance/{next(iter(unexcused))}",
            json={"status": "present"},
            headers=secretary,
        )
        _problem(r, 409, "meeting-closed")
        r = await client.post(f"{MEETINGS}/{mid}/checkin", json={"code": code}, headers=member)
        _problem(r, 409, "meeting-closed")

        # ── the minutes: names from identity as roster labels, a DOCX naming everyone ──────
        labels = {m: names[m] for m in roster_now}
        r = await client.put(
            f"{MEETINGS}/{mid}/roster-labels", json={"labels": labels}, headers=secretary
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"labelled": len(labels)}
        draft: dict[str, Any] = {}

        async def document_named() -> bool:
            # The published document reaches meetings' directory of documents by its event.
            r = await client.get(f"{MEETINGS}/{mid}/minutes", headers=secretary)
            assert r.status_code == 200, r.text
            draft.update(r.json())
            return "Tài liệu sinh hoạt chi bộ tháng tới" in draft["content"]

        await wait_until(document_named, "the attached document named in the minutes draft")
        assert draft["state"] == "generated" and draft["signed"] is False
        assert document_id not in draft["content"]

        r = await client.get(f"{MEETINGS}/{mid}/minutes/download?format=docx", headers=secretary)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        )
        minutes = docx.Document(io.BytesIO(r.content))
        text = "\n".join(p.text for p in minutes.paragraphs)
        assert f"Chủ trì: {labels[secretary_id]}" in text
        assert f"Thư ký: {labels[member_id]}" in text
        groups = _sections(minutes)
        assert Counter(groups["Có mặt"]) == Counter(
            [labels[m] for m in present] + [f"{labels[marked_late]} (đến muộn)"]
        )
        assert groups["Có mặt#"] == [str(len(present) + 1)]
        assert groups["Vắng có lý do"] == [f"{labels[excused]} — lý do: ốm"]
        assert Counter(groups["Vắng không có lý do"]) == Counter(labels[m] for m in unexcused)
        assert groups["Vắng không có lý do#"] == [str(len(unexcused))]
        assert "cuộc họp đủ số lượng theo quy định" in text

        # ── signed: then nothing changes ──────────────────────────────────────────────────
        r = await client.post(
            f"{MEETINGS}/{mid}/minutes/sign",
            json={"content_sha256": draft["content_sha256"]},
            headers=secretary,
        )
        assert r.status_code == 200, r.text
        signed = r.json()
        assert signed["signed"] is True and signed["state"] == "signed"
        assert signed["content_sha256"] == draft["content_sha256"]
        assert signed["content"] == draft["content"]
        assert signed["signed_by"] == secretary_id
        r = await client.put(
            f"{MEETINGS}/{mid}/minutes", json={"content": "# Sửa sau khi ký"}, headers=secretary
        )
        _problem(r, 409, "minutes-signed")
        r = await client.put(
            f"{MEETINGS}/{mid}/minutes", json={"content": "# Sửa sau khi ký"}, headers=member
        )
        _problem(r, 409, "minutes-signed")  # the minute-taker cannot either
        r = await client.post(f"{MEETINGS}/{mid}/minutes/sign", headers=secretary)
        _problem(r, 409, "minutes-signed")
        r = await client.get(f"{MEETINGS}/{mid}/minutes", headers=member)
        assert r.status_code == 200 and r.json()["content"] == draft["content"]
        r = await client.get(f"{MEETINGS}/{mid}/minutes/download?format=docx", headers=member)
        assert r.status_code == 200, r.text
        last = [p.text for p in docx.Document(io.BytesIO(r.content)).paragraphs if p.text][-1]
        assert draft["content_sha256"] in last

    # ── every step's event is on NATS, as a valid CloudEvent naming nobody ───────────────────
    def on(meeting: str) -> Any:
        return lambda ce, _: ce.subject == meeting

    found = []
    for meeting in (later_id, mid):
        [(ce, scheduled)] = await events_on_nats(
            platform, "meetings.meeting.scheduled.v1", on(meeting)
        )
        assert isinstance(scheduled, mev.MeetingScheduled)
        assert {str(m) for m in scheduled.invitee_member_ids} == expected
        assert scheduled.scheduled_by is not None and str(scheduled.scheduled_by) == secretary_id
        found.append(ce)
    replies = await events_on_nats(platform, "meetings.rsvp.recorded.v1", on(later_id), count=2)
    by_member = {str(e.member_id): e for _, e in replies}
    assert by_member[member_id].response is mev.RsvpResponse.ABSENT
    assert by_member[member_id].reason_code is mev.AbsenceReason.BUSINESS_TRIP
    assert by_member[secretary_id].response is mev.RsvpResponse.ATTENDING
    replies_now = await events_on_nats(platform, "meetings.rsvp.recorded.v1", on(mid), count=2)
    assert {str(e.member_id) for _, e in replies_now} == {member_id, secretary_id}
    records = await events_on_nats(
        platform, "meetings.attendance.recorded.v1", on(mid), count=2 + len(marks)
    )
    recorded = {
        str(e.member_id): (e.status.value, e.method.value, str(e.recorded_by)) for _, e in records
    }
    assert len(recorded) == len(records)  # one event per check-in or mark, none twice
    assert recorded[member_id] == ("present", "code", member_id)
    assert recorded[secretary_id] == ("present", "code", secretary_id)
    for target, body in marks:
        assert recorded[target] == (body["status"], "marked", secretary_id)
    [(ce_closed, closed_event)] = await events_on_nats(
        platform, "meetings.meeting.closed.v1", on(mid)
    )
    assert isinstance(closed_event, mev.MeetingClosed)
    assert (
        closed_event.invited,
        closed_event.present,
        closed_event.late,
        closed_event.absent_excused,
        closed_event.absent_unexcused,
        closed_event.exempt,
        closed_event.quorum_met,
    ) == (len(roster_now), len(present), 1, 1, len(unexcused), len(exempt), True)
    assert closed_event.quorum_required == pytest.approx(0.6667)
    [(ce_signed, signed_event)] = await events_on_nats(
        platform,
        "meetings.minutes.signed.v1",
        lambda _, e: str(e.meeting_id) == mid,  # type: ignore[attr-defined]
    )
    assert isinstance(signed_event, mev.MinutesSigned)
    assert signed_event.content_sha256 == draft["content_sha256"]
    assert str(signed_event.signed_by) == secretary_id

    every = [*found, *(ce for ce, _ in (*replies, *replies_now, *records)), ce_closed, ce_signed]
    plans = {ce.id for ce in found}
    for ce in every:
        data = json.loads(ce.data)
        assert "note" not in data
        if ce.id not in plans:
            # A meeting's title and place travel with its plan only (notifications name them).
            assert "title" not in data and "location" not in data
        text = ce.data.decode()
        for name in labels.values():
            assert name not in text and json.dumps(name)[1:-1] not in text
        assert "Đi tập huấn" not in text and "tap huan" not in text
