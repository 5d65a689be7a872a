"""Consultation on a draft (lấy ý kiến góp ý dự thảo): a committee opens a document version for
comments by one subtree until a deadline; members comment per section or on the whole and see
only their own comments with the replies; the committee sees who wrote what, by section and by
cell, replies, records dispositions and exports the summary."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import docx
import openpyxl
import pytest
from sotay_contracts import new_cloud_event
from sotay_contracts.events import identity as ev
from sotay_kit.clock import current_time
from sotay_kit.testing.harness import TestClock

from .conftest import MEMBERS, Env, wait_until

DRAFT_LINES = [
    "DỰ THẢO NGHỊ QUYẾT",
    "I. TÌNH HÌNH VÀ NGUYÊN NHÂN",
    "Trong nhiệm kỳ qua, công tác xây dựng Đảng đã đạt",
    "nhiều kết quả quan trọng.",
    "II. MỤC TIÊU VÀ NHIỆM VỤ",
    "Nâng cao chất lượng sinh hoạt chi bộ.",
]
NAMES = {
    "member_a1a_1": ("Nguyễn Thị Hoa", "93.000011"),
    "member_a1b": ("Lê Văn Cường", "93.000021"),
    "secretary_a1a": ("Phạm Thị Dung", "93.000001"),
}
BASE = "/api/v1/documents/consultations"


@pytest.fixture
def clock(env: Env) -> TestClock:
    clock = TestClock(datetime.now(UTC).replace(microsecond=0))
    env.app.dependency_overrides[current_time] = clock
    return clock


async def _describe(env: Env) -> None:
    js = env.nc.jetstream()
    now = datetime.now(UTC)
    for name, (full_name, card) in NAMES.items():
        cell = MEMBERS[name][0]
        e = ev.MemberDescribed(
            member_id=env.member_ids[name], full_name=full_name, card_number=card,
            cell_id=env.org_ids[cell], org_path=env.path(cell), revision=1, occurred_at=now,
        )  # fmt: skip
        ce = new_cloud_event(e)
        await js.publish(ce.nats_subject, ce.data, headers=ce.to_nats_headers())

    async def named() -> bool:
        n = await env.pool.fetchval(
            "SELECT count(*) FROM idp_member_names WHERE full_name IS NOT NULL"
        )
        return bool(n == len(NAMES))

    await wait_until(named, "the directory's names")


async def _open(env: Env, pdf: Any, clock: TestClock, org: str = "commune_a1", **body: Any) -> Any:
    doc = await env.upload("admin", pdf(DRAFT_LINES), "du-thao.pdf", title="Dự thảo nghị quyết")
    r = await env.client.post(
        BASE,
        json={
            "document_id": doc["id"],
            "org_id": str(env.org_ids[org]),
            "title": "Góp ý dự thảo Nghị quyết Đại hội",
            "purpose": "Lấy ý kiến đảng viên trước Đại hội",
            "deadline": (clock.now + timedelta(days=7)).isoformat(),
            **body,
        },
        headers=env.auth("admin"),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _comment(env: Env, who: str, cid: str, text: str, section: str | None = None) -> Any:
    r = await env.client.post(
        f"{BASE}/{cid}/comments", json={"section": section, "text": text}, headers=env.auth(who)
    )
    return r


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    return body


async def test_members_comment_per_section_and_the_committee_sees_who_wrote_what(
    env: Env, pdf: Any, clock: TestClock
) -> None:
    await _describe(env)
    c = await _open(env, pdf, clock)
    cid = c["id"]
    assert c["status"] == "open" and c["can_manage"]
    anchors = {s["title"]: s["anchor"] for s in c["sections"]}
    assert list(anchors) == [
        "DỰ THẢO NGHỊ QUYẾT",
        "I. TÌNH HÌNH VÀ NGUYÊN NHÂN",
        "II. MỤC TIÊU VÀ NHIỆM VỤ",
    ]
    s1, s2 = anchors["I. TÌNH HÌNH VÀ NGUYÊN NHÂN"], anchors["II. MỤC TIÊU VÀ NHIỆM VỤ"]

    # The member finds it among the consultations open to them, and reads the draft with its
    # section anchors.
    listed = await env.client.get(BASE, headers=env.auth("member_a1a_1"))
    assert [x["id"] for x in listed.json()] == [cid]
    assert listed.json()[0]["can_comment"] and not listed.json()[0]["can_manage"]
    assert listed.json()[0]["comments"] is None  # counts are the committee's
    text = await env.client.get(f"{BASE}/{cid}/text", headers=env.auth("member_a1a_1"))
    assert text.status_code == 200, text.text
    headings = [(b["text"], b["anchor"]) for b in text.json()["blocks"] if b["kind"] == "heading"]
    assert (("I. TÌNH HÌNH VÀ NGUYÊN NHÂN", s1)) in headings
    assert all(b["anchor"] is None for b in text.json()["blocks"] if b["kind"] == "paragraph")

    # Comments from two cells, per section and on the whole; the text is stored NFC.
    decomposed = "Đề nghi\u0323 bổ sung số liệu"
    r = await _comment(env, "member_a1a_1", cid, decomposed, s1)
    assert r.status_code == 201, r.text
    assert r.json()["text"] == "Đề nghị bổ sung số liệu"
    assert r.json()["section_title"] == "I. TÌNH HÌNH VÀ NGUYÊN NHÂN"
    hoa = r.json()["id"]
    assert (await _comment(env, "member_a1a_1", cid, "Dự thảo còn dài", None)).status_code == 201
    r = await _comment(env, "member_a1b", cid, "Cần mục tiêu cụ thể hơn\ncho chi bộ thôn", s2)
    assert r.status_code == 201, r.text
    cuong = r.json()["id"]

    # A member sees only their own comments.
    mine = await env.client.get(f"{BASE}/{cid}/comments/mine", headers=env.auth("member_a1b"))
    assert [k["text"] for k in mine.json()] == ["Cần mục tiêu cụ thể hơn\ncho chi bộ thôn"]
    assert "author_name" not in mine.json()[0]
    # ... and not the committee's list, even as the secretary of a cell in the subtree.
    for who in ("member_a1b", "secretary_a1a"):
        _problem(await env.client.get(f"{BASE}/{cid}/comments", headers=env.auth(who)), 403)
        _problem(await env.client.get(f"{BASE}/{cid}/summary", headers=env.auth(who)), 403)
        _problem(await env.client.get(f"{BASE}/{cid}/export", headers=env.auth(who)), 403)

    # The committee sees every comment with its author and cell, whole ones first.
    board = await env.client.get(f"{BASE}/{cid}/comments", headers=env.auth("admin"))
    assert board.status_code == 200, board.text
    rows = [(k["section"], k["author_name"], k["cell_title"], k["text"]) for k in board.json()]
    assert rows == [
        (None, "Nguyễn Thị Hoa", "Tổ chức cell_a1a", "Dự thảo còn dài"),
        (s1, "Nguyễn Thị Hoa", "Tổ chức cell_a1a", "Đề nghị bổ sung số liệu"),
        (s2, "Lê Văn Cường", "Tổ chức cell_a1b", "Cần mục tiêu cụ thể hơn\ncho chi bộ thôn"),
    ]
    by_cell = await env.client.get(
        f"{BASE}/{cid}/comments",
        params={"cell_id": str(env.org_ids["cell_a1b"])},
        headers=env.auth("admin"),
    )
    assert [k["id"] for k in by_cell.json()] == [cuong]
    summary = (await env.client.get(f"{BASE}/{cid}/summary", headers=env.auth("admin"))).json()
    assert (summary["total"], summary["members"], summary["whole"]) == (3, 2, 1)
    assert {s["anchor"]: s["comments"] for s in summary["by_section"]} == {
        "s1": 0,
        s1: 1,
        s2: 1,
    }
    assert {(o["cell_title"], o["comments"], o["members"]) for o in summary["by_org"]} == {
        ("Tổ chức cell_a1a", 2, 1),
        ("Tổ chức cell_a1b", 1, 1),
    }

    # Replies and dispositions; not taking a comment into account needs a reason.
    url = f"{BASE}/{cid}/comments/{hoa}/response"
    no_reason = await env.client.put(
        url, json={"reply": "Cảm ơn", "disposition": "rejected"}, headers=env.auth("admin")
    )
    _problem(no_reason, 422)
    r = await env.client.put(
        url,
        json={"reply": "Đã bổ sung số liệu năm 2026", "disposition": "accepted"},
        headers=env.auth("admin"),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["disposition"], r.json()["author_name"]) == ("accepted", "Nguyễn Thị Hoa")
    r = await env.client.put(
        f"{BASE}/{cid}/comments/{cuong}/response",
        json={"reply": "Mục tiêu chung", "disposition": "rejected", "reason": "Đã có ở phần III"},
        headers=env.auth("admin"),
    )
    assert r.status_code == 200, r.text
    # A member cannot respond to comments.
    _problem(
        await env.client.put(url, json={"disposition": "pending"}, headers=env.auth("member_a1b")),
        403,
    )

    # The member sees the reply to their comment.
    mine = await env.client.get(f"{BASE}/{cid}/comments/mine", headers=env.auth("member_a1a_1"))
    replied = next(k for k in mine.json() if k["id"] == hoa)
    assert (replied["reply"], replied["disposition"]) == ("Đã bổ sung số liệu năm 2026", "accepted")

    # Exports: the XLSX and the DOCX carry every comment with its cell, author and handling.
    xlsx = await env.client.get(
        f"{BASE}/{cid}/export", params={"format": "xlsx"}, headers=env.auth("admin")
    )
    assert xlsx.status_code == 200, xlsx.text
    assert "tong-hop-gop-y-gop-y-du-thao-nghi-quyet-dai-hoi" in xlsx.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    values = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    header = ["Mục", "STT", "Chi bộ", "Người góp ý", "Nội dung góp ý", "Xử lý", "Lý do"]
    assert [*header, "Trả lời"] in values
    assert [
        "I. TÌNH HÌNH VÀ NGUYÊN NHÂN", 1, "Tổ chức cell_a1a", "Nguyễn Thị Hoa",
        "Đề nghị bổ sung số liệu", "Tiếp thu", "Đã bổ sung số liệu năm 2026",
    ] in values  # fmt: skip
    assert [
        "II. MỤC TIÊU VÀ NHIỆM VỤ", 1, "Tổ chức cell_a1b", "Lê Văn Cường",
        "Cần mục tiêu cụ thể hơn\ncho chi bộ thôn", "Không tiếp thu", "Đã có ở phần III",
        "Mục tiêu chung",
    ] in values  # fmt: skip
    assert ["I. TÌNH HÌNH VÀ NGUYÊN NHÂN (1 góp ý)"] in values
    docx_r = await env.client.get(
        f"{BASE}/{cid}/export", params={"format": "docx"}, headers=env.auth("admin")
    )
    assert docx_r.status_code == 200, docx_r.text
    document = docx.Document(io.BytesIO(docx_r.content))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Góp ý chung cho toàn văn bản (1 góp ý)" in headings
    assert "II. MỤC TIÊU VÀ NHIỆM VỤ (1 góp ý)" in headings
    cells = [[c.text for c in row.cells] for t in document.tables for row in t.rows]
    assert [
        "1", "Tổ chức cell_a1b", "Lê Văn Cường", "Cần mục tiêu cụ thể hơn\ncho chi bộ thôn",
        "Không tiếp thu: Đã có ở phần III", "Mục tiêu chung",
    ] in cells  # fmt: skip
    _problem(
        await env.client.get(
            f"{BASE}/{cid}/export", params={"format": "pdf"}, headers=env.auth("admin")
        ),
        422,
    )

    # Closing: counts only in the event; opening, closing, exports, reading who wrote what and
    # each reply or disposition are audited, with ids and counts but no names or texts.
    closed = await env.client.post(f"{BASE}/{cid}/close", headers=env.auth("admin"))
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    _problem(await env.client.post(f"{BASE}/{cid}/close", headers=env.auth("admin")), 409)
    events = {ce.type: (ce, e) for ce, e in await env.outbox()}
    opened_ce, opened = events["vn.sotay.documents.consultation.opened.v1"]
    closed_ce, closed_ev = events["vn.sotay.documents.consultation.closed.v1"]
    assert opened_ce.subject == cid and opened.org_path == env.path("commune_a1")
    assert opened.section_count == 3 and opened.audience_size == 5
    # Its title travels (members' notifications name it); comments and names never do.
    assert opened.title == "Góp ý dự thảo Nghị quyết Đại hội"
    assert (closed_ev.contributions, closed_ev.contributors, closed_ev.cells) == (3, 2, 2)
    assert (closed_ev.accepted, closed_ev.rejected, closed_ev.pending) == (1, 1, 1)
    for ce in (opened_ce, closed_ce):
        raw = ce.data.decode()
        for secret in ("Hoa", "Cường", "Đề nghị", "Mục tiêu", "93.0000"):
            assert secret not in raw and json.dumps(secret)[1:-1] not in raw
    assert "Góp ý dự thảo" not in closed_ce.data.decode()
    audited = await env.pool.fetch(
        "SELECT action, actor_id, details FROM audit_log WHERE target = $1 ORDER BY seq", cid
    )
    assert [r["action"] for r in audited] == [
        "documents.consultation_opened",
        "documents.consultation_comments_read",
        "documents.consultation_comments_read",
        "documents.consultation_comment_answered",
        "documents.consultation_comment_answered",
        "documents.consultation_exported",
        "documents.consultation_exported",
        "documents.consultation_closed",
    ]
    assert {r["actor_id"] for r in audited} == {env.member_ids["admin"]}
    details = [d if isinstance(d := r["details"], dict) else json.loads(d) for r in audited]
    assert details[1:5] == [
        {"comments": 3},
        {"comments": 1, "cell_id": str(env.org_ids["cell_a1b"])},
        {"comment_id": hoa, "disposition": "accepted", "replied": True, "reasoned": False},
        {"comment_id": cuong, "disposition": "rejected", "replied": True, "reasoned": True},
    ]
    raw_audit = json.dumps(details, ensure_ascii=False)
    for secret in ("Hoa", "Cường", "Đề nghị", "Đã bổ sung", "Đã có ở phần III", "93.0000"):
        assert secret not in raw_audit


async def test_comments_after_the_deadline_are_refused(
    env: Env, pdf: Any, clock: TestClock
) -> None:
    c = await _open(env, pdf, clock)
    cid = c["id"]
    r = await _comment(env, "member_a1a_1", cid, "Góp ý đúng hạn")
    assert r.status_code == 201
    kept = r.json()["id"]
    clock.advance(days=7, seconds=1)
    late = _problem(await _comment(env, "member_a1a_1", cid, "Góp ý trễ hạn"), 409)
    assert late["title"] == "Đợt lấy ý kiến đã hết hạn góp ý"
    assert "Đã hết hạn góp ý" in late["detail"]
    edit = await env.client.put(
        f"{BASE}/{cid}/comments/{kept}", json={"text": "Sửa"}, headers=env.auth("member_a1a_1")
    )
    _problem(edit, 409)
    withdraw = await env.client.delete(
        f"{BASE}/{cid}/comments/{kept}", headers=env.auth("member_a1a_1")
    )
    _problem(withdraw, 409)
    mine = await env.client.get(f"{BASE}/{cid}/comments/mine", headers=env.auth("member_a1a_1"))
    assert [k["text"] for k in mine.json()] == ["Góp ý đúng hạn"]
    got = await env.client.get(f"{BASE}/{cid}", headers=env.auth("member_a1a_1"))
    assert (got.json()["status"], got.json()["can_comment"]) == ("ended", False)
    # The committee still deals with the comments after the deadline.
    r = await env.client.put(
        f"{BASE}/{cid}/comments/{kept}/response",
        json={"reply": "Đã tiếp thu", "disposition": "accepted"},
        headers=env.auth("admin"),
    )
    assert r.status_code == 200, r.text


async def test_a_member_edits_and_withdraws_their_own_comment(
    env: Env, pdf: Any, clock: TestClock
) -> None:
    cid = (await _open(env, pdf, clock))["id"]
    mine = (await _comment(env, "member_a1a_1", cid, "Bản đầu")).json()["id"]
    other = (await _comment(env, "member_a1a_2", cid, "Của đồng chí khác")).json()["id"]
    clock.advance(hours=1)
    r = await env.client.put(
        f"{BASE}/{cid}/comments/{mine}", json={"text": "Bản sửa"}, headers=env.auth("member_a1a_1")
    )
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "Bản sửa" and r.json()["updated_at"] > r.json()["created_at"]
    # Someone else's comment is not theirs to touch: as if it did not exist.
    for method in ("put", "delete"):
        kwargs: dict[str, Any] = {"json": {"text": "X"}} if method == "put" else {}
        r = await getattr(env.client, method)(
            f"{BASE}/{cid}/comments/{other}", headers=env.auth("member_a1a_1"), **kwargs
        )
        _problem(r, 404)
    r = await env.client.delete(f"{BASE}/{cid}/comments/{mine}", headers=env.auth("member_a1a_1"))
    assert r.status_code == 204
    left = await env.client.get(f"{BASE}/{cid}/comments", headers=env.auth("admin"))
    assert [k["text"] for k in left.json()] == ["Của đồng chí khác"]


async def test_bad_input_is_refused_and_changes_nothing(
    env: Env, pdf: Any, clock: TestClock
) -> None:
    cid = (await _open(env, pdf, clock))["id"]
    url = f"{BASE}/{cid}/comments"
    member = env.auth("member_a1a_1")
    unknown = _problem(await _comment(env, "member_a1a_1", cid, "Mục lạ", "s99"), 422)
    assert unknown["title"] == "Mục được góp ý không có trong dự thảo"
    for body in (
        {"section": "I. TÌNH HÌNH", "text": "Mốc không hợp lệ"},
        {"text": ""},
        {"text": "   "},
        {"text": "x" * 4001},
        {"text": "có ký tự\x00điều khiển"},
        {"text": "ok", "member_id": "00000000-0000-0000-0000-000000000000"},
    ):
        _problem(await env.client.post(url, json=body, headers=member), 422)
    assert (await _comment(env, "member_a1a_1", cid, "x" * 4000)).status_code == 201
    assert await env.pool.fetchval("SELECT count(*) FROM consultation_comments") == 1

    doc = (await env.client.get(f"{BASE}/{cid}", headers=env.auth("admin"))).json()["document_id"]
    admin = env.auth("admin")
    good = {
        "document_id": doc,
        "org_id": str(env.org_ids["commune_a1"]),
        "title": "Góp ý",
        "deadline": (clock.now + timedelta(days=1)).isoformat(),
    }
    past = good | {"deadline": (clock.now - timedelta(minutes=1)).isoformat()}
    assert (
        "tương lai"
        in _problem(await env.client.post(BASE, json=past, headers=admin), 422)["detail"]
    )
    far = good | {"deadline": "9999-12-31T23:59:59-14:00"}
    assert (
        "một năm" in _problem(await env.client.post(BASE, json=far, headers=admin), 422)["detail"]
    )
    naive = good | {"deadline": "2027-01-01T08:00:00"}
    _problem(await env.client.post(BASE, json=naive, headers=admin), 422)
    _problem(await env.client.post(BASE, json=good | {"title": " "}, headers=admin), 422)
    _problem(await env.client.post(BASE, json=good | {"version": 9}, headers=admin), 404)
    # A member cannot open one; a cell secretary cannot open one above their cell.
    _problem(await env.client.post(BASE, json=good, headers=env.auth("member_a1a_1")), 403)
    _problem(await env.client.post(BASE, json=good, headers=env.auth("secretary_b1")), 404)
    assert await env.pool.fetchval("SELECT count(*) FROM consultations") == 1


async def test_comments_do_not_wait_for_each_other_but_closing_waits_for_them(
    env: Env, pdf: Any, clock: TestClock
) -> None:
    cid = (await _open(env, pdf, clock))["id"]

    async def close_waits_for_a_lock() -> bool:
        n = await env.pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%FROM consultations WHERE id = $1 FOR UPDATE%'"
        )
        return bool(n)

    async with env.pool.acquire() as other, other.transaction():
        # Another member's comment in flight holds the consultation as a comment does.
        await other.execute("SELECT 1 FROM consultations WHERE id = $1 FOR SHARE", uuid.UUID(cid))
        added = await asyncio.wait_for(_comment(env, "member_a1a_1", cid, "Không phải chờ"), 10)
        assert added.status_code == 201, added.text
        kept = added.json()["id"]
        edited = await asyncio.wait_for(
            env.client.put(
                f"{BASE}/{cid}/comments/{kept}",
                json={"text": "Sửa không phải chờ"},
                headers=env.auth("member_a1a_1"),
            ),
            10,
        )
        assert edited.status_code == 200, edited.text
        # Closing cannot slip in while a comment is being written.
        closing = asyncio.create_task(
            env.client.post(f"{BASE}/{cid}/close", headers=env.auth("admin"))
        )
        await wait_until(close_waits_for_a_lock, "closing to wait for the comment")
        assert not closing.done()
    closed = await asyncio.wait_for(closing, 10)
    assert closed.status_code == 200, closed.text
    _problem(await _comment(env, "member_a1a_1", cid, "Sau khi kết thúc"), 409)


async def test_a_comment_holding_a_noncharacter_or_a_lone_surrogate_is_refused(
    env: Env, pdf: Any, clock: TestClock
) -> None:
    # Neither fits in XML (the DOCX/XLSX exports) and a lone surrogate cannot be stored as
    # UTF-8: refused on the way in like a control character, never a 500 later.
    cid = (await _open(env, pdf, clock))["id"]
    url = f"{BASE}/{cid}/comments"
    member = env.auth("member_a1a_1") | {"content-type": "application/json"}
    for raw in (
        '{"text": "góp ý \\ufffe"}',
        '{"text": "góp ý \\uffff"}',
        '{"text": "góp ý \\ufdd0"}',
        '{"text": "góp ý \\ud800"}',
        '{"text": "góp ý \\udfff hết"}',
        '{"text": "góp ý \\ud83f\\udffe"}',  # U+1FFFE, a noncharacter outside the BMP
    ):
        refused = _problem(await env.client.post(url, content=raw.encode(), headers=member), 422)
        [error] = refused["errors"]
        assert (error["loc"][-1], error["message"]) in {
            ("text", "Chuỗi chứa ký tự điều khiển"),  # a noncharacter: refused by kit's text rule
            ("text", "Chuỗi chứa ký tự không hợp lệ"),  # a lone surrogate: by the JSON decoding
        }, raw
    assert await env.pool.fetchval("SELECT count(*) FROM consultation_comments") == 0
    kept = (await _comment(env, "member_a1a_1", cid, "Góp ý hợp lệ")).json()["id"]
    edit = await env.client.put(
        f"{url}/{kept}", content='{"text": "sửa \\ud800"}'.encode(), headers=member
    )
    _problem(edit, 422)
    reply = await env.client.put(
        f"{url}/{kept}/response",
        content='{"reply": "trả lời \\ufffe", "disposition": "accepted"}'.encode(),
        headers=env.auth("admin") | {"content-type": "application/json"},
    )
    _problem(reply, 422)
    assert [tuple(r) for r in await env.pool.fetch(
        "SELECT body, reply FROM consultation_comments"
    )] == [("Góp ý hợp lệ", None)]  # fmt: skip
    xlsx = await env.client.get(
        f"{BASE}/{cid}/export", params={"format": "xlsx"}, headers=env.auth("admin")
    )
    assert xlsx.status_code == 200, xlsx.text


async def test_outside_the_subtree_a_consultation_does_not_exist(
    env: Env, pdf: Any, clock: TestClock
) -> None:
    cid = (await _open(env, pdf, clock))["id"]
    hoa = (await _comment(env, "member_a1a_1", cid, "Góp ý của Hoa")).json()["id"]
    outsider = env.auth("member_b1")
    assert (await env.client.get(BASE, headers=outsider)).json() == []
    for path in ("", "/text", "/comments/mine", "/comments", "/summary", "/export"):
        _problem(await env.client.get(f"{BASE}/{cid}{path}", headers=outsider), 404)
    _problem(await _comment(env, "member_b1", cid, "Tôi cũng góp ý"), 404)
    for method in ("put", "delete"):
        kwargs: dict[str, Any] = {"json": {"text": "X"}} if method == "put" else {}
        r = await getattr(env.client, method)(
            f"{BASE}/{cid}/comments/{hoa}", headers=outsider, **kwargs
        )
        _problem(r, 404)
    # Nor for the secretary of another district's cell, who publishes only there.
    secretary = env.auth("secretary_b1")
    _problem(await env.client.get(f"{BASE}/{cid}/comments", headers=secretary), 404)
    _problem(await env.client.post(f"{BASE}/{cid}/close", headers=secretary), 404)
    assert await env.pool.fetchval("SELECT count(*) FROM consultation_comments") == 1


async def test_a_comment_that_looks_like_a_formula_stays_text_in_the_spreadsheet(
    env: Env, pdf: Any, clock: TestClock
) -> None:
    cid = (await _open(env, pdf, clock))["id"]
    formula = '=HYPERLINK("http://example.com","Bấm vào")'
    assert (await _comment(env, "member_a1b", cid, formula)).status_code == 201
    xlsx = await env.client.get(f"{BASE}/{cid}/export", headers=env.auth("admin"))
    assert xlsx.status_code == 200, xlsx.text
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    [cell] = [c for row in sheet.iter_rows() for c in row if c.value == formula]
    assert cell.data_type == "s"  # a string, never evaluated


async def _publish(env: Env, event: Any) -> None:
    ce = new_cloud_event(event)
    await env.nc.jetstream().publish(ce.nats_subject, ce.data, headers=ce.to_nats_headers())


async def test_a_deactivated_member_can_no_longer_comment(
    env: Env, pdf: Any, clock: TestClock
) -> None:
    cid = (await _open(env, pdf, clock))["id"]
    await _publish(
        env,
        ev.MemberDeactivated(
            member_id=env.member_ids["member_a1a_2"], cell_id=env.org_ids["cell_a1a"],
            org_path=env.path("cell_a1a"), reason_code=ev.DeactivationReason.DECEASED,
            effective_on=clock.now.date(), revision=2, occurred_at=clock.now,
        ),
    )  # fmt: skip

    async def deactivated() -> bool:
        status = await env.pool.fetchval(
            "SELECT status FROM idp_members WHERE member_id = $1", env.member_ids["member_a1a_2"]
        )
        return bool(status != "active")

    await wait_until(deactivated, "the deactivation in the projection")
    # A token issued before the deactivation still reads, but a comment is refused.
    _problem(await _comment(env, "member_a1a_2", cid, "Góp ý"), 403)
    assert await env.pool.fetchval("SELECT count(*) FROM consultation_comments") == 0


async def test_an_org_move_carries_the_consultation_and_its_comments(
    env: Env, pdf: Any, clock: TestClock
) -> None:
    cid = (await _open(env, pdf, clock))["id"]
    assert (await _comment(env, "member_a1a_1", cid, "Trước khi chuyển")).status_code == 201
    await _publish(
        env,
        ev.OrgMoved(
            org_id=env.org_ids["commune_a1"], old_parent_id=env.org_ids["district_a"],
            new_parent_id=env.org_ids["district_b"], old_path="1.2.3", new_path="1.6.3",
            revision=2, occurred_at=clock.now,
        ),
    )  # fmt: skip

    async def moved() -> bool:
        row = await env.pool.fetchrow(
            "SELECT c.org_path, k.cell_path FROM consultations c "
            "JOIN consultation_comments k ON k.consultation_id = c.id"
        )
        return bool(row["org_path"] == "1.6.3" and row["cell_path"] == "1.6.3.4")

    await wait_until(moved, "the consultation's paths to move")
    # The member, now under district_b, still sees and comments on it.
    moved_member = env.auth("member_a1a_1", org_path="1.6.3.4")
    r = await env.client.post(
        f"{BASE}/{cid}/comments", json={"text": "Sau khi chuyển"}, headers=moved_member
    )
    assert r.status_code == 201, r.text
    mine = await env.client.get(f"{BASE}/{cid}/comments/mine", headers=moved_member)
    assert [k["text"] for k in mine.json()] == ["Trước khi chuyển", "Sau khi chuyển"]
