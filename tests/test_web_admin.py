"""The administrator's screens (/manage/admin) in a real browser against the shared platform.

Each test works in a subtree of its own (a grassroots committee with two cells under the demo
district) and with an admin of its own, so the shared demo accounts are left as they were.
A desktop viewport (the admin's screens are desktop-first); every screen passes `screen()`:
0 axe-core violations, 44 px targets, a kept screenshot.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from playwright.async_api import BrowserContext, Page, expect
from sotay_kit.clock import LOCAL_TZ

from .browser import Browsing, screen, sign_in
from .conftest import NEW_PASSWORD, NewMember, Platform, all_pages, new_member, wait_until

pytestmark = pytest.mark.e2e
expect.set_options(timeout=20_000)

DESKTOP = {"width": 1280, "height": 900}
HEADER = ["STT", "Số thẻ đảng viên", "Họ và tên", "Ngày sinh", "Giới tính", "Mã chi bộ"]


async def desktop(browsing: Browsing, platform: Platform) -> BrowserContext:
    context = await browsing.browser.new_context(
        base_url=platform.gateway,
        viewport=DESKTOP,
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
        accept_downloads=True,
    )
    context.set_default_timeout(20_000)
    return context


_steps_used: dict[str, int] = {}


async def fresh_otp(secret: str, *, not_before_next: bool = False) -> str:
    """A code identity will take: of the current 30 s step or the next (it accepts ±1 step, each
    step once), never of a step this module already used for the account; waits for the clock
    only when both were used. ``not_before_next``: the current step may have been used elsewhere
    (the platform's own login of a demo account)."""

    def candidates() -> list[int]:
        now = int(time.time() // 30)
        return [now + 1] if not_before_next else [now, now + 1]

    async def unused() -> bool:
        return max(candidates()) > _steps_used.get(secret, -1)

    await wait_until(unused, "a TOTP step not used yet", timeout=40, interval=0.5)
    step = min(c for c in candidates() if c > _steps_used.get(secret, -1))
    _steps_used[secret] = step
    return str(pyotp.TOTP(secret).at(step * 30))


async def sign_in_with_otp(
    page: Page, username: str, password: str, secret: str, *, shared: bool = False
) -> None:
    await page.get_by_label("Số thẻ đảng viên hoặc số điện thoại").fill(username)
    await page.get_by_label("Mật khẩu hoặc mã kích hoạt").fill(password)
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page.get_by_role("heading", name="Xác thực hai lớp")).to_be_visible()
    await page.get_by_label("Mã xác thực").fill(await fresh_otp(secret, not_before_next=shared))
    await page.get_by_role("button", name="Xác nhận").click()


async def subtree(platform: Platform, client: httpx.AsyncClient) -> dict[str, Any]:
    """A grassroots committee of this test under the demo district, with two cells (coded)."""
    admin = await platform.auth("admin")
    tag = uuid.uuid4().hex[:6].upper()

    async def org(parent: str, title: str, kind: str, code: str) -> dict[str, Any]:
        r = await client.post(
            "/api/v1/orgs",
            json={"parent_id": parent, "title": title, "kind": kind, "code": code},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    committee = await org(
        platform.credentials["orgs"]["district_id"],
        f"Đảng ủy xã Thử Quản Trị {tag}",
        "grassroots_committee",
        f"QT-{tag}",
    )
    east = await org(committee["id"], f"Chi bộ thôn Đông Hòa {tag}", "cell", f"QT-{tag}-D")
    west = await org(committee["id"], f"Chi bộ thôn Tây Hòa {tag}", "cell", f"QT-{tag}-T")
    return {"tag": tag, "committee": committee, "east": east, "west": west}


async def an_admin(
    platform: Platform, client: httpx.AsyncClient, tree: dict[str, Any], name: str
) -> NewMember:
    """A member of the subtree's east cell made its org admin by the province's admin."""
    member = await new_member(platform, client, tree["east"]["id"], name)
    r = await client.post(
        "/api/v1/role-grants",
        json={
            "member_id": member.member_id,
            "role": "org_admin",
            "org_id": tree["committee"]["id"],
        },
        headers=await platform.auth("admin"),
    )
    assert r.status_code == 201, r.text
    return member


def csv_file(rows: list[list[str]]) -> dict[str, Any]:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEADER, *rows])
    return {"name": "danh-sach.csv", "mimeType": "text/csv", "buffer": out.getvalue().encode()}


