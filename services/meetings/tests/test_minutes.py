"""The minutes: the unsigned draft stays with those who edit it; once signed they are the
record, without private notes."""

from __future__ import annotations

import io
import unicodedata
from datetime import datetime, timedelta

from pypdf import PdfReader

from .conftest import MeetingsApp, schedule

START = datetime.fromisoformat("2026-12-04T19:30:00+07:00")


async def _closed_meeting_with_a_private_note(svc: MeetingsApp) -> str:
    w = svc.world
    meeting = await schedule(svc, minute_taker_id=str(w.members["m1"]))
    mid = meeting["id"]
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/rsvp",
        json={"response": "absent", "reason_code": "om", "note": "Điều trị tại bệnh viện"},
        headers=svc.auth("m3"),
    )
    assert r.status_code == 200, r.text
    r = await svc.client.put(
        f"/api/v1/meetings/{mid}/roster-labels",
        json={"labels": {str(w.members["m3"]): "Hoàng Văn Ba"}},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 200, r.text
    svc.clock.set(START + timedelta(hours=2, minutes=1))
    r = await svc.client.post(f"/api/v1/meetings/{mid}/close", headers=svc.auth("sec"))
    assert r.status_code == 200, r.text
    return str(mid)


async def test_the_unsigned_draft_is_only_for_those_who_edit_it(svc: MeetingsApp) -> None:
    mid = await _closed_meeting_with_a_private_note(svc)
    for who in ("m2", "m3", "ex1"):  # invitees who neither manage nor take the minutes
        r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth(who))
        assert r.status_code == 404, who
        for fmt in ("md", "docx", "pdf"):
            r = await svc.client.get(
                f"/api/v1/meetings/{mid}/minutes/download",
                params={"format": fmt},
                headers=svc.auth(who),
            )
            assert r.status_code == 404, (who, fmt)
    for who in ("sec", "dep", "m1", "com1"):  # managers, the minute-taker, committee above
        r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth(who))
        assert r.status_code == 200, who
    # Also once someone has saved an edited draft.
    r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("m1"))
    r = await svc.client.put(
        f"/api/v1/meetings/{mid}/minutes",
        json={"content": r.json()["content"] + "\nĐã sửa."},
        headers=svc.auth("m1"),
    )
    assert r.status_code == 200
    r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("m2"))
    assert r.status_code == 404


async def test_signed_minutes_are_the_record_without_private_notes(svc: MeetingsApp) -> None:
    mid = await _closed_meeting_with_a_private_note(svc)
    draft = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("sec"))
    text = draft.json()["content"]
    # The reason's code is in the minutes; the member's free-text note is not.
    assert "Hoàng Văn Ba — lý do: ốm" in text
    assert "Điều trị tại bệnh viện" not in text
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/minutes/sign",
        json={"content_sha256": draft.json()["content_sha256"]},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 200, r.text
    for who in ("m2", "m3"):
        r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth(who))
        assert r.status_code == 200 and r.json()["signed"] is True
        assert r.json()["content"] == text
        r = await svc.client.get(
            f"/api/v1/meetings/{mid}/minutes/download",
            params={"format": "md"},
            headers=svc.auth(who),
        )
        assert r.status_code == 200
        assert "Điều trị tại bệnh viện" not in r.text
    # Still outside the roster: 404.
    r = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("b1"))
    assert r.status_code == 404


async def test_the_signed_minutes_pdf_keeps_vietnamese_and_shows_the_hash(svc: MeetingsApp) -> None:
    mid = await _closed_meeting_with_a_private_note(svc)
    draft = await svc.client.get(f"/api/v1/meetings/{mid}/minutes", headers=svc.auth("sec"))
    digest = draft.json()["content_sha256"]
    r = await svc.client.post(
        f"/api/v1/meetings/{mid}/minutes/sign",
        json={"content_sha256": digest},
        headers=svc.auth("sec"),
    )
    assert r.status_code == 200, r.text
    r = await svc.client.get(
        f"/api/v1/meetings/{mid}/minutes/download",
        params={"format": "pdf"},
        headers=svc.auth("m2"),
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].endswith('.pdf"')
    reader = PdfReader(io.BytesIO(r.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    # The font travels inside the PDF: every diacritic comes back as typed (NFC), and the
    # signature line names the content hash the DOCX shows.
    assert text == unicodedata.normalize("NFC", text)
    assert "BIÊN BẢN SINH HOẠT CHI BỘ THƯỜNG KỲ" in text
    assert "Hoàng Văn Ba — lý do: ốm" in text
    assert "Điều trị tại bệnh viện" not in text
    assert digest in text.replace("\n", "")
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()  # type: ignore[union-attr]
    }
    assert any("BeVietnamPro" in f for f in fonts), fonts
