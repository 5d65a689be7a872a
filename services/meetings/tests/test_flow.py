"""A cell's meeting from notice to signed minutes, as the secretary and the members live it."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from datetime import datetime, timedelta

import asyncpg
import docx
import pytest
from sotay_contracts.events import meetings as mev

from .conftest import MeetingsApp, schedule

LABELS = {
    "sec": "Nguyễn Văn Bí Thư",
    "dep": "Trần Thị Phó",
    "m1": "Lê Văn Một",
    "m2": "Phạm Thị Hai",
    "m3": "Hoàng Văn Ba",
    "m4": "Vũ Thị Bốn",
    "ex1": "Đỗ Văn Miễn",
}


async def _code(svc: MeetingsApp, meeting_id: str) -> str:
    r = await svc.client.get(f"/api/v1/meetings/{meeting_id}/checkin-code", headers=svc.auth("sec"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["qr_svg"].startswith("<svg")
    assert body["code"] in body["qr_payload"] and meeting_id in body["qr_payload"]
    assert r.headers["cache-control"] == "no-store"
    return str(body["code"])


async def test_meeting_from_notice_to_signed_minutes(svc: MeetingsApp) -> None:
    w = svc.world
    meeting = await schedule(svc, minute_taker_id=str(w.members["m1"]))
    mid = meeting["id"]
    assert meeting["starts_at"]["utc"] == "2026-12-04T12:30:00Z"
    assert meeting["starts_at"]["local"] == "2026-12-04T19:30:00+07:00"
    assert meeting["chair_id"] == str(w.members["sec"])  # the cell's secretary by default
    assert meeting["counts"] == {
        "invited": 7,
        "exempt": 1,
        "guests": 0,
        "replied_attending": 0,
        "replied_absent": 0,
        "attended": 0,
    }
    standings = {r["member_id"]: r["standing"] for r in meeting["roster"]}
    assert standings[str(w.members["ex1"])] == "exempt"
    assert str(w.members["b1"]) not in standings

    # Replies, before the start.
    for name in ("sec", "m1", "m2", "dep"):
        r = await svc.client.post(
            f"/api/v1/meetings/{mid}/rsvp", json={"response": "attending"}, headers=svc.auth(name)
        )
        assert r.status_code == 200, r.text
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/rsvp",
        json={"response": "absent", "reason_code": "om", "note": "Điều trị tại bệnh viện"},
        headers=svc.auth("m3"),
    )
    assert r.status_code == 200, r.text
    mine = await svc.client.get(
        "/api/v1/meetings", params={"scope": "mine", "when": "upcoming"}, headers=svc.auth("m3")
    )
    assert mine.status_code == 200
    [item] = mine.json()["items"]
    assert item["me"]["rsvp"] == "absent" and item["me"]["rsvp_reason"] == "om"
    assert item["counts"]["replied_attending"] == 4 and item["counts"]["replied_absent"] == 1
    assert item["counts"]["attended"] == 0  # replies are not attendance

    # During the meeting: code check-ins, one late, one marked by the secretary.
    svc.clock.set(datetime.fromisoformat("2026-12-04T19:25:00+07:00"))
    code = await _code(svc, mid)
    for name in ("sec", "m1"):
        r = await svc.client.post(
            f"/api/v1/meetings/{mid}/checkin", json={"code": code}, headers=svc.auth(name)
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "present"
    again = await svc.client.post(
        f"/api/v1/meetings/{mid}/checkin", json={"code": code}, headers=svc.auth("m1")
    )
    assert again.status_code == 200 and again.json()["already_recorded"] is True
    svc.clock.set(datetime.fromisoformat("2026-12-04T19:50:00+07:00"))
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/checkin",
        json={"code": await _code(svc, mid)},
        headers=svc.auth("m2"),
    )
    assert r.status_code == 200 and r.json()["status"] == "late"
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/attendance/{w.members['dep']}",
        json={"status": "present"},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 200 and r.json()["method"] == "marked"
    r = await svc.client.get(f"/api/v1/meetings/{mid}", headers=svc.auth("sec"))
    counts = r.json()["counts"]
    # Attendance (check-ins, late and marked) beside the replies given before the start.
    assert (counts["attended"], counts["replied_attending"], counts["replied_absent"]) == (4, 4, 1)

    # Close: present sec, m1, dep; late m2; excused m3 (replied absent); unexcused m4; exempt ex1.
    svc.clock.set(datetime.fromisoformat("2026-12-04T21:35:00+07:00"))
    r = await svc.client.post(f"/api/v1/meetings/{mid}/close", headers=svc.auth("sec"))
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["status"] == "closed"
    assert closed["tallies"] == {
        "invited": 7,
        "present": 3,
        "late": 1,
        "absent_excused": 1,
        "absent_unexcused": 1,
        "exempt": 1,
        "guests_present": 0,
    }
    # 4 of 6 non-exempt members = exactly 2/3: the quorum is met.
    assert closed["quorum"] == {
        "required_ratio": 0.6667,
        "base": 6,
        "attended": 4,
        "met": True,
    }
    finals = {r["member_id"]: r["final_status"] for r in closed["roster"]}
    assert finals[str(w.members["m4"])] == "absent_unexcused"
    assert finals[str(w.members["m3"])] == "absent_excused"
    assert finals[str(w.members["ex1"])] == "exempt"

    # A closed meeting's attendance cannot change.
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/attendance/{w.members['m4']}",
        json={"status": "present"},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 409 and r.json()["type"].endswith("/meeting-closed")

    # Minutes: names come from the labels the secretary's client stored for this meeting.
    labels = {str(w.members[k]): v for k, v in LABELS.items() if k != "m4"}
    r = await svc.client.put(
        f"/api/v1/meetings/{mid}/roster-labels", json={"labels": labels}, headers=svc.auth("m1")
    )  # m1 is the minute-taker
    assert r.status_code == 200 and r.json()["labelled"] == 6
    r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("m1"))
    assert r.status_code == 200
    minutes = r.json()
    assert minutes["state"] == "generated"
    text = minutes["content"]
    present_part = text.split("- Có mặt")[1].split("- Vắng có lý do")[0]
    excused_part = text.split("- Vắng có lý do")[1].split("- Vắng không có lý do")[0]
    unexcused_part = text.split("- Vắng không có lý do")[1].split("- Miễn sinh hoạt")[0]
    for name in ("sec", "dep", "m1"):
        assert LABELS[name] in present_part
    assert "Phạm Thị Hai (đến muộn)" in present_part
    # The reason by its code; the member's private note stays out of the minutes.
    assert "Hoàng Văn Ba — lý do: ốm" in excused_part
    assert "Điều trị tại bệnh viện" not in text
    assert f"[Đảng viên {str(w.members['m4'])[:8]}]" in unexcused_part  # no label: placeholder
    assert "Chủ trì:** Nguyễn Văn Bí Thư" in text and "Thư ký:** Lê Văn Một" in text
    assert "Triển khai nghị quyết" in text
    # A document documents' directory has not described: a short placeholder to edit.
    assert f"- Tài liệu [{meeting['document_ids'][0][:8]}]" in text
    assert "đủ số lượng" in text

    edited = text.replace(
        "_(Thư ký ghi diễn biến, ý kiến phát biểu và kết luận của cuộc họp tại đây.)_",
        "Chi bộ thống nhất triển khai nghị quyết trong tháng 12.",
    )
    r = await svc.client.put(
        f"/api/v1/meetings/{mid}/minutes", json={"content": edited}, headers=svc.auth("m1")
    )
    assert r.status_code == 200 and r.json()["state"] == "edited"
    digest = hashlib.sha256(edited.encode()).hexdigest()
    assert r.json()["content_sha256"] == digest

    # The minute-taker may edit but not sign; the secretary signs what they read.
    r = await svc.client.post(f"/api/v1/meetings/{mid}/minutes/sign", headers=svc.auth("m1"))
    assert r.status_code == 403
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/minutes/sign",
        json={"content_sha256": "0" * 64},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 409 and r.json()["type"].endswith("/minutes-changed")
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/minutes/sign",
        json={"content_sha256": digest},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 200, r.text
    signed = r.json()
    assert signed["signed"] is True and signed["content_sha256"] == digest

    # Signed: immutable.
    r = await svc.client.put(
        f"/api/v1/meetings/{mid}/minutes", json={"content": edited + "x"}, headers=svc.auth("sec")
    )
    assert r.status_code == 409 and r.json()["type"].endswith("/minutes-signed")
    r = await svc.client.post(f"/api/v1/meetings/{mid}/minutes/sign", headers=svc.auth("sec"))
    assert r.status_code == 409
    r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("m4"))
    assert r.json()["content"] == edited and r.json()["content_sha256"] == digest
    # Signing is a sensitive action: it is in the hash-chained audit log, once.
    signed = await svc.pool.fetch(
        "SELECT target, details->>'content_sha256' FROM audit_log "
        "WHERE action = 'meetings.minutes_signed'"
    )
    assert [tuple(r) for r in signed] == [(str(mid), digest)]

    # The DOCX download names the present and the absent members.
    r = await svc.client.get(
        f"/api/v1/meetings/{mid}/minutes/download",
        params={"format": "docx"},
        headers=svc.auth("m2"),
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["content-disposition"]
    document = docx.Document(io.BytesIO(r.content))
    body = "\n".join(p.text for p in document.paragraphs)
    for name in ("sec", "dep", "m1", "m3"):
        assert LABELS[name] in body
    assert "Chi bộ thống nhất triển khai nghị quyết" in body
    assert digest in body

    # Every step's event is in the outbox as a valid CloudEvent, without personal data.
    events = await svc.outbox()
    types = [e.__class__ for _, e in events]
    assert types.count(mev.MeetingScheduled) == 1
    assert types.count(mev.RsvpRecorded) == 5
    assert types.count(mev.AttendanceRecorded) == 4  # sec, m1, m2 by code (m1 once), dep marked
    assert types.count(mev.MeetingClosed) == 1
    assert types.count(mev.MinutesSigned) == 1
    for ce, event in events:
        assert ce.source == "/services/meetings"
        assert ce.type == event.ce_type()
        uuid.UUID(ce.id)
        data = ce.data.decode()
        for label in LABELS.values():
            assert label not in data
        assert "bệnh viện" not in data  # an absence note never leaves the service
        if not isinstance(event, mev.MeetingScheduled):
            # The meeting's title and place travel with its plan only (for notifications).
            assert "Nhà văn hóa" not in data and "tháng 12" not in data
    [closed_event] = [e for _, e in events if isinstance(e, mev.MeetingClosed)]
    assert (closed_event.invited, closed_event.present, closed_event.late) == (7, 3, 1)
    assert closed_event.quorum_met is True
    [m3_rsvp] = [
        e for _, e in events if isinstance(e, mev.RsvpRecorded) and e.member_id == w.members["m3"]
    ]
    assert m3_rsvp.reason_code is mev.AbsenceReason.PERSONAL  # "ốm" never leaves the service
    [signed_event] = [e for _, e in events if isinstance(e, mev.MinutesSigned)]
    assert signed_event.content_sha256 == digest
    late = [
        e
        for _, e in events
        if isinstance(e, mev.AttendanceRecorded) and e.member_id == w.members["m2"]
    ]
    assert late[0].status is mev.AttendanceStatus.LATE
    assert json.loads(events[0][0].data)["invitee_member_ids"]


async def test_signed_minutes_are_frozen_in_the_database_too(svc: MeetingsApp) -> None:
    meeting = await schedule(svc)
    svc.clock.set(datetime.fromisoformat(meeting["ends_at"]["utc"]) + timedelta(minutes=1))
    r = await svc.client.post(f"/api/v1/meetings/{meeting['id']}/close", headers=svc.auth("sec"))
    assert r.status_code == 200
    r = await svc.client.post(
        f"/api/v1/meetings/{meeting['id']}/minutes/sign", headers=svc.auth("dep")
    )
    assert r.status_code == 200, r.text
    async with svc.pool.acquire() as conn:
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE meeting_minutes SET content = 'sửa lén'")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("DELETE FROM meeting_minutes")
