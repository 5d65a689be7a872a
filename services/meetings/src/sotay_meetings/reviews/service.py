"""Use cases of the annual review of party members (kiểm điểm, đánh giá, xếp loại đảng viên).

- open a period: a committee member or org admin of an org, for its subtree and a year (one
  period per year on any line of the tree: none above, below or on the org itself);
- self-assessment: each member of a cell in the subtree, until the deadline and until the cell
  has proposed their grade;
- the cell's review meeting: its managers open a grading motion per member (secret ballot, the
  four grades as options) through the motions of the meeting; when it closes, the grade more
  than half of the members present chose is the cell's vote (else none: vote again);
- the cell's proposal: its secretary or deputy sends the voted grades up; the quota (members
  graded xuất sắc at most ``excellent_share`` of those graded tốt, per cell) is checked;
- the decision: a committee member or org admin above the cell approves the proposal or sets
  another grade with a reason; the quota is checked again; the final grade lands on the
  member's record (``/api/v1/reviews/grades``) and
  ``meetings.review.cell_graded.v1`` carries the cell's counts (no member, no grade of anyone)
  once every active member of the cell has a final grade (the cell proposes for all of them at
  once, so no later event singles one out).

Who wrote what in a self-assessment and which grade a member got are personal data: they never
leave the service in an event or a log line; the proposal and the decision are audited.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import asyncpg
from sotay_contracts.events import meetings as ev
from sotay_contracts.events.meetings import ReviewGrade
from sotay_kit import audit, outbox
from sotay_kit.auth import Principal
from sotay_kit.db import Connection
from sotay_kit.errors import Forbidden, Unprocessable
from sotay_kit.ids import new_id
from sotay_kit.orgs import CELL_KINDS
from sotay_kit.projections import identity as projection

from .. import access, problems
from ..meetings import repository as meetings_repository
from ..motions import service as motions
from ..motions.schemas import MotionCreate, MotionOut
from ..settings import MeetingsSettings
from . import repository
from .schemas import (
    GRADE_ORDER,
    GRADE_TITLES,
    CellProgress,
    CellReview,
    DecisionIn,
    GradeOut,
    GradingMotionIn,
    MyReview,
    PeriodCreate,
    PeriodOut,
    Quota,
    ReviewMember,
    SelfAssessmentIn,
)

COMMITTEE_ROLES = ("committee_member", "org_admin")
READER_ROLES = (*access.MANAGER_ROLES, "org_admin")
_PERIOD_NOT_FOUND = "Không tìm thấy đợt kiểm điểm trong phạm vi của bạn"


def _period_out(row: asyncpg.Record) -> PeriodOut:
    return PeriodOut.model_validate(dict(row))


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root + ".")


def _parent(path: str) -> str | None:
    return path.rsplit(".", 1)[0] if "." in path else None


def quota(grades: Iterable[str | None], share: float) -> Quota:
    counted = Counter(g for g in grades if g is not None)
    good = counted[ReviewGrade.GOOD.value]
    # A share like 0.2 times 10 must allow 2, not 1 (0.2 * 10 is 2.0000000000000004 at worst).
    allowed = math.floor(round(share * good, 6))
    return Quota(
        excellent=counted[ReviewGrade.EXCELLENT.value], good=good, allowed_excellent=allowed
    )


def _check_quota(q: Quota, share: float) -> None:
    if q.excellent > q.allowed_excellent:
        raise problems.GradeQuotaExceeded(
            f"Số đảng viên xếp loại “{GRADE_TITLES[ReviewGrade.EXCELLENT]}” ({q.excellent}) vượt "
            f"quá {round(share * 100)}% số đảng viên “{GRADE_TITLES[ReviewGrade.GOOD]}” "
            f"({q.good}) của chi bộ: tối đa {q.allowed_excellent}"
        )


# == periods =================================================================================


async def open_period(
    conn: Connection, who: Principal, body: PeriodCreate, *, now: datetime, source: str
) -> PeriodOut:
    org = await repository.org(conn, body.org_id)
    if org is None or not who.can(COMMITTEE_ROLES, org["path"]):
        raise problems.OrgNotFound("Không tìm thấy tổ chức hoặc tổ chức ngoài phạm vi của bạn")
    if org["status"] == "closed":
        raise Unprocessable("Tổ chức đã giải thể")
    if body.self_deadline <= now:
        raise Unprocessable("Hạn nộp bản tự kiểm điểm phải ở tương lai")
    await repository.lock_year(conn, body.year)
    if await repository.overlapping(conn, org["path"], body.year):
        raise problems.ReviewPeriodExists(
            f"Đã có đợt kiểm điểm năm {body.year} ở tổ chức này, cấp trên hoặc cấp dưới của nó"
        )
    period_id = new_id()
    if not await repository.insert_period(
        conn,
        period_id=period_id,
        org_id=body.org_id,
        org_path=org["path"],
        year=body.year,
        self_deadline=body.self_deadline,
        excellent_share=round(body.excellent_share, 2),
        opened_by=who.member_id,
        now=now,
    ):
        raise problems.ReviewPeriodExists(f"Đã có đợt kiểm điểm năm {body.year} ở tổ chức này")
    await audit.record(
        conn,
        "reviews.period_opened",
        actor_id=who.member_id,
        target=str(period_id),
        source=source,
        details={"org_id": str(body.org_id), "year": body.year},
    )
    row = await repository.period(conn, period_id)
    assert row is not None
    return _period_out(row)


async def periods(conn: Connection, who: Principal) -> list[PeriodOut]:
    """The periods a staff member works with: over, on or under their subtrees."""
    roots = who.subtree_roots(READER_ROLES)
    if not roots:
        return []
    return [_period_out(r) for r in await repository.periods_within(conn, roots)]


async def _period(conn: Connection, who: Principal, period_id: UUID) -> asyncpg.Record:
    row = await repository.period(conn, period_id)
    if row is None or not (
        who.can(READER_ROLES, row["org_path"])
        or any(_within(root, row["org_path"]) for root in who.subtree_roots(READER_ROLES))
    ):
        raise problems.ReviewPeriodNotFound(_PERIOD_NOT_FOUND)
    return row


async def progress(conn: Connection, who: Principal, period_id: UUID) -> list[CellProgress]:
    """Cells of the period the caller may see, with how far their reviews went."""
    period = await _period(conn, who, period_id)
    roots = (
        [period["org_path"]]
        if who.can(READER_ROLES, period["org_path"])
        else [r for r in who.subtree_roots(READER_ROLES) if _within(r, period["org_path"])]
    )
    # A root inside another (a secretary's cell under their committee's commune) adds nothing.
    roots = [r for r in set(roots) if not any(r != o and _within(r, o) for o in roots)]
    out: list[CellProgress] = []
    for root in sorted(roots):
        out.extend(
            CellProgress.model_validate(dict(r))
            for r in await repository.progress(conn, period_id, root)
        )
    return out


# == the member's own review ==================================================================


def _editable(period: asyncpg.Record, review: asyncpg.Record | None, now: datetime) -> bool:
    return now <= period["self_deadline"] and (review is None or review["proposed_grade"] is None)


def _mine(period: asyncpg.Record, review: asyncpg.Record | None, now: datetime) -> MyReview:
    get = (lambda k: review[k]) if review is not None else (lambda k: None)
    return MyReview(
        period=_period_out(period),
        assessment=get("self_assessment"),
        self_grade=get("self_grade"),
        submitted_at=get("self_at"),
        editable=_editable(period, review, now),
        cell_grade=get("proposed_grade"),
        final_grade=get("final_grade"),
        final_reason=get("final_reason"),
    )


async def my_reviews(conn: Connection, who: Principal, *, now: datetime) -> list[MyReview]:
    if who.org_path is None:
        return []
    found = await repository.periods_over(conn, who.org_path)
    mine = await repository.my_reviews(conn, who.member_id)
    return [_mine(p, mine.get(p["id"]), now) for p in found]


async def submit_self_assessment(
    conn: Connection, who: Principal, period_id: UUID, body: SelfAssessmentIn, *, now: datetime
) -> MyReview:
    period = await repository.period(conn, period_id)
    if (
        period is None
        or who.org_path is None
        or who.cell_id is None
        or not _within(who.org_path, period["org_path"])
    ):
        raise problems.ReviewPeriodNotFound("Không tìm thấy đợt kiểm điểm của đồng chí")
    review = await repository.review(conn, period_id, who.member_id, lock=True)
    if now > period["self_deadline"]:
        raise problems.ReviewClosed("Đã hết hạn nộp bản tự kiểm điểm")
    if review is not None and review["proposed_grade"] is not None:
        raise problems.ReviewClosed("Chi bộ đã đề nghị xếp loại; bản tự kiểm điểm không sửa được")
    await repository.save_self_assessment(
        conn,
        period_id=period_id,
        member_id=who.member_id,
        cell_id=who.cell_id,
        cell_path=who.org_path,
        assessment=body.assessment,
        grade=body.grade.value,
        now=now,
    )
    return _mine(period, await repository.review(conn, period_id, who.member_id), now)


# == the cell =================================================================================


async def _cell(
    conn: Connection, who: Principal, period: asyncpg.Record, cell_id: UUID
) -> asyncpg.Record:
    cell = await repository.org(conn, cell_id)
    if (
        cell is None
        or cell["kind"] not in CELL_KINDS
        or not _within(cell["path"], period["org_path"])
        or not who.can(READER_ROLES, cell["path"])
    ):
        raise problems.OrgNotFound("Không tìm thấy chi bộ trong phạm vi của bạn")
    return cell


def _decides(who: Principal, cell_path: str) -> bool:
    parent = _parent(cell_path)
    return parent is not None and who.can(COMMITTEE_ROLES, parent)


def _proposes(who: Principal, cell_path: str) -> bool:
    return who.can(("cell_secretary", "cell_deputy"), cell_path)


async def cell_review(
    conn: Connection, who: Principal, period_id: UUID, cell_id: UUID
) -> CellReview:
    period = await _period(conn, who, period_id)
    cell = await _cell(conn, who, period, cell_id)
    return await _cell_answer(conn, who, period, cell)


async def _cell_answer(
    conn: Connection, who: Principal, period: asyncpg.Record, cell: asyncpg.Record
) -> CellReview:
    reviews = {
        r["member_id"]: r
        for r in await repository.cell_reviews(conn, period["id"], cell["org_id"], lock=False)
    }
    roster = [m.member_id for m in await projection.cell_roster(conn, cell["org_id"])]
    ids = roster + [m for m in reviews if m not in set(roster)]
    names = await projection.names_of(conn, ids)
    members = []
    for member_id in ids:
        r = reviews.get(member_id)
        get = (lambda k, r=r: r[k]) if r is not None else (lambda k: None)
        totals = get("vote_totals")
        members.append(
            ReviewMember(
                member_id=member_id,
                full_name=names[member_id].full_name,
                card_number=names[member_id].card_number,
                assessment=get("self_assessment"),
                self_grade=get("self_grade"),
                submitted_at=get("self_at"),
                motion_id=get("motion_id"),
                vote_totals=dict(zip(GRADE_ORDER, totals, strict=True)) if totals else None,
                voted_grade=get("voted_grade"),
                proposed_grade=get("proposed_grade"),
                final_grade=get("final_grade"),
                final_reason=get("final_reason"),
            )
        )
    members.sort(key=lambda m: (m.full_name is None, m.full_name or "", str(m.member_id)))
    share = period["excellent_share"]
    return CellReview(
        period=_period_out(period),
        cell_id=cell["org_id"],
        cell_title=cell["title"],
        members=members,
        proposed=quota((r["proposed_grade"] for r in reviews.values()), share),
        final=quota((r["final_grade"] for r in reviews.values()), share),
        can_propose=_proposes(who, cell["path"]),
        can_decide=_decides(who, cell["path"]),
    )


async def open_grading_motion(
    conn: Connection,
    who: Principal,
    period_id: UUID,
    cell_id: UUID,
    body: GradingMotionIn,
    *,
    now: datetime,
    settings: MeetingsSettings,
    source: str,
) -> MotionOut:
    """A secret motion of the cell's meeting on one member's grade."""
    period = await _period(conn, who, period_id)
    cell = await _cell(conn, who, period, cell_id)
    meeting = await meetings_repository.get_meeting(conn, body.meeting_id)
    if meeting is None or meeting["org_id"] != cell["org_id"]:
        raise problems.MeetingNotFound("Không tìm thấy cuộc họp của chi bộ này")
    member = next(
        (
            m
            for m in await projection.cell_roster(conn, cell["org_id"])
            if m.member_id == body.member_id
        ),
        None,
    )
    if member is None:
        raise Unprocessable("Đảng viên không thuộc chi bộ này")
    # The row first, then its lock: two clicks at once must not open two ballots.
    await repository.ensure_review(
        conn,
        period_id=period_id,
        member_id=body.member_id,
        cell_id=cell["org_id"],
        cell_path=cell["path"],
    )
    review = await repository.review(conn, period_id, body.member_id, lock=True)
    assert review is not None
    if review["final_grade"] is not None:
        raise problems.ReviewClosed("Cấp ủy đã quyết định xếp loại đảng viên này")
    if review["proposed_grade"] is not None:
        raise problems.ReviewClosed("Chi bộ đã gửi đề nghị xếp loại đảng viên này")
    # Read after the lock, in a statement of its own: it sees a ballot committed meanwhile.
    if (
        review["motion_id"] is not None
        and await repository.motion_status(conn, review["motion_id"]) == "open"
    ):
        raise problems.ReviewClosed("Đang biểu quyết xếp loại đảng viên này")
    name = (await projection.names_of(conn, [body.member_id]))[body.member_id].full_name
    motion = await motions.open_motion(
        conn,
        who,
        body.meeting_id,
        MotionCreate(
            title=f"Xếp loại chất lượng năm {period['year']}: đồng chí {name or 'đảng viên'}",
            options=[GRADE_TITLES[g] for g in GRADE_ORDER],
            secret=True,
        ),
        now=now,
        settings=settings,
    )
    await repository.attach_motion(
        conn, period_id=period_id, member_id=body.member_id, motion_id=motion.id
    )
    await audit.record(
        conn,
        "reviews.grading_motion_opened",
        actor_id=who.member_id,
        target=str(period_id),
        source=source,
        details={"cell_id": str(cell_id), "motion_id": str(motion.id)},
    )
    return motion


async def propose(
    conn: Connection, who: Principal, period_id: UUID, cell_id: UUID, *, now: datetime, source: str
) -> CellReview:
    """The cell sends up the grades its meeting voted (those not proposed yet)."""
    period = await _period(conn, who, period_id)
    cell = await _cell(conn, who, period, cell_id)
    if not _proposes(who, cell["path"]):
        raise Forbidden("Chỉ bí thư, phó bí thư chi bộ gửi đề nghị xếp loại")
    reviews = await repository.cell_reviews(conn, period_id, cell_id)
    voted = {r["member_id"] for r in reviews if r["voted_grade"]}
    active = [
        m.member_id for m in await projection.cell_roster(conn, cell_id) if m.status == "active"
    ]
    missing = [m for m in active if m not in voted]
    if missing:
        # The cell proposes for all its members at once, so the committee decides them at once
        # and the counts that leave the service never single one member out.
        raise problems.NotAllVoted(
            f"Còn {len(missing)} đảng viên của chi bộ chưa có kết quả biểu quyết xếp loại "
            "(quá nửa số có mặt); chi bộ gửi đề nghị khi đã biểu quyết xong cho mọi đảng viên"
        )
    ready = [r["member_id"] for r in reviews if r["proposed_grade"] is None and r["voted_grade"]]
    if not ready:
        raise problems.NothingToPropose(
            "Chưa có đảng viên nào có kết quả biểu quyết xếp loại (quá nửa số có mặt) chưa gửi"
        )
    after = [
        r["proposed_grade"] or (r["voted_grade"] if r["member_id"] in ready else None)
        for r in reviews
    ]
    _check_quota(quota(after, period["excellent_share"]), period["excellent_share"])
    await repository.propose(conn, period_id, ready, who.member_id, now)
    await audit.record(
        conn,
        "reviews.grades_proposed",
        actor_id=who.member_id,
        target=str(period_id),
        source=source,
        details={"cell_id": str(cell_id), "members": len(ready)},
    )
    return await _cell_answer(conn, who, period, cell)


async def decide(
    conn: Connection,
    who: Principal,
    period_id: UUID,
    cell_id: UUID,
    body: DecisionIn,
    *,
    now: datetime,
    source: str,
) -> CellReview:
    """The committee above the cell approves the proposed grades, changing some with a reason."""
    period = await _period(conn, who, period_id)
    cell = await _cell(conn, who, period, cell_id)
    if not _decides(who, cell["path"]):
        raise Forbidden("Chỉ cấp ủy cấp trên của chi bộ quyết định xếp loại")
    reviews = {r["member_id"]: r for r in await repository.cell_reviews(conn, period_id, cell_id)}
    pending = {m: r for m, r in reviews.items() if r["proposed_grade"] and not r["final_grade"]}
    changes = {c.member_id: c for c in body.changes}
    if len(changes) < len(body.changes):
        raise Unprocessable("Mỗi đảng viên chỉ một thay đổi")
    strangers = set(changes) - set(pending)
    if strangers:
        raise Unprocessable(
            f"{len(strangers)} đảng viên trong danh sách thay đổi không có đề nghị xếp loại "
            "đang chờ quyết định của chi bộ này"
        )
    same = [m for m, c in changes.items() if c.grade.value == pending[m]["proposed_grade"]]
    if same:
        raise Unprocessable("Mức thay đổi phải khác mức chi bộ đề nghị")
    if not pending:
        raise problems.NothingToPropose("Không có đề nghị xếp loại nào đang chờ quyết định")
    decisions = [
        (m, changes[m].grade.value, changes[m].reason)
        if m in changes
        else (m, r["proposed_grade"], None)
        for m, r in pending.items()
    ]
    decided = {m: g for m, g, _ in decisions}
    finals = [decided.get(m, r["final_grade"]) for m, r in reviews.items()]
    _check_quota(quota(finals, period["excellent_share"]), period["excellent_share"])
    parent = _parent(cell["path"])
    assert parent is not None
    # The deciding body: the nearest org above the cell on which the caller is on the committee.
    decider = max(
        (p for p in who.subtree_roots(COMMITTEE_ROLES) if _within(parent, p)),
        key=lambda p: p.count("."),
    )
    decider_org = await repository.org_by_path(conn, decider)
    assert decider_org is not None
    await repository.decide(
        conn, period_id, decisions, org_id=decider_org["org_id"], by=who.member_id, now=now
    )
    # Counts leave only once every active member of the cell has a final grade: a batch of one
    # decided member would tell that member's grade as the difference of two counts.
    final_of = {m: decided.get(m, r["final_grade"]) for m, r in reviews.items()}
    active = [
        m.member_id for m in await projection.cell_roster(conn, cell_id) if m.status == "active"
    ]
    if all(final_of.get(m) for m in active):
        counted = Counter(g for g in final_of.values() if g is not None)
        await outbox.enqueue(
            conn,
            ev.ReviewCellGraded(
                period_id=period_id,
                year=period["year"],
                org_id=cell_id,
                org_path=cell["path"],
                counts={g: counted[g.value] for g in ReviewGrade},
                decided_by_org_id=decider_org["org_id"],
                decided_by=who.member_id,
                occurred_at=now,
            ),
        )
    await audit.record(
        conn,
        "reviews.grades_decided",
        actor_id=who.member_id,
        target=str(period_id),
        source=source,
        details={"cell_id": str(cell_id), "members": len(decisions), "changed": len(changes)},
    )
    return await _cell_answer(conn, who, period, cell)


# == grades on the member's record ============================================================


def _grades(rows: list[asyncpg.Record]) -> list[GradeOut]:
    return [
        GradeOut(
            period_id=r["period_id"],
            year=r["year"],
            grade=r["final_grade"],
            grade_title=GRADE_TITLES[ReviewGrade(r["final_grade"])],
            reason=r["final_reason"],
            decided_at=r["decided_at"],
        )
        for r in rows
    ]


async def my_grades(conn: Connection, who: Principal) -> list[GradeOut]:
    return _grades(await repository.grades_of(conn, who.member_id))


async def member_grades(conn: Connection, who: Principal, member_id: UUID) -> list[GradeOut]:
    path = await repository.member_path(conn, member_id)
    if path is None or not who.can(READER_ROLES, path):
        raise problems.MemberNotFound("Không tìm thấy đảng viên trong phạm vi của bạn")
    return _grades(await repository.grades_of(conn, member_id))