async def test_admin_enrols_a_second_factor_imports_a_csv_prints_the_sheet_and_a_member_activates(
    platform: Platform, browsing: Browsing
) -> None:
    async with platform.client() as client:
        tree = await subtree(platform, client)
        admin = await an_admin(platform, client, tree, "Lương Thị Quản Trị")
    tag, cell_code = tree["tag"], tree["east"]["code"]
    people = [
        (f"NH{tag}1", "Nguyễn Văn Khánh", "12/03/1975", "Nam"),
        (f"NH{tag}2", "Trần Thị Lan 2", "02/09/1980", "Nữ"),  # a digit in a name: refused
        (f"NH{tag}3", "Phạm Văn Minh", "19/05/1968", "Nam"),
    ]
    bad = [
        [str(i + 1), card, name, born, sex, cell_code]
        for i, (card, name, born, sex) in enumerate(people)
    ]
    fixed = [row.copy() for row in bad]
    fixed[1][2] = "Trần Thị Lan"

    context = await desktop(browsing, platform)
    page = await context.new_page()
    try:
        # An admin without a second factor is walked through enrolment before any admin screen.
        await sign_in(page, admin.card_number, NEW_PASSWORD)
        await page.goto("/manage/admin/import")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Bật xác thực hai lớp")
        await page.get_by_role("button", name="Bắt đầu").click()
        secret = (await page.get_by_test_id("totp-secret").inner_text()).strip()
        await screen(page, "admin-second-factor")
        await page.get_by_label("Bước 2: nhập mã 6 số ứng dụng hiển thị").fill(
            await fresh_otp(secret)
        )
        await page.get_by_role("button", name="Bật xác thực hai lớp").click()
        await page.get_by_role("button", name="Đăng nhập lại").click()
        await sign_in_with_otp(page, admin.card_number, NEW_PASSWORD, secret)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Quản trị hệ thống")
        await screen(page, "admin-home")
        await page.get_by_role("link", name="Nhập danh sách (CSV)").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Nhập danh sách (CSV)")

        # A file with one bad row: that row's error beside it, downloadable, nothing imported.
        await page.get_by_label("Tệp CSV").set_input_files(csv_file(bad))  # type: ignore[arg-type]
        await page.get_by_role("button", name="Kiểm tra và nhập").click()
        await expect(page.get_by_role("alert")).to_contain_text("Tệp có 1 lỗi")
        row = page.locator("tr[data-row='3']")
        await expect(row).to_contain_text("Trần Thị Lan 2")
        await expect(row.locator("td.reason")).to_contain_text("Họ và tên chỉ được chứa chữ cái")
        await expect(page.locator("tbody tr")).to_have_count(1)
        await screen(page, "admin-import-rejected")
        # Usable on a phone: at 320 px nothing but the table's own region scrolls sideways.
        await page.set_viewport_size({"width": 320, "height": 740})
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        await screen(page, "admin-import-rejected-320px")
        await page.set_viewport_size(DESKTOP)
        async with page.expect_download() as download_info:
            await page.get_by_role("link", name="Tải danh sách lỗi (CSV)").click()
        download = await download_info.value
        report = await asyncio.to_thread(Path(await download.path()).read_text, "utf-8-sig")
        [titles, line] = list(csv.reader(io.StringIO(report)))
        assert titles[:3] == ["Dòng", "Cột", "Lỗi"] and titles[3:] == HEADER
        assert line[:2] == ["3", "Họ và tên"] and "chữ cái" in line[2] and line[3:] == bad[1]
        async with platform.client() as client:
            roll = await all_pages(
                client, f"/api/v1/orgs/{tree['east']['id']}/members", await platform.auth("admin")
            )
        assert {m["card_number"] for m in roll} == {admin.card_number}

        # Fixed and imported: the activation sheet has a card per member.
        await page.get_by_label("Tệp CSV").set_input_files(csv_file(fixed))  # type: ignore[arg-type]
        await page.get_by_role("button", name="Kiểm tra và nhập").click()
        await expect(page.get_by_text("Đã nhập 3 đảng viên.")).to_be_visible()
        await page.get_by_role("link", name="Mở phiếu kích hoạt").click()
        cards = page.locator("article.activation-card")
        await expect(cards).to_have_count(3)
        for card, name, _, _ in people[::2]:
            await expect(page.get_by_role("article", name=name)).to_contain_text(card)
        await expect(cards.locator("svg.qr-code")).to_have_count(3)
        await screen(page, "admin-activation-sheet")

        # Printing is audited: the entry names the members by id, never their codes.
        await page.get_by_role("button", name="In phiếu kích hoạt").click()
        await expect(page.get_by_text("Đã ghi nhật ký việc in phiếu.")).to_be_visible()
        async with platform.client() as client:
            roll = await all_pages(
                client, f"/api/v1/orgs/{tree['east']['id']}/members", await platform.auth("admin")
            )
            imported = {m["id"] for m in roll if m["card_number"].startswith(f"NH{tag}")}
            assert len(imported) == 3
            operator = await platform.auth("operator")
            entries: list[dict[str, Any]] = []

            async def audited() -> bool:
                r = await client.get(
                    "/api/v1/identity/audit", params={"limit": 200}, headers=operator
                )
                assert r.status_code == 200, r.text
                entries[:] = [
                    e
                    for e in r.json()["items"]
                    if e["action"] == "members.activation_sheet_printed"
                    and e["actor_id"] == admin.member_id
                ]
                return bool(entries)

            await wait_until(audited, "the print in identity's audit log")
        assert set(entries[0]["details"]["member_ids"]) == imported
        codes = [(await c.locator(".code").inner_text()).strip() for c in await cards.all()]
        assert all(code not in str(entries[0]) for code in codes)

        # The printed page: A4 cards only, no app chrome.
        await page.emulate_media(media="print")
        await expect(page.locator("header.top")).to_be_hidden()
        await expect(page.locator(".tabbar")).to_be_hidden()
        await expect(page.get_by_role("button", name="In phiếu kích hoạt")).to_be_hidden()
        await expect(cards.first).to_be_visible()
        await screen(page, "admin-activation-sheet-print")
        first_card, first_name = people[0][0], people[0][1]
        code = (
            await page.get_by_role("article", name=first_name).locator(".code").inner_text()
        ).strip()
    finally:
        await context.close()

    # A member from the sheet activates the account in the members' app on a phone.
    phone = await browsing.phone(platform)
    member_page = await phone.new_page()
    try:
        await member_page.goto("/")
        await member_page.get_by_label("Số thẻ đảng viên hoặc số điện thoại").fill(first_card)
        await member_page.get_by_label("Mật khẩu hoặc mã kích hoạt").fill(code)
        await member_page.get_by_role("button", name="Đăng nhập").click()
        await expect(
            member_page.get_by_role("heading", name="Đặt mật khẩu của bạn")
        ).to_be_visible()
        await member_page.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
        await member_page.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
        await member_page.get_by_role("button", name="Đặt mật khẩu và đăng nhập").click()
        await expect(member_page.get_by_role("heading", level=1)).to_have_text(
            f"Xin chào, {first_name}"
        )
    finally:
        await phone.close()


