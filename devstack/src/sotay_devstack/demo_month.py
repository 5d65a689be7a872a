"""A month of life in the demo province, played through the running services.

Once the stack is up, the province's admin uploads three documents (DOCX with real Vietnamese
text) and publishes them down the tree as required study with deadlines, and posts news; in
each active cell a secretary held last month's regular meeting (replies, attendance, closed,
minutes signed) and has scheduled this month's monthly series with agenda and the resolution
attached; part of the members reply and read the documents at varied progress, and part of
the readers take the resolution's study quiz. Then the admin opens a consultation on a draft
regulation, which members comment on and the committee answers, and this year's annual review
period, for which members of the demo cell write their self-assessments (the small province
throughout; the demo district of the full one). Notifications come by themselves: notify
consumes the events these actions publish.

How, so that every projection, report and event agrees (docs/decisions.md, "The demo month"):
everything of the present goes through the gateway over HTTP, the path users take. Last
month's meeting cannot (the service refuses to schedule the past, rightly), so it is played
through the meetings service's own service layer, on its database, with the clock set to last
month: the same code, the same outbox events, stamped with last month's times. Members have no
passwords (only the demo accounts do), so their access tokens are issued by identity's own
token code with the stack's signing key — the services still authorize every call.

Idempotent: nothing is done when the documents service already holds the demo resolution
(uploaded first, so the quiz, the consultation and the review period are never made twice).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
from sotay_identity.auth import repository as auth_repo
from sotay_identity.auth import tokens
from sotay_identity.crypto import DataCipher
from sotay_identity.settings import IdentitySettings
from sotay_kit import db
from sotay_kit.auth import Principal, RoleGrant
from sotay_meetings.meetings import service as meetings
from sotay_meetings.meetings.schemas import AttendanceMark, MeetingCreate, RosterLabels, RsvpIn
from sotay_meetings.minutes import service as minutes
from sotay_meetings.minutes.schemas import MinutesSignIn
from sotay_meetings.settings import MeetingsSettings

from .demo import Size
from .demo_texts import (
    ABSENCE_REASONS,
    AGENDA,
    CONSULTATION_COMMENTS,
    CONSULTATION_PURPOSE,
    CONSULTATION_TITLE,
    DOCUMENTS,
    DRAFT,
    LOCATIONS,
    MEMBER_COMMENT,
    MEMBER_COMMENT_REPLY,
    NEWS,
    QUIZ,
    REJECTED_REPLY,
    SELF_ASSESSMENTS,
    DemoDocument,
    document_docx,
)

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
# Cells that get the month's full activity (meetings, replies, reading) when the province is
# the full one: every cell still receives the documents and news through the fan-out.
FULL_ACTIVE_CELLS = 24
# Requests in flight at once: enough to overlap the round trips, few enough for 2 cores.
CONCURRENCY = 8
T = TypeVar("T")


@dataclass
class MonthSummary:
    documents: int = 0
    news: int = 0
    cells: int = 0
    past_meetings: int = 0
    upcoming_meetings: int = 0
    replies: int = 0
    reads: int = 0
    consultation_comments: int = 0
    quiz_attempts: int = 0
    quiz_passed: int = 0
    self_assessments: int = 0
    seconds: float = 0.0
    document_ids: dict[str, str] = field(default_factory=dict)
    consultation_id: str | None = None
    review_period_id: str | None = None


@dataclass(frozen=True)
class _Cell:
    id: uuid.UUID
    path: str
    title: str
    district_id: uuid.UUID | None
    members: list[tuple[uuid.UUID, str]]  # (member id, full name), by card number


@dataclass
class _Actor:
    member_id: uuid.UUID
    token: str
    principal: Principal

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


class _Tokens:
    """Access tokens issued by identity's own code (its signing key, its grants rules)."""

    def __init__(self, conn: db.Connection, settings: IdentitySettings) -> None:
        self.conn = conn
        self.settings = settings
        self.cipher = DataCipher(settings.data_key_bytes())

    async def actor(self, member_id: uuid.UUID) -> _Actor:
        subject = await auth_repo.subject(self.conn, member_id)
        if subject is None:
            raise LookupError(f"no member {member_id}")
        grants = tokens.effective_grants(subject).grants
        amr = ("pwd", "otp") if subject.totp_enabled else ("pwd",)
        token = await tokens.issue_access_token(
            self.conn, self.cipher, self.settings, subject, grants, amr=amr
        )
        principal = Principal(
            member_id=subject.member_id,
            cell_id=subject.cell_id,
            org_path=subject.cell_path,
            grants=tuple(RoleGrant(role, path) for role, path in grants),
        )
        return _Actor(member_id, token, principal)


