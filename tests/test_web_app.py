"""The members' web app in a real browser (Debian's chromium driven by Playwright) against the
platform of tests/conftest.py: every server and service behind the gateway, which serves the app.

A phone viewport (360×740, touch); axe-core checks every screen against WCAG 2.2 AA (0
violations) and a screenshot of every screen is kept under test-artifacts/screens/. The data
each test needs (members, meetings, documents) is created through the API, as a secretary or
the province's admin would.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pyotp
import pytest
import segno
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image
from playwright.async_api import expect

from .browser import (
    JWT,
    Browsing,
    kept_file,
    meeting_for,
    member_in_demo_cell,
    push_to_service_worker,
    required_document,
    screen,
    script_readable_storage,
    sign_in,
    write_y4m,
)
from .conftest import NEW_PASSWORD, NewMember, Platform, make_pdf, new_member, wait_until

pytestmark = pytest.mark.e2e
# A busy machine runs the whole stack and the browser: give each expectation some room.
expect.set_options(timeout=20_000)

LONG_TEXT = [
    f"Điều {i}. Chi bộ tổ chức sinh hoạt định kỳ mỗi tháng một lần, nâng cao chất lượng "
    "sinh hoạt, phát huy dân chủ, tự phê bình và phê bình trong Đảng."
    for i in range(1, 41)
]


# ── the gateway serves the app ─────────────────────────────────────────────────────────────


async def test_gateway_serves_the_app_with_history_fallback_and_security_headers(
    platform: Platform,
) -> None:
    async with platform.client() as client:
        index = await client.get("/")
        deep = await client.get("/meetings/0d8f0000-0000-7000-8000-000000000000")
        worker = await client.get("/sw.js")
        api_404 = await client.get("/api/v1/no-such-thing")
        script = re.search(r'src="(/assets/[^"]+\.js)"', index.text)
        assert script, index.text
        asset = await client.get(script.group(1))
        missing_asset = await client.get("/assets/no-such-file.js")
    assert index.status_code == 200 and '<html lang="vi">' in index.text
    assert deep.status_code == 200 and deep.text == index.text
    assert index.headers["cache-control"] == "no-cache"
    assert worker.status_code == 200 and worker.headers["cache-control"] == "no-cache"
    assert "javascript" in worker.headers["content-type"]
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert missing_asset.status_code == 404
    assert api_404.status_code == 404
    assert api_404.headers["content-type"].startswith("application/problem+json")
    csp = index.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "camera=(self)" in index.headers["permissions-policy"]
    assert index.headers["x-content-type-options"] == "nosniff"
    assert index.headers["referrer-policy"]


async def test_the_app_is_installable_and_its_shell_is_served_by_its_service_worker(
    platform: Platform, browsing: Browsing
) -> None:
    """Chromium's own installability checks (the ones behind its "Install app" prompt, which
    Lighthouse 12 no longer reports): a manifest with a name, start URL, standalone display and
    icons, served over a secure context by a page under a service worker's control."""
    context = await browsing.phone(platform)
    page = await context.new_page()
    try:
        await page.goto("/")
        # The worker installs on the first visit and controls the page from the next load.
        assert await page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")
        await page.reload()
        await expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
        assert await page.evaluate("navigator.serviceWorker.controller !== null")
        cdp = await context.new_cdp_session(page)
        manifest = await cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [], manifest["errors"]
        parsed = json.loads(manifest["data"])
        assert (parsed["lang"], parsed["display"], parsed["start_url"]) == (
            "vi",
            "standalone",
            "/",
        )
        installability = await cdp.send("Page.getInstallabilityErrors")
        errors = [e["errorId"] for e in installability["installabilityErrors"]]
        # Playwright's contexts are incognito profiles, where Chromium never offers to install;
        # that one is the test harness's, every other error would be the app's.
        assert [e for e in errors if e != "in-incognito"] == []
    finally:
        await context.close()


# ── sign-in ─────────────────────────────────────────────────────────────────────────────────


