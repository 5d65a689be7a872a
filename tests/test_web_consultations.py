"""Consultation on a draft in the browser (issue 15, item 3), on the real stack.

On a desktop the demo committee member (the district above the demo cell) opens a draft for
comments by the demo cell's commune. On a phone (360 px) a member of the demo cell finds it on
the home screen, reads the draft and comments on a section and on the whole; a member of
another cell of the commune comments through the API. The committee sees the comments by
section and by cell with their authors, replies to one and takes it into account, downloads
the XLSX summary and closes the consultation; the member then sees the reply and can no longer
comment. Every screen is checked by axe-core and saved as a screenshot; the committee's board
also on a phone."""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from playwright.async_api import expect

from .browser import Browsing, screen, sign_in
from .conftest import NEW_PASSWORD, Platform, make_pdf, new_member, wait_until

pytestmark = pytest.mark.e2e
expect.set_options(timeout=20_000)

BASE = "/api/v1/documents/consultations"
DRAFT = [
    "DỰ THẢO NGHỊ QUYẾT CHI BỘ",
    "I. ĐÁNH GIÁ TÌNH HÌNH",
    "Chi bộ duy trì sinh hoạt định kỳ, chất lượng sinh hoạt có chuyển biến.",
    "II. NHIỆM VỤ, GIẢI PHÁP",
    "Mỗi đảng viên nhận một việc cụ thể trong tháng.",
]


