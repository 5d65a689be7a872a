"""The annual review in the browser, through the gateway on the demo province: the committee
opens a period, a member assesses themselves on their phone, the cell's review meeting votes
each grade by secret ballot, the secretary proposes, the committee changes one grade with a
reason, the grade shows on the member's record and in the grades report."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import expect
from sotay_kit.clock import LOCAL_TZ

from .browser import Browsing, screen, sign_in
from .conftest import NEW_PASSWORD, Platform, wait_until
from .test_web_secretary import _cell_with_secretary, _login

YEAR = 2026


async def _meeting_now(client: httpx.AsyncClient, cell_id: str, auth: dict[str, str]) -> str:
    starts = (datetime.now(LOCAL_TZ) - timedelta(minutes=5)).replace(second=0, microsecond=0)
    r = await client.post(
        "/api/v1/meetings",
        json={
            "org_id": cell_id,
            "kind": "regular",
            "title": f"Kiểm điểm, xếp loại đảng viên năm {YEAR}",
            "starts_at": starts.isoformat(),
            "ends_at": min(
                starts + timedelta(hours=2), starts.replace(hour=23, minute=59)
            ).isoformat(),
            "location": "Hội trường thôn",
            "agenda": ["Kiểm điểm, đánh giá, xếp loại đảng viên"],
        },
        headers=auth,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["meetings"][0]["id"])


async def _vote_and_close(
    client: httpx.AsyncClient,
    meeting_id: str,
    voters: list[dict[str, str]],
    choice: int,
    sec: dict[str, str],
) -> None:
    r = await client.get(f"/api/v1/meetings/{meeting_id}/motions", headers=sec)
    motion: dict[str, Any] = r.json()[-1]
    assert motion["status"] == "open" and motion["secret"] is True
    for auth in voters:
        r = await client.post(
            f"/api/v1/meetings/{meeting_id}/motions/{motion['id']}/votes",
            json={"choice": choice},
            headers=auth,
        )
        assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/meetings/{meeting_id}/motions/{motion['id']}/close", headers=sec
    )
    assert r.status_code == 200, r.text


async def test_a_cells_annual_review_from_self_assessment_to_the_record_and_report(
    platform: Platform, browsing: Browsing
) -> None:
    async with platform.client() as client:
        cell_id, secretary, members, sec_auth = await _cell_with_secretary(
            platform,
            client,
            ["Nguyễn Văn Bí Thư Kiểm Điểm", "Trần Thị Tự Kiểm", "Lê Văn Được Duyệt"],
        )
    assessing, changed = members
    committee = platform.credentials["committee"]
    deadline = (datetime.now(LOCAL_TZ) + timedelta(days=7)).strftime("%Y-%m-%d")

    # One browser context per person: a context keeps its user's session.
    desk = await browsing.desktop(platform)
    contexts = [desk] + [await browsing.phone(platform) for _ in range(3)]
    member_phone, secretary_phone, record_phone = contexts[1:]
    page = await desk.new_page()
    phone = await member_phone.new_page()
    try:
        # ── the committee opens the period for the cell ──────────────────────────────────
        await sign_in(page, committee["username"], committee["password"])
        await page.goto(f"/manage/committee/reviews?org={cell_id}")
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Kiểm điểm, xếp loại đảng viên"
        )
        await page.get_by_label("Năm kiểm điểm").fill(str(YEAR))
        await page.get_by_label("Hạn nộp bản tự kiểm điểm").fill(deadline)
        await page.get_by_label("Tỷ lệ tối đa xuất sắc so với số tốt (%)").fill("100")
        await screen(page, "committee-review-open")
        await page.get_by_role("button", name="Mở đợt kiểm điểm").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Tiến độ kiểm điểm của các chi bộ"
        )
        period_id = page.url.split("?")[0].rstrip("/").split("/")[-1]
        await expect(page.locator("table.review tbody tr")).to_have_count(1)
        await screen(page, "committee-review-progress")

        # ── a member's self-assessment on their phone ────────────────────────────────────
        await sign_in(phone, assessing.card_number, NEW_PASSWORD)
        await phone.goto("/reviews")
        await expect(phone.get_by_role("heading", level=1)).to_have_text("Kiểm điểm cuối năm")
        await phone.get_by_label("Bản tự kiểm điểm").fill(
            "Chấp hành tốt chủ trương của Đảng; hạn chế: chưa dành nhiều thời gian "
            "nghiên cứu nghị quyết."
        )
        await phone.get_by_label("Hoàn thành tốt nhiệm vụ").check()
        await phone.get_by_role("button", name="Nộp bản tự kiểm điểm").click()
        await expect(phone.get_by_role("status").filter(has_text="Đã nộp")).to_be_visible()
        await screen(phone, "member-review")

        # ── the review meeting: a secret vote per member, then the cell's proposal ───────
        async with platform.client() as client:
            meeting_id = await _meeting_now(client, cell_id, sec_auth)
            for person in (secretary, *members):
                r = await client.post(
                    f"/api/v1/meetings/{meeting_id}/attendance/{person.member_id}",
                    json={"status": "present"},
                    headers=sec_auth,
                )
                assert r.status_code == 200, r.text
            voters = [sec_auth] + [await _login(client, m.card_number) for m in members]
        sec_page = await secretary_phone.new_page()
        await sign_in(sec_page, secretary.card_number, NEW_PASSWORD)
        await sec_page.goto(f"/manage/cell/reviews?org={cell_id}")
        await expect(sec_page.get_by_role("heading", level=1)).to_have_text(
            "Kiểm điểm, xếp loại đảng viên"
        )
        await expect(sec_page.get_by_label("Cuộc họp kiểm điểm")).to_have_value(meeting_id)
        for person, choice in ((assessing, 1), (changed, 0), (secretary, 1)):
            await sec_page.get_by_role(
                "button", name=f"Biểu quyết xếp loại đồng chí {person.full_name}"
            ).click()
            await expect(sec_page.get_by_role("status")).to_contain_text("Đã mở biểu quyết kín")
            async with platform.client() as client:
                await _vote_and_close(client, meeting_id, voters, choice, sec_auth)
        await sec_page.reload()
        row = sec_page.locator(f"tr[data-member='{changed.member_id}']")
        await expect(row).to_contain_text("Hoàn thành xuất sắc nhiệm vụ: 3")
        await sec_page.get_by_role("button", name="Gửi đề nghị xếp loại lên cấp ủy").click()
        await expect(sec_page.get_by_role("status")).to_have_text(
            "Đã gửi đề nghị xếp loại lên cấp ủy cấp trên."
        )
        await screen(sec_page, "secretary-review")

        # ── the committee changes one grade, with its reason ─────────────────────────────
        await page.goto(f"/manage/committee/reviews/{period_id}/{cell_id}?org={cell_id}")
        select = page.get_by_label(f"Mức quyết định cho đồng chí {changed.full_name}")
        await select.select_option(label="Hoàn thành tốt nhiệm vụ")
        await page.get_by_label("Lý do").fill("Chưa có thành tích nổi bật trong năm")
        await screen(page, "committee-review-decide")
        await page.get_by_role("button", name="Quyết định xếp loại").click()
        await expect(page.get_by_role("status")).to_contain_text("Đã quyết định xếp loại")
        await expect(page.locator(f"tr[data-member='{changed.member_id}']")).to_contain_text(
            "Lý do: Chưa có thành tích nổi bật trong năm"
        )

        # ── the grade on the member's record, and in the grades report ───────────────────
        record = await record_phone.new_page()
        await sign_in(record, changed.card_number, NEW_PASSWORD)
        await record.goto("/profile")
        await expect(record.get_by_text(f"Năm {YEAR}: Hoàn thành tốt nhiệm vụ")).to_be_visible()
        await screen(record, "member-record-grades")

        committee_auth = {"Authorization": "Bearer " + await platform.token("committee")}

        async def reported() -> bool:
            async with platform.client() as client:
                r = await client.get(
                    "/api/v1/reports/grades",
                    params={"org_id": cell_id, "year": YEAR},
                    headers=committee_auth,
                )
                assert r.status_code == 200, r.text
                return bool(r.json()["total"]["graded"] == 3)

        await wait_until(reported, "the cell's grades in the analytics report")
        await page.goto(f"/manage/committee/grades?org={cell_id}&year={YEAR}")
        await expect(page.locator("table.report")).to_contain_text("Hoàn thành tốt nhiệm vụ")
        await screen(page, "committee-grades")
    finally:
        for context in contexts:
            await context.close()
