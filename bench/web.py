"""The members' web app (DESIGN.md §11, issue 10): what a phone downloads and how fast home shows.

Printed, not asserted. On a private platform (temporary directory, free ports, the small demo
province) with the app as built by ``make web``, driven in Debian's chromium by Playwright:

- weight: the JavaScript and CSS the sign-in screen loads, and what home adds, gzip-compressed
  (the gateway compresses them) — the issue's budget is ≤ 100 KB JS and ≤ 30 KB CSS;
- LCP of home (largest contentful paint, the browser's own PerformanceObserver) for the demo
  member, cold (no HTTP cache, no service worker), under an emulated low-end phone — 4× CPU
  slowdown, 1.6 Mbps down, 150 ms round trip — beside the same page unthrottled, median of 3;
- with ``--lighthouse``: Lighthouse 12.2.3 (installed on demand into .tools/lighthouse) on the
  sign-in screen with the system chromium: performance, accessibility, best practices, SEO
  (Lighthouse 12 no longer has a PWA category).

    uv run python -m bench.web [--lighthouse]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page, async_playwright
from sotay_devstack.servers import free_port
from sotay_devstack.stack import Stack
from sotay_kit.topology import SERVICES

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LIGHTHOUSE_VERSION = "12.2.3"
BUDGET_JS_KB, BUDGET_CSS_KB = 100, 30
PHONE = {"width": 360, "height": 740}
# Chrome DevTools' "low-end mobile": 1.6 Mbps down, 750 kbps up, 150 ms RTT.
SLOW_NETWORK = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1.6e6 / 8,
    "uploadThroughput": 750e3 / 8,
}
LCP_OBSERVER = """
window.__lcp = 0;
new PerformanceObserver(list => {
  for (const e of list.getEntries()) window.__lcp = e.renderTime || e.loadTime || e.startTime;
}).observe({type: 'largest-contentful-paint', buffered: true});
"""


@contextlib.asynccontextmanager
async def private_stack() -> AsyncIterator[tuple[str, dict[str, Any]]]:
    tmp = Path(tempfile.mkdtemp(prefix="sotay-bench-web-"))
    stack = Stack(tmp, free_port(), {s.name: free_port() for s in SERVICES}, quiet=True)
    try:
        await asyncio.to_thread(stack.start)
        gateway = json.loads((tmp / "stack.json").read_text())["gateway_url"]
        yield gateway, json.loads((tmp / "demo-credentials.json").read_text())
    finally:
        await asyncio.to_thread(stack.stop)
        shutil.rmtree(tmp, ignore_errors=True)


class Weighed:
    """JS and CSS bodies a page downloaded, by URL."""

    def __init__(self, page: Page) -> None:
        self.bodies: dict[str, tuple[str, bytes]] = {}
        page.on("response", self._keep)
        self._pending: list[asyncio.Task[None]] = []

    def _keep(self, response: Any) -> None:
        kind = response.request.resource_type
        if kind in ("script", "stylesheet"):

            async def read() -> None:
                with contextlib.suppress(Exception):
                    self.bodies[response.url] = (kind, await response.body())

            self._pending.append(asyncio.ensure_future(read()))

    async def settle(self) -> None:
        await asyncio.gather(*self._pending)

    def gzip_kb(self, kind: str, urls: set[str] | None = None) -> float:
        total = sum(
            len(gzip.compress(body, 6))
            for url, (k, body) in self.bodies.items()
            if k == kind and (urls is None or url in urls)
        )
        return total / 1024


async def sign_in(page: Page, credentials: dict[str, Any]) -> None:
    await page.get_by_label("Số thẻ đảng viên hoặc số điện thoại").fill(credentials["username"])
    await page.get_by_label("Mật khẩu hoặc mã kích hoạt").fill(credentials["password"])
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.get_by_role("heading", level=1).filter(has_text="Xin chào").wait_for()


async def lcp_of_home(context: BrowserContext, *, throttled: bool) -> float:
    """Milliseconds to the largest contentful paint of home, cold, for a signed-in member."""
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if throttled:
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        await cdp.send("Network.emulateNetworkConditions", SLOW_NETWORK)
    await page.goto("/", wait_until="load")
    await page.get_by_role("heading", level=1).filter(has_text="Xin chào").wait_for(timeout=60_000)
    await page.wait_for_load_state("networkidle")
    lcp = float(await page.evaluate("window.__lcp"))
    await page.close()
    return lcp


async def measure(gateway: str, credentials: dict[str, Any]) -> dict[str, Any]:
    member = credentials["member"]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM)
        context = await browser.new_context(
            base_url=gateway, viewport=PHONE, is_mobile=True, has_touch=True,
            locale="vi-VN", service_workers="block",
        )  # fmt: skip
        await context.add_init_script(LCP_OBSERVER)
        page = await context.new_page()
        weighed = Weighed(page)
        await page.goto("/", wait_until="networkidle")
        await weighed.settle()
        sign_in_urls = set(weighed.bodies)
        await sign_in(page, member)
        await page.wait_for_load_state("networkidle")
        await weighed.settle()
        weights = {
            "sign_in_js_kb": weighed.gzip_kb("script", sign_in_urls),
            "sign_in_css_kb": weighed.gzip_kb("stylesheet", sign_in_urls),
            "home_js_kb": weighed.gzip_kb("script"),
            "home_css_kb": weighed.gzip_kb("stylesheet"),
        }
        await page.close()
        fast = [await lcp_of_home(context, throttled=False) for _ in range(3)]
        slow = [await lcp_of_home(context, throttled=True) for _ in range(3)]
        await browser.close()
    return {
        **weights,
        "lcp_home_ms": statistics.median(fast),
        "lcp_home_low_end_ms": statistics.median(slow),
    }


def lighthouse(url: str) -> dict[str, float]:
    """Lighthouse categories (0–100) of ``url``, with the system chromium."""
    prefix = ROOT / ".tools" / "lighthouse"
    cli = prefix / "node_modules" / ".bin" / "lighthouse"
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}"}
    if not cli.exists():
        subprocess.run(
            ["npm", "i", "--prefix", str(prefix), "--no-audit", "--no-fund", "-E",
             f"lighthouse@{LIGHTHOUSE_VERSION}"],
            check=True, env=env,
        )  # fmt: skip
    out = Path(tempfile.mkdtemp(prefix="sotay-lighthouse-")) / "report.json"
    subprocess.run(
        [str(cli), url, "--quiet", "--output=json", f"--output-path={out}",
         "--only-categories=performance,accessibility,best-practices,seo",
         "--chrome-flags=--headless=new --no-sandbox"],
        check=True, env={**env, "CHROME_PATH": CHROMIUM},
    )  # fmt: skip
    report = json.loads(out.read_text())
    shutil.rmtree(out.parent, ignore_errors=True)
    return {k: round(v["score"] * 100) for k, v in report["categories"].items()}


async def main(with_lighthouse: bool = False) -> dict[str, Any]:
    assert (ROOT / "clients" / "web" / "dist" / "index.html").exists(), "run make web first"
    async with private_stack() as (gateway, credentials):
        result = await measure(gateway, credentials)
        if with_lighthouse:
            result["lighthouse_sign_in"] = await asyncio.to_thread(lighthouse, f"{gateway}/")
    return result


def report(r: dict[str, Any]) -> str:
    lines = [
        f"sign-in  JS {r['sign_in_js_kb']:6.1f} KB gzip   CSS {r['sign_in_css_kb']:5.1f} KB gzip"
        f"   (budget ≤ {BUDGET_JS_KB} / ≤ {BUDGET_CSS_KB})",
        f"home     JS {r['home_js_kb']:6.1f} KB gzip   CSS {r['home_css_kb']:5.1f} KB gzip",
        f"LCP home {r['lcp_home_ms']:7.0f} ms unthrottled   "
        f"{r['lcp_home_low_end_ms']:7.0f} ms low-end phone (4× CPU, 1.6 Mbps, 150 ms RTT)"
        f"   ratio {r['lcp_home_low_end_ms'] / max(r['lcp_home_ms'], 1):.1f}×",
    ]
    if "lighthouse_sign_in" in r:
        cats = ", ".join(f"{k} {v}" for k, v in r["lighthouse_sign_in"].items())
        lines.append(f"Lighthouse {LIGHTHOUSE_VERSION} (sign-in): {cats}")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lighthouse", action="store_true", help="also run Lighthouse")
    args = parser.parse_args()
    print(report(asyncio.run(main(args.lighthouse))))
