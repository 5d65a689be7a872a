"""The platform as `make run` starts it, shared by the end-to-end tests of one session:
every server and service as processes behind the gateway, with the small demo province.

Helpers the end-to-end tests share: a member's first login, a new member who can log in,
walking the org tree, a small PDF with Vietnamese text, and reading events back from NATS."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pyotp
import pytest
from sotay_contracts import CloudEvent, Event, parse_event
from sotay_devstack.servers import free_port
from sotay_devstack.stack import Stack
from sotay_devstack.testing import server_dir
from sotay_kit import messaging
from sotay_kit.testing.pdf import make_pdf as make_pdf  # re-exported for the e2e tests
from sotay_kit.topology import SERVICES

if TYPE_CHECKING:
    from .browser import Browsing


@dataclass
class Platform:
    stack: Stack
    data_dir: Path
    description: dict[str, Any]
    credentials: dict[str, Any]
    _tokens: dict[str, tuple[float, str, str]] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return str(self.description["gateway_url"])

    @property
    def nats_url(self) -> str:
        return str(self.description["nats_url"])

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.gateway, timeout=30, **kwargs)

    async def token(self, label: str) -> str:
        """An access token of a demo account (admin, secretary, member): logs in once, then
        refreshes (the admin's TOTP code cannot be replayed within its 30 s step)."""
        async with self.client() as client:
            cached = self._tokens.get(label)
            if cached and time.monotonic() - cached[0] < 300:
                return cached[1]
            if cached:
                r = await client.post("/api/v1/auth/refresh", json={"refresh_token": cached[2]})
            else:
                creds = self.credentials[label]
                body = {"username": creds["username"], "password": creds["password"]}
                if creds.get("totp_secret"):
                    body["otp"] = pyotp.TOTP(creds["totp_secret"]).now()
                r = await client.post("/api/v1/auth/login", json=body)
            assert r.status_code == 200, r.text
            data = r.json()
            self._tokens[label] = (time.monotonic(), data["access_token"], data["refresh_token"])
            return str(data["access_token"])

    async def auth(self, label: str) -> dict[str, str]:
        return {"authorization": f"Bearer {await self.token(label)}"}


@pytest.fixture(scope="session")
def platform() -> Iterator[Platform]:
    with server_dir("platform") as data:
        yield from _platform(data)


def _platform(data: Path) -> Iterator[Platform]:
    # Without the demo month: these tests count what they create themselves (the month has its
    # own test, on its own stack: tests/test_demo_month_e2e.py).
    stack = Stack(
        data, free_port(), {s.name: free_port() for s in SERVICES}, quiet=True, demo_month=False
    )
    stack.start()
    try:
        yield Platform(
            stack,
            data,
            json.loads((data / "stack.json").read_text()),
            json.loads((data / "demo-credentials.json").read_text()),
        )
    finally:
        stack.stop()


# ── shared helpers ─────────────────────────────────────────────────────────────────────────

NEW_PASSWORD = "Mật khẩu mới của tôi 2026"


async def publish_pdf(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    title: str,
    org_id: str,
    *,
    study_required: bool = False,
) -> tuple[str, dict[str, Any]]:
    """Upload a one-page PDF resolution named ``title`` and publish it to ``org_id``: the
    document's id and the publication (``id``, ``audience_size``, …)."""
    r = await client.post(
        "/api/v1/documents",
        data={"title": title, "kind": "resolution"},
        files={"file": ("nghi-quyet.pdf", make_pdf([title]), "application/pdf")},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    document_id = str(r.json()["id"])
    r = await client.post(
        f"/api/v1/documents/{document_id}/publish",
        json={"org_ids": [org_id], "study_required": study_required},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    publication: dict[str, Any] = r.json()
    return document_id, publication


async def first_login(client: httpx.AsyncClient, username: str, code: str) -> str:
    """A member's first login: the one-time code must be replaced by a password. Returns an
    access token."""
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": code})
    assert r.status_code == 403, r.text
    assert r.json()["type"].endswith("/password-change-required")
    r = await client.post(
        "/api/v1/auth/password",
        json={"username": username, "current_password": code, "new_password": NEW_PASSWORD},
    )
    assert r.status_code == 204, r.text
    again = await client.post("/api/v1/auth/login", json={"username": username, "password": code})
    assert again.status_code == 401  # the one-time code is spent
    r = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": NEW_PASSWORD}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@dataclass
class NewMember:
    member_id: str
    card_number: str
    full_name: str
    cell_id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


async def new_member(
    platform: Platform, client: httpx.AsyncClient, cell_id: str, full_name: str
) -> NewMember:
    """The province's admin creates a member in ``cell_id`` (POST /api/v1/members); the member
    replaces the activation code at first login and gets a token."""
    card = f"E2E{uuid.uuid4().hex[:10].upper()}"
    r = await client.post(
        "/api/v1/members",
        json={"card_number": card, "full_name": full_name, "cell_id": cell_id},
        headers=await platform.auth("admin"),
    )
    assert r.status_code == 201, r.text
    created = r.json()
    token = await first_login(client, card, created["activation_code"])
    return NewMember(created["id"], card, full_name, cell_id, token)


async def a_cell_outside(
    platform: Platform, client: httpx.AsyncClient, outside_of: str
) -> dict[str, Any]:
    """A cell of the demo province that is not inside the org ``outside_of`` (breadth-first
    from the province, as the admin sees the tree)."""
    admin = await platform.auth("admin")
    queue = [platform.credentials["orgs"]["province_id"]]
    while queue:
        org_id = queue.pop(0)
        r = await client.get(f"/api/v1/orgs/{org_id}/children?limit=500", headers=admin)
        assert r.status_code == 200, r.text
        for child in r.json()["items"]:
            if child["id"] == outside_of:
                continue
            if child["kind"] in ("cell", "grassroots_cell"):
                return dict(child)
            queue.append(child["id"])
    raise AssertionError(f"no cell outside {outside_of} in the demo province")


async def all_pages(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    params: dict[str, Any] | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Every item of a paginated list (``limit``/``cursor``, DESIGN.md §5). Query parameters go
    in ``params`` (httpx replaces a query written in the URL by ``params``)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query: dict[str, Any] = {**(params or {}), "limit": limit}
        if cursor:
            query["cursor"] = cursor
        r = await client.get(url, params=query, headers=headers)
        assert r.status_code == 200, (url, r.text)
        page = r.json()
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


async def wait_until(
    check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30, interval: float = 0.2
) -> None:
    """Poll a condition (through the API) until it holds; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(interval)


Found = tuple[CloudEvent, Any]


async def events_on_nats(
    platform: Platform,
    subject: str,
    match: Callable[[CloudEvent, Event], bool],
    count: int = 1,
    timeout: float = 30,
) -> list[Found]:
    """The first ``count`` events on ``subject`` (read from the stream's start) that ``match``,
    each checked to be a valid CloudEvent (binary mode, DESIGN.md §6): required attributes,
    UUIDv7 id equal to ``Nats-Msg-Id``, ``ce-type`` = ``vn.sotay.<subject>``, the producing
    service as source, a W3C ``traceparent``, and data valid against the contract's model."""
    nc = await messaging.connect(platform.nats_url, name="e2e")
    found: list[Found] = []
    try:
        js = nc.jetstream()
        sub = await js.subscribe(subject, ordered_consumer=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = await sub.next_msg(timeout=1)
            except TimeoutError:
                continue
            ce = CloudEvent.from_nats(msg.headers, msg.data)
            assert msg.subject == subject
            assert ce.type == f"vn.sotay.{subject}"
            assert ce.source == f"/services/{subject.split('.')[0]}"
            assert (msg.headers or {}).get("Nats-Msg-Id") == ce.id
            assert ce.datacontenttype.startswith("application/json")
            assert ce.traceparent is not None  # W3C trace context travels with the event
            event = parse_event(ce)
            assert ce.subject == event.aggregate_id()
            if match(ce, event):
                found.append((ce, event))
                if len(found) == count:
                    return found
        raise AssertionError(f"{subject}: {len(found)} of {count} matching events seen on NATS")
    finally:
        await nc.close()


async def find_on_nats(
    platform: Platform, subject: str, aggregate: str, timeout: float = 30
) -> Found:
    """The first event on ``subject`` whose ``ce-subject`` (aggregate id) is ``aggregate``."""
    [found] = await events_on_nats(
        platform, subject, lambda ce, _: ce.subject == aggregate, timeout=timeout
    )
    return found


@pytest.fixture(scope="module")
async def browsing(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Browsing]:
    """One browser per module of browser tests (tests/browser.py)."""
    # Imported here: tests/browser.py builds on this module's helpers.
    from .browser import launch_browser

    async for browsing in launch_browser(tmp_path_factory):
        yield browsing