async def test_member_activates_with_the_printed_code_and_no_token_is_readable(
    platform: Platform, browsing: Browsing
) -> None:
    card = f"WEB{uuid.uuid4().hex[:9].upper()}"
    async with platform.client() as client:
        r = await client.post(
            "/api/v1/members",
            json={
                "card_number": card,
                "full_name": "Hoàng Thị Kích Hoạt",
                "cell_id": platform.credentials["orgs"]["cell_id"],
            },
            headers=await platform.auth("admin"),
        )
        assert r.status_code == 201, r.text
        code = r.json()["activation_code"]

    context = await browsing.phone(platform)
    page = await context.new_page()
    tokens: list[str] = []

    async def keep_tokens(response: Any) -> None:
        if response.url.endswith(("/api/v1/auth/login", "/api/v1/auth/refresh")) and response.ok:
            tokens.append((await response.json())["access_token"])

    page.on("response", keep_tokens)
    try:
        await page.goto("/")
        await screen(page, "sign-in")
        await page.get_by_label("Số thẻ đảng viên hoặc số điện thoại").fill(card)
        # A wrong password first: the member reads the API's Vietnamese problem, not a code.
        await page.get_by_label("Mật khẩu hoặc mã kích hoạt").fill("sai-ma-kich-hoat")
        await page.get_by_role("button", name="Đăng nhập").click()
        await expect(page.get_by_role("alert")).to_contain_text("không đúng")
        await screen(page, "sign-in-error")

        await page.get_by_label("Mật khẩu hoặc mã kích hoạt").fill(code)
        await page.get_by_role("button", name="Đăng nhập").click()
        await expect(page.get_by_role("heading", name="Đặt mật khẩu của bạn")).to_be_visible()
        await screen(page, "sign-in-choose-password")
        await page.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
        await page.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Đặt mật khẩu và đăng nhập").click()
        await expect(
            page.get_by_role("heading", level=1, name="Xin chào, Hoàng Thị Kích Hoạt")
        ).to_be_visible()
        await screen(page, "home-new-member")

        # The session survives a reload (refresh cookie), yet no script can read a token.
        await page.reload()
        await expect(
            page.get_by_role("heading", level=1, name=re.compile("^Xin chào"))
        ).to_be_visible()
        assert tokens, "the app obtained no access token"
        stored = await script_readable_storage(page)
        for token in tokens:
            assert token not in stored
        assert not JWT.search(stored), "a JWT is readable from script storage"
        cookies = await context.cookies()
        refresh = [c for c in cookies if "refresh" in c["name"]]
        assert refresh and all(c["httpOnly"] and c["sameSite"] == "Strict" for c in refresh)
        assert all(c["path"] == "/api/v1/auth" for c in refresh)
        assert not any(c["value"] in stored for c in refresh)
    finally:
        await context.close()


# ── home, meetings, documents, handbook ────────────────────────────────────────────────────


