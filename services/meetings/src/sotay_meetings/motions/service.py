"""Use cases of motions (biểu quyết) in a meeting.

- open: the meeting's managers (the chair among them) from the check-in window's opening until
  the meeting is closed; open ballot or secret (``secret``), the usual three options or named
  ones;
- vote: members of the roster checked in or marked present (late included), once each, while
  the motion is open — guests and exempt members do not vote;
- hands: the chair records show-of-hands counts per option for members without a phone; with
  the phone votes they may not exceed the members present;
- close: fixes the tally and emits ``meetings.motion.closed.v1`` with counts only.

A secret ballot is unlinkable: the member's choice is never stored (``motion_voters.choice`` is
NULL, enforced by the table), every vote touches every tally row, and the tallies stay hidden
until the motion closes — watching counts move while one member votes would tell their choice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
from sotay_contracts.events import meetings as ev
from sotay_kit import outbox
from sotay_kit.auth import Principal
from sotay_kit.db import Connection
from sotay_kit.errors import Forbidden
from sotay_kit.ids import new_id

from .. import problems
from ..meetings.service import for_action, require_manager, require_open
from ..reviews import tally as review_tally
from ..settings import MeetingsSettings
from . import repository
from .schemas import DEFAULT_OPTIONS, HandsIn, MotionCreate, MotionOut, OptionResult, VoteIn


def _out(row: asyncpg.Record, present: int, mine: tuple[bool, int | None]) -> MotionOut:
    hidden = row["secret"] and row["status"] == "open"
    options = []
    for label, votes, hands in zip(row["options"], row["votes"], row["hands"], strict=True):
        options.append(
            OptionResult(
                label=label,
                votes=None if hidden else votes,
                hands=None if hidden else hands,
                total=None if hidden else votes + hands,
            )
        )
    voted, choice = mine
    return MotionOut(
        id=row["id"],
        number=row["number"],
        title=row["title"],
        secret=row["secret"],
        status=row["status"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        options=options,
        ballots_cast=row["voters"],
        present=row["present"] if row["present"] is not None else present,
        my_vote=None if row["secret"] else choice,
        voted=voted,
    )


async def _mine(conn: Connection, motion_id: UUID, member_id: UUID) -> tuple[bool, int | None]:
    row = await repository.my_choice(conn, motion_id, member_id)
    return (row is not None, row["choice"] if row is not None else None)


async def list_motions(conn: Connection, who: Principal, meeting_id: UUID) -> list[MotionOut]:
    await for_action(conn, who, meeting_id)
    rows = await repository.of_meeting(conn, meeting_id)
    present = await repository.present_members(conn, meeting_id)
    mine = await repository.my_votes(conn, meeting_id, who.member_id)
    return [_out(r, present, (r["id"] in mine, mine.get(r["id"]))) for r in rows]


async def open_motion(
    conn: Connection,
    who: Principal,
    meeting_id: UUID,
    body: MotionCreate,
    *,
    now: datetime,
    settings: MeetingsSettings,
) -> MotionOut:
    meeting, _, manager = await for_action(conn, who, meeting_id)
    require_manager(manager)
    require_open(meeting)
    if now < meeting["starts_at"] - timedelta(minutes=settings.checkin_opens_minutes):
        raise problems.MeetingNotStarted("Chỉ biểu quyết khi cuộc họp đã bắt đầu")
    motion_id = new_id()
    options = body.options or list(DEFAULT_OPTIONS)
    await repository.insert(
        conn, motion_id, meeting_id, body.title, options, body.secret, who.member_id, now
    )
    return await _read(conn, who, meeting_id, motion_id)


async def _read(conn: Connection, who: Principal, meeting_id: UUID, motion_id: UUID) -> MotionOut:
    row = await repository.get(conn, meeting_id, motion_id)
    if row is None:
        raise problems.MotionNotFound("Không tìm thấy nội dung biểu quyết")
    present = await repository.present_members(conn, meeting_id)
    return _out(row, present, await _mine(conn, motion_id, who.member_id))


async def vote(
    conn: Connection, who: Principal, meeting_id: UUID, motion_id: UUID, body: VoteIn
) -> MotionOut:
    meeting, mine, _ = await for_action(conn, who, meeting_id)
    if meeting["status"] == "cancelled":
        raise problems.MeetingCancelled("Cuộc họp đã bị hủy")
    motion = await repository.lock_for_vote(conn, meeting_id, motion_id)
    if motion is None:
        raise problems.MotionNotFound("Không tìm thấy nội dung biểu quyết")
    if (
        mine is None
        or mine["standing"] != "member"
        or mine["attendance"]
        not in (
            "present",
            "late",
        )
    ):
        raise Forbidden("Chỉ đảng viên có mặt tại cuộc họp mới được biểu quyết")
    if motion["status"] != "open":
        raise problems.MotionClosed("Biểu quyết đã kết thúc")
    if body.choice >= motion["n"]:
        raise problems.InvalidChoice(f"Phương án phải từ 0 đến {motion['n'] - 1}")
    if not await repository.vote(conn, motion_id, who.member_id, body.choice, motion["secret"]):
        raise problems.AlreadyVoted("Đồng chí đã biểu quyết nội dung này")
    return await _read(conn, who, meeting_id, motion_id)


async def _managed_open_motion(
    conn: Connection, who: Principal, meeting_id: UUID, motion_id: UUID
) -> tuple[asyncpg.Record, asyncpg.Record]:
    meeting, _, manager = await for_action(conn, who, meeting_id)
    require_manager(manager)
    motion = await repository.get(conn, meeting_id, motion_id, lock=True)
    if motion is None:
        raise problems.MotionNotFound("Không tìm thấy nội dung biểu quyết")
    if motion["status"] != "open":
        raise problems.MotionClosed("Biểu quyết đã kết thúc")
    return meeting, motion


async def record_hands(
    conn: Connection, who: Principal, meeting_id: UUID, motion_id: UUID, body: HandsIn
) -> MotionOut:
    _, motion = await _managed_open_motion(conn, who, meeting_id, motion_id)
    if len(body.counts) != len(motion["options"]):
        raise problems.InvalidChoice(
            f"Cần đúng {len(motion['options'])} số đếm, mỗi phương án một số"
        )
    present = await repository.present_members(conn, meeting_id)
    if sum(body.counts) + motion["voters"] > present:
        raise problems.TooManyBallots(
            f"Số giơ tay ({sum(body.counts)}) cộng số phiếu trên điện thoại ({motion['voters']}) "
            f"vượt số đảng viên có mặt ({present})"
        )
    await repository.set_hands(conn, motion_id, body.counts)
    return await _read(conn, who, meeting_id, motion_id)


async def close(
    conn: Connection, who: Principal, meeting_id: UUID, motion_id: UUID, *, now: datetime
) -> MotionOut:
    meeting, motion = await _managed_open_motion(conn, who, meeting_id, motion_id)
    present = await repository.present_members(conn, meeting_id)
    # Attendance marked down after hands were counted could leave more ballots than people.
    present = max(present, sum(motion["votes"]) + sum(motion["hands"]))
    await repository.close(conn, motion_id, who.member_id, present, now)
    totals = [v + h for v, h in zip(motion["votes"], motion["hands"], strict=True)]
    await review_tally.motion_closed(conn, motion_id, totals, present)
    await outbox.enqueue(
        conn,
        ev.MotionClosed(
            meeting_id=meeting_id,
            motion_id=motion_id,
            org_id=meeting["org_id"],
            org_path=meeting["org_path"],
            secret=motion["secret"],
            votes=list(motion["votes"]),
            hands=list(motion["hands"]),
            present=present,
            closed_by=who.member_id,
            occurred_at=now,
        ),
    )
    return await _read(conn, who, meeting_id, motion_id)
