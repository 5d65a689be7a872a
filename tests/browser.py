"""Browser testing shared by the app's browser tests: Debian's chromium driven by Playwright,
axe-core and screenshots per screen, and the API calls that set up what a screen shows.

The ``browsing`` fixture (tests/conftest.py) launches one browser per test module, with a fake
camera whose video file a test may rewrite (``write_y4m``). ``screen`` is the check every screen
passes: nothing loading, a screenshot under test-artifacts/screens/, 0 axe-core violations
(WCAG 2.2 AA), touch targets of at least 44 px.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from .conftest import NewMember, Platform, make_pdf, new_member, wait_until

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "clients" / "web"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = ROOT / "test-artifacts" / "screens"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 900}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
JWT = re.compile(r"eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}")


def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(path).exists(), "the browser tests need Debian's 'chromium' (make test installs it)"
    return path


@dataclass
class Browsing:
    browser: Browser
    camera: Path  # the fake camera's video file (.y4m), rewritten by the check-in test

    async def phone(self, platform: Platform) -> BrowserContext:
        context = await self.browser.new_context(
            base_url=platform.gateway,
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="vi-VN",
            timezone_id="Asia/Ho_Chi_Minh",
        )
        await context.grant_permissions(["camera"], origin=platform.gateway)
        context.set_default_timeout(20_000)
        return context

    async def desktop(self, platform: Platform) -> BrowserContext:
        """A desktop browser (the committees' screens are desktop-first)."""
        context = await self.browser.new_context(
            base_url=platform.gateway,
            viewport=DESKTOP,
            locale="vi-VN",
            timezone_id="Asia/Ho_Chi_Minh",
            accept_downloads=True,
        )
        context.set_default_timeout(20_000)
        return context


def write_y4m(path: Path, image: Image.Image, frames: int = 10) -> None:
    """A YUV4MPEG2 (4:2:0) video of ``image`` for Chromium's fake camera (it loops the file)."""
    width, height = (image.width // 2) * 2, (image.height // 2) * 2
    ycbcr = image.convert("RGB").resize((width, height)).convert("YCbCr")
    y, cb, cr = ycbcr.split()
    half = (width // 2, height // 2)
    frame = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + frame)


async def launch_browser(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Browsing]:
    """Chromium with a fake camera, once the app's build is newer than its sources."""
    built = WEB / "dist" / ".built"
    assert built.exists(), "build the web app first: make web"
    sources = [
        p for d in ("src", "public") for p in (WEB / d).rglob("*") if "generated" not in p.parts
    ]
    newest = max(p.stat().st_mtime for p in [*sources, WEB / "index.html"] if p.is_file())
    assert newest <= built.stat().st_mtime, (
        "the web app's build is older than its sources: make web"
    )
    assert AXE.exists(), "clients/web/node_modules is missing: make web"
    camera = tmp_path_factory.mktemp("camera") / "camera.y4m"
    write_y4m(camera, Image.new("RGB", (640, 480), "white"), frames=1)
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=chromium(),
            args=[
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={camera}",
            ],
        )
        try:
            yield Browsing(browser, camera)
        finally:
            await browser.close()


async def screen(page: Page, name: str) -> None:
    """A screen is ready (nothing loading): keep its screenshot and check it with axe-core."""
    await expect(page.locator(".loading")).to_have_count(0)
    SCREENS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's CSP does not govern.
        await page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = await page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))",
        AXE_TAGS,
    )
    assert result == [], f"{name}: axe-core violations {json.dumps(result, ensure_ascii=False)}"
    # Touch targets: every link and button on the screen is at least 44×44 CSS px (WCAG 2.5.5
    # enhanced, as the issue asks), except links inside running text.
    small = await page.evaluate(
        """() => [...document.querySelectorAll('button, a, input, select, summary')]
        .filter(e => e.offsetParent !== null && !e.closest('p, .prose, .reader, dd')
                 && e.type !== 'hidden' && e.type !== 'checkbox' && e.type !== 'radio')
        .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])
        .filter(([, r]) => r.height < 44 || r.width < 44)
        .map(([h, r]) => `${h} ${Math.round(r.width)}×${Math.round(r.height)}`)"""
    )
    assert small == [], f"{name}: touch targets under 44 px: {small}"


async def sign_in(page: Page, username: str, password: str) -> None:
    await page.goto("/")
    await page.get_by_label("Số thẻ đảng viên hoặc số điện thoại").fill(username)
    await page.get_by_label("Mật khẩu hoặc mã kích hoạt").fill(password)
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page.get_by_role("heading", level=1, name=re.compile("^Xin chào"))).to_be_visible()


async def kept_file(page: Page, member: NewMember, doc_id: str) -> dict[str, Any] | None:
    """The document's original file as this member's cache keeps it on the device, if it does."""
    kept: dict[str, Any] | None = await page.evaluate(
        """async ([name, key]) => {
        if (!(await caches.has(name))) return null;
        const response = await (await caches.open(name)).match(key);
        if (!response) return null;
        return {type: response.headers.get('content-type'),
                size: (await response.arrayBuffer()).byteLength};
        }""",
        [f"sotay-files-{member.member_id}", f"/offline/files/{doc_id}"],
    )
    return kept