async def _bounded(gate: asyncio.Semaphore, jobs: list[Callable[[], Awaitable[T]]]) -> list[T]:
    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(run(j) for j in jobs)))


def _ok(r: httpx.Response, what: str) -> Any:
    if r.status_code >= 300:
        raise RuntimeError(f"demo month: {what} refused: {r.status_code} {r.text[:500]}")
    return r.json() if r.content else None


async def is_loaded(documents_dsn: str) -> bool:
    """The month is there when the documents service holds the demo resolution."""
    conn = await db.connect(documents_dsn)
    try:
        return bool(
            await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM documents WHERE number = $1)", DOCUMENTS[0].number
            )
        )
    finally:
        await conn.close()


async def _wait_for_projections(dsns: dict[str, str], members: int, within: float) -> None:
    """Every service that fans out or reports holds identity's members (its projection lags
    identity's outbox just after a first start)."""
    deadline = time.monotonic() + within
    for name in ("documents", "meetings", "notify", "analytics"):
        conn = await db.connect(dsns[name])
        try:
            while await conn.fetchval("SELECT count(*) FROM idp_members") < members:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"demo month: {name} has not projected the members")
                await asyncio.sleep(0.2)
        finally:
            await conn.close()


async def _cells(conn: db.Connection, size: Size, demo_cell: uuid.UUID) -> list[_Cell]:
    """The cells that live the month: all of them in the small province, the demo member's
    cell and a fixed sample in the full one."""
    rows = await conn.fetch(
        "SELECT c.id, c.path, c.title, d.id AS district_id FROM org_units c "
        "LEFT JOIN org_units d ON d.kind = 'district' AND c.path LIKE d.path || '.%' "
        "WHERE c.kind IN ('cell', 'grassroots_cell') AND c.status = 'active' ORDER BY c.key"
    )
    if size == "full":
        rng = random.Random(7)  # noqa: S311 - a reproducible sample, not a secret
        others = [r for r in rows if r["id"] != demo_cell]
        rows = [r for r in rows if r["id"] == demo_cell] + rng.sample(others, FULL_ACTIVE_CELLS - 1)
    ids = [r["id"] for r in rows]
    members: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {i: [] for i in ids}
    for m in await conn.fetch(
        "SELECT id, full_name, cell_id FROM members WHERE cell_id = ANY($1::uuid[]) "
        "AND status = 'active' ORDER BY card_number",
        ids,
    ):
        members[m["cell_id"]].append((m["id"], m["full_name"]))
    return [_Cell(r["id"], r["path"], r["title"], r["district_id"], members[r["id"]]) for r in rows]


def _month_label(day: date) -> str:
    return f"tháng {day.month}/{day.year}"


def _meeting_times(now: datetime) -> tuple[datetime, datetime]:
    """Last month's meeting (the 5th, 19:30 in Hà Nội time) and this month's first one: the
    5th too, or two days from now when the 5th has passed (the next month's 5th late in the
    month, so that a series never starts on a day some months lack)."""
    today = now.astimezone(HANOI).date()
    first_of_month = today.replace(day=1)
    last_month = (first_of_month - timedelta(days=1)).replace(day=5)
    upcoming = today.replace(day=5) if today.day < 5 else today + timedelta(days=2)
    if upcoming.day > 28:
        upcoming = (upcoming.replace(day=1) + timedelta(days=32)).replace(day=5)

    def at_1930(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, 19, 30, tzinfo=HANOI)

    return at_1930(last_month), at_1930(upcoming)


