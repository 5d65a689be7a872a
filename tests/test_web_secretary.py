"""The secretary's screens (/manage/cell), in the browser against the real stack.

A cell of the test's own (beside the demo cell, which earlier tests fill with many members): its
secretary schedules a meeting, runs it from the phone with the rotating check-in QR, a member in
a second browser context checks in by pointing the fake camera at that QR, the secretary marks
two others, closes, edits and signs the minutes and downloads them; every figure on the screen
equals the meetings API's."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from PIL import Image
from playwright.async_api import expect
from sotay_kit.clock import LOCAL_TZ

from .browser import Browsing, screen, sign_in, write_y4m
from .conftest import NEW_PASSWORD, NewMember, Platform, make_pdf, new_member, wait_until


async def _login(client: httpx.AsyncClient, card: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": card, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _cell_with_secretary(
    platform: Platform, client: httpx.AsyncClient, names: list[str]
) -> tuple[str, NewMember, list[NewMember], dict[str, str]]:
    """A new cell beside the demo cell, ``names`` as its members, the first one its secretary
    (granted by the province's admin); the meetings service knows them all."""
    admin = await platform.auth("admin")
    demo_cell = platform.credentials["orgs"]["cell_id"]
    r = await client.get(f"/api/v1/orgs/{demo_cell}", headers=admin)
    assert r.status_code == 200, r.text
    r = await client.post(
        "/api/v1/orgs",
        json={
            "parent_id": r.json()["parent_id"],
            "title": f"Chi bộ thôn Thử {uuid.uuid4().hex[:6]}",
            "kind": "cell",
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    cell_id = str(r.json()["id"])
    people = [await new_member(platform, client, cell_id, name) for name in names]
    secretary, members = people[0], people[1:]
    r = await client.post(
        "/api/v1/role-grants",
        json={"member_id": secretary.member_id, "role": "cell_secretary", "org_id": cell_id},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    auth = await _login(client, secretary.card_number)  # a token with the new grant

    async def known_to_meetings() -> bool:
        r = await client.get(
            "/api/v1/meetings/attendance-history",
            params={"org_id": cell_id},
            headers=auth,
        )
        if r.status_code == 404:  # the cell itself not yet projected
            return False
        assert r.status_code == 200, r.text
        return {p.member_id for p in people} <= {i["member_id"] for i in r.json()["items"]}

    await wait_until(known_to_meetings, "the new cell and its members in the meetings service")
    return cell_id, secretary, members, auth


async def _required_for_cell(
    platform: Platform,
    client: httpx.AsyncClient,
    cell_id: str,
    readers: list[NewMember],
    title: str,
    number: str,
) -> tuple[str, str]:
    """A resolution of the province published to ``cell_id`` as required study (deadline in 20
    days), once the documents service knows ``readers`` in the cell; (document, publication)."""
    admin = await platform.auth("admin")
    r = await client.post(
        "/api/v1/documents",
        data={
            "title": title,
            "kind": "resolution",
            "number": number,
            "issuer": "Ban Thường vụ Tỉnh ủy",
            "issued_on": "2026-11-20",
            "classification": "internal",
            "org_id": platform.credentials["orgs"]["province_id"],
        },
        files={
            "file": ("nghi-quyet.pdf", make_pdf([title, "Nội dung học tập."]), "application/pdf")
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    doc_id = str(r.json()["id"])

    async def readers_known() -> bool:
        r = await client.get(
            f"/api/v1/documents/{doc_id}/reads",
            params={"org_id": cell_id, "limit": 500},
            headers=admin,
        )
        if r.status_code == 404:  # the cell not yet projected
            return False
        assert r.status_code == 200, r.text
        return {m.member_id for m in readers} <= {i["member_id"] for i in r.json()["items"]}

    await wait_until(readers_known, "the new cell's members in the documents service")
    r = await client.post(
        f"/api/v1/documents/{doc_id}/publish",
        json={
            "org_ids": [cell_id],
            "study_required": True,
            "study_deadline": (datetime.now(UTC) + timedelta(days=20)).isoformat(),
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return doc_id, str(r.json()["id"])


async def test_secretary_schedules_runs_closes_and_signs_a_meeting_with_a_member_checking_in(
    platform: Platform, browsing: Browsing
) -> None:
    async with platform.client() as client:
        cell_id, secretary, members, sec_auth = await _cell_with_secretary(
            platform,
            client,
            [
                "Nguyễn Văn Bí Thư",
                "Trần Thị Quét Mã",
                "Lê Văn Có Mặt",
                "Phạm Thị Vắng Ốm",
                "Hoàng Văn Không Đến",
            ],
        )
        number = f"{uuid.uuid4().int % 900 + 100}-NQ/TU"
        doc_id, _ = await _required_for_cell(
            platform,
            client,
            cell_id,
            [secretary, *members],
            "Nghị quyết về xây dựng chi bộ vững mạnh",
            number,
        )
    scanner = members[0]
    title = f"Sinh hoạt chi bộ tháng {uuid.uuid4().hex[:4]}"
    # The meeting started five minutes ago (Vietnam's time), so it can be run and closed now.
    starts = (datetime.now(LOCAL_TZ) - timedelta(minutes=5)).replace(second=0, microsecond=0)
    ends = min(starts + timedelta(hours=2), starts.replace(hour=23, minute=59))

    sec_context = await browsing.phone(platform)
    member_context = await browsing.phone(platform)
    page = await sec_context.new_page()
    phone = await member_context.new_page()
    try:
        # ── my cell ────────────────────────────────────────────────────────────────────────
        await sign_in(page, secretary.card_number, NEW_PASSWORD)
        await page.goto("/manage/cell")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Điều hành chi bộ")
        roster = page.locator(".roster-row")
        await expect(roster).to_have_count(5)
        await expect(roster.filter(has_text="Lê Văn Có Mặt")).to_contain_text("0/0 buổi")
        await screen(page, "secretary-cell")

        # ── schedule: agenda of two items and a document from the library ─────────────────
        await page.get_by_role("link", name="Lên lịch họp").click()
        await page.get_by_label("Tên buổi họp").fill(title)
        await page.get_by_label("Ngày họp").fill(starts.strftime("%Y-%m-%d"))
        await page.get_by_label("Giờ bắt đầu").fill(starts.strftime("%H:%M"))
        await page.get_by_label("Giờ kết thúc").fill(ends.strftime("%H:%M"))
        await page.get_by_label("Địa điểm", exact=True).fill("Nhà văn hóa thôn Thử")
        await page.get_by_label("Nội dung 1", exact=True).fill("Thông báo thời sự")
        await page.get_by_role("button", name="Thêm nội dung").click()
        await page.get_by_label("Nội dung 2", exact=True).fill("Học tập nghị quyết")
        await page.get_by_label("Tìm trong thư viện văn bản").fill(number)
        await page.get_by_role("button", name="Tìm", exact=True).click()
        await page.get_by_label(f"{number} · Nghị quyết về xây dựng chi bộ vững mạnh").check()
        await screen(page, "secretary-schedule")
        await page.get_by_role("button", name="Lên lịch", exact=True).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(title)
        meeting_id = page.url.rstrip("/").split("/")[-1]
        await screen(page, "secretary-meeting")
        async with platform.client() as client:
            r = await client.get(f"/api/v1/meetings/{meeting_id}", headers=sec_auth)
            assert r.status_code == 200, r.text
            planned = r.json()
        assert planned["agenda"] == ["Thông báo thời sự", "Học tập nghị quyết"]
        assert planned["document_ids"] == [doc_id]
        assert planned["starts_at"]["local"].startswith(starts.strftime("%Y-%m-%dT%H:%M"))
        assert planned["counts"]["invited"] == 5

        # ── run: the rotating QR, shown full screen on the secretary's phone ──────────────
        await page.get_by_role("link", name="Điều hành cuộc họp").click()
        qr = page.get_by_test_id("checkin-qr")
        await expect(qr.locator("svg")).to_be_visible()
        await screen(page, "secretary-run")

        # The member, on their own phone, points the camera at the secretary's screen.
        await sign_in(phone, scanner.card_number, NEW_PASSWORD)
        await phone.goto(f"/meetings/{meeting_id}")
        await expect(phone.get_by_role("heading", level=1)).to_have_text(title)
        shot = Image.open(io.BytesIO(await qr.screenshot())).convert("RGB")
        shot.thumbnail((440, 440))
        frame = Image.new("RGB", (640, 480), "white")
        frame.paste(shot, ((640 - shot.width) // 2, (480 - shot.height) // 2))
        write_y4m(browsing.camera, frame)
        await phone.get_by_role("button", name="Quét mã bằng camera").click()
        await expect(phone.get_by_text("Đã điểm danh: bạn có mặt.")).to_be_visible()

        # The live list shows the check-in without a reload.
        row = page.locator("li.attendee", has_text="Trần Thị Quét Mã")
        await expect(row.get_by_test_id("attendance-status")).to_have_text(
            "Có mặt (tự điểm danh)", timeout=15_000
        )
        # Its next poll of the unchanged meeting is answered 304 with no body (If-None-Match).
        async with page.expect_response(
            lambda r: r.url.endswith(f"/api/v1/meetings/{meeting_id}") and r.status == 304,
            timeout=15_000,
        ):
            pass

        # ── marks for two members without phones ─────────────────────────────────────────
        row = page.locator("li.attendee", has_text="Lê Văn Có Mặt")
        await row.get_by_label("Điểm danh cho Lê Văn Có Mặt").select_option("present")
        await row.get_by_role("button", name="Ghi nhận").click()
        await expect(row.get_by_test_id("attendance-status")).to_have_text(
            "Có mặt (bí thư ghi nhận)"
        )
        row = page.locator("li.attendee", has_text="Phạm Thị Vắng Ốm")
        await row.get_by_label("Điểm danh cho Phạm Thị Vắng Ốm").select_option("absent_excused")
        await row.get_by_label("Lý do vắng của Phạm Thị Vắng Ốm").select_option("om")
        await row.get_by_role("button", name="Ghi nhận").click()
        await expect(row.get_by_test_id("attendance-status")).to_have_text(
            "Vắng có lý do (bí thư ghi nhận)"
        )
        await expect(page.get_by_test_id("attended-now")).to_have_text("Có mặt 2/5")
        await screen(page, "secretary-run-marked")

        # ── votes: an open motion (a phone and a show of hands), then a secret ballot ─────
        await page.get_by_label("Nội dung biểu quyết").fill("Thông qua nghị quyết của chi bộ")
        await page.get_by_role("button", name="Đưa ra biểu quyết").click()
        first = page.get_by_test_id("motion-1")
        await expect(first.get_by_test_id("cast-1")).to_have_text(
            "0/2 đảng viên có mặt đã bỏ phiếu trên điện thoại"
        )
        # The member present on their phone sees it come (the page polls) and votes once.
        await phone.get_by_label("Tán thành", exact=True).check(timeout=15_000)
        await phone.get_by_role("button", name="Gửi biểu quyết").click()
        await expect(phone.get_by_text("Lựa chọn của bạn: Tán thành")).to_be_visible()
        await screen(phone, "member-vote")
        await expect(first.get_by_test_id("cast-1")).to_contain_text("1/2", timeout=15_000)
        # Lê Văn Có Mặt has no phone: the secretary counts the hand.
        await first.get_by_label("Số giơ tay: Tán thành", exact=True).fill("1")
        await first.get_by_role("button", name="Ghi số giơ tay").click()
        await expect(first.get_by_role("status")).to_have_text("Đã ghi số giơ tay.")
        await first.get_by_role("button", name="Kết thúc biểu quyết").click()
        await expect(first.get_by_test_id("total-1-0")).to_have_text("2")
        await expect(first.get_by_test_id("cast-1")).to_contain_text("Đã kết thúc")

        await page.get_by_label("Nội dung biểu quyết").fill("Bầu tổ trưởng tổ đảng")
        await page.get_by_label("Các phương án (mỗi dòng một phương án)").fill(
            "Lê Văn Có Mặt\nTrần Thị Quét Mã"
        )
        await page.get_by_label("Bỏ phiếu kín").check()
        await page.get_by_role("button", name="Đưa ra biểu quyết").click()
        second = page.get_by_test_id("motion-2")
        await expect(second).to_contain_text("Phiếu kín: kết quả hiện khi kết thúc biểu quyết.")
        await phone.get_by_label("Trần Thị Quét Mã", exact=True).check(timeout=15_000)
        await phone.get_by_role("button", name="Gửi biểu quyết").click()
        await expect(
            phone.get_by_text("Bạn đã bỏ phiếu. Phiếu kín không ghi lựa chọn của ai.")
        ).to_be_visible()
        await expect(second.get_by_test_id("cast-2")).to_contain_text("1/2", timeout=15_000)
        await screen(page, "secretary-motions")
        await second.get_by_role("button", name="Kết thúc biểu quyết").click()
        await expect(second.get_by_test_id("total-2-1")).to_have_text("1")
        async with platform.client() as client:
            r = await client.get(f"/api/v1/meetings/{meeting_id}/motions", headers=sec_auth)
            motions = r.json()
        assert [[o["total"] for o in m["options"]] for m in motions] == [[2, 0, 0], [0, 1]]
        assert [m["secret"] for m in motions] == [False, True]
        await expect(phone.get_by_test_id("results-2")).to_contain_text(
            "Trần Thị Quét Mã: 1", timeout=15_000
        )
        await screen(phone, "member-vote-results")

        # ── close: tallies and quorum, equal to the API's ─────────────────────────────────
        await page.get_by_role("button", name="Kết thúc cuộc họp").click()
        await page.get_by_role("button", name="Xác nhận kết thúc").click()
        await expect(page.get_by_role("heading", name="Kết quả điểm danh")).to_be_visible()
        await screen(page, "secretary-closed")
        async with platform.client() as client:
            r = await client.get(f"/api/v1/meetings/{meeting_id}", headers=sec_auth)
            assert r.status_code == 200, r.text
            closed: dict[str, Any] = r.json()
        assert closed["status"] == "closed"
        tallies = closed["tallies"]
        assert (tallies["present"], tallies["absent_excused"], tallies["absent_unexcused"]) == (
            2,
            1,
            2,
        )
        for key, value in tallies.items():
            await expect(page.get_by_test_id(f"tally-{key}")).to_have_text(str(value))
        quorum = closed["quorum"]
        await expect(page.get_by_test_id("quorum")).to_contain_text(
            f"{quorum['attended']}/{quorum['base']} có mặt"
        )
        await expect(page.get_by_test_id("quorum")).to_contain_text(
            "Đủ" if quorum["met"] else "Không đủ"
        )

        # ── minutes: the generated draft, edited, signed with its hash shown, downloaded ──
        await page.get_by_role("link", name="Soạn biên bản").click()
        editor = page.get_by_label("Nội dung biên bản (Markdown)")
        await expect(editor).not_to_have_value("")
        draft = await editor.input_value()
        assert title in draft
        assert (
            "Bầu tổ trưởng tổ đảng (bỏ phiếu kín) — Lê Văn Có Mặt: 0; Trần Thị Quét Mã: 1" in draft
        )
        conclusion = "Kết luận: chi bộ thống nhất triển khai nghị quyết trong tháng."
        await editor.fill(draft.rstrip() + "\n\n" + conclusion + "\n")
        await page.get_by_role("button", name="Lưu biên bản").click()
        await expect(page.get_by_role("status")).to_have_text("Đã lưu biên bản.")
        await page.get_by_role("button", name="Ký biên bản").click()
        async with platform.client() as client:
            r = await client.get(f"/api/v1/meetings/{meeting_id}/minutes", headers=sec_auth)
            saved = r.json()
        assert conclusion in saved["content"] and saved["state"] == "edited"
        await expect(page.get_by_test_id("sign-hash")).to_have_text(saved["content_sha256"])
        await screen(page, "secretary-minutes-sign")
        await page.get_by_role("button", name="Tôi đã đọc và ký biên bản").click()
        await expect(page.get_by_test_id("minutes-hash")).to_have_text(saved["content_sha256"])
        async with platform.client() as client:
            r = await client.get(f"/api/v1/meetings/{meeting_id}/minutes", headers=sec_auth)
            signed = r.json()
        assert signed["signed"] and signed["content_sha256"] == saved["content_sha256"]
        assert signed["signed_by"] == secretary.member_id
        async with page.expect_download() as info:
            await page.get_by_role("button", name="Tải DOCX (Word)").click()
        downloaded = await info.value
        assert downloaded.suggested_filename.endswith(".docx")
        body = (await downloaded.path()).read_bytes()
        assert body[:2] == b"PK"  # a DOCX is a zip
        async with page.expect_download() as info:
            await page.get_by_role("button", name="Tải PDF").click()
        downloaded = await info.value
        assert downloaded.suggested_filename.endswith(".pdf")
        assert (await downloaded.path()).read_bytes()[:5] == b"%PDF-"
        await screen(page, "secretary-minutes-signed")

        # ── my cell again: the attendance history counts the closed meeting ───────────────
        await page.goto("/manage/cell")
        await expect(page.locator(".roster-row", has_text="Lê Văn Có Mặt")).to_contain_text(
            "1/1 buổi"
        )
        await expect(page.locator(".roster-row", has_text="Hoàng Văn Không Đến")).to_contain_text(
            "0/1 buổi"
        )
    finally:
        await sec_context.close()
        await member_context.close()


async def test_secretary_changes_one_occurrence_of_a_monthly_series_and_reminds_who_has_not_studied(
    platform: Platform, browsing: Browsing
) -> None:
    async with platform.client() as client:
        cell_id, secretary, members, sec_auth = await _cell_with_secretary(
            platform, client, ["Đỗ Văn Bí Thư", "Vũ Thị Đã Học", "Đinh Văn Chưa Học"]
        )
        studied, lagging = members
        number = f"{uuid.uuid4().int % 900 + 100}-NQ/TU"
        title = "Nghị quyết về công tác kiểm tra, giám sát"
        doc_id, _ = await _required_for_cell(
            platform, client, cell_id, [secretary, *members], title, number
        )
        r = await client.post(
            f"/api/v1/documents/{doc_id}/reads", json={"studied": True}, headers=studied.auth
        )
        assert r.status_code == 200, r.text
    first = (datetime.now(LOCAL_TZ) + timedelta(days=1)).replace(hour=19, minute=30)
    series_title = f"Sinh hoạt thường kỳ {uuid.uuid4().hex[:4]}"

    context = await browsing.phone(platform)
    page = await context.new_page()
    try:
        await sign_in(page, secretary.card_number, NEW_PASSWORD)
        # ── a monthly series of three ─────────────────────────────────────────────────────
        await page.goto("/manage/cell/meetings/new")
        await page.get_by_label("Tên buổi họp").fill(series_title)
        await page.get_by_label("Ngày họp").fill(first.strftime("%Y-%m-%d"))
        await page.get_by_label("Lặp lại hằng tháng (cùng ngày, cùng giờ)").check()
        await page.get_by_label("Số buổi trong chuỗi").fill("3")
        await page.get_by_label("Nội dung 1", exact=True).fill("Đánh giá công tác tháng")
        await page.get_by_role("button", name="Lên lịch", exact=True).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(series_title)
        first_id = page.url.rstrip("/").split("/")[-1]
        async with platform.client() as client:
            r = await client.get(f"/api/v1/meetings/{first_id}", headers=sec_auth)
            series = r.json()["occurrence"]["series_id"]
            listed: list[dict[str, Any]] = []
            for month in {first.strftime("%Y-%m"), (first + timedelta(days=31)).strftime("%Y-%m"),
                          (first + timedelta(days=62)).strftime("%Y-%m")}:  # fmt: skip
                r = await client.get(
                    "/api/v1/meetings", params={"org_id": cell_id, "month": month}, headers=sec_auth
                )
                listed += [
                    m
                    for m in r.json()["items"]
                    if (m["occurrence"] or {}).get("series_id") == series
                ]
        by_index = {m["occurrence"]["index"]: m for m in listed}
        assert sorted(by_index) == [1, 2, 3]

        # ── the second occurrence moves to 20:00; the others stay ─────────────────────────
        await page.goto(f"/manage/cell/meetings/{by_index[2]['id']}")
        await expect(page.get_by_text("Buổi thứ 2 trong chuỗi họp hằng tháng")).to_be_visible()
        await page.get_by_role("link", name="Sửa buổi họp này").click()
        await expect(page.get_by_label("Giờ bắt đầu")).to_have_value("19:30")
        await page.get_by_label("Giờ bắt đầu").fill("20:00")
        await page.get_by_label("Giờ kết thúc").fill("22:00")
        await screen(page, "secretary-edit-occurrence")
        await page.get_by_role("button", name="Lưu", exact=True).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(series_title)

        # ── the first is cancelled ────────────────────────────────────────────────────────
        await page.goto(f"/manage/cell/meetings/{by_index[1]['id']}")
        await page.get_by_text("Hủy buổi họp này").click()
        await page.get_by_label("Lý do hủy").select_option("rescheduled")
        await screen(page, "secretary-cancel-occurrence")
        await page.get_by_role("button", name="Xác nhận hủy buổi họp").click()
        await expect(page.get_by_text("Đã hủy", exact=True)).to_be_visible()
        async with platform.client() as client:
            after = {
                i: (await client.get(f"/api/v1/meetings/{m['id']}", headers=sec_auth)).json()
                for i, m in by_index.items()
            }
        assert [after[i]["status"] for i in (1, 2, 3)] == ["cancelled", "scheduled", "scheduled"]
        assert after[2]["starts_at"]["local"][11:16] == "20:00"
        assert after[3]["starts_at"]["local"][11:16] == "19:30"

        # ── the document sent to the cell: who has studied, and a reminder to the others ──
        await page.goto("/manage/cell")
        await page.get_by_role("link").filter(has_text=number).click()
        await expect(page.get_by_test_id("study-members")).to_have_text("3")
        await expect(page.get_by_test_id("study-studied")).to_have_text("1")
        await expect(page.get_by_role("heading", name="Chưa học (2)")).to_be_visible()
        await expect(page.get_by_text("Đinh Văn Chưa Học", exact=False)).to_be_visible()
        await screen(page, "secretary-study")
        await page.get_by_role("button", name="Nhắc những đồng chí chưa học").click()
        await expect(page.get_by_test_id("remind-status")).to_have_text(
            "Đã gửi lời nhắc tới 2 đồng chí."
        )
        await page.get_by_role("button", name="Nhắc những đồng chí chưa học").click()
        await expect(page.get_by_test_id("remind-status")).to_have_text(
            "Hôm nay chi bộ đã được nhắc học tài liệu này."
        )
    finally:
        await context.close()

    async def nudges(member: NewMember) -> list[dict[str, Any]]:
        async with platform.client() as client:
            r = await client.get("/api/v1/inbox", headers=member.auth)
            assert r.status_code == 200, r.text
            return [
                i for i in r.json()["items"] if i["title"].startswith("Bí thư chi bộ nhắc học tập")
            ]

    async def lagging_reminded() -> bool:
        return len(await nudges(lagging)) == 1

    await wait_until(
        lagging_reminded, "the reminder in the inbox of the member who has not studied"
    )
    [nudge] = await nudges(lagging)
    assert number in nudge["title"] and nudge["link"] == f"/documents/{doc_id}"
    assert await nudges(studied) == []