async def test_a_committee_runs_a_consultation_and_members_comment_on_a_phone(
    platform: Platform, browsing: Browsing
) -> None:
    orgs = platform.credentials["orgs"]
    cell_id, district_id = orgs["cell_id"], orgs["district_id"]
    committee = await platform.auth("committee")
    admin = await platform.auth("admin")
    tag = uuid.uuid4().hex[:6]
    title = f"Lấy ý kiến dự thảo nghị quyết {tag}"
    async with platform.client() as client:
        r = await client.get(f"/api/v1/orgs/{cell_id}", headers=admin)
        commune_id = r.json()["parent_id"]
        kids = await client.get(f"/api/v1/orgs/{commune_id}/children?limit=500", headers=admin)
        other_cell = next(
            c for c in kids.json()["items"] if c["kind"] == "cell" and c["id"] != cell_id
        )
        member = await new_member(platform, client, cell_id, "Hà Thị Lan")
        neighbour = await new_member(platform, client, other_cell["id"], "Triệu Văn Sơn")
        r = await client.post(
            "/api/v1/documents",
            data={"title": f"Dự thảo nghị quyết {tag}", "kind": "resolution",
                  "org_id": district_id},
            files={"file": ("du-thao.pdf", make_pdf(DRAFT), "application/pdf")},
            headers=committee,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        doc_id = r.json()["id"]

        # The documents service must know both as members (and their names) before they comment.
        async def known() -> bool:
            names = {}
            for org in (cell_id, other_cell["id"]):
                r = await client.get(
                    f"/api/v1/documents/{doc_id}/reads", params={"org_id": org}, headers=committee
                )
                if r.status_code != 200:
                    return False
                names |= {i["member_id"]: i["full_name"] for i in r.json()["items"]}
            return bool(names.get(member.member_id) and names.get(neighbour.member_id))

        await wait_until(known, "the documents service to know the two members")

        # ── the committee opens the consultation (desktop) ────────────────────────────────
        desk = await browsing.desktop(platform)
        page = await desk.new_page()
        creds = platform.credentials["committee"]
        try:
            await sign_in(page, creds["username"], creds["password"])
            await page.goto(f"/manage/committee?org={district_id}")
            await page.get_by_role("link", name=re.compile("^Lấy ý kiến dự thảo")).click()
            await expect(page.get_by_role("heading", level=1)).to_have_text("Lấy ý kiến dự thảo")
            await page.get_by_label("Dự thảo (văn bản đã tải lên)").select_option(doc_id)
            await page.get_by_label("Tên đợt lấy ý kiến").fill(title)
            await page.get_by_label("Mục đích, yêu cầu").fill("Góp ý trước kỳ sinh hoạt tháng")
            await page.get_by_label(re.compile("^Tổ chức được lấy ý kiến")).select_option(
                commune_id
            )
            deadline = datetime.now(UTC) + timedelta(days=10)
            local = (deadline + timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M")
            await page.get_by_label("Hạn góp ý").fill(local)
            await page.get_by_role("button", name="Mở lấy ý kiến").click()
            opened = page.get_by_role("status").filter(has_text="Đã mở lấy ý kiến")
            await expect(opened).to_be_visible()
            await expect(page.get_by_role("link", name=re.compile(title)).first).to_be_visible()
            await screen(page, "committee-consultations")
            r = await client.get(BASE, headers=committee)
            [c] = [x for x in r.json() if x["title"] == title]
            cid = c["id"]
            assert c["org_id"] == commune_id
            s2 = next(s["anchor"] for s in c["sections"] if s["title"] == "II. NHIỆM VỤ, GIẢI PHÁP")
        finally:
            await desk.close()

        r = await client.post(
            f"{BASE}/{cid}/comments",
            json={"section": s2, "text": "Cần giao việc phù hợp với đảng viên cao tuổi"},
            headers=neighbour.auth,
        )
        assert r.status_code == 201, r.text

        # ── a member comments on a phone ──────────────────────────────────────────────────
        phone = await browsing.phone(platform)
        page = await phone.new_page()
        try:
            await sign_in(page, member.card_number, NEW_PASSWORD)
            card = page.get_by_role("region", name="Lấy ý kiến dự thảo")
            await card.get_by_role("link", name=re.compile(title)).click()
            await expect(page.get_by_role("heading", level=1)).to_have_text(title)
            await expect(page.get_by_role("heading", name="I. ĐÁNH GIÁ TÌNH HÌNH")).to_be_visible()
            await screen(page, "member-consultation")
            assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")

            # The "Góp ý mục này" under section I (described by its heading).
            section = page.locator(".section-head", has=page.get_by_text("I. ĐÁNH GIÁ TÌNH HÌNH"))
            await section.get_by_role("button", name="Góp ý mục này").click()
            box = page.get_by_label("Ý kiến của bạn về: I. ĐÁNH GIÁ TÌNH HÌNH")
            await box.fill("Đề nghị nêu rõ số buổi sinh hoạt chuyên đề")
            await screen(page, "member-consultation-comment")
            await page.get_by_role("button", name="Gửi góp ý").click()
            await expect(page.get_by_role("status").filter(has_text="Đã gửi góp ý")).to_be_visible()
            await page.get_by_role("button", name="Góp ý chung").click()
            await page.get_by_label("Ý kiến của bạn về: Góp ý chung cho toàn văn bản").fill(
                "Dự thảo ngắn gọn, dễ hiểu"
            )
            await page.get_by_role("button", name="Gửi góp ý").click()
            mine = page.get_by_test_id("my-comments")
            await expect(mine.locator("li.comment")).to_have_count(2)
            await expect(mine).to_contain_text("Về: I. ĐÁNH GIÁ TÌNH HÌNH")
            # Only their own: the neighbour's comment is nowhere on the member's screen.
            await expect(page.get_by_text("đảng viên cao tuổi")).to_have_count(0)
        finally:
            await phone.close()

        # ── the committee reads by section and by cell, replies, exports, closes ─────────
        desk = await browsing.desktop(platform)
        page = await desk.new_page()
        try:
            await sign_in(page, creds["username"], creds["password"])
            await page.goto(f"/manage/committee/consultations/{cid}")
            await expect(page.get_by_role("heading", level=1)).to_have_text(title)
            await expect(page.get_by_test_id("summary")).to_contain_text("3 góp ý của 2 đảng viên")
            section1 = page.locator("section[data-group]", has_text="I. ĐÁNH GIÁ TÌNH HÌNH")
            await expect(section1).to_contain_text("Hà Thị Lan")
            await expect(section1).to_contain_text("Đề nghị nêu rõ số buổi sinh hoạt chuyên đề")
            await screen(page, "committee-consultation-by-section")
            await page.get_by_role("radio", name="Theo chi bộ").check()
            by_cell = page.locator(f"section[data-group='{other_cell['id']}']")
            await expect(by_cell).to_contain_text("Triệu Văn Sơn")
            await expect(by_cell.locator("li.comment")).to_have_count(1)
            await screen(page, "committee-consultation-by-cell")
            await page.get_by_role("radio", name="Theo mục").check()

            item = section1.locator("li.comment").first
            await item.get_by_label("Trả lời đảng viên").fill("Đã bổ sung vào dự thảo lần 2")
            await item.get_by_label("Tiếp thu", exact=True).check()
            await item.get_by_role("button", name="Lưu trả lời").click()
            await expect(item.get_by_role("status")).to_have_text("Đã lưu.")
            await expect(page.get_by_test_id("summary")).to_contain_text("Tiếp thu: 1")

            async with page.expect_download() as download:
                await page.get_by_role("button", name="Tải tổng hợp (Excel)").click()
            got = await download.value
            assert got.suggested_filename.endswith(".xlsx")
            sheet = openpyxl.load_workbook(io.BytesIO((await got.path()).read_bytes())).active
            assert sheet is not None
            rows = [[v for v in row if v is not None] for row in sheet.iter_rows(values_only=True)]
            assert any("Hà Thị Lan" in r and "Đã bổ sung vào dự thảo lần 2" in r for r in rows)

            page.once("dialog", lambda d: asyncio.ensure_future(d.accept()))
            await page.get_by_role("button", name="Kết thúc lấy ý kiến").click()
            await expect(page.get_by_role("status").filter(has_text="Đã kết thúc")).to_be_visible()
            await screen(page, "committee-consultation-closed")
        finally:
            await desk.close()

        # ── the member sees the reply and can no longer comment ──────────────────────────
        phone = await browsing.phone(platform)
        page = await phone.new_page()
        try:
            await sign_in(page, member.card_number, NEW_PASSWORD)
            await page.goto(f"/consultations/{cid}")
            mine = page.get_by_test_id("my-comments")
            await expect(mine).to_contain_text("Đã bổ sung vào dự thảo lần 2")
            await expect(mine).to_contain_text("Đã tiếp thu")
            await expect(page.get_by_role("button", name="Góp ý mục này")).to_have_count(0)
            await screen(page, "member-consultation-replied")
            # The drafts consulted on, open or not, are listed from the documents screen.
            await page.get_by_role("link", name="Văn bản").click()
            await page.get_by_role("link", name=re.compile("^Góp ý dự thảo")).click()
            await expect(page.get_by_role("heading", level=1)).to_have_text("Góp ý dự thảo")
            row = page.get_by_role("link", name=re.compile(title))
            await expect(row).to_contain_text("Đã kết thúc")
            await expect(row).to_contain_text("Bạn đã góp 2 ý kiến")
            await screen(page, "member-consultations")
        finally:
            await phone.close()

        # ── the committee's board on a phone: nothing wider than the screen ─────────────
        phone = await browsing.phone(platform)
        page = await phone.new_page()
        try:
            await sign_in(page, creds["username"], creds["password"])
            await page.goto(f"/manage/committee/consultations/{cid}")
            await expect(page.get_by_test_id("summary")).to_contain_text("Tiếp thu: 1")
            await screen(page, "committee-consultation-phone")
            assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        finally:
            await phone.close()
