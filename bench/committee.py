"""The committee's dashboards (issue 11): how soon a dashboard is usable for a province.

Printed, not asserted. On a private platform (temporary directory, free ports) with the demo
province — ``full`` by default (9 districts, ≈ 2,920 cells, ≈ 60,000 members), ``--size small``
for a quick run; ``--month`` plays the demo month first (meetings, documents, reads), else the
reports' rows are there with zero activity — and the app as built by ``make web``, driven in
Debian's chromium by Playwright. The demo committee member follows the district above the demo
cell; the province's admin also grants them the province, so both levels are measured.

For the attendance and the document-reach dashboards of the province and of that district, cold
(no HTTP cache, no service worker; the session restored from its refresh cookie as when the app
is reopened): the time from the start of navigation until the report's table, its chart and the
org navigator are on the screen and a drill-down link answers a click (the next level's report
shown) — "time to interactive" as a committee member feels it. On a desktop (1366×900,
unthrottled) and on an emulated low-end phone (360×740, 4× CPU slowdown, 1.6 Mbps down, 150 ms
round trip, as bench/web.py), median of 3. What the staff screens add to the app's entry chunk
(JS and CSS, gzip: the staff landing and the committee chunk with its chart library) is printed
beside.

    uv run python -m bench.committee [--size small] [--runs 3] [--month]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
from playwright.async_api import Browser, async_playwright
from sotay_devstack.servers import free_port
from sotay_devstack.stack import Stack
from sotay_kit.topology import SERVICES

from .web import CHROMIUM, PHONE, SLOW_NETWORK, Weighed, sign_in

ROOT = Path(__file__).resolve().parents[1]
DESKTOP = {"width": 1366, "height": 900}
DASHBOARDS = ("attendance", "reach")


@contextlib.asynccontextmanager
async def private_stack(size: str, month: bool) -> AsyncIterator[tuple[str, dict[str, Any], float]]:
    tmp = Path(tempfile.mkdtemp(prefix="sotay-bench-committee-"))
    stack = Stack(
        tmp,
        free_port(),
        {s.name: free_port() for s in SERVICES},
        quiet=True,
        demo=size,  # type: ignore[arg-type]
        demo_month=month,
    )
    started = time.monotonic()
    try:
        await asyncio.to_thread(stack.start)
        took = time.monotonic() - started
        gateway = json.loads((tmp / "stack.json").read_text())["gateway_url"]
        yield gateway, json.loads((tmp / "demo-credentials.json").read_text()), took
    finally:
        await asyncio.to_thread(stack.stop)
        shutil.rmtree(tmp, ignore_errors=True)


async def _interactive_ms(
    browser: Browser, gateway: str, who: dict[str, Any], dashboard: str, org: str, *, phone: bool
) -> float:
    """Cold load of one dashboard until its table, chart and navigator show and a drill-down
    click has shown the next level (signed in first, in the same context: the load restores
    the session from the refresh cookie, as reopening the app does)."""
    context = await browser.new_context(
        base_url=gateway,
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
        service_workers="block",
    )
    page = await context.new_page()
    await page.goto("/")
    await sign_in(page, who)
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if phone:
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        await cdp.send("Network.emulateNetworkConditions", SLOW_NETWORK)
    await page.goto(f"/manage/committee/{dashboard}?org={org}", wait_until="commit")
    table = page.locator("table.report[data-report]")
    await table.first.wait_for(timeout=120_000)
    await page.locator(".chart canvas").first.wait_for(timeout=120_000)
    await page.locator(".org-nav").wait_for(state="attached", timeout=120_000)  # folded on a phone
    first = await page.get_by_test_id("report-org").inner_text()
    await page.locator("table.report[data-report] tbody a").first.click()
    await page.get_by_test_id("report-org").filter(has_not_text=first).wait_for(timeout=120_000)
    ms = float(await page.evaluate("performance.now()"))
    await context.close()
    return ms


async def measure(gateway: str, credentials: dict[str, Any], runs: int) -> dict[str, Any]:
    committee = credentials["committee"]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM)
        context = await browser.new_context(
            base_url=gateway, viewport=DESKTOP, locale="vi-VN", service_workers="block"
        )
        page = await context.new_page()
        await page.goto("/")
        await sign_in(page, committee)
        weighed = Weighed(page)
        before = set(weighed.bodies)
        await page.goto("/manage/committee/attendance", wait_until="networkidle")
        await page.locator("table.report[data-report]").first.wait_for(timeout=120_000)
        await weighed.settle()
        # What the staff screens add: everything but the app's entry chunk (main-*.js/css).
        committee_urls = {u for u in weighed.bodies if u not in before and "/assets/main-" not in u}
        rows = await page.locator("table.report[data-report] tbody tr").count()
        await context.close()
        result: dict[str, Any] = {
            "screen_js_kb": weighed.gzip_kb("script", committee_urls),
            "screen_css_kb": weighed.gzip_kb("stylesheet", committee_urls),
            "district_attendance_rows": rows,
        }
        levels = {"province": credentials["orgs"]["province_id"]}
        levels["district"] = credentials["orgs"]["district_id"]
        for level, org in levels.items():
            for dashboard in DASHBOARDS:
                for phone in (False, True):
                    times = [
                        await _interactive_ms(
                            browser, gateway, committee, dashboard, org, phone=phone
                        )
                        for _ in range(runs)
                    ]
                    device = "phone" if phone else "desktop"
                    result[f"{level}_{dashboard}_{device}_ms"] = statistics.median(times)
        await browser.close()
    return result


async def follow_the_province(gateway: str, credentials: dict[str, Any]) -> None:
    """The demo committee member also follows the province (granted by the province's admin),
    so the dashboards are measured at its 2,920 cells too."""
    admin = credentials["admin"]
    async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
        r = await client.post(
            "/api/v1/auth/login",
            json={"username": admin["username"], "password": admin["password"],
                  "otp": pyotp.TOTP(admin["totp_secret"]).now()},
        )  # fmt: skip
        r.raise_for_status()
        r = await client.post(
            "/api/v1/role-grants",
            json={"member_id": credentials["committee"]["member_id"], "role": "committee_member",
                  "org_id": credentials["orgs"]["province_id"]},
            headers={"authorization": f"Bearer {r.json()['access_token']}"},
        )  # fmt: skip
        r.raise_for_status()


async def main(size: str = "full", runs: int = 3, month: bool = False) -> dict[str, Any]:
    assert (ROOT / "clients" / "web" / "dist" / "index.html").exists(), "run make web first"
    async with private_stack(size, month) as (gateway, credentials, took):
        await follow_the_province(gateway, credentials)
        result = await measure(gateway, credentials, runs)
        result["size"] = size
        result["cells"] = credentials["counts"]["cells"]
        result["members"] = credentials["counts"]["members"]
        result["stack_start_s"] = took
        result["month"] = month
    return result


def report(r: dict[str, Any]) -> str:
    lines = [
        f"demo {r['size']}: {r['cells']} cells, {r['members']} members "
        f"(stack with the demo loaded in {r['stack_start_s']:.0f} s); the first attendance "
        f"screen: {r['district_attendance_rows']} rows (child orgs × 3 months)",
        f"staff + committee chunks  JS {r['screen_js_kb']:5.1f} KB gzip   "
        f"CSS {r['screen_css_kb']:4.1f} KB gzip (loaded only by these screens)",
    ]
    lines.append(
        "with the demo month (meetings, documents, reads played through the services)"
        if r["month"]
        else "without the demo month (the reports' rows are there, their activity is zero)"
    )
    for level in ("province", "district"):
        for dashboard in DASHBOARDS:
            lines.append(
                f"{level:<9} {dashboard:<10} interactive, drill-down included: "
                f"{r[f'{level}_{dashboard}_desktop_ms']:7.0f} ms desktop   "
                f"{r[f'{level}_{dashboard}_phone_ms']:7.0f} ms low-end phone "
                "(4× CPU, 1.6 Mbps, 150 ms RTT)"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("full", "small"), default="full")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--month", action="store_true", help="play the demo month first (minutes for full)"
    )
    args = parser.parse_args()
    print(report(asyncio.run(main(args.size, args.runs, args.month))))
