"""The demo month, as `make run` loads it: what the demo member, their cell's secretary and the
province's admin (the committee level) see through the API, and that the services' own records
and the analytics reports agree on it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pyotp
import pytest
import pytest_asyncio
from sotay_devstack.demo_month import load_month
from sotay_devstack.demo_texts import (
    AGENDA,
    CONSULTATION_COMMENTS,
    CONSULTATION_TITLE,
    DOCUMENTS,
    DRAFT,
    MEMBER_COMMENT,
    MEMBER_COMMENT_REPLY,
    NEWS,
    QUIZ,
)
from sotay_devstack.servers import free_port
from sotay_devstack.stack import Stack
from sotay_devstack.testing import server_dir
from sotay_identity.settings import IdentitySettings
from sotay_kit.topology import SERVICES

from .conftest import all_pages, wait_until

pytestmark = pytest.mark.e2e

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def month_stack() -> Iterator[Stack]:
    with server_dir("demo-month") as data:
        stack = Stack(data, free_port(), {s.name: free_port() for s in SERVICES}, quiet=True)
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()


@pytest_asyncio.fixture
async def client(month_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"http://localhost:{month_stack.gateway_port}", timeout=30
    ) as c:
        yield c


def _credentials(stack: Stack) -> dict[str, Any]:
    return dict(json.loads(Path(stack.data_dir / "demo-credentials.json").read_text()))


async def _login(client: httpx.AsyncClient, account: dict[str, str]) -> dict[str, str]:
    body = {"username": account["username"], "password": account["password"]}
    if account.get("totp_secret"):
        body["otp"] = pyotp.TOTP(account["totp_secret"]).now()
    r = await client.post("/api/v1/auth/login", json=body)
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


async def _report(
    client: httpx.AsyncClient, name: str, auth: dict[str, str], **params: str
) -> dict[str, Any]:
    r = await client.get(f"/api/v1/reports/{name}", params=params, headers=auth)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_the_demo_member_cell_and_province_live_a_month(
    month_stack: Stack, client: httpx.AsyncClient
) -> None:
    summary = month_stack.demo_month_summary
    assert summary is not None, "the first start loads the month"
    creds = _credentials(month_stack)
    orgs = creds["orgs"]
    docs = summary.document_ids
    now = datetime.now(UTC)
    member = await _login(client, creds["member"])
    secretary = await _login(client, creds["secretary"])
    admin = await _login(client, creds["admin"])

    # ── the member's home ─────────────────────────────────────────────────────────────────
    r = await client.get("/api/v1/meetings?scope=mine&when=upcoming", headers=member)
    assert r.status_code == 200, r.text
    upcoming = r.json()["items"]
    assert len(upcoming) == 3  # the monthly series
    nxt = upcoming[0]
    assert nxt["status"] == "scheduled" and nxt["org_id"] == orgs["cell_id"]
    assert datetime.fromisoformat(nxt["starts_at"]["utc"]) > now
    assert nxt["me"]["rsvp"] == "attending"
    r = await client.get(f"/api/v1/meetings/{nxt['id']}", headers=member)
    detail = r.json()
    assert detail["agenda"] == list(AGENDA) and detail["document_ids"] == [docs["resolution"]]
    assert detail["occurrence"] is not None and detail["location"]

    r = await client.get("/api/v1/meetings?scope=mine&when=past", headers=member)
    [past] = r.json()["items"]
    assert past["status"] == "closed"
    last_month = datetime.fromisoformat(past["starts_at"]["utc"]).astimezone(HANOI)
    assert last_month.strftime("%Y-%m") == (
        now.astimezone(HANOI).replace(day=1) - timedelta(days=1)
    ).strftime("%Y-%m")
    assert past["me"]["final_status"] in ("present", "late")
    r = await client.get(f"/api/v1/meetings/{past['id']}/minutes", headers=member)
    assert r.status_code == 200, r.text
    assert r.json()["signed"] is True and creds["member"]["full_name"] in r.json()["content"]

    # Required study: part-way through the resolution, the guidance not opened, the directive
    # (published to the member's district) studied, hence no longer on the list.
    r = await client.get("/api/v1/documents/to-study", headers=member)
    to_study = {item["number"]: item for item in r.json()["items"]}
    numbers = {d.key: d.number for d in DOCUMENTS}
    assert set(to_study) == {numbers["resolution"], numbers["guidance"]}
    assert to_study[numbers["resolution"]]["progress_percent"] == 45
    assert to_study[numbers["resolution"]]["opened"] is True
    assert to_study[numbers["guidance"]]["opened"] is False
    assert all(datetime.fromisoformat(i["study_deadline"]) > now for i in to_study.values())
    r = await client.get(f"/api/v1/documents/{docs['guidance']}/text", headers=member)
    assert r.status_code == 200, r.text
    assert "Sổ tay Đảng viên điện tử" in json.dumps(r.json(), ensure_ascii=False)

    r = await client.get("/api/v1/news", headers=member)
    assert {n.title for n in NEWS} <= {item["title"] for item in r.json()["items"]}

    # The notifications the month caused, unread, each naming its document or meeting.
    async def inbox_names_everything() -> bool:
        r = await client.get("/api/v1/inbox?unread=true&limit=100", headers=member)
        text = json.dumps(r.json()["items"], ensure_ascii=False)
        return all(d.number in text for d in DOCUMENTS) and nxt["title"] in text

    await wait_until(inbox_names_everything, "notifications of the month", timeout=60)
    r = await client.get("/api/v1/inbox", headers=member)
    assert r.json()["unread_count"] >= len(DOCUMENTS) + 1
    # Last month's announcement was read last month; its signed minutes are news.
    read_at = {(n["cause_type"], n["link"]): n["read_at"] for n in r.json()["items"]}
    assert read_at[("meeting_scheduled", f"/meetings/{past['id']}")] is not None
    assert read_at[("minutes_signed", f"/meetings/{past['id']}/minutes")] is None

    # ── the secretary: the cell's study report, from documents and from analytics ──────────
    cell_roll = await all_pages(client, f"/api/v1/orgs/{orgs['cell_id']}/members", secretary)
    r = await client.get(
        f"/api/v1/documents/{docs['resolution']}/reads",
        params={"org_id": orgs["cell_id"], "limit": 500},
        headers=secretary,
    )
    totals = r.json()["totals"]
    assert totals["members"] == len(cell_roll)
    assert totals["opened"] >= 2 and totals["studied"] >= 0

    async def analytics_agrees() -> bool:
        reach = await _report(
            client, "document-reach", secretary, org_id=orgs["cell_id"],
            document_id=docs["resolution"],
        )  # fmt: skip
        # Analytics counts as opened every member who opened it, studied or not.
        t = reach["total"]
        return len(reach["rows"]) == len(cell_roll) and (t["opened"], t["studied"]) == (
            totals["opened"] + totals["studied"], totals["studied"],
        )  # fmt: skip

    await wait_until(analytics_agrees, "analytics to count the cell's reading", timeout=60)

    # ── the committee level: the province's attendance and reach ──────────────────────────
    month = last_month.strftime("%Y-%m")
    held = await all_pages(
        client, "/api/v1/meetings", admin, {"org_id": orgs["province_id"], "month": month}
    )
    assert len(held) == summary.cells and all(m["status"] == "closed" for m in held)
    invited = sum(m["counts"]["invited"] for m in held)

    async def attendance_agrees() -> bool:
        att = await _report(client, "attendance", admin, **{"from": month, "to": month})
        t = att["total"]
        return bool(t["meetings_held"] == summary.cells and t["invited"] == invited)

    await wait_until(attendance_agrees, "analytics to count last month's meetings", timeout=60)
    att = await _report(client, "attendance", admin, **{"from": month, "to": month})
    t = att["total"]
    assert sum(t[k] for k in ("present", "late", "absent_excused", "absent_unexcused")) == invited
    assert t["present"] + t["late"] > invited / 2
    # The same people as meetings holds: its per-meeting counts (late included in present) add
    # up to the report's.
    assert sum(m["counts"]["attended"] for m in held) == t["present"] + t["late"]

    r = await client.get(
        f"/api/v1/documents/{docs['resolution']}/reads",
        params={"org_id": orgs["province_id"], "limit": 1},
        headers=admin,
    )
    province = r.json()["totals"]
    assert province["members"] == creds["counts"]["members"]

    async def reach_agrees() -> bool:
        reach = await _report(client, "document-reach", admin, document_id=docs["resolution"])
        t = reach["total"]
        return (t["audience"], t["opened"], t["studied"]) == (
            province["members"], province["opened"] + province["studied"], province["studied"],
        )  # fmt: skip

    await wait_until(reach_agrees, "analytics to count the province's reading", timeout=60)

    # ── the rest of party life: the consultation on the draft ─────────────────────────────
    r = await client.get("/api/v1/documents/consultations", headers=member)
    [consultation] = r.json()
    assert consultation["id"] == summary.consultation_id
    assert consultation["title"] == CONSULTATION_TITLE
    assert consultation["status"] == "open" and consultation["can_comment"] is True
    assert datetime.fromisoformat(consultation["deadline"]) > now + timedelta(days=10)
    titles = {s["title"] for s in consultation["sections"]}
    assert {heading for heading, _ in DRAFT.sections} <= titles
    # The demo member commented on a section and the committee took it up.
    r = await client.get(
        f"/api/v1/documents/consultations/{consultation['id']}/comments/mine", headers=member
    )
    [mine] = r.json()
    assert (mine["section_title"], mine["text"]) == MEMBER_COMMENT
    assert mine["reply"] == MEMBER_COMMENT_REPLY and mine["disposition"] == "accepted"
    # The committee sees every comment with its author and cell; one answered with a reason.
    r = await client.get(
        f"/api/v1/documents/consultations/{consultation['id']}/comments", headers=admin
    )
    assert r.status_code == 200, r.text
    comments = r.json()
    assert len(comments) == len(CONSULTATION_COMMENTS) + 1 == summary.consultation_comments
    assert {c["text"] for c in comments} == {t for _, t in (*CONSULTATION_COMMENTS, MEMBER_COMMENT)}
    assert all(c["author_name"] and c["cell_title"] for c in comments)
    assert len({c["member_id"] for c in comments}) == len(comments)
    assert sorted(c["disposition"] for c in comments if c["disposition"] != "pending") == [
        "accepted", "rejected",
    ]  # fmt: skip
    assert all(c["disposition_reason"] for c in comments if c["disposition"] == "rejected")

    # ── the study quiz on the resolution: the demo member may take it; others passed ───────
    r = await client.get(f"/api/v1/documents/{docs['resolution']}/quiz", headers=member)
    assert r.status_code == 200, r.text
    quiz = r.json()
    assert [q["text"] for q in quiz["questions"]] == [q for q, _, _ in QUIZ]
    assert quiz["opened"] is True and quiz["mine"]["attempts"] == 0
    r = await client.get(
        f"/api/v1/documents/{docs['resolution']}/reads",
        params={"org_id": orgs["province_id"], "limit": 1},
        headers=admin,
    )
    passed = r.json()["totals"]["passed"]
    assert passed == summary.quiz_passed > 0
    assert summary.quiz_attempts > summary.quiz_passed  # failed attempts too

    async def reach_counts_the_quiz() -> bool:
        reach = await _report(client, "document-reach", admin, document_id=docs["resolution"])
        return bool(reach["total"]["passed"] == passed)

    await wait_until(reach_counts_the_quiz, "analytics to count the quiz passes", timeout=60)

    # ── the annual review: open, the demo member's form waiting, the cell's assessments ───
    year = now.astimezone(HANOI).year
    r = await client.get("/api/v1/reviews/mine", headers=member)
    [review] = r.json()
    assert review["period"]["id"] == summary.review_period_id
    assert review["period"]["year"] == year and review["editable"] is True
    assert datetime.fromisoformat(review["period"]["self_deadline"]) > now
    assert review["assessment"] is None
    r = await client.get("/api/v1/reviews/mine", headers=secretary)
    [own] = r.json()
    assert own["assessment"] and own["self_grade"] and own["editable"] is True
    r = await client.get(
        f"/api/v1/reviews/{summary.review_period_id}/cells/{orgs['cell_id']}", headers=secretary
    )
    assert r.status_code == 200, r.text
    written = [m for m in r.json()["members"] if m["assessment"]]
    assert len(written) == summary.self_assessments >= 2
    assert all(m["self_grade"] and m["final_grade"] is None for m in written)

    # ── loaded once: a second run finds the month there and does nothing ──────────────────
    assert month_stack.pg is not None
    dsns = {s.name: month_stack.pg.dsn(s.database) for s in SERVICES}
    settings = IdentitySettings(
        database_url=dsns["identity"], data_key=month_stack.secrets.data_key
    )
    gateway = f"http://localhost:{month_stack.gateway_port}"
    assert await load_month(gateway, dsns, settings, creds, "small") is None
    library = await all_pages(client, "/api/v1/documents", admin, limit=100)
    assert sorted(d["title"] for d in library) == sorted(d.title for d in (*DOCUMENTS, DRAFT))
    r = await client.get("/api/v1/documents/consultations", headers=admin)
    assert [c["id"] for c in r.json()] == [summary.consultation_id]
    r = await client.get("/api/v1/reviews", headers=admin)
    assert [p["id"] for p in r.json()] == [summary.review_period_id]