class _Month:
    def __init__(
        self,
        client: httpx.AsyncClient,
        tokens_: _Tokens,
        meetings_pool: db.Pool,
        meetings_settings: MeetingsSettings,
        credentials: dict[str, Any],
        size: Size,
    ) -> None:
        self.client = client
        self.size = size
        self.tokens = tokens_
        self.pool = meetings_pool
        self.meetings_settings = meetings_settings
        self.creds = credentials
        self.summary = MonthSummary()
        # Requests in flight at once, over all cells.
        self.gate = asyncio.Semaphore(CONCURRENCY)
        self.past_meetings: dict[uuid.UUID, uuid.UUID] = {}
        # How far each member read the resolution (the quiz's candidates).
        self.resolution_progress: dict[uuid.UUID, int] = {}

    def party_org(self) -> str:
        """Where the consultation and the review period reach: the whole small province; the
        demo district of the full one (its ~60,000 members would make the demo slow)."""
        orgs = self.creds["orgs"]
        return str(orgs["province_id"] if self.size == "small" else orgs["district_id"])

    def in_party_scope(self, cell: _Cell) -> bool:
        return self.size == "small" or str(cell.district_id) == self.creds["orgs"]["district_id"]

    # ── documents and news (the province's admin, through the gateway) ─────────────────────

    async def upload(self, admin: _Actor, doc: DemoDocument, now: datetime) -> str:
        """The province's admin uploads one document (DOCX) owned by the province."""
        form = {
            "title": doc.title,
            "kind": doc.kind,
            "number": doc.number,
            "issuer": doc.issuer,
            "issued_on": (now - timedelta(days=3)).date().isoformat(),
            "summary": doc.summary,
            "classification": "internal",
            "tags": doc.tags,
            "org_id": self.creds["orgs"]["province_id"],
        }
        if not doc.number:  # a draft: no number yet
            del form["number"]
        r = await self.client.post(
            "/api/v1/documents",
            data=form,
            files={
                "file": (
                    f"{(doc.number or doc.key).replace('/', '-')}.docx",
                    document_docx(doc),
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                )
            },
            headers=admin.auth,
        )
        return str(_ok(r, f"upload of {doc.number or doc.key}")["id"])

    async def publish_documents(self, admin: _Actor, now: datetime) -> dict[str, str]:
        orgs = self.creds["orgs"]
        ids: dict[str, str] = {}
        for doc in DOCUMENTS:
            document_id = await self.upload(admin, doc, now)
            target = orgs["province_id"] if doc.scope == "province" else orgs["district_id"]
            # The deadline is the end of an office day, as a committee would write it.
            day = (now + timedelta(days=doc.deadline_days)).astimezone(HANOI).date()
            deadline = datetime(day.year, day.month, day.day, 17, 0, tzinfo=HANOI)
            r = await self.client.post(
                f"/api/v1/documents/{document_id}/publish",
                json={
                    "org_ids": [target],
                    "study_required": True,
                    "study_deadline": deadline.isoformat(),
                },
                headers=admin.auth,
            )
            _ok(r, f"publication of {doc.number}")
            ids[doc.key] = document_id
        self.summary.documents = len(ids)
        self.summary.document_ids = ids
        return ids

    async def post_news(self, admin: _Actor) -> None:
        orgs = self.creds["orgs"]
        for item in NEWS:
            target = orgs["province_id"] if item.scope == "province" else orgs["district_id"]
            r = await self.client.post(
                "/api/v1/news",
                json={"title": item.title, "body": item.body, "org_ids": [target]},
                headers=admin.auth,
            )
            _ok(r, f"news {item.title!r}")
            self.summary.news += 1

    async def committee_seat(self, admin: _Actor) -> None:
        """The province's admin also sits on the province's committee: the committee's views
        (every meeting of the province, the reports) have someone to show them to."""
        r = await self.client.post(
            "/api/v1/role-grants",
            json={
                "member_id": str(admin.member_id),
                "role": "committee_member",
                "org_id": self.creds["orgs"]["province_id"],
            },
            headers=admin.auth,
        )
        _ok(r, "the admin's committee seat")

    async def settle_inbox(self, actor: _Actor, meeting_id: uuid.UUID, within: float) -> None:
        """The announcement of last month's meeting was read last month: mark it read once
        notify has delivered it (the demo accounts' inboxes then show only this month)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            r = await self.client.get(
                "/api/v1/inbox", params={"unread": "true", "limit": 100}, headers=actor.auth
            )
            stale = [
                n["id"]
                for n in _ok(r, "the inbox")["items"]
                if n["cause_id"] == str(meeting_id) and n["cause_type"] == "meeting_scheduled"
            ]
            if stale:
                for notification_id in stale:
                    r = await self.client.post(
                        f"/api/v1/inbox/{notification_id}/read", headers=actor.auth
                    )
                    _ok(r, "marking a notification read")
                return
            await asyncio.sleep(0.3)

    # ── a cell's month ─────────────────────────────────────────────────────────────────────

    async def secretary_of(self, cell: _Cell, admin: _Actor) -> uuid.UUID:
        """The demo secretary in the demo cell; elsewhere the admin names the first member on
        the roll (a real grant, with its event)."""
        if str(cell.id) == self.creds["orgs"]["cell_id"]:
            return uuid.UUID(self.creds["secretary"]["member_id"])
        member_id = cell.members[0][0]
        r = await self.client.post(
            "/api/v1/role-grants",
            json={"member_id": str(member_id), "role": "cell_secretary", "org_id": str(cell.id)},
            headers=admin.auth,
        )
        _ok(r, f"secretary of {cell.title}")
        return member_id

    async def live(
        self,
        cell: _Cell,
        secretary: _Actor,
        actors: dict[uuid.UUID, _Actor],
        times: tuple[datetime, datetime],
        documents: dict[str, str],
    ) -> None:
        """One cell's month. Each cell draws from its own generator: the same activity
        whatever order the cells run in."""
        rng = random.Random(cell.path)  # noqa: S311 - reproducible demo activity
        await self.last_month(rng, cell, secretary, actors, times[0])
        await self.this_month(rng, cell, secretary, actors, times[1], documents)
        await self.reading(rng, cell, actors, documents)
        if self.in_party_scope(cell):
            await self.take_quiz(cell, actors, documents["resolution"])

    async def last_month(
        self,
        rng: random.Random,
        cell: _Cell,
        secretary: _Actor,
        actors: dict[uuid.UUID, _Actor],
        starts: datetime,
    ) -> None:
        """Last month's regular meeting, through meetings' service layer with last month's
        clock: scheduled ten days before, replies, attendance, closed, minutes signed."""
        plan = MeetingCreate.model_validate(
            {
                "org_id": cell.id,
                "kind": "regular",
                "title": f"Sinh hoạt chi bộ thường kỳ {_month_label(starts.date())}",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=2),
                "location": rng.choice(LOCATIONS),
                "agenda": [*AGENDA[:2], "Phương hướng, nhiệm vụ tháng tới"],
            }
        )
        settings = self.meetings_settings
        async with db.transaction(self.pool) as conn:
            scheduled = await meetings.schedule(
                conn, secretary.principal, plan, now=starts - timedelta(days=10), settings=settings
            )
        meeting_id = scheduled[0].id
        self.past_meetings[cell.id] = meeting_id
        marks: dict[uuid.UUID, AttendanceMark] = {}
        for member_id, _ in cell.members:
            roll = rng.random()
            reply: RsvpIn | None = None
            if member_id == secretary.member_id or roll < 0.55:
                reply = RsvpIn(response="attending")
                status = "late" if rng.random() < 0.08 else "present"
                marks[member_id] = AttendanceMark(status=status)
            elif roll < 0.7:
                reason = rng.choice(ABSENCE_REASONS)
                reply = RsvpIn.model_validate({"response": "absent", "reason_code": reason})
                marks[member_id] = AttendanceMark.model_validate(
                    {"status": "absent_excused", "reason_code": reason}
                )
            else:
                status = "present" if roll < 0.92 else "absent_unexcused"
                marks[member_id] = AttendanceMark.model_validate({"status": status})
            if reply is not None:
                async with db.transaction(self.pool) as conn:
                    await meetings.rsvp(
                        conn,
                        actors[member_id].principal,
                        meeting_id,
                        reply,
                        now=starts - timedelta(days=2, minutes=rng.randint(0, 2000)),
                    )
        async with db.transaction(self.pool) as conn:
            for member_id, mark in marks.items():
                await meetings.mark(
                    conn,
                    secretary.principal,
                    meeting_id,
                    member_id,
                    mark,
                    now=starts + timedelta(minutes=20),
                    settings=settings,
                )
            await meetings.close(
                conn,
                secretary.principal,
                meeting_id,
                now=starts + timedelta(hours=2),
                settings=settings,
            )
            await meetings.label_roster(
                conn,
                secretary.principal,
                meeting_id,
                RosterLabels(labels=dict(cell.members)),
            )
            await minutes.sign(
                conn,
                secretary.principal,
                meeting_id,
                MinutesSignIn(),
                now=starts + timedelta(days=1),
            )
        self.summary.past_meetings += 1

    async def this_month(
        self,
        rng: random.Random,
        cell: _Cell,
        secretary: _Actor,
        actors: dict[uuid.UUID, _Actor],
        starts: datetime,
        documents: dict[str, str],
    ) -> None:
        """This month's monthly series (three meetings), scheduled by the secretary through
        the gateway, the resolution attached; part of the members reply."""
        r = await self.client.post(
            "/api/v1/meetings",
            json={
                "org_id": str(cell.id),
                "kind": "regular",
                "title": f"Sinh hoạt chi bộ thường kỳ {_month_label(starts.date())}",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
                "location": rng.choice(LOCATIONS),
                "agenda": list(AGENDA),
                "document_ids": [documents["resolution"]],
                "recurrence": {"freq": "monthly", "count": 3},
            },
            headers=secretary.auth,
        )
        series = _ok(r, f"meetings of {cell.title}")["meetings"]
        self.summary.upcoming_meetings += len(series)
        meeting_id = series[0]["id"]
        demo_member = uuid.UUID(self.creds["member"]["member_id"])
        replies: list[tuple[_Actor, dict[str, Any]]] = []
        for member_id, _ in cell.members:
            roll = rng.random()
            if member_id in (secretary.member_id, demo_member) or roll < 0.5:
                replies.append((actors[member_id], {"response": "attending"}))
            elif roll < 0.62:
                reason = rng.choice(ABSENCE_REASONS)
                body = {"response": "absent", "reason_code": reason}
                replies.append((actors[member_id], body))

        def reply(actor: _Actor, body: dict[str, Any]) -> Callable[[], Awaitable[None]]:
            async def send() -> None:
                r = await self.client.post(
                    f"/api/v1/meetings/{meeting_id}/rsvp", json=body, headers=actor.auth
                )
                _ok(r, "a reply")

            return send

        await _bounded(self.gate, [reply(a, b) for a, b in replies])
        self.summary.replies += len(replies)

    async def reading(
        self,
        rng: random.Random,
        cell: _Cell,
        actors: dict[uuid.UUID, _Actor],
        documents: dict[str, str],
    ) -> None:
        """Members read the documents they must study: some finished, some part-way, some not
        opened. The demo member has finished the directive, is part-way through the
        resolution and has not opened the guidance."""
        demo_member = uuid.UUID(self.creds["member"]["member_id"])
        in_demo_district = str(cell.district_id) == self.creds["orgs"]["district_id"]
        reads: list[tuple[_Actor, str, dict[str, Any]]] = []
        for member_id, _ in cell.members:
            for doc in DOCUMENTS:
                if doc.scope == "district" and not in_demo_district:
                    continue
                if member_id == demo_member:
                    progress = {"resolution": 45, "directive": 100, "guidance": 0}[doc.key]
                else:
                    roll = rng.random()
                    progress = 100 if roll < 0.35 else 0 if roll > 0.7 else rng.randint(10, 90)
                if doc.key == "resolution":
                    self.resolution_progress[member_id] = progress
                if progress == 0:
                    continue
                body = {"studied": True} if progress == 100 else {"progress_percent": progress}
                reads.append((actors[member_id], documents[doc.key], body))

        def read(actor: _Actor, document_id: str, body: dict[str, Any]) -> Callable[[], Any]:
            async def send() -> None:
                r = await self.client.post(
                    f"/api/v1/documents/{document_id}/reads", json=body, headers=actor.auth
                )
                _ok(r, "reading progress")

            return send

        await _bounded(self.gate, [read(a, d, b) for a, d, b in reads])
        self.summary.reads += len(reads)

    # ── the rest of party life: quiz, consultation, annual review ─────────────────────────

    async def set_quiz(self, admin: _Actor, document_id: str) -> None:
        """The province's admin (its owner) sets the resolution's study quiz."""
        questions = [
            {"text": text, "choices": list(choices), "correct": correct}
            for text, choices, correct in QUIZ
        ]
        r = await self.client.put(
            f"/api/v1/documents/{document_id}/quiz",
            json={"pass_percent": 80, "questions": questions},
            headers=admin.auth,
        )
        _ok(r, "the resolution's quiz")

    async def take_quiz(
        self, cell: _Cell, actors: dict[uuid.UUID, _Actor], document_id: str
    ) -> None:
        """Most of those who finished the resolution pass its quiz (one slip allowed: 5 of 6
        right is 83 %); a few part-way readers try and fail; in the demo cell one reader fails
        once, then passes. The demo member (part-way) has not tried: the quiz waits for them."""
        rng = random.Random(f"{cell.path}:quiz")  # noqa: S311 - reproducible demo activity
        demo_member = uuid.UUID(self.creds["member"]["member_id"])
        key = [correct for _, _, correct in QUIZ]

        def answers(wrong: int) -> list[int]:
            picked = list(key)
            for i in rng.sample(range(len(key)), wrong):
                picked[i] = (key[i] + 1) % len(QUIZ[i][1])
            return picked

        plans: list[tuple[_Actor, list[list[int]]]] = []
        readers = [
            (m, self.resolution_progress.get(m, 0))
            for m, _ in cell.members
            if m != demo_member and self.resolution_progress.get(m, 0) > 0
        ]
        retrier = (
            readers[0][0] if readers and str(cell.id) == self.creds["orgs"]["cell_id"] else None
        )
        for member_id, progress in readers:
            roll = rng.random()
            if member_id == retrier:
                plans.append((actors[member_id], [answers(3), answers(0)]))
            elif progress == 100 and roll < 0.8:
                plans.append((actors[member_id], [answers(rng.choice((0, 0, 1)))]))
            elif progress >= 50 and roll < 0.3:
                plans.append((actors[member_id], [answers(3)]))

        def attempt(actor: _Actor, tries: list[list[int]]) -> Callable[[], Awaitable[bool]]:
            async def send() -> bool:
                passed = False
                for picked in tries:  # one after the other: a retry follows its failure
                    r = await self.client.post(
                        f"/api/v1/documents/{document_id}/quiz/attempts",
                        json={"answers": picked},
                        headers=actor.auth,
                    )
                    passed = bool(_ok(r, "a quiz attempt")["passed"])
                return passed

            return send

        results = await _bounded(self.gate, [attempt(a, t) for a, t in plans])
        self.summary.quiz_attempts += sum(len(t) for _, t in plans)
        self.summary.quiz_passed += sum(results)

    async def consult(
        self,
        admin: _Actor,
        cells: list[_Cell],
        actors: list[dict[uuid.UUID, _Actor]],
        now: datetime,
    ) -> None:
        """The province's committee uploads a draft and opens it for comments until 17:00 two
        weeks ahead; members of the active cells comment on its sections or on the whole (the
        demo member on one section); the committee answers two: the demo member's accepted with
        a reply, another rejected with its reason."""
        draft_id = await self.upload(admin, DRAFT, now)
        day = (now + timedelta(days=DRAFT.deadline_days)).astimezone(HANOI).date()
        r = await self.client.post(
            "/api/v1/documents/consultations",
            json={
                "document_id": draft_id,
                "org_id": self.party_org(),
                "title": CONSULTATION_TITLE,
                "purpose": CONSULTATION_PURPOSE,
                "deadline": datetime(day.year, day.month, day.day, 17, 0, tzinfo=HANOI).isoformat(),
            },
            headers=admin.auth,
        )
        consultation = _ok(r, "the consultation")
        consultation_id = consultation["id"]
        self.summary.consultation_id = consultation_id
        anchors = {s["title"]: s["anchor"] for s in consultation["sections"]}
        demo_member = uuid.UUID(self.creds["member"]["member_id"])
        people = {
            m: actor
            for cell, cell_actors in zip(cells, actors, strict=True)
            if self.in_party_scope(cell)
            for m, actor in cell_actors.items()
        }
        rng = random.Random("consultation")  # noqa: S311 - reproducible demo activity
        commenters = rng.sample(
            sorted(m for m in people if m != demo_member), len(CONSULTATION_COMMENTS)
        )
        comments = [
            (people[m], heading, text)
            for m, (heading, text) in zip(commenters, CONSULTATION_COMMENTS, strict=True)
        ]
        comments.append((people[demo_member], *MEMBER_COMMENT))

        def comment(actor: _Actor, heading: str | None, text: str) -> Callable[[], Awaitable[str]]:
            async def send() -> str:
                body = {"section": anchors[heading] if heading else None, "text": text}
                r = await self.client.post(
                    f"/api/v1/documents/consultations/{consultation_id}/comments",
                    json=body,
                    headers=actor.auth,
                )
                return str(_ok(r, "a comment")["id"])

            return send

        ids = await _bounded(self.gate, [comment(*c) for c in comments])
        self.summary.consultation_comments = len(ids)
        rejected = 3  # "chấm điểm ngẫu nhiên": the committee explains why not
        for comment_id, body in (
            (ids[-1], {"reply": MEMBER_COMMENT_REPLY, "disposition": "accepted"}),
            (
                ids[rejected],
                {
                    "reply": REJECTED_REPLY[0],
                    "disposition": "rejected",
                    "reason": REJECTED_REPLY[1],
                },
            ),
        ):
            r = await self.client.put(
                f"/api/v1/documents/consultations/{consultation_id}/comments/{comment_id}/response",
                json=body,
                headers=admin.auth,
            )
            _ok(r, "the committee's answer")

    async def open_review(
        self, admin: _Actor, cell: _Cell, people: dict[uuid.UUID, _Actor], now: datetime
    ) -> None:
        """The committee opens this year's annual review, self-assessments due in two weeks;
        in the demo cell the secretary and part of the members have written theirs and proposed
        a grade. The demo member has not yet: the form waits for them. No grading vote yet."""
        local = now.astimezone(HANOI)
        day = (now + timedelta(days=14)).astimezone(HANOI).date()
        r = await self.client.post(
            "/api/v1/reviews",
            json={
                "org_id": self.party_org(),
                "year": local.year,
                "self_deadline": datetime(
                    day.year, day.month, day.day, 17, 0, tzinfo=HANOI
                ).isoformat(),
            },
            headers=admin.auth,
        )
        period_id = _ok(r, "the review period")["id"]
        self.summary.review_period_id = period_id
        rng = random.Random(f"{cell.path}:review")  # noqa: S311 - reproducible demo activity
        demo_member = uuid.UUID(self.creds["member"]["member_id"])
        secretary = uuid.UUID(self.creds["secretary"]["member_id"])
        writers = [
            m
            for m, _ in cell.members
            if m != demo_member and (m == secretary or rng.random() < 0.6)
        ]

        def submit(n: int, member_id: uuid.UUID) -> Callable[[], Awaitable[None]]:
            text, grade = SELF_ASSESSMENTS[n % len(SELF_ASSESSMENTS)]

            async def send() -> None:
                r = await self.client.put(
                    f"/api/v1/reviews/{period_id}/self-assessment",
                    json={"assessment": text, "grade": grade},
                    headers=people[member_id].auth,
                )
                _ok(r, "a self-assessment")

            return send

        await _bounded(self.gate, [submit(n, m) for n, m in enumerate(writers)])
        self.summary.self_assessments = len(writers)


async def load_month(
    gateway_url: str,
    dsns: dict[str, str],
    identity_settings: IdentitySettings,
    credentials: dict[str, Any],
    size: Size,
    *,
    now: datetime | None = None,
    projection_timeout: float | None = None,
) -> MonthSummary | None:
    """Play the demo month into a running stack (``dsns``: each service's database). Returns
    what was done, or None when the month is already there."""
    started = time.perf_counter()
    if await is_loaded(dsns["documents"]):
        return None
    now = now or datetime.now(UTC)
    past_start, upcoming_start = _meeting_times(now)
    identity = await db.connect(dsns["identity"])
    meetings_pool = await db.create_pool(dsns["meetings"], max_size=4)
    try:
        members = await identity.fetchval("SELECT count(*) FROM members WHERE status = 'active'")
        # Four services project ~60,000 members of the full province at a first start: minutes
        # on a small machine.
        within = projection_timeout or (1800 if size == "full" else 300)
        await _wait_for_projections(dsns, members, within)
        tokens_ = _Tokens(identity, identity_settings)
        demo_cell = uuid.UUID(credentials["orgs"]["cell_id"])
        cells = await _cells(identity, size, demo_cell)
        async with httpx.AsyncClient(base_url=gateway_url, timeout=60) as client:
            month = _Month(
                client,
                tokens_,
                meetings_pool,
                MeetingsSettings(database_url=dsns["meetings"]),
                credentials,
                size,
            )
            admin = await tokens_.actor(uuid.UUID(credentials["admin"]["member_id"]))
            await month.committee_seat(admin)
            documents = await month.publish_documents(admin, now)
            await month.set_quiz(admin, documents["resolution"])
            await month.post_news(admin)
            secretaries = [await month.secretary_of(cell, admin) for cell in cells]
            # Tokens after the grants (a secretary's carries the new role), one at a time on
            # identity's connection; then the cells live their month side by side.
            actors = [{m: await tokens_.actor(m) for m, _ in cell.members} for cell in cells]
            cell_gate = asyncio.Semaphore(4)

            async def live(
                cell: _Cell, secretary: uuid.UUID, people: dict[uuid.UUID, _Actor]
            ) -> None:
                async with cell_gate:
                    await month.live(
                        cell, people[secretary], people, (past_start, upcoming_start), documents
                    )

            await asyncio.gather(
                *(live(*args) for args in zip(cells, secretaries, actors, strict=True))
            )
            month.summary.cells = len(cells)
            demo_index = [c.id for c in cells].index(demo_cell)
            demo_people = actors[demo_index]
            await month.consult(admin, cells, actors, now)
            await month.open_review(admin, cells[demo_index], demo_people, now)
            for label in ("member", "secretary"):
                await month.settle_inbox(
                    demo_people[uuid.UUID(credentials[label]["member_id"])],
                    month.past_meetings[demo_cell],
                    within=30,
                )
    finally:
        await meetings_pool.close()
        await identity.close()
    month.summary.seconds = time.perf_counter() - started
    return month.summary
