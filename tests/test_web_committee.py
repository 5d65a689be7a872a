"""The committee's screens in the browser (issue 11, part 2), on the real stack.

The demo committee member follows the district above the demo cell. The test gives that
district a cell of its own (three members, one of them its secretary) with a known month: a
regular meeting where two check in and one stays away. In a desktop browser the committee
member publishes a resolution to that cell by uploading it (the progress bar reaches 100 %);
two members open it and one studies it. The reach and attendance dashboards are then followed
from the district through the commune to the cell, and at every level every figure of the
table (rows and total) equals the analytics API's report for the same org and period. The
navigator's search finds the cell without diacritics (to publish to it); the adoption and
lagging dashboards, the published documents (one publication retracted) and news posting pass
the screen checks."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from .browser import Browsing, screen, sign_in
from .conftest import NEW_PASSWORD, Platform, make_pdf, new_member, wait_until

pytestmark = pytest.mark.e2e

REPORTS = "/api/v1/reports"
MEETINGS = "/api/v1/meetings"
HIDDEN = {"org_path", "org_id", "kind_code"}


async def _login(client: httpx.AsyncClient, card: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": card, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


async def _report(
    client: httpx.AsyncClient, auth: dict[str, str], name: str, **params: Any
) -> dict[str, Any]:
    r = await client.get(f"{REPORTS}/{name}", params=params, headers=auth)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def _number(text: str) -> int:
    return int(text.replace(".", "").replace("\u00a0", "").strip())


def _ratio(text: str) -> float:
    return float(text.replace("%", "").replace(".", "").replace(",", ".").strip()) / 100


def _same(value: Any, kind: str, shown: str) -> bool:
    """Whether ``shown`` (the page's text) is the API's ``value`` as the screen writes it."""
    if value is None or value == "":
        return shown == "—"
    if kind == "int":
        return _number(shown) == value
    if kind == "ratio":
        return abs(_ratio(shown) - value) < 0.0006  # shown to 0.1 %
    if kind == "bool":
        return shown == ("Có" if value else "Không")
    if kind == "month":
        year, month = str(value).split("-")
        return shown == f"{month}/{year}"
    if kind == "datetime":
        return bool(shown)
    return shown == str(value) or shown.startswith(f"{value} ")  # "Tên (trực tiếp)"


async def _table(page: Page, report: str) -> dict[str, Any]:
    """The report's table as shown: each row's cells by column key, and the total row."""
    table = page.locator(f"table.report[data-report='{report}']")
    await expect(table).to_be_visible()
    shown: dict[str, Any] = await table.evaluate(
        """t => {
        const cells = tr => Object.fromEntries([...tr.children].map(
            c => [c.dataset.key, c.textContent.trim()]));
        return {rows: [...t.tBodies[0].rows].map(cells),
                total: t.tFoot ? cells(t.tFoot.rows[0]) : null,
                keys: [...t.tHead.rows[0].children].map(c => c.dataset.key)};
        }"""
    )
    return shown


def _compare(shown: dict[str, Any], api: dict[str, Any]) -> None:
    kinds = {c["key"]: c["kind"] for c in api["columns"]}
    named = "full_name" in kinds
    expected = [k for k in kinds if k not in HIDDEN and not (named and k == "member_id")]
    assert shown["keys"] == expected
    assert len(shown["rows"]) == len(api["rows"]), (len(shown["rows"]), len(api["rows"]))
    for row, cells in zip(api["rows"], shown["rows"], strict=True):
        for key in expected:
            assert _same(row.get(key), kinds[key], cells[key]), (key, row.get(key), cells[key])
    for key in expected[1:]:
        if key in (api["total"] or {}):
            value = api["total"][key]
            assert _same(value, kinds[key], shown["total"][key]), (key, value, shown["total"])


async def _figures_match(
    page: Page, client: httpx.AsyncClient, auth: dict[str, str], name: str, **params: Any
) -> dict[str, Any]:
    """Every figure of the page's table equals the API's report for the same org and
    parameters, row by row and the total. Read again while the screen is still loading what was
    asked last; should analytics still be applying something (the shared stack's other tests),
    the page is reloaded and the report asked again, so both are read at one moment."""
    api = await _report(client, auth, name, **params)
    deadline = time.monotonic() + 30
    checked_at = time.monotonic()
    while True:
        shown = await _table(page, api["report"])
        try:
            _compare(shown, api)
            return api
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            if time.monotonic() - checked_at > 5:
                await page.reload()
                api = await _report(client, auth, name, **params)
                checked_at = time.monotonic()
            await asyncio.sleep(0.25)


async def _drill(page: Page, title: str) -> None:
    await page.get_by_role("link", name=f"Xem chi tiết {title}").first.click()
    await expect(page.get_by_test_id("report-org")).to_have_text(title)
    await expect(page.locator(".loading")).to_have_count(0)


async def test_committee_drills_from_district_to_cell_and_every_figure_is_the_apis(
    platform: Platform, browsing: Browsing
) -> None:
    orgs = platform.credentials["orgs"]
    admin = await platform.auth("admin")
    committee = await platform.auth("committee")
    tag = uuid.uuid4().hex[:6]
    async with platform.client() as client:
        # ── a cell of the district's commune with three members, one its secretary ────────
        r = await client.get(f"/api/v1/orgs/{orgs['cell_id']}", headers=admin)
        commune_id = r.json()["parent_id"]
        r = await client.get(f"/api/v1/orgs/{commune_id}", headers=admin)
        commune = r.json()
        r = await client.get(f"/api/v1/orgs/{orgs['district_id']}", headers=admin)
        district = r.json()
        cell_title = f"Chi bộ Khu dân cư Đồng Tâm {tag}"
        r = await client.post(
            "/api/v1/orgs",
            json={"parent_id": commune_id, "title": cell_title, "kind": "cell"},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        cell = r.json()
        sec = await new_member(platform, client, cell["id"], "Đặng Thị Bí Thư")
        m1 = await new_member(platform, client, cell["id"], "Vũ Văn Một")
        m2 = await new_member(platform, client, cell["id"], "Bùi Thị Hai")
        r = await client.post(
            "/api/v1/role-grants",
            json={"member_id": sec.member_id, "role": "cell_secretary", "org_id": cell["id"]},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        secretary = await _login(client, sec.card_number)
        everyone = {sec.member_id, m1.member_id, m2.member_id}

        # ── the cell's regular meeting: the secretary and one member check in ─────────────
        starts = (datetime.now(UTC) + timedelta(seconds=20)).replace(microsecond=0)
        r = await client.post(
            MEETINGS,
            json={"org_id": cell["id"], "kind": "regular", "title": "Sinh hoạt thường kỳ",
                  "starts_at": starts.isoformat(),
                  "ends_at": (starts + timedelta(hours=2)).isoformat(),
                  "location": "Nhà văn hóa khu dân cư", "agenda": ["Kiểm điểm"]},
            headers=secretary,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        [meeting] = r.json()["meetings"]
        mid = meeting["id"]

        async def roster_complete() -> bool:
            r = await client.patch(
                f"{MEETINGS}/{mid}", json={"refresh_roster": True}, headers=secretary
            )
            assert r.status_code == 200, r.text
            return {i["member_id"] for i in r.json()["roster"]} == everyone

        await wait_until(roster_complete, "the meeting's roster to be the cell's three members")
        r = await client.get(f"{MEETINGS}/{mid}/checkin-code", headers=secretary)
        code = r.json()["code"]
        for who in (sec, m1):
            r = await client.post(
                f"{MEETINGS}/{mid}/checkin", json={"code": code}, headers=who.auth
            )
            assert r.status_code == 200, r.text

        # The documents service must know the three as the cell's members before publishing:
        # its audience is counted from its own projection of identity.
        r = await client.post(
            "/api/v1/documents",
            data={"title": f"Danh sách chuẩn bị {tag}", "kind": "other",
                  "org_id": orgs["district_id"]},
            files={"file": ("ds.pdf", make_pdf(["Danh sách"]), "application/pdf")},
            headers=committee,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        probe = r.json()["id"]

        async def cell_known() -> bool:
            r = await client.get(
                f"/api/v1/documents/{probe}/reads", params={"org_id": cell["id"]},
                headers=committee,
            )  # fmt: skip
            return r.status_code == 200 and {i["member_id"] for i in r.json()["items"]} >= everyone

        await wait_until(cell_known, "the documents service to know the cell's members")

        context = await browsing.desktop(platform)
        page = await context.new_page()
        try:
            creds = platform.credentials["committee"]
            await sign_in(page, creds["username"], creds["password"])
            await page.get_by_role("link", name="Quản lý").click()
            await page.get_by_role("link", name=re.compile("Theo dõi của cấp ủy")).click()
            await expect(page.get_by_role("heading", level=1)).to_have_text("Theo dõi của cấp ủy")
            await screen(page, "committee-home")

            # ── publish with the upload's progress ────────────────────────────────────────
            await page.get_by_role("link", name=re.compile("^Ban hành văn bản")).click()
            await expect(page.get_by_role("heading", level=1)).to_have_text("Ban hành văn bản")
            # The navigator finds the new cell without diacritics, under its commune.
            await page.get_by_label("Tìm tổ chức").fill(f"dong tam {tag}")
            await page.get_by_role("button", name="Tìm", exact=True).click()
            found = page.locator(".found a")
            await expect(found).to_have_count(1)
            await expect(found).to_contain_text(commune["title"])
            await found.click()
            await expect(page).to_have_url(re.compile(f"org={cell['id']}"))
            title = f"Nghị quyết về chuyển đổi số {tag}"
            pdf = make_pdf([f"Nghị quyết {tag}"] + ["Học tập và làm theo tư tưởng"] * 400)
            await page.get_by_label("Tệp văn bản").set_input_files(
                {"name": "nghi-quyet.pdf", "mimeType": "application/pdf", "buffer": pdf}
            )
            await page.get_by_label("Trích yếu / tiêu đề").fill(title)
            await page.get_by_label("Loại văn bản").select_option("resolution")
            await page.get_by_label("Số, ký hiệu").fill(f"{tag}-NQ/HU")
            await page.get_by_label("Cơ quan ban hành").fill("Ban Thường vụ Huyện ủy")
            await page.get_by_label("Ngày ban hành").fill("2026-11-30")
            await page.get_by_label("Từ khóa").fill("chuyển đổi số, nghị quyết")
            await page.get_by_label(re.compile(f"^{cell_title}")).check()
            await page.get_by_label("Yêu cầu học tập").check()
            await page.get_by_label("Hạn học tập").fill(
                (datetime.now(UTC) + timedelta(days=14)).strftime("%Y-%m-%dT17:00")
            )
            await screen(page, "committee-publish")
            await page.get_by_role("button", name="Tải lên và phát hành").click()
            await expect(page.get_by_test_id("published")).to_contain_text("Gửi đến 3 đảng viên")
            await expect(page.locator("#upload-progress")).to_have_attribute("value", "100")
            await screen(page, "committee-published")

            # The same resolution uploaded again (same number and issuer): the screen warns and
            # links to the one already there instead of making members see it twice.
            await page.get_by_label("Tệp văn bản").set_input_files(
                {"name": "nghi-quyet.pdf", "mimeType": "application/pdf", "buffer": pdf}
            )
            await page.get_by_label("Trích yếu / tiêu đề").fill(title)
            await page.get_by_label("Số, ký hiệu").fill(f"{tag}-NQ/HU")
            await page.get_by_label("Cơ quan ban hành").fill("Ban Thường vụ Huyện ủy")
            await page.get_by_label(re.compile(f"^{cell_title}")).check()
            await page.get_by_role("button", name="Tải lên và phát hành").click()
            warning = page.get_by_test_id("duplicate")
            await expect(warning).to_contain_text(f"{tag}-NQ/HU — {title}")
            await expect(page.get_by_label("Đây là văn bản khác: vẫn tải lên")).not_to_be_checked()
            await screen(page, "committee-publish-duplicate")

            r = await client.get("/api/v1/documents", params={"q": tag}, headers=committee)
            [doc] = [d for d in r.json()["items"] if d["title"] == title]  # still one
            link = await warning.get_by_role("link").get_attribute("href")
            assert link == f"/documents/{doc['id']}"
            r = await client.get(f"/api/v1/documents/{doc['id']}", headers=committee)
            detail = r.json()
            assert (detail["number"], detail["issuer"], detail["issued_on"]) == (
                f"{tag}-NQ/HU", "Ban Thường vụ Huyện ủy", "2026-11-30",
            )  # fmt: skip
            assert detail["tags"] == ["chuyển đổi số", "nghị quyết"]
            [pub] = detail["publications"]
            assert pub["study_required"] and pub["org_ids"] == [cell["id"]]
            assert pub["audience_size"] == 3 and pub["study_deadline"] is not None

            # Two open it, one studies it; the meeting closes (the third is absent).
            for who, body in ((m1, {"progress_percent": 100, "studied": True}),
                              (m2, {"progress_percent": 30})):  # fmt: skip
                r = await client.post(
                    f"/api/v1/documents/{doc['id']}/reads", json=body, headers=who.auth
                )
                assert r.status_code in (200, 201), r.text
            await asyncio.sleep(max(0.0, starts.timestamp() - time.time() + 0.5))
            r = await client.post(f"{MEETINGS}/{mid}/close", headers=secretary)
            assert r.status_code == 200, r.text

            reach_q = {"document_id": doc["id"], "publication_id": pub["id"]}

            async def caught_up() -> bool:
                reach = await _report(client, committee, "document-reach", org_id=cell["id"],
                                      **reach_q)  # fmt: skip
                att = await _report(client, committee, "attendance", org_id=cell["id"])
                return (reach["total"]["studied"], reach["total"]["opened"]) == (1, 2) and sum(
                    r["meetings_invited"] for r in att["rows"]
                ) == 3

            await wait_until(caught_up, "analytics to apply the reads and the meeting", 60)

            # ── reach: district → commune → cell, every figure the API's ──────────────────
            await page.goto("/manage/committee")
            await page.get_by_role("link", name=re.compile("^Tiếp cận văn bản")).click()
            await expect(page.get_by_test_id("report-org")).to_have_text(district["title"])
            await page.get_by_label("Văn bản", exact=True).select_option(doc["id"])
            await page.get_by_label("Đợt phát hành").select_option(pub["id"])
            await expect(page).to_have_url(re.compile(f"publication_id={pub['id']}"))
            await _figures_match(
                page, client, committee, "document-reach", org_id=district["id"], **reach_q
            )
            await screen(page, "committee-reach-district")
            await _drill(page, commune["title"])
            await _figures_match(
                page, client, committee, "document-reach", org_id=commune_id, **reach_q
            )
            await _drill(page, cell_title)
            cell_reach = await _figures_match(
                page, client, committee, "document-reach", org_id=cell["id"], **reach_q
            )
            assert cell_reach["level"] == "member" and len(cell_reach["rows"]) == 3
            await screen(page, "committee-reach-cell")

            # ── attendance: the same way down, the default period (three months) ──────────
            await page.goto(f"/manage/committee/attendance?org={orgs['district_id']}")
            await expect(page.get_by_test_id("report-org")).to_have_text(district["title"])
            await _figures_match(page, client, committee, "attendance", org_id=district["id"])
            await screen(page, "committee-attendance-district")
            await _drill(page, commune["title"])
            await _figures_match(page, client, committee, "attendance", org_id=commune_id)
            # The commune's attendance has a row per cell and month: the cell's own link.
            await page.get_by_role("link", name=f"Xem chi tiết {cell_title}").first.click()
            await expect(page.get_by_test_id("report-org")).to_have_text(cell_title)
            cell_att = await _figures_match(
                page, client, committee, "attendance", org_id=cell["id"]
            )
            assert sum(r["present"] for r in cell_att["rows"]) == 2
            assert sum(r["absent_unexcused"] for r in cell_att["rows"]) == 1
            await screen(page, "committee-attendance-cell")

            # ── adoption and lagging ──────────────────────────────────────────────────────
            await page.goto(f"/manage/committee/adoption?org={orgs['district_id']}")
            await _figures_match(page, client, committee, "adoption", org_id=district["id"])
            await screen(page, "committee-adoption")
            await page.goto(f"/manage/committee/lagging?org={cell['id']}")
            await page.get_by_label("Vắng không lý do từ (lần)").fill("1")
            await page.get_by_role("button", name="Xem", exact=True).click()
            lagging = await _figures_match(
                page, client, committee, "lagging", org_id=cell["id"], min_unexcused=1
            )
            assert [x["member_id"] for x in lagging["rows"]] == [m2.member_id]
            await screen(page, "committee-lagging")

            # ── the API's own export of what is shown ─────────────────────────────────────
            async with page.expect_download() as download:
                await page.get_by_role("button", name="Tải CSV").click()
            path = await (await download.value).path()
            assert "Vắng không lý do" in path.read_bytes().decode("utf-8-sig")

            # ── news to the cell; the resolution's publication retracted ───────────────────
            await page.goto(f"/manage/committee/news?org={cell['id']}")
            await page.get_by_label("Tiêu đề").fill(f"Thông báo lịch học tập {tag}")
            await page.get_by_label("Nội dung").fill("Chi bộ học tập nghị quyết vào tối thứ Sáu.")
            await page.get_by_role("button", name="Đăng tin").click()
            await expect(page.get_by_role("status").filter(has_text="Đã đăng tin")).to_be_visible()
            await screen(page, "committee-news")
            r = await client.get("/api/v1/news", headers=m2.auth)
            assert f"Thông báo lịch học tập {tag}" in {n["title"] for n in r.json()["items"]}

            await page.goto(f"/manage/committee/documents?document_id={doc['id']}")
            item = page.locator("li", has=page.get_by_text(title, exact=False)).first
            page.once("dialog", lambda d: asyncio.ensure_future(d.accept()))
            await item.get_by_role("button", name="Thu hồi").click()
            await expect(item.get_by_text("Đã thu hồi đợt phát hành.")).to_be_visible()
            await screen(page, "committee-documents")
            r = await client.get(f"/api/v1/documents/{doc['id']}", headers=committee)
            assert r.json()["publications"][0]["retracted_at"] is not None
        finally:
            await context.close()

        # ── on a phone (320 px): the navigator folds, the table scrolls in its own region ──
        context = await browsing.phone(platform)
        page = await context.new_page()
        await page.set_viewport_size({"width": 320, "height": 700})
        try:
            await sign_in(page, creds["username"], creds["password"])
            await page.goto(f"/manage/committee/attendance?org={commune_id}")
            await expect(page.get_by_test_id("report-org")).to_have_text(commune["title"])
            await expect(page.get_by_role("group").get_by_text("Cây tổ chức")).to_be_visible()
            await screen(page, "committee-attendance-phone")
            assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        finally:
            await context.close()