async def test_member_replies_absent_reads_a_required_document_and_finds_it_without_diacritics(
    platform: Platform, browsing: Browsing
) -> None:
    number = f"{uuid.uuid4().int % 900 + 100}-NQ/TU"
    title = "Nghị quyết về nâng cao chất lượng sinh hoạt chi bộ"
    async with platform.client() as client:
        member = await member_in_demo_cell(platform, client, "Trần Văn Học Tập")
        doc_id = await required_document(platform, client, title, number, LONG_TEXT, [member])
        meeting = await meeting_for(
            platform,
            client,
            [member],
            title="Sinh hoạt chi bộ thường kỳ tháng Mười Hai",
            starts_in=timedelta(days=2),
            document_ids=[doc_id],
        )
    context = await browsing.phone(platform)
    page = await context.new_page()
    try:
        await sign_in(page, member.card_number, NEW_PASSWORD)
        next_meeting = page.get_by_role("region", name="Buổi sinh hoạt sắp tới")
        await expect(next_meeting).to_contain_text("Sinh hoạt chi bộ thường kỳ tháng Mười Hai")
        await expect(next_meeting).to_contain_text("Nhà văn hóa thôn Đông")
        to_study = page.get_by_role("region", name="Văn bản cần học tập")
        await expect(to_study).to_contain_text(f"{number} · {title}")
        await expect(to_study).to_contain_text("Hạn học tập")
        await screen(page, "home")

        # The meeting: agenda, then "absent" with a reason.
        await next_meeting.get_by_role("link").first.click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(meeting["title"])
        await expect(page.get_by_role("region", name="Nội dung")).to_contain_text(
            "Học tập nghị quyết"
        )
        await screen(page, "meeting")
        await page.get_by_label("Tôi xin vắng").check()
        await page.get_by_label("Lý do vắng").select_option("om")
        await page.get_by_label("Ghi chú thêm (không bắt buộc)").fill(
            "Đang điều trị tại bệnh viện huyện"
        )
        await screen(page, "meeting-reply-absent")
        await page.get_by_role("button", name="Gửi trả lời").click()
        await expect(page.get_by_text("Đã ghi nhận trả lời của bạn.")).to_be_visible()
        async with platform.client() as client:
            r = await client.get(f"/api/v1/meetings/{meeting['id']}", headers=member.auth)
            assert r.status_code == 200, r.text
            mine = r.json()["me"]
            assert (mine["rsvp"], mine["rsvp_reason"]) == ("absent", "om")
            assert mine["rsvp_note"] == "Đang điều trị tại bệnh viện huyện"

        # The document in the reader, read to its end: the secretary's report says studied.
        await page.goto("/")
        await to_study.get_by_role("link", name=re.compile(re.escape(title))).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(title)
        await expect(page.locator(".reader")).to_contain_text("Điều 40.")
        await page.get_by_role("button", name="Chữ lớn hơn").click()
        await screen(page, "reader")
        await page.locator(".reader > *").last.scroll_into_view_if_needed()
        await page.mouse.wheel(0, 10_000)
        cell_id = platform.credentials["orgs"]["cell_id"]
        async with platform.client() as client:
            secretary = await platform.auth("secretary")

            async def studied() -> bool:
                r = await client.get(
                    f"/api/v1/documents/{doc_id}/reads",
                    params={"org_id": cell_id, "limit": 500},
                    headers=secretary,
                )
                assert r.status_code == 200, r.text
                rows = [i for i in r.json()["items"] if i["member_id"] == member.member_id]
                return bool(rows) and rows[0]["status"] == "studied"

            await wait_until(studied, "the secretary's report showing the document studied")

        # Search without diacritics finds the resolution.
        await page.goto("/documents")
        await page.get_by_label("Tìm văn bản").fill("nghi quyet")
        await page.get_by_role("button", name="Tìm", exact=True).click()
        results = page.get_by_role("list", name="Văn bản")
        await expect(results).to_contain_text(f"{number} · {title}")
        await expect(results.get_by_role("listitem").first).to_contain_text("Nghị quyết")
        await screen(page, "documents-search")

        # A handbook article opens.
        await page.goto("/handbook")
        await screen(page, "handbook")
        first = page.locator(".list .row-link").first
        article_title = (await first.locator("strong").inner_text()).strip()
        await first.click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(article_title)
        await expect(page.locator(".prose")).not_to_be_empty()
        await screen(page, "handbook-article")

        # The other screens, each checked and kept.
        for path, name in [
            ("/meetings", "meetings"),
            ("/meetings?when=past", "meetings-past"),
            ("/documents?to_study=true", "documents-to-study"),
            ("/news", "news"),
            ("/inbox", "inbox"),
            ("/profile", "profile"),
        ]:
            await page.goto(path)
            await expect(page.get_by_role("heading", level=1)).to_be_visible()
            await screen(page, name)
        await expect(page.get_by_role("region", name="Đảng viên trong chi bộ")).to_contain_text(
            "Trần Văn Học Tập"
        )
    finally:
        await context.close()