async def script_readable_storage(page: Page) -> str:
    """Everything a script of the page can read from storage, as one string."""
    dump: str = await page.evaluate(
        """async () => {
        const out = {local: {...localStorage}, session: {...sessionStorage},
                     cookie: document.cookie, idb: {}, caches: {}};
        for (const info of await indexedDB.databases()) {
          const db = await new Promise((ok, ko) => {
            const r = indexedDB.open(info.name);
            r.onsuccess = () => ok(r.result); r.onerror = ko; });
          for (const name of db.objectStoreNames) {
            const store = db.transaction(name).objectStore(name);
            const [keys, values] = await Promise.all([store.getAllKeys(), store.getAll()].map(
              r => new Promise(ok => { r.onsuccess = () => ok(r.result); })));
            out.idb[`${info.name}/${name}`] = {keys, values};
          }
          db.close();
        }
        for (const name of await caches.keys()) {
          const cache = await caches.open(name);
          out.caches[name] = {};
          for (const req of await cache.keys()) {
            const body = await (await cache.match(req)).text();
            out.caches[name][req.url] = body.slice(0, 200000);
          }
        }
        return JSON.stringify(out);
    }"""
    )
    return dump


async def push_to_service_worker(
    page: Page, origin: str, payload: dict[str, Any]
) -> list[dict[str, Any]]:
    """Deliver a push message to the page's service worker (DevTools' ServiceWorker domain,
    as a push service would) and return the notifications it then shows."""
    await page.context.grant_permissions(["notifications"], origin=origin)
    cdp = await page.context.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(r["registrationId"] for r in e["registrations"]),
    )
    await cdp.send("ServiceWorker.enable")
    assert await page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")

    async def registered() -> bool:
        return bool(registrations)

    await wait_until(registered, "the service worker's registration seen by DevTools")
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": registrations[0], "data": json.dumps(payload)},
    )
    notifications = """() => navigator.serviceWorker.ready.then(r => r.getNotifications())
        .then(ns => ns.map(n => ({title: n.title, body: n.body, lang: n.lang,
                                  link: n.data && n.data.link})))"""
    shown: list[dict[str, Any]] = []

    async def notified() -> bool:
        shown[:] = await page.evaluate(notifications)
        return bool(shown)

    await wait_until(notified, "the notification shown by the service worker")
    await cdp.detach()
    return shown


# ── data through the API ────────────────────────────────────────────────────────────────────


async def member_in_demo_cell(
    platform: Platform, client: httpx.AsyncClient, name: str
) -> NewMember:
    return await new_member(platform, client, platform.credentials["orgs"]["cell_id"], name)


async def meeting_for(
    platform: Platform,
    client: httpx.AsyncClient,
    members: list[NewMember],
    *,
    title: str,
    starts_in: timedelta,
    document_ids: list[str] | None = None,
) -> dict[str, Any]:
    """The demo cell's secretary schedules a meeting; the roster is refreshed until the
    meetings service has every new member of the cell on it."""
    secretary = await platform.auth("secretary")
    starts = (datetime.now(UTC) + starts_in).replace(microsecond=0)
    r = await client.post(
        "/api/v1/meetings",
        json={
            "org_id": platform.credentials["orgs"]["cell_id"],
            "kind": "regular",
            "title": title,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "location": "Nhà văn hóa thôn Đông",
            "agenda": ["Thông báo thời sự", "Học tập nghị quyết"],
            "document_ids": document_ids or [],
        },
        headers=secretary,
    )
    assert r.status_code == 201, r.text
    [meeting] = r.json()["meetings"]

    async def on_roster() -> bool:
        r = await client.patch(
            f"/api/v1/meetings/{meeting['id']}", json={"refresh_roster": True}, headers=secretary
        )
        assert r.status_code == 200, r.text
        roster = {i["member_id"] for i in r.json()["roster"] or []}
        return all(m.member_id in roster for m in members)

    await wait_until(on_roster, "the new members on the meeting's roster")
    return dict(meeting)


async def required_document(
    platform: Platform,
    client: httpx.AsyncClient,
    title: str,
    number: str,
    lines: list[str],
    readers: list[NewMember],
    *,
    deadline: bool = True,
) -> str:
    """A resolution of the province published to the demo cell as required study (by a
    deadline in 20 days, or with none when ``deadline`` is false), once the
    documents service knows ``readers`` as members of the cell (the audience of a publication
    is taken from its projection of identity at publishing time)."""
    admin = await platform.auth("admin")
    orgs = platform.credentials["orgs"]
    r = await client.post(
        "/api/v1/documents",
        data={
            "title": title,
            "kind": "resolution",
            "number": number,
            "issuer": "Ban Thường vụ Tỉnh ủy",
            "issued_on": "2026-11-20",
            "summary": "Tài liệu học tập bắt buộc",
            "classification": "internal",
            "org_id": orgs["province_id"],
        },
        files={"file": ("nghi-quyet.pdf", make_pdf(lines), "application/pdf")},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    doc_id = str(r.json()["id"])

    async def readers_projected() -> bool:
        # Every page: the demo cell holds whoever earlier tests imported into it (1,000 and more).
        known: set[str] = set()
        params: dict[str, Any] = {"org_id": orgs["cell_id"], "limit": 500}
        while True:
            r = await client.get(f"/api/v1/documents/{doc_id}/reads", params=params, headers=admin)
            assert r.status_code == 200, r.text
            known |= {i["member_id"] for i in r.json()["items"]}
            if not r.json().get("next_cursor"):
                return all(m.member_id in known for m in readers)
            params["cursor"] = r.json()["next_cursor"]

    await wait_until(readers_projected, "the new members in the documents service")
    r = await client.post(
        f"/api/v1/documents/{doc_id}/publish",
        json={
            "org_ids": [orgs["cell_id"]],
            "study_required": True,
            "study_deadline": (datetime.now(UTC) + timedelta(days=20)).isoformat()
            if deadline
            else None,
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return doc_id