async def test_admin_finds_edits_transfers_and_removes_a_member_grants_a_role_and_edits_the_tree(
    platform: Platform, browsing: Browsing
) -> None:
    async with platform.client() as client:
        tree = await subtree(platform, client)
        tag = tree["tag"]
        admin = await an_admin(platform, client, tree, "Hồ Văn Quản Lý")
        r = await client.post("/api/v1/auth/totp", headers=admin.auth)
        assert r.status_code == 200, r.text
        secret = r.json()["secret"]
        r = await client.post(
            "/api/v1/auth/totp/confirm", json={"otp": await fresh_otp(secret)}, headers=admin.auth
        )
        assert r.status_code == 204, r.text
        body = (
            f"Số thẻ đảng viên,Họ và tên\r\nQL{tag}1,Đặng Thị Hương\r\nQL{tag}2,Nguyễn Văn Hải\r\n"
        )
        r = await client.post(
            "/api/v1/members/import",
            content=body.encode(),
            params={"cell_id": tree["west"]["id"]},
            headers={**await platform.auth("admin"), "content-type": "text/csv"},
        )
        assert r.status_code == 201, r.text
        ids = {a["full_name"]: a["member_id"] for a in r.json()["accounts"]}

    context = await desktop(browsing, platform)
    page = await context.new_page()
    try:
        await page.goto("/manage/admin/members")
        await sign_in_with_otp(page, admin.card_number, NEW_PASSWORD, secret)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Đảng viên")

        # Search without diacritics, open the member, edit, transfer after a confirmation.
        await page.get_by_label("Tìm theo họ tên (có hoặc không dấu)").fill("dang thi huong")
        await page.get_by_role("button", name="Tìm kiếm").click()
        results = page.locator("main ul.list > li")
        await expect(results).to_have_count(1)
        await expect(results).to_contain_text("Đặng Thị Hương")
        await screen(page, "admin-members")
        await results.get_by_role("link").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Đặng Thị Hương")
        await expect(page.locator("dl.facts")).to_contain_text(tree["west"]["title"])
        await screen(page, "admin-member")
        phone = f"09{uuid.uuid4().int % 10**8:08d}"
        await page.get_by_label("Số điện thoại").fill(phone)
        await page.get_by_role("button", name="Lưu").click()
        await expect(page.get_by_text("Đã lưu thay đổi.")).to_be_visible()

        # A reward decided by the admin's grassroots committee, onto the member's record.
        record = page.get_by_role("region", name="Khen thưởng, kỷ luật")
        await record.get_by_label("Hình thức").select_option(label="Giấy khen")
        await record.get_by_label("Số quyết định").fill("07-QĐ/ĐU")
        await record.get_by_label("Ngày quyết định").fill(
            datetime.now(LOCAL_TZ).strftime("%Y-%m-%d")
        )
        await record.get_by_role("button", name=tree["committee"]["title"]).click()
        await record.get_by_label("Nội dung quyết định").fill(
            "Hoàn thành xuất sắc nhiệm vụ năm 2026"
        )
        await record.get_by_role("button", name="Ghi vào hồ sơ").click()
        await expect(page.get_by_role("dialog")).to_contain_text("Ghi Giấy khen vào hồ sơ")
        await page.get_by_role("dialog").get_by_role("button", name="Xác nhận").click()
        await expect(record.get_by_test_id("record-entries")).to_contain_text(
            "Giấy khen — Quyết định số 07-QĐ/ĐU"
        )
        await screen(page, "admin-member-record")

        transfer = page.get_by_role("form", name="Chuyển sinh hoạt")
        await transfer.get_by_label("Tìm tổ chức theo tên hoặc mã").fill(f"dong hoa {tag}")
        await transfer.get_by_role("button", name="Tìm", exact=True).click()
        await transfer.get_by_role("button", name=tree["east"]["title"]).click()
        await page.get_by_role("button", name="Chuyển sinh hoạt").click()
        dialog = page.get_by_role("dialog")
        await expect(dialog).to_contain_text(f"sang {tree['east']['title']}")
        await screen(page, "admin-confirm-transfer")
        await dialog.get_by_role("button", name="Xác nhận").click()
        await expect(
            page.get_by_text(f"Đã chuyển sinh hoạt sang {tree['east']['title']}.")
        ).to_be_visible()

        await page.get_by_label("Lý do").select_option(label="Hồ sơ trùng")
        await page.get_by_role("button", name="Thôi sinh hoạt trên hệ thống").click()
        await page.get_by_role("dialog").get_by_role("button", name="Xác nhận").click()
        await expect(
            page.get_by_text("Đã cho thôi sinh hoạt; tài khoản đã bị khóa.")
        ).to_be_visible()
        async with platform.client() as client:
            r = await client.get(
                f"/api/v1/members/{ids['Đặng Thị Hương']}", headers=await platform.auth("admin")
            )
        member = r.json()
        assert (member["phone"], member["cell_id"], member["status"]) == (
            phone,
            tree["east"]["id"],
            "expelled",
        )

        # A member created by hand gets a card on the activation sheet.
        await page.goto(f"/manage/admin/members/new?cell={tree['west']['id']}")
        await expect(page.get_by_text(f"Chi bộ: {tree['west']['title']}")).to_be_visible()
        await page.get_by_label("Số thẻ đảng viên").fill(f"QL{tag}3")
        await page.get_by_label("Họ và tên").fill("Võ Thị Mai")
        await page.get_by_label("Ngày sinh").fill("1990-04-30")
        await screen(page, "admin-new-member")
        await page.get_by_role("button", name="Thêm đảng viên").click()
        await expect(page.get_by_text("Đã thêm Võ Thị Mai.", exact=False)).to_be_visible()
        await page.get_by_role("link", name="Mở phiếu kích hoạt").click()
        await expect(page.get_by_role("article", name="Võ Thị Mai")).to_contain_text(f"QL{tag}3")

        # A role granted on the committee to a member found by name, then revoked.
        await page.goto("/manage/admin/grants")
        await page.get_by_label("Tìm đảng viên được phân quyền").fill("nguyen van hai")
        await page.get_by_role("button", name="Tìm kiếm").click()
        await page.get_by_role("button", name="Nguyễn Văn Hải").click()
        await page.get_by_label("Vai trò", exact=True).select_option(label="Cấp ủy viên")
        await page.get_by_role("button", name="Phân quyền", exact=True).click()
        await page.get_by_role("dialog").get_by_role("button", name="Xác nhận").click()
        revoke = page.get_by_role("button", name="Thu hồi vai trò Cấp ủy viên của Nguyễn Văn Hải")
        await expect(revoke).to_be_visible()
        await screen(page, "admin-grants")
        async with platform.client() as client:
            grants = await all_pages(
                client,
                "/api/v1/role-grants",
                await platform.auth("admin"),
                {"org_id": tree["committee"]["id"], "member_id": ids["Nguyễn Văn Hải"]},
            )
        assert [g["role"] for g in grants] == ["committee_member"]
        await revoke.click()
        await page.get_by_role("dialog").get_by_role("button", name="Xác nhận").click()
        await expect(page.get_by_text("Đã thu hồi.")).to_be_visible()
        await expect(revoke).to_have_count(0)

        # The tree: a new cell under the committee, renamed, then closed — each confirmed.
        await page.goto("/manage/admin/orgs")
        await expect(page.get_by_role("heading", level=1)).to_have_text(tree["committee"]["title"])
        await expect(page.get_by_role("link", name=tree["west"]["title"])).to_be_visible()
        await screen(page, "admin-orgs")
        await page.get_by_label("Tên tổ chức").fill(f"Chi bộ thôn Mới {tag}")
        await page.get_by_role("button", name="Thêm tổ chức trực thuộc").click()
        await page.get_by_role("dialog").get_by_role("button", name="Xác nhận").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(f"Chi bộ thôn Mới {tag}")
        await page.get_by_label("Tên mới").fill(f"Chi bộ thôn Bắc {tag}")
        await page.get_by_role("button", name="Đổi tên").click()
        await page.get_by_role("dialog").get_by_role("button", name="Xác nhận").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(f"Chi bộ thôn Bắc {tag}")
        await page.get_by_role("button", name="Giải thể").click()
        dialog = page.get_by_role("dialog")
        await expect(dialog).to_contain_text("Không hoàn tác được")
        await dialog.get_by_role("button", name="Xác nhận").click()
        await expect(page.get_by_text("Đã giải thể")).to_be_visible()
        async with platform.client() as client:
            children = await all_pages(
                client,
                f"/api/v1/orgs/{tree['committee']['id']}/children",
                await platform.auth("admin"),
                {"include_closed": "true"},
            )
        assert [
            (c["title"], c["status"]) for c in children if c["title"].endswith(f"Bắc {tag}")
        ] == [(f"Chi bộ thôn Bắc {tag}", "closed")]
    finally:
        await context.close()


async def test_a_root_operator_reads_each_services_audit_log_with_its_chain_verified(
    platform: Platform, browsing: Browsing
) -> None:
    operator = platform.credentials["operator"]
    context = await desktop(browsing, platform)
    page = await context.new_page()
    try:
        await page.goto("/manage/admin/audit")
        await sign_in_with_otp(
            page, operator["username"], operator["password"], operator["totp_secret"], shared=True
        )
        await expect(page.get_by_role("heading", level=1)).to_have_text("Nhật ký kiểm toán")
        await expect(
            page.get_by_role("status").filter(has_text="Chuỗi băm nguyên vẹn")
        ).to_be_visible()
        # The operator's own sign-in is in identity's log.
        await expect(page.locator("tbody")).to_contain_text("auth.login")
        await screen(page, "admin-audit")
        tabs = page.get_by_role("navigation", name="Nhật ký kiểm toán")
        await tabs.get_by_role("link", name="Văn bản").click()
        await expect(page.get_by_text("Nhật ký Văn bản, mới nhất trước")).to_be_visible()
        await expect(page.get_by_role("status").filter(has_text="Chuỗi băm")).to_contain_text(
            "Chuỗi băm nguyên vẹn"
        )
    finally:
        await context.close()