# ── notifications arrive live ──────────────────────────────────────────────────────────────


async def test_a_notification_published_while_the_inbox_is_open_appears_without_reload(
    platform: Platform, browsing: Browsing
) -> None:
    # The demo member: notify has known them since the platform started, so the publication's
    # notification is addressed to them (a member created a moment ago may not be projected yet).
    demo = platform.credentials["member"]
    demo_auth = await platform.auth("member")
    context = await browsing.phone(platform)
    page = await context.new_page()
    try:
        await sign_in(page, demo["username"], demo["password"])
        await (
            page.get_by_role("navigation", name="Điều hướng chính")
            .last.get_by_role("link", name="Thông báo")
            .click()
        )
        await expect(page.get_by_text("Đang nhận thông báo trực tiếp")).to_be_visible()
        await page.evaluate("window.__sameDocument = true")
        number = f"{uuid.uuid4().int % 900 + 100}-CT/TU"
        async with platform.client() as client:
            await required_document(
                platform,
                client,
                "Chỉ thị về tăng cường công tác kiểm tra",
                number,
                LONG_TEXT[:3],
                [],
            )
        newest = page.get_by_role("list", name="Thông báo").get_by_role("listitem").first
        # It names the document (number and title), not only its kind.
        await expect(newest).to_contain_text(number)
        await expect(newest).to_contain_text("Văn bản mới")
        assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
        await screen(page, "inbox-live")
        await page.get_by_role("button", name="Đánh dấu đã đọc tất cả").click()
        await expect(page.get_by_text("Không có thông báo chưa đọc")).to_be_visible()

        # A Web Push message (delivered to the service worker as the push service would) is
        # shown as a Vietnamese notification that leads to the screen it is about.
        shown = await push_to_service_worker(
            page,
            platform.gateway,
            {"title": "Lịch họp mới: Sinh hoạt chi bộ", "body": "Vui lòng xác nhận tham dự.",
             "link": "/meetings", "id": str(uuid.uuid4()), "urgent": False},
        )  # fmt: skip
        assert shown == [
            {"title": "Lịch họp mới: Sinh hoạt chi bộ", "body": "Vui lòng xác nhận tham dự.",
             "lang": "vi", "link": "/meetings"}
        ]  # fmt: skip

        # Preferences: no push on this phone, quiet from 21:30 to 06:00. Earlier tests may have
        # left the shared demo member with SMS on and no number; start from push only.
        async with platform.client() as client:
            r = await client.get("/api/v1/notification-preferences", headers=demo_auth)
            assert r.status_code == 200, r.text
            before = r.json()
            before["channels"] = {**before["channels"], "sms": False, "email": False}
            r = await client.put(
                "/api/v1/notification-preferences",
                json={k: before[k] for k in ("channels", "email_address", "phone", "quiet_hours")},
                headers=demo_auth,
            )
            assert r.status_code == 200, r.text
        await page.reload()
        await expect(page.get_by_label("Tin nhắn SMS")).not_to_be_checked()
        await page.get_by_label("Thông báo đẩy").uncheck()
        await page.get_by_label("Từ").fill("21:30")
        await page.get_by_label("Đến").fill("06:00")
        await page.get_by_role("button", name="Lưu").click()
        await expect(page.get_by_text("Đã lưu.")).to_be_visible()
        async with platform.client() as client:
            r = await client.get("/api/v1/notification-preferences", headers=demo_auth)
            assert r.status_code == 200, r.text
            prefs = r.json()
        assert prefs["channels"]["webpush"] is False
        assert prefs["quiet_hours"] == {"start": "21:30", "end": "06:00"}
        async with platform.client() as client:  # the demo member's defaults again
            r = await client.put(
                "/api/v1/notification-preferences",
                json={k: before[k] for k in ("channels", "email_address", "phone", "quiet_hours")},
                headers=demo_auth,
            )
            assert r.status_code == 200, r.text
    finally:
        await context.close()


# ── check-in with the camera ───────────────────────────────────────────────────────────────


