"""The reader view: a document's extracted text in headings and paragraphs, visible exactly to
those who may open the document."""

from __future__ import annotations

import io
from typing import Any

import docx
from sotay_documents.files import DOCX, PDF
from sotay_documents.library.reader import Block, blocks

PDF_LINES = [
    "NGHỊ QUYẾT",
    "VỀ TĂNG CƯỜNG CÔNG TÁC XÂY DỰNG ĐẢNG",
    "I. TÌNH HÌNH VÀ NGUYÊN NHÂN",
    "Trong nhiệm kỳ qua, công tác xây dựng Đảng đã đạt",
    "nhiều kết quả quan trọng.",
    "Tuy nhiên, một số chi bộ sinh hoạt còn hình thức,",
    "chưa thu hút đảng viên.",
    "Điều 1. Phạm vi áp dụng",
    "1. Các chi bộ trực thuộc đảng ủy xã",
    "2. Các chi bộ cơ sở",
]


def _docx(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_pdf_lines_become_headings_and_paragraphs() -> None:
    assert blocks("\n".join(PDF_LINES), PDF) == [
        Block("heading", "NGHỊ QUYẾT VỀ TĂNG CƯỜNG CÔNG TÁC XÂY DỰNG ĐẢNG"),
        Block("heading", "I. TÌNH HÌNH VÀ NGUYÊN NHÂN"),
        Block(
            "paragraph",
            "Trong nhiệm kỳ qua, công tác xây dựng Đảng đã đạt nhiều kết quả quan trọng.",
        ),
        Block(
            "paragraph",
            "Tuy nhiên, một số chi bộ sinh hoạt còn hình thức, chưa thu hút đảng viên.",
        ),
        Block("heading", "Điều 1. Phạm vi áp dụng"),
        Block("paragraph", "1. Các chi bộ trực thuộc đảng ủy xã"),
        Block("paragraph", "2. Các chi bộ cơ sở"),
    ]


def test_text_is_cleaned_and_nfc() -> None:
    decomposed = "Nghi\u0323 quyê\u0301t\u00ad  so\u0302\u0301\x00 21"
    [block] = blocks(decomposed + "\n\n\n", PDF)
    assert block.text == "Nghị quyết số 21"


def test_docx_keeps_its_own_paragraphs() -> None:
    text = "HƯỚNG DẪN\nĐoạn thứ nhất không có dấu chấm\n\nĐoạn thứ hai"
    assert blocks(text, DOCX) == [
        Block("heading", "HƯỚNG DẪN"),
        Block("paragraph", "Đoạn thứ nhất không có dấu chấm"),
        Block("paragraph", "Đoạn thứ hai"),
    ]


async def test_a_member_reads_a_published_pdf(env: Any, pdf: Any) -> None:
    doc = await env.upload(
        "admin", pdf(PDF_LINES), "nq.pdf", title="Nghị quyết xây dựng Đảng", number="05-NQ/HU"
    )
    url = f"/api/v1/documents/{doc['id']}/text"
    reader = env.auth("member_a1a_1")
    # Not yet published to the member's cell: as if it did not exist.
    before = await env.client.get(url, headers=reader)
    assert before.status_code == 404
    assert before.headers["content-type"] == "application/problem+json"

    await env.publish("admin", doc["id"], "commune_a1", study_required=True)
    response = await env.client.get(url, headers=reader)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "Nghị quyết xây dựng Đảng" and body["number"] == "05-NQ/HU"
    assert body["version"] == 1 and body["content_type"] == PDF
    assert body["blocks"][0] == {
        "kind": "heading",
        "text": "NGHỊ QUYẾT VỀ TĂNG CƯỜNG CÔNG TÁC XÂY DỰNG ĐẢNG",
        "anchor": "s1",
    }
    # Each heading opens a section with a stable anchor (s1, s2, … in reading order), the one
    # comments on a draft attach to.
    assert [b["anchor"] for b in body["blocks"]] == ["s1", "s2", None, None, "s3", None, None]
    assert body["blocks"][-1] == {
        "kind": "paragraph",
        "text": "2. Các chi bộ cơ sở",
        "anchor": None,
    }
    assert len(body["blocks"]) == 7
    assert body["characters"] == sum(len(b["text"]) for b in body["blocks"])

    # Outside the publication's subtree, or without a token: nothing.
    assert (await env.client.get(url, headers=env.auth("member_b1"))).status_code == 404
    assert (await env.client.get(url)).status_code == 401
    assert (await env.client.get(f"{url}?version=2", headers=reader)).status_code == 404
    assert (await env.client.get(f"{url}?version=0", headers=reader)).status_code == 422


async def test_versions_and_docx(env: Any, pdf: Any) -> None:
    doc = await env.upload("secretary_a1a", pdf(["Bản cũ."]), "hd.pdf", kind="guidance")
    r = await env.client.post(
        f"/api/v1/documents/{doc['id']}/versions",
        files={"file": ("hd.docx", _docx("HƯỚNG DẪN", "Nội dung mới"), "application/octet-stream")},
        headers=env.auth("secretary_a1a"),
    )
    assert r.status_code == 201, r.text
    await env.publish("secretary_a1a", doc["id"], "cell_a1a")
    url = f"/api/v1/documents/{doc['id']}/text"
    current = (await env.client.get(url, headers=env.auth("member_a1a_2"))).json()
    assert current["version"] == 2
    assert current["blocks"] == [
        {"kind": "heading", "text": "HƯỚNG DẪN", "anchor": "s1"},
        {"kind": "paragraph", "text": "Nội dung mới", "anchor": None},
    ]
    old = (await env.client.get(f"{url}?version=1", headers=env.auth("member_a1a_2"))).json()
    assert old["blocks"] == [{"kind": "paragraph", "text": "Bản cũ.", "anchor": None}]


async def test_text_of_a_file_stored_before_texts_were_kept(env: Any, pdf: Any) -> None:
    doc = await env.upload("admin", pdf(["Văn bản lưu từ trước."]), "cu.pdf")
    await env.publish("admin", doc["id"], "province")
    async with env.pool.acquire() as conn:
        await conn.execute("UPDATE blobs SET text = NULL")
    url = f"/api/v1/documents/{doc['id']}/text"
    body = (await env.client.get(url, headers=env.auth("member_b1"))).json()
    assert body["blocks"] == [
        {"kind": "paragraph", "text": "Văn bản lưu từ trước.", "anchor": None}
    ]
    async with env.pool.acquire() as conn:
        assert (await conn.fetchval("SELECT text FROM blobs")).strip() == "Văn bản lưu từ trước."


async def test_reading_an_internal_document_is_audited(env: Any, pdf: Any) -> None:
    doc = await env.upload("admin", pdf(["Nội bộ."]), "nb.pdf", classification="internal")
    await env.publish("admin", doc["id"], "cell_a1a")
    url = f"/api/v1/documents/{doc['id']}/text"
    assert (await env.client.get(url, headers=env.auth("member_a1a_1"))).status_code == 200
    async with env.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT actor_id, target FROM audit_log WHERE action = 'documents.text_read'"
        )
    assert [(r["actor_id"], r["target"]) for r in rows] == [
        (env.member_ids["member_a1a_1"], doc["id"])
    ]
