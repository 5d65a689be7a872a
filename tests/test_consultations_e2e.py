"""Consultation on a draft through the gateway with the demo province (issue 15, item 3): the
province's admin uploads a draft and opens it for comments by the demo member's commune; the
demo member and a member of another cell of the commune comment per section and on the whole;
a member of another district sees nothing of it; the committee sees who wrote what by section
and by cell, replies, marks dispositions, exports the summary as XLSX and DOCX and closes it;
the member sees the reply; the events are valid CloudEvents without personal data."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import docx
import httpx
import openpyxl
import pytest
from sotay_contracts.events.documents import ConsultationClosed, ConsultationOpened

from .conftest import Platform, a_cell_outside, find_on_nats, make_pdf, new_member, wait_until

pytestmark = pytest.mark.e2e

BASE = "/api/v1/documents/consultations"
DRAFT = [
    "DỰ THẢO BÁO CÁO CHÍNH TRỊ",
    "I. KẾT QUẢ NHIỆM KỲ",
    "Các chi bộ duy trì sinh hoạt định kỳ hằng tháng.",
    "II. PHƯƠNG HƯỚNG NHIỆM KỲ TỚI",
    "Nâng cao chất lượng sinh hoạt chi bộ thôn, bản.",
]


async def _other_cell(
    client: httpx.AsyncClient, admin: dict[str, str], parent: str, not_: str
) -> str:
    r = await client.get(f"/api/v1/orgs/{parent}/children?limit=500", headers=admin)
    assert r.status_code == 200, r.text
    cells = [c["id"] for c in r.json()["items"] if c["kind"] == "cell" and c["id"] != not_]
    assert cells, "the demo commune has a second cell"
    return str(cells[0])


async def test_a_consultation_with_comments_from_two_cells_and_its_summary(
    platform: Platform,
) -> None:
    orgs = platform.credentials["orgs"]
    cell_id = orgs["cell_id"]
    admin = await platform.auth("admin")
    member = await platform.auth("member")
    demo_member = platform.credentials["member"]
    async with platform.client() as client:
        r = await client.get(f"/api/v1/orgs/{cell_id}", headers=admin)
        assert r.status_code == 200, r.text
        commune_id = r.json()["parent_id"]
        other_cell = await _other_cell(client, admin, commune_id, cell_id)
        neighbour = await new_member(platform, client, other_cell, "Đinh Thị Góp Ý")
        outside_cell = await a_cell_outside(platform, client, orgs["district_id"])
        outsider = await new_member(platform, client, outside_cell["id"], "Vũ Văn Ngoài")

        r = await client.post(
            "/api/v1/documents",
            data={"title": "Dự thảo Báo cáo chính trị Đại hội Đảng bộ xã", "kind": "report",
                  "classification": "internal", "org_id": orgs["province_id"]},
            files={"file": ("du-thao-bao-cao.pdf", make_pdf(DRAFT), "application/pdf")},
            headers=admin,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        doc_id = r.json()["id"]

        deadline = (datetime.now(UTC) + timedelta(days=14)).replace(microsecond=0)
        r = await client.post(
            BASE,
            json={
                "document_id": doc_id,
                "org_id": commune_id,
                "title": "Lấy ý kiến dự thảo Báo cáo chính trị",
                "purpose": "Góp ý trước Đại hội Đảng bộ xã",
                "deadline": deadline.isoformat(),
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        c = r.json()
        cid = c["id"]
        sections = {s["title"]: s["anchor"] for s in c["sections"]}
        s1, s2 = sections["I. KẾT QUẢ NHIỆM KỲ"], sections["II. PHƯƠNG HƯỚNG NHIỆM KỲ TỚI"]

        # The two cells' members find it and comment; the outsider sees nothing of it.
        listed = await client.get(BASE, headers=member)
        assert cid in [x["id"] for x in listed.json()]
        text = await client.get(f"{BASE}/{cid}/text", headers=neighbour.auth)
        assert text.status_code == 200, text.text
        assert [b["anchor"] for b in text.json()["blocks"] if b["kind"] == "heading"] == [
            "s1", s1, s2,
        ]  # fmt: skip

        async def comment(who: dict[str, str], body: dict[str, object]) -> str:
            r = await client.post(f"{BASE}/{cid}/comments", json=body, headers=who)
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

        async def neighbour_known_to_documents() -> bool:
            r = await client.post(
                f"{BASE}/{cid}/comments",
                json={"section": s2, "text": "Đề nghị nêu rõ chỉ tiêu cho chi bộ thôn"},
                headers=neighbour.auth,
            )
            assert r.status_code in (201, 403), r.text
            return r.status_code == 201

        await wait_until(neighbour_known_to_documents, "the new member in documents")
        mine = await comment(member, {"section": s1, "text": "Bổ sung số liệu kết nạp đảng viên"})
        await comment(member, {"text": "Dự thảo cần ngắn gọn hơn"})

        assert (await client.get(BASE, headers=outsider.auth)).json() == []
        for path in ("", "/text", "/comments/mine", "/comments"):
            r = await client.get(f"{BASE}/{cid}{path}", headers=outsider.auth)
            assert r.status_code == 404, (path, r.text)
            assert r.headers["content-type"] == "application/problem+json"
        r = await client.post(
            f"{BASE}/{cid}/comments", json={"text": "Tôi ở huyện khác"}, headers=outsider.auth
        )
        assert r.status_code == 404, r.text

        # A member sees only their own comments.
        theirs = await client.get(f"{BASE}/{cid}/comments/mine", headers=neighbour.auth)
        assert [k["text"] for k in theirs.json()] == ["Đề nghị nêu rõ chỉ tiêu cho chi bộ thôn"]

        # The committee: every comment with its author and cell, and counts by cell.
        async def named() -> bool:
            r = await client.get(f"{BASE}/{cid}/comments", headers=admin)
            assert r.status_code == 200, r.text
            return all(k["author_name"] for k in r.json())

        await wait_until(named, "the authors' names in documents")
        board = (await client.get(f"{BASE}/{cid}/comments", headers=admin)).json()
        authors = {k["author_name"] for k in board}
        assert "Đinh Thị Góp Ý" in authors and len(authors) == 2
        assert {k["cell_id"] for k in board} == {cell_id, other_cell}
        summary = (await client.get(f"{BASE}/{cid}/summary", headers=admin)).json()
        assert (summary["total"], summary["members"], summary["whole"]) == (3, 2, 1)
        assert {o["cell_id"]: o["comments"] for o in summary["by_org"]} == {
            cell_id: 2, other_cell: 1,
        }  # fmt: skip

        r = await client.put(
            f"{BASE}/{cid}/comments/{mine}/response",
            json={"reply": "Đã bổ sung vào mục I", "disposition": "accepted"},
            headers=admin,
        )
        assert r.status_code == 200, r.text

        # The exported summary, both formats.
        xlsx = await client.get(f"{BASE}/{cid}/export?format=xlsx", headers=admin)
        assert xlsx.status_code == 200, xlsx.text
        assert xlsx.headers["content-disposition"].endswith('.xlsx"')
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet is not None
        rows = [[v for v in row if v is not None] for row in sheet.iter_rows(values_only=True)]
        assert any(
            r[:1] == ["I. KẾT QUẢ NHIỆM KỲ"] and "Bổ sung số liệu kết nạp đảng viên" in r
            and "Tiếp thu" in r and "Đã bổ sung vào mục I" in r
            for r in rows
        )  # fmt: skip
        assert any("Đinh Thị Góp Ý" in r and "II. PHƯƠNG HƯỚNG NHIỆM KỲ TỚI" in r for r in rows)
        docx_r = await client.get(f"{BASE}/{cid}/export?format=docx", headers=admin)
        assert docx_r.status_code == 200, docx_r.text
        document = docx.Document(io.BytesIO(docx_r.content))
        cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
        assert "Đinh Thị Góp Ý" in cells and "Dự thảo cần ngắn gọn hơn" in cells

        r = await client.post(f"{BASE}/{cid}/close", headers=admin)
        assert r.status_code == 200, r.text
        late = await client.post(
            f"{BASE}/{cid}/comments", json={"text": "Góp ý muộn"}, headers=member
        )
        assert late.status_code == 409, late.text
        assert late.headers["content-type"] == "application/problem+json"

        # The member sees the reply to their comment.
        seen = await client.get(f"{BASE}/{cid}/comments/mine", headers=member)
        replied = next(k for k in seen.json() if k["id"] == mine)
        assert (replied["reply"], replied["disposition"]) == ("Đã bổ sung vào mục I", "accepted")

    # Events: valid CloudEvents with ids, paths and counts; the opening also names the
    # consultation by its title (what members are asked about, as their notification says).
    ce, opened = await find_on_nats(platform, "documents.consultation.opened.v1", cid)
    assert isinstance(opened, ConsultationOpened)
    assert str(opened.org_id) == commune_id and opened.section_count == 3
    assert opened.deadline == deadline and opened.title and "Báo cáo chính trị" in opened.title
    ce2, closed = await find_on_nats(platform, "documents.consultation.closed.v1", cid)
    assert isinstance(closed, ConsultationClosed)
    assert (closed.contributions, closed.contributors, closed.cells) == (3, 2, 2)
    assert (closed.accepted, closed.pending) == (1, 2)
    for event in (ce, ce2):
        data = json.loads(event.data)
        raw = json.dumps(data, ensure_ascii=False)
        for personal in ("Đinh Thị Góp Ý", demo_member["username"], "Bổ sung số liệu",
                         neighbour.card_number):  # fmt: skip
            assert personal not in raw
    assert "Báo cáo chính trị" not in json.dumps(json.loads(ce2.data), ensure_ascii=False)