async def test_member_checks_in_by_scanning_the_secretarys_qr_code_with_the_camera(
    platform: Platform, browsing: Browsing
) -> None:
    async with platform.client() as client:
        member = await member_in_demo_cell(platform, client, "Phạm Văn Điểm Danh")
        meeting = await meeting_for(
            platform,
            client,
            [member],
            title="Sinh hoạt chuyên đề tối nay",
            starts_in=timedelta(minutes=10),
        )
    context = await browsing.phone(platform)
    page = await context.new_page()
    try:
        await sign_in(page, member.card_number, NEW_PASSWORD)
        await page.goto(f"/meetings/{meeting['id']}")
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Sinh hoạt chuyên đề tối nay"
        )
        await screen(page, "meeting-checkin")

        # The secretary shows the code: the very QR the meetings service encodes, in front of
        # the member's camera (Chromium's fake camera plays the .y4m made from it).
        async with platform.client() as client:
            r = await client.get(
                f"/api/v1/meetings/{meeting['id']}/checkin-code",
                headers=await platform.auth("secretary"),
            )
            assert r.status_code == 200, r.text
            shown = r.json()
        qr = segno.make(shown["qr_payload"], error="m")
        png = browsing.camera.with_suffix(".png")
        qr.save(str(png), kind="png", scale=8, border=4)
        frame = Image.new("RGB", (640, 480), "white")
        code_image = Image.open(png).convert("RGB")
        frame.paste(code_image, ((640 - code_image.width) // 2, (480 - code_image.height) // 2))
        write_y4m(browsing.camera, frame)

        await page.get_by_role("button", name="Quét mã bằng camera").click()
        await expect(page.get_by_text("Đã điểm danh: bạn có mặt.")).to_be_visible()
        await screen(page, "meeting-checked-in")
        async with platform.client() as client:
            r = await client.get(f"/api/v1/meetings/{meeting['id']}", headers=member.auth)
            assert r.status_code == 200, r.text
            assert r.json()["me"]["checked_in_at"] is not None
            assert r.json()["me"]["attendance"] in ("present", "late")
    finally:
        await context.close()


# ── offline ────────────────────────────────────────────────────────────────────────────────


async def test_offline_the_app_and_a_required_document_open_and_progress_is_sent_once_back_online(
    platform: Platform, browsing: Browsing
) -> None:
    title = "Nghị quyết về công tác dân vận trong tình hình mới"
    async with platform.client() as client:
        member = await member_in_demo_cell(platform, client, "Đỗ Thị Ngoại Tuyến")
        doc_id = await required_document(
            platform, client, title, "88-NQ/TU", LONG_TEXT, [member], deadline=False
        )
    context = await browsing.phone(platform)
    page = await context.new_page()
    cell_id = platform.credentials["orgs"]["cell_id"]

    async def my_row(client: httpx.AsyncClient) -> dict[str, Any]:
        r = await client.get(
            f"/api/v1/documents/{doc_id}/reads",
            params={"org_id": cell_id, "limit": 500},
            headers=await platform.auth("secretary"),
        )
        assert r.status_code == 200, r.text
        [row] = [i for i in r.json()["items"] if i["member_id"] == member.member_id]
        return dict(row)

    try:
        # One online visit to home only: the document to study (it has no deadline) is kept on
        # the device, text and original file, without the member opening it.
        await sign_in(page, member.card_number, NEW_PASSWORD)
        await expect(page.get_by_role("region", name="Văn bản cần học tập")).to_contain_text(title)
        pdf = make_pdf(LONG_TEXT)  # what required_document uploaded

        async def document_kept() -> bool:
            text_kept = await page.evaluate(
                """([member, docId]) => new Promise(ok => { const r = indexedDB.open('sotay');
                r.onsuccess = () => { const q = r.result.transaction('data').objectStore('data')
                  .get(`${member}|GET /api/v1/documents/${docId}/text {}`);
                  q.onsuccess = () => ok(JSON.stringify(q.result ?? null)); }; })""",
                [member.member_id, doc_id],
            )
            return "Điều 40." in text_kept and await kept_file(page, member, doc_id) == {
                "type": "application/pdf",
                "size": len(pdf),
            }

        await wait_until(document_kept, "the document to study kept on the device")
        await page.goto("/")
        await expect(page.get_by_role("region", name="Văn bản cần học tập")).to_contain_text(title)
        assert await page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")

        await context.set_offline(True)
        await page.reload()
        await expect(
            page.get_by_text("Không có mạng: đang hiển thị dữ liệu đã lưu.")
        ).to_be_visible()
        study = page.get_by_role("region", name="Văn bản cần học tập")
        await expect(study).to_contain_text(title)
        await screen(page, "home-offline")
        await study.get_by_role("link", name=re.compile(re.escape(title))).click()
        await expect(page.locator(".reader")).to_contain_text("Điều 40.")
        await page.locator(".reader > *").last.scroll_into_view_if_needed()
        await page.mouse.wheel(0, 10_000)
        await expect(
            page.get_by_text(re.compile(r"\d+ thao tác đang chờ gửi khi có mạng"))
        ).to_be_visible()
        await screen(page, "reader-offline")
        # The original file opens offline too: the very bytes uploaded, kept as a PDF.
        async with page.expect_download() as opened:
            await page.get_by_role("button", name="Mở tệp gốc").click()
        download = await opened.value
        assert download.suggested_filename == "nghi-quyet.pdf"
        assert await asyncio.to_thread(Path(await download.path()).read_bytes) == pdf
        assert (
            await page.evaluate(
                """async ([name, key]) =>
            (await (await (await caches.open(name)).match(key)).blob()).type""",
                [f"sotay-files-{member.member_id}", f"/offline/files/{doc_id}"],
            )
            == "application/pdf"
        )
        await expect(page.get_by_role("alert")).to_have_count(0)
        async with platform.client() as client:
            assert (await my_row(client))["status"] != "studied"

            await context.set_offline(False)

            async def delivered() -> bool:
                return (await my_row(client))["status"] == "studied"

            await wait_until(delivered, "the queued progress reaching the server")
        await expect(page.get_by_text(re.compile("thao tác đang chờ gửi"))).to_have_count(0)
        waiting = await page.evaluate(
            """() => new Promise(ok => { const r = indexedDB.open('sotay');
            r.onsuccess = () => { const q = r.result.transaction('queue').objectStore('queue')
              .count(); q.onsuccess = () => ok(q.result); }; })"""
        )
        assert waiting == 0
    finally:
        await context.close()


# ── sign-out and a second member on the same browser ──────────────────────────────────────


async def test_sign_out_erases_the_members_data_and_the_next_member_sees_only_their_own(
    platform: Platform, browsing: Browsing
) -> None:
    from .conftest import a_cell_outside

    title = "Kết luận của chi bộ về xây dựng nông thôn mới"
    async with platform.client() as client:
        first = await member_in_demo_cell(platform, client, "Vũ Văn Thứ Nhất")
        doc_id = await required_document(
            platform, client, title, "12-KL/CB", LONG_TEXT[:5], [first]
        )
        other_cell = await a_cell_outside(platform, client, platform.credentials["orgs"]["cell_id"])
        second = await new_member(platform, client, other_cell["id"], "Ngô Thị Thứ Hai")
    context = await browsing.phone(platform)
    page = await context.new_page()
    try:
        await sign_in(page, first.card_number, NEW_PASSWORD)
        await expect(page.get_by_role("region", name="Văn bản cần học tập")).to_contain_text(title)
        await page.goto(f"/documents/{doc_id}")
        await expect(page.locator(".reader")).to_contain_text("Điều 1.")

        async def file_kept() -> bool:
            return await kept_file(page, first, doc_id) is not None

        await wait_until(file_kept, "the document's file kept on the device")
        await page.goto("/profile")
        before = await script_readable_storage(page)
        assert first.member_id in before and title in before  # the member's data was kept…
        await page.get_by_role("button", name="Đăng xuất trên thiết bị này").click()
        await expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
        after = await script_readable_storage(page)
        for trace in (first.member_id, title, first.full_name, first.card_number):
            assert trace not in after, f"{trace!r} is still on the device after sign-out"
        assert [c for c in await context.cookies() if "refresh" in c["name"]] == []
        assert await kept_file(page, first, doc_id) is None  # the file went with the rest
        assert f"sotay-files-{first.member_id}" not in await page.evaluate("caches.keys()")

        await sign_in(page, second.card_number, NEW_PASSWORD)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Xin chào, Ngô Thị Thứ Hai")
        await expect(page.get_by_role("region", name="Văn bản cần học tập")).not_to_contain_text(
            title
        )
        await page.goto(f"/documents/{doc_id}")
        await expect(page.get_by_role("alert")).to_be_visible()  # not hers: the API refuses
        stored = await script_readable_storage(page)
        assert first.member_id not in stored and title not in stored
    finally:
        await context.close()


# ── security settings, sign-out everywhere ─────────────────────────────────────────────────


def push_subscription(endpoint: str) -> dict[str, Any]:
    """A browser's push subscription (a P-256 key and an auth secret) for ``endpoint``."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    public = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )

    def b64url(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {
        "endpoint": endpoint,
        "keys": {"p256dh": b64url(public), "auth": b64url(os.urandom(16))},
    }


async def _push_subscriptions(platform: Platform, member: NewMember) -> int:
    conn = await asyncpg.connect(platform.description["services"]["notify"]["dsn"])
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM push_subscriptions WHERE member_id = $1",
            uuid.UUID(member.member_id),
        )
        return count
    finally:
        await conn.close()


async def test_second_factor_password_change_and_sign_out_of_every_device(
    platform: Platform, browsing: Browsing
) -> None:
    async with platform.client() as client:
        member = await member_in_demo_cell(platform, client, "Bùi Văn Bảo Mật")
    phone = await browsing.phone(platform)
    other_device = await browsing.phone(platform)
    page = await phone.new_page()
    other = await other_device.new_page()
    try:
        await sign_in(page, member.card_number, NEW_PASSWORD)
        await sign_in(other, member.card_number, NEW_PASSWORD)

        # Second factor: the QR and its secret, confirmed with a code from the authenticator.
        await page.goto("/profile")
        await page.get_by_role("button", name="Bật xác thực hai lớp").click()
        await expect(page.locator(".qr svg")).to_be_visible()
        secret = (await page.locator(".card code").inner_text()).strip()
        await screen(page, "profile-totp")
        await page.get_by_label("Mã xác thực").fill(pyotp.TOTP(secret).now())
        await page.get_by_role("button", name="Xác nhận").click()
        await expect(page.get_by_text("Đang bật.")).to_be_visible()

        # A new password, then sign out of every device: the other phone's session ends too.
        new_password = "Mật khẩu thứ hai rất dài 2026"
        await page.get_by_label("Mật khẩu hiện tại").fill(NEW_PASSWORD)
        await page.get_by_label("Mật khẩu mới", exact=True).fill(new_password)
        await page.get_by_label("Nhập lại mật khẩu mới").fill(new_password)
        await page.get_by_role("button", name="Đổi mật khẩu").click()
        await expect(page.get_by_text("Đã đổi mật khẩu.")).to_be_visible()
        # Push was on for two phones (subscriptions made as the browsers' push services would
        # hand them over; headless Chromium has none): signing out everywhere removes both.
        async with platform.client() as client:
            for phone_id in ("phone-1", "phone-2"):
                r = await client.post(
                    "/api/v1/push-subscriptions",
                    json=push_subscription(f"https://8.8.8.8/push/{phone_id}"),
                    headers=member.auth,
                )
                assert r.status_code == 201, r.text
        assert await _push_subscriptions(platform, member) == 2
        await page.get_by_role("button", name="Đăng xuất trên mọi thiết bị").click()
        await expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
        assert await _push_subscriptions(platform, member) == 0
        await other.reload()
        await expect(other.get_by_role("heading", name="Đăng nhập")).to_be_visible()

        # Signing in now asks for the authenticator's code (the next 30 s step: a code is
        # accepted once).
        await page.get_by_label("Số thẻ đảng viên hoặc số điện thoại").fill(member.card_number)
        await page.get_by_label("Mật khẩu hoặc mã kích hoạt").fill(new_password)
        await page.get_by_role("button", name="Đăng nhập").click()
        await expect(page.get_by_role("heading", name="Xác thực hai lớp")).to_be_visible()
        otp = page.get_by_label("Mã xác thực")
        assert await otp.get_attribute("autocomplete") == "one-time-code"
        await screen(page, "sign-in-otp")
        await otp.fill(pyotp.TOTP(secret).at(time.time() + 30))
        await page.get_by_role("button", name="Xác nhận").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Xin chào, Bùi Văn Bảo Mật")
    finally:
        await phone.close()
        await other_device.close()


# ── 320 px, 200 % text, keyboard only ──────────────────────────────────────────────────────


async def test_usable_at_320_px_with_200_percent_text_and_by_keyboard_alone(
    platform: Platform, browsing: Browsing
) -> None:
    async with platform.client() as client:
        member = await member_in_demo_cell(platform, client, "Đinh Thị Chữ To")
    context = await browsing.phone(platform)
    page = await context.new_page()
    await page.set_viewport_size({"width": 320, "height": 640})
    try:
        # Keyboard alone: Tab to each field, Enter to submit.
        await page.goto("/")
        await expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
        await page.keyboard.press("Tab")
        await expect(page.get_by_label("Số thẻ đảng viên hoặc số điện thoại")).to_be_focused()
        await page.keyboard.type(member.card_number)
        await page.keyboard.press("Tab")
        await expect(page.get_by_label("Mật khẩu hoặc mã kích hoạt")).to_be_focused()
        await page.keyboard.type(NEW_PASSWORD)
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Xin chào, Đinh Thị Chữ To")
        # On a screen loaded afresh, the skip link is the first stop and leads into the screen;
        # following a link moves focus to the new screen's heading.
        await page.goto("/meetings")
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name="Bỏ qua, đến nội dung chính")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator("main")).to_be_focused()
        await page.get_by_role("link", name="Văn bản", exact=True).focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", level=1, name="Văn bản")).to_be_focused()

        await page.goto("/profile")
        await page.get_by_label("Cỡ chữ").select_option(label="200%")
        for path, name in [
            ("/", "home-320-200"),
            ("/meetings", "meetings-320-200"),
            ("/documents", "documents-320-200"),
            ("/inbox", "inbox-320-200"),
            ("/profile", "profile-320-200"),
        ]:
            await page.goto(path)
            await expect(page.get_by_role("heading", level=1)).to_be_visible()
            await screen(page, name)  # loaded, checked and kept; then its layout
            size = await page.evaluate("getComputedStyle(document.documentElement).fontSize")
            assert size == "32px", size  # 200 % of 16 px
            overflow = await page.evaluate(
                "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
            )
            wide = await page.evaluate(
                """() => [...document.querySelectorAll('main *')]
                .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
                .map(e => e.outerHTML.slice(0, 120)).slice(-3)"""
            )
            assert overflow <= 0, f"{path}: {overflow} px of horizontal scrolling at 320 px: {wide}"
            clipped = await page.evaluate(
                """() => [...document.querySelectorAll('a, button')]
                .filter(e => e.offsetParent !== null && !e.matches('.skip:not(:focus)'))
                .filter(e => { const r = e.getBoundingClientRect();
                               return r.left < 0 || r.right > innerWidth + 0.5; })
                .map(e => e.textContent)"""
            )
            assert clipped == [], f"{path}: controls cut off at 320 px: {clipped}"
    finally:
        await context.close()
