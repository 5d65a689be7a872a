"""People and documents by name: the roster and the minutes draft show members by the name and
card number identity's directory gives them, and attached documents by number and title from
documents' directory — kept in meetings' own projection, and erased when a member leaves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sotay_contracts.events import documents as dev
from sotay_kit import messaging
from sotay_meetings.meetings.consumers import BINDINGS

from .conftest import MeetingsApp, schedule

START = datetime.fromisoformat("2026-12-04T19:30:00+07:00")
NAMES = {
    "sec": ("Nguyễn Văn Bí Thư", "93.000101"),
    "m1": ("Trần Thị Thư Ký", "93.000102"),
    "m2": ("Lê Văn Hai", "93.000103"),
    "m3": ("Hoàng Thị Ba", "93.000104"),
}


async def _document(svc: MeetingsApp, number: str | None, title: str) -> uuid.UUID:
    document_id = uuid.uuid4()
    await svc.publish(
        dev.DocumentDescribed(
            document_id=document_id, version=1, number=number, title=title,
            kind=dev.DocumentKind.RESOLUTION, classification=dev.Classification.INTERNAL,
            owner_org_id=svc.world.orgs["province"], occurred_at=datetime.now(UTC),
        )
    )  # fmt: skip
    binding = BINDINGS[1]
    await messaging.provision(svc.nc.jetstream(), [], [binding.spec])
    assert (await svc.catch_up(binding)).dead_lettered == 0
    return document_id


async def test_roster_and_minutes_name_members_and_documents(svc: MeetingsApp) -> None:
    w = svc.world
    await svc.publish_identity(*(w.described(k, *v) for k, v in NAMES.items()))
    resolution = await _document(svc, "05-NQ/TU", "Nghị quyết về chuyển đổi số năm 2027")
    unknown = uuid.uuid4()  # never described: shown by a placeholder, never a bare id
    meeting = await schedule(
        svc,
        chair_id=str(w.members["sec"]),
        minute_taker_id=str(w.members["m1"]),
        document_ids=[str(resolution), str(unknown)],
    )
    mid = meeting["id"]

    r = await svc.client.get(f"/api/v1/meetings/{mid}", headers=svc.auth("sec"))
    roster = {p["member_id"]: p for p in r.json()["roster"]}
    for key, (name, card) in NAMES.items():
        entry = roster[str(w.members[key])]
        assert (entry["full_name"], entry["card_number"]) == (name, card)
    assert roster[str(w.members["m4"])]["full_name"] is None  # not described (yet)

    # m3 leaves the platform before the meeting is closed: the name is erased everywhere.
    await svc.publish_identity(w.erased("m3"))
    r = await svc.client.get(f"/api/v1/meetings/{mid}", headers=svc.auth("sec"))
    gone = {p["member_id"]: p for p in r.json()["roster"]}[str(w.members["m3"])]
    assert (gone["full_name"], gone["card_number"]) == (None, None)

    svc.clock.set(START + timedelta(hours=2, minutes=1))
    r = await svc.client.post(f"/api/v1/meetings/{mid}/close", headers=svc.auth("sec"))
    assert r.status_code == 200, r.text
    draft = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("sec"))
    text = draft.json()["content"]
    assert "**Chủ trì:** Nguyễn Văn Bí Thư" in text
    assert "**Thư ký:** Trần Thị Thư Ký" in text
    assert "  - Lê Văn Hai" in text
    assert "- 05-NQ/TU Nghị quyết về chuyển đổi số năm 2027" in text
    assert f"- Tài liệu [{str(unknown)[:8]}]" in text
    assert "Hoàng Thị Ba" not in text and f"[Đảng viên {str(w.members['m3'])[:8]}]" in text
    assert str(resolution) not in text
