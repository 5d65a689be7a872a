"""Use cases of meetings: schedule (once or monthly), update, cancel, reply, check in, mark,
close, list.

Every use case runs in the request's transaction; its events go to the outbox in that same
transaction. Events carry ids, org paths, times and codes — never names, free-text reasons,
titles or places. The clock is passed in (``now``) so that tests drive it.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any
from uuid import UUID

import asyncpg
import segno
from dateutil.rrule import MONTHLY, rrule  # type: ignore[import-untyped]
from sotay_contracts.events import meetings as ev
from sotay_kit import outbox
from sotay_kit.auth import Principal
from sotay_kit.clock import LOCAL_TZ
from sotay_kit.db import Connection
from sotay_kit.errors import Forbidden
from sotay_kit.ids import new_id
from sotay_kit.orgs import CELL_KINDS
from sotay_kit.pagination import Page, decode_keyset, encode_cursor, key_time, key_uuid
from sotay_kit.projections import identity as projection

from .. import access, problems
from ..settings import MeetingsSettings
from ..times import local
from . import checkin, repository
from .schemas import (
    AttendanceMark,
    AttendanceOut,
    CheckinCodeOut,
    CheckinIn,
    Counts,
    InviteeOut,
    MeetingCancel,
    MeetingCreate,
    MeetingOut,
    MeetingPatch,
    MeetingSummary,
    MyPart,
    OccurrenceOut,
    Quorum,
    RosterLabels,
    RosterLabelsOut,
    RsvpIn,
    RsvpOut,
    Tallies,
    Times,
)

log = logging.getLogger("sotay.meetings")

RECURRING_KINDS = (ev.MeetingKind.REGULAR, ev.MeetingKind.COMMITTEE)

# The member's reason (kept here, with the free text) → the coarse code events carry: health
# ("om") and family matters are both "personal", so no event says who is ill.
EVENT_REASON: dict[str, ev.AbsenceReason] = {
    "cong_tac": ev.AbsenceReason.BUSINESS_TRIP,
    "om": ev.AbsenceReason.PERSONAL,
    "viec_gia_dinh": ev.AbsenceReason.PERSONAL,
    "other": ev.AbsenceReason.OTHER,
}

FINAL_STATUSES = ("present", "late", "absent_excused", "absent_unexcused", "exempt")


# ── reading and authorising ─────────────────────────────────────────────────────────────────


async def _visible(conn: Connection, who: Principal, meeting_id: UUID) -> asyncpg.Record:
    """The meeting if the caller may see it (manager, chair or on the roster); 404 otherwise."""
    meeting = await repository.get_meeting(conn, meeting_id)
    if meeting is None:
        raise problems.MeetingNotFound("Không tìm thấy cuộc họp")
    if access.manages(who, meeting["org_path"], meeting["chair_id"]):
        return meeting
    if await repository.invitee(conn, meeting_id, who.member_id) is None:
        raise problems.MeetingNotFound("Không tìm thấy cuộc họp")
    return meeting


async def for_action(
    conn: Connection, who: Principal, meeting_id: UUID, *, exclusive: bool = False
) -> tuple[asyncpg.Record, dict[str, Any] | None, bool]:
    """(meeting locked for the action, the caller's roster row, whether the caller manages it);
    404 when the caller may not see it."""
    meeting, mine = await repository.meeting_and_invitee(
        conn, meeting_id, who.member_id, exclusive=exclusive
    )
    if meeting is None:
        raise problems.MeetingNotFound("Không tìm thấy cuộc họp")
    manager = access.manages(who, meeting["org_path"], meeting["chair_id"])
    if mine is None and not manager:
        raise problems.MeetingNotFound("Không tìm thấy cuộc họp")
    return meeting, mine, manager


def require_manager(manager: bool) -> None:
    if not manager:
        raise Forbidden(
            "Chỉ bí thư, phó bí thư chi bộ, cấp ủy cấp trên hoặc chủ trì được làm việc này"
        )


def require_open(meeting: asyncpg.Record) -> None:
    if meeting["status"] == "closed":
        raise problems.MeetingClosed("Cuộc họp đã kết thúc; không thể thay đổi")
    if meeting["status"] == "cancelled":
        raise problems.MeetingCancelled("Cuộc họp đã bị hủy")


def _times(value: datetime) -> Times:
    return Times(utc=value, local=local(value))


def _counts(row: asyncpg.Record) -> Counts:
    return Counts(
        invited=row["invited"] or 0,
        exempt=row["exempt"] or 0,
        guests=row["guests"] or 0,
        replied_attending=row["replied_attending"] or 0,
        replied_absent=row["replied_absent"] or 0,
        attended=row["attended"] or 0,
    )


def _occurrence(row: asyncpg.Record) -> OccurrenceOut | None:
    if row["series_id"] is None:
        return None
    return OccurrenceOut(series_id=row["series_id"], index=row["series_index"])


def _my_part(row: asyncpg.Record | None, prefix: str = "") -> MyPart | None:
    if row is None or row[prefix + "standing"] is None:
        return None
    return MyPart(
        standing=row[prefix + "standing"],
        rsvp=row[prefix + "rsvp"],
        rsvp_reason=row[prefix + "rsvp_reason"],
        rsvp_note=row[prefix + "rsvp_note"],
        checked_in_at=row[prefix + "checked_in_at"],
        attendance=row[prefix + "attendance"],
        final_status=row[prefix + "final_status"],
    )


async def _answer(conn: Connection, who: Principal, meeting_id: UUID) -> MeetingOut:
    row = await repository.get_meeting(conn, meeting_id)
    assert row is not None
    manager = access.manages(who, row["org_path"], row["chair_id"])
    full = manager or who.member_id == row["minute_taker_id"]
    mine = await repository.invitee(conn, meeting_id, who.member_id)
    roster = None
    if full:
        roster = [
            InviteeOut.model_validate(dict(r)) for r in await repository.invitees(conn, meeting_id)
        ]
    tallies = quorum = None
    if row["tallies"] is not None:
        t = row["tallies"]
        tallies = Tallies(**{k: t[k] for k in Tallies.model_fields})
        quorum = Quorum(
            required_ratio=row["quorum_required"],
            base=t["quorum_base"],
            attended=t["present"] + t["late"],
            met=row["quorum_met"],
        )
    return MeetingOut(
        **_listed(row),
        agenda=list(row["agenda"]),
        document_ids=list(row["document_ids"]),
        chair_id=row["chair_id"],
        minute_taker_id=row["minute_taker_id"],
        revision=row["revision"],
        me=_my_part(mine),
        can_manage=manager,
        roster=roster,
        tallies=tallies,
        quorum=quorum,
    )


async def get(conn: Connection, who: Principal, meeting_id: UUID) -> MeetingOut:
    await _visible(conn, who, meeting_id)
    return await _answer(conn, who, meeting_id)


async def tag(conn: Connection, who: Principal, meeting_id: UUID) -> str:
    """The ETag of the caller's answer to ``GET …/{id}`` (weak: the JSON, not its bytes),
    after the same access check: one query digesting what the answer shows, joined with who
    asks (a manager sees the roster, a member only their own part). The run screen's polls of
    an unchanged meeting end here with ``304`` instead of building the whole answer."""
    state = await repository.state_tag(conn, meeting_id)
    if state is None:
        raise problems.MeetingNotFound("Không tìm thấy cuộc họp")
    manager = access.manages(who, state["org_path"], state["chair_id"])
    if not manager and await repository.invitee(conn, meeting_id, who.member_id) is None:
        raise problems.MeetingNotFound("Không tìm thấy cuộc họp")
    full = manager or who.member_id == state["minute_taker_id"]
    seen = f"{state['digest']}|{who.member_id}|{manager}|{full}"
    return 'W/"' + hashlib.sha256(seen.encode()).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison: a proxy that compresses may
    weaken the tag or add a suffix; ``*`` matches any)."""
    if not if_none_match:
        return False
    opaque = etag[2:].strip('"')
    for candidate in if_none_match.split(","):
        value = candidate.strip()
        if value == "*":
            return True
        value = value.removeprefix("W/").strip('"')
        if value == opaque or value.startswith(opaque + "-"):
            return True
    return False


# ── scheduling ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class _Org:
    org_id: UUID
    path: str
    kind: str


async def _managed_org(conn: Connection, who: Principal, org_id: UUID) -> _Org:
    row = await repository.org(conn, org_id)
    if row is None or not access.manages_org(who, row["path"]):
        raise problems.OrgNotFound("Không tìm thấy tổ chức hoặc tổ chức ngoài phạm vi của bạn")
    if row["status"] == "closed":
        raise problems.InvalidPlan("Tổ chức đã giải thể; không thể lên lịch họp")
    return _Org(row["org_id"], row["path"], row["kind"])


async def _roster(conn: Connection, org: _Org, kind: ev.MeetingKind) -> list[tuple[UUID, str]]:
    """The roster snapshot: (member id, 'member' | 'exempt')."""
    if kind is ev.MeetingKind.COMMITTEE:
        rows = await repository.committee_roster(conn, org.path)
        return [(r["member_id"], "exempt" if r["status"] == "exempt" else "member") for r in rows]
    if org.kind not in CELL_KINDS:
        raise problems.InvalidPlan(
            "Sinh hoạt thường kỳ, chuyên đề và bất thường chỉ tổ chức ở chi bộ; "
            "tổ chức này không phải chi bộ"
        )
    members = await projection.cell_roster(conn, org.org_id)
    return [(m.member_id, "exempt" if m.status == "exempt" else "member") for m in members]


async def _guests(
    conn: Connection, roster: list[tuple[UUID, str]], guest_ids: list[UUID]
) -> list[UUID]:
    on_roster = {m for m, _ in roster}
    guests = [g for g in guest_ids if g not in on_roster]
    if guests:
        known = await repository.members_on_roll(conn, guests)
        if set(guests) - known:
            raise problems.InvalidPlan("Khách mời phải là đảng viên đang sinh hoạt")
    return guests


def _check_people(
    chair_id: UUID | None,
    minute_taker_id: UUID | None,
    roster: list[tuple[UUID, str]],
    guests: list[UUID],
) -> None:
    eligible = {m for m, s in roster if s == "member"} | set(guests)
    if chair_id is not None and chair_id not in eligible:
        raise problems.InvalidPlan("Người chủ trì phải có tên trong danh sách cuộc họp")
    if minute_taker_id is not None and minute_taker_id not in eligible:
        raise problems.InvalidPlan("Thư ký phải có tên trong danh sách cuộc họp")


async def _default_chair(
    conn: Connection, org: _Org, roster: list[tuple[UUID, str]]
) -> UUID | None:
    """The cell's secretary (or else a deputy) if they are on the roster."""
    members = {m for m, s in roster if s == "member"}
    for role in ("cell_secretary", "cell_deputy"):
        for holder in sorted(await projection.holders(conn, [role], org.path)):
            if holder in members:
                return holder
    return None


def occurrences(starts_at: datetime, by_month_day: int | None, count: int) -> list[datetime]:
    """Start times (UTC) of a monthly series in Asia/Ho_Chi_Minh: the first meeting's local
    time of day, on ``by_month_day`` (default the first meeting's local day)."""
    first = local(starts_at)
    rule = rrule(
        MONTHLY,
        dtstart=first.replace(tzinfo=None),
        bymonthday=by_month_day or first.day,
        count=count,
    )
    return [d.replace(tzinfo=LOCAL_TZ).astimezone(starts_at.tzinfo) for d in rule]


def _plan_event(
    cls: type[ev._MeetingPlan],
    meeting: asyncpg.Record | dict[str, Any],
    invitee_ids: list[UUID],
    revision: int,
    now: datetime,
    **extra: Any,
) -> Any:
    occurrence = None
    if meeting["series_id"] is not None:
        occurrence = ev.Occurrence(
            series_id=meeting["series_id"], index=meeting["series_index"], rule="monthly"
        )
    return cls(
        meeting_id=meeting["id"],
        org_id=meeting["org_id"],
        org_path=meeting["org_path"],
        kind=ev.MeetingKind(meeting["kind"]),
        starts_at=meeting["starts_at"],
        ends_at=meeting["ends_at"],
        invitee_member_ids=invitee_ids,
        occurrence=occurrence,
        revision=revision,
        occurred_at=now,
        title=meeting["title"],
        location=meeting["location"] or None,
        **extra,
    )


async def schedule(
    conn: Connection,
    who: Principal,
    body: MeetingCreate,
    *,
    now: datetime,
    settings: MeetingsSettings,
) -> list[MeetingOut]:
    org = await _managed_org(conn, who, body.org_id)
    if body.ends_at <= now:
        raise problems.InvalidPlan("Không thể lên lịch một cuộc họp đã qua")
    roster = await _roster(conn, org, body.kind)
    guests = await _guests(conn, roster, body.guest_member_ids)
    if len(roster) + len(guests) > ev.MAX_INVITEES:
        raise problems.InvalidPlan("Danh sách quá lớn")
    _check_people(body.chair_id, body.minute_taker_id, roster, guests)
    chair = body.chair_id or await _default_chair(conn, org, roster)

    starts = [body.starts_at]
    series_id = None
    if body.recurrence is not None:
        if body.kind not in RECURRING_KINDS:
            raise problems.InvalidPlan("Chỉ sinh hoạt thường kỳ và họp cấp ủy được lặp hằng tháng")
        count = body.recurrence.count or settings.series_default_occurrences
        if count > settings.series_max_occurrences:
            raise problems.InvalidPlan(
                f"Tối đa {settings.series_max_occurrences} buổi trong một chuỗi"
            )
        starts = occurrences(body.starts_at, body.recurrence.by_month_day, count)
        series_id = new_id()
        first = local(body.starts_at).replace(tzinfo=None)
        rule = (
            f"DTSTART;TZID=Asia/Ho_Chi_Minh:{first:%Y%m%dT%H%M%S}\n"
            f"RRULE:FREQ=MONTHLY;BYMONTHDAY={body.recurrence.by_month_day or first.day};"
            f"COUNT={count}"
        )
        await repository.insert_series(conn, series_id, org.org_id, org.path, rule, who.member_id)

    duration = body.ends_at - body.starts_at
    invitees = roster + [(g, "guest") for g in guests]
    invitee_ids = sorted(m for m, _ in invitees)
    created: list[UUID] = []
    events: list[ev.MeetingScheduled] = []
    for index, start in enumerate(starts, start=1):
        row: dict[str, Any] = {
            "id": new_id(),
            "org_id": org.org_id,
            "org_path": org.path,
            "kind": body.kind.value,
            "title": body.title,
            "starts_at": start,
            "ends_at": start + duration,
            "location": body.location,
            "agenda": body.agenda,
            "document_ids": body.document_ids,
            "chair_id": chair,
            "minute_taker_id": body.minute_taker_id,
            "series_id": series_id,
            "series_index": index if series_id else None,
            "checkin_secret": checkin.new_secret(),
            "created_by": who.member_id,
            "created_at": now,
        }
        await repository.insert_meeting(conn, row)
        await repository.insert_invitees(conn, row["id"], invitees)
        events.append(
            _plan_event(ev.MeetingScheduled, row, invitee_ids, 1, now, scheduled_by=who.member_id)
        )
        created.append(row["id"])
    await outbox.enqueue(conn, *events)
    log.info(
        "meetings scheduled",
        extra={"org_id": str(org.org_id), "count": len(created), "series_id": str(series_id)},
    )
    return [await _answer(conn, who, meeting_id) for meeting_id in created]


# Of the editable columns (repository.EDITABLE_COLUMNS, named as the patch's fields), those that
# may be emptied, and those announced in MeetingUpdated.changed_fields (under their event name).
_OPTIONAL = frozenset({"chair_id", "minute_taker_id"})
_ANNOUNCED: dict[str, ev.MeetingField] = {
    "kind": "kind",
    "starts_at": "starts_at",
    "ends_at": "ends_at",
    "location": "location",
    "agenda": "agenda",
    "document_ids": "documents",
}


def _plan_changes(meeting: asyncpg.Record, body: MeetingPatch) -> dict[str, Any]:
    """The editable columns the patch sets to a value different from the meeting's."""
    given = body.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    for column in repository.EDITABLE_COLUMNS:
        if column not in given:
            continue
        value = given[column]
        if value is None and column not in _OPTIONAL:
            raise problems.InvalidPlan(f"Trường {column} không được để trống")
        if column == "kind" and value is not None:
            value = ev.MeetingKind(value).value
        current = meeting[column]
        if column in ("agenda", "document_ids"):
            current = list(current)
        if value != current:
            changes[column] = value
    return changes


def _check_new_times(meeting: asyncpg.Record, changes: dict[str, Any], now: datetime) -> None:
    starts = changes.get("starts_at", meeting["starts_at"])
    ends = changes.get("ends_at", meeting["ends_at"])
    if ends <= starts:
        raise problems.InvalidPlan("Thời gian kết thúc phải sau thời gian bắt đầu")
    if (ends - starts) > timedelta(hours=12):
        raise problems.InvalidPlan("Buổi họp không được dài quá 12 giờ")
    if ("starts_at" in changes or "ends_at" in changes) and ends <= now:
        raise problems.InvalidPlan("Không thể dời cuộc họp về quá khứ")


async def _change_invitees(
    conn: Connection, meeting: asyncpg.Record, changes: dict[str, Any], body: MeetingPatch
) -> bool:
    """Refresh the roster from the projection and/or replace the guests, as the patch asks;
    whether the set of invitees changed."""
    meeting_id = meeting["id"]
    before = await repository.invitee_ids(conn, meeting_id)
    if body.refresh_roster:
        row = await repository.org(conn, meeting["org_id"])
        if row is None:
            raise problems.InvalidPlan("Không tìm thấy tổ chức của cuộc họp")
        org = _Org(row["org_id"], row["path"], row["kind"])
        kind = ev.MeetingKind(changes.get("kind", meeting["kind"]))
        await repository.refresh_members(conn, meeting_id, await _roster(conn, org, kind))
    if body.guest_member_ids is not None:
        members = [
            (r["member_id"], r["standing"])
            for r in await repository.invitees(conn, meeting_id)
            if r["standing"] != "guest"
        ]
        guests = await _guests(conn, members, body.guest_member_ids)
        await repository.replace_guests(conn, meeting_id, guests)
    if not body.refresh_roster and body.guest_member_ids is None:
        return False
    return before != await repository.invitee_ids(conn, meeting_id)


async def _check_people_now(
    conn: Connection, meeting: asyncpg.Record, changes: dict[str, Any]
) -> None:
    """The chair and the minute taker (changed or not) are still among the invitees."""
    roster = [
        (r["member_id"], r["standing"]) for r in await repository.invitees(conn, meeting["id"])
    ]
    _check_people(
        changes.get("chair_id", meeting["chair_id"]),
        changes.get("minute_taker_id", meeting["minute_taker_id"]),
        [(m, s) for m, s in roster if s != "guest"],
        [m for m, s in roster if s == "guest"],
    )


async def update(
    conn: Connection,
    who: Principal,
    meeting_id: UUID,
    body: MeetingPatch,
    *,
    now: datetime,
) -> MeetingOut:
    meeting, _, manager = await for_action(conn, who, meeting_id, exclusive=True)
    require_manager(manager)
    require_open(meeting)
    changes = _plan_changes(meeting, body)
    _check_new_times(meeting, changes, now)
    invitees_changed = await _change_invitees(conn, meeting, changes, body)
    if "chair_id" in changes or "minute_taker_id" in changes or invitees_changed:
        await _check_people_now(conn, meeting, changes)
    if not changes and not invitees_changed:
        return await _answer(conn, who, meeting_id)

    revision = (
        await repository.update_plan(conn, meeting_id, changes)
        if changes
        else await repository.bump_revision(conn, meeting_id)
    )
    changed = [_ANNOUNCED[c] for c in changes if c in _ANNOUNCED]
    if invitees_changed:
        changed.append("invitees")
    if changed:
        fresh = await repository.get_meeting(conn, meeting_id)
        assert fresh is not None
        await outbox.enqueue(
            conn,
            _plan_event(
                ev.MeetingUpdated,
                fresh,
                await repository.invitee_ids(conn, meeting_id),
                revision,
                now,
                changed_fields=changed,
                updated_by=who.member_id,
            ),
        )
    return await _answer(conn, who, meeting_id)


async def cancel(
    conn: Connection, who: Principal, meeting_id: UUID, body: MeetingCancel, *, now: datetime
) -> MeetingOut:
    meeting, _, manager = await for_action(conn, who, meeting_id, exclusive=True)
    require_manager(manager)
    require_open(meeting)
    revision = await repository.cancel(
        conn, meeting_id, body.reason_code.value, body.note, who.member_id, now
    )
    await outbox.enqueue(
        conn,
        _plan_event(
            ev.MeetingCancelled,
            meeting,
            await repository.invitee_ids(conn, meeting_id),
            revision,
            now,
            reason_code=body.reason_code,
            cancelled_by=who.member_id,
        ),
    )
    return await _answer(conn, who, meeting_id)


# ── replies ────────────────────────────────────────────────────────────────────────────────


async def rsvp(
    conn: Connection, who: Principal, meeting_id: UUID, body: RsvpIn, *, now: datetime
) -> RsvpOut:
    meeting, mine, _ = await for_action(conn, who, meeting_id)
    if mine is None:
        raise problems.NotInvited("Bạn không có tên trong danh sách cuộc họp này")
    require_open(meeting)
    if now >= meeting["starts_at"]:
        raise problems.RsvpClosed("Cuộc họp đã bắt đầu; không thể trả lời nữa")
    same = (mine["rsvp"], mine["rsvp_reason"], mine["rsvp_note"]) == (
        body.response,
        body.reason_code,
        body.note,
    )
    if not same:
        await repository.record_rsvp(
            conn, meeting_id, who.member_id, body.response, body.reason_code, body.note, now
        )
        await outbox.enqueue(
            conn,
            ev.RsvpRecorded(
                meeting_id=meeting_id,
                member_id=who.member_id,
                response=ev.RsvpResponse(body.response),
                reason_code=EVENT_REASON[body.reason_code] if body.reason_code else None,
                occurred_at=now,
            ),
        )
    return RsvpOut(
        meeting_id=meeting_id,
        member_id=who.member_id,
        response=body.response,
        reason_code=body.reason_code,
        recorded_at=now if not same else mine["rsvp_at"],
    )


# ── check-in and attendance ─────────────────────────────────────────────────────────────────


def _window(meeting: asyncpg.Record, settings: MeetingsSettings) -> tuple[datetime, datetime]:
    opens = meeting["starts_at"] - timedelta(minutes=settings.checkin_opens_minutes)
    closes = meeting["ends_at"] + timedelta(minutes=settings.checkin_grace_minutes)
    return opens, closes


def _outside_window(opens: datetime, closes: datetime) -> problems.OutsideWindow:
    return problems.OutsideWindow(
        f"Chỉ điểm danh được từ {local(opens):%H:%M %d/%m/%Y} đến "
        f"{local(closes):%H:%M %d/%m/%Y} (giờ Việt Nam)",
        extensions={"window_opens_at": opens.isoformat(), "window_closes_at": closes.isoformat()},
    )


def _qr_svg(payload: str) -> str:
    qr = segno.make(payload, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=6, border=2, xmldecl=False)
    return buffer.getvalue().decode()


def qr_payload(meeting_id: UUID, code: str) -> str:
    return f"sotay://checkin?meeting={meeting_id}&code={code}"


async def checkin_code(
    conn: Connection,
    who: Principal,
    meeting_id: UUID,
    *,
    now: datetime,
    settings: MeetingsSettings,
    svg: bool = True,
) -> CheckinCodeOut:
    meeting, _, manager = await for_action(conn, who, meeting_id)
    require_manager(manager)
    require_open(meeting)
    opens, closes = _window(meeting, settings)
    if not opens <= now <= closes:
        raise _outside_window(opens, closes)
    current = checkin.current(
        meeting["checkin_secret"], meeting_id, now, settings.checkin_step_seconds
    )
    payload = qr_payload(meeting_id, current.code)
    return CheckinCodeOut(
        code=current.code,
        expires_at=current.expires_at,
        step_seconds=settings.checkin_step_seconds,
        qr_payload=payload,
        # Rendering the SVG is most of this call's CPU; the web app draws the QR itself.
        qr_svg=_qr_svg(payload) if svg else None,
    )


def _attendance_event(
    meeting: asyncpg.Record,
    member_id: UUID,
    status: str,
    method: ev.AttendanceMethod,
    by: UUID,
    now: datetime,
) -> ev.AttendanceRecorded:
    return ev.AttendanceRecorded(
        meeting_id=meeting["id"],
        member_id=member_id,
        org_id=meeting["org_id"],
        org_path=meeting["org_path"],
        meeting_kind=ev.MeetingKind(meeting["kind"]),
        meeting_starts_at=meeting["starts_at"],
        status=ev.AttendanceStatus(status),
        method=method,
        recorded_by=by,
        occurred_at=now,
    )


async def check_in(
    conn: Connection,
    who: Principal,
    meeting_id: UUID,
    body: CheckinIn,
    *,
    now: datetime,
    settings: MeetingsSettings,
) -> AttendanceOut:
    meeting, mine, _ = await for_action(conn, who, meeting_id)
    if mine is None:
        raise problems.NotInvited("Bạn không có tên trong danh sách cuộc họp này")
    require_open(meeting)
    opens, closes = _window(meeting, settings)
    if not opens <= now <= closes:
        raise _outside_window(opens, closes)
    verdict = checkin.verify(
        meeting["checkin_secret"],
        meeting_id,
        body.code.strip(),
        now,
        settings.checkin_step_seconds,
    )
    if verdict is checkin.Verdict.EXPIRED:
        raise problems.CodeExpired("Mã đã hết hạn; hãy quét mã đang hiển thị")
    if verdict is not checkin.Verdict.VALID:
        raise problems.CodeInvalid("Mã không đúng hoặc không thuộc cuộc họp này")
    if mine["standing"] == "exempt":
        raise problems.MemberExempt("Đồng chí được miễn sinh hoạt; không cần điểm danh")
    if mine["checked_in_at"] is not None:
        return AttendanceOut(
            meeting_id=meeting_id,
            member_id=who.member_id,
            status=mine["attendance"],
            method="code",
            recorded_at=mine["checked_in_at"],
            already_recorded=True,
        )
    late = now > meeting["starts_at"] + timedelta(minutes=settings.late_after_minutes)
    status = "late" if late else "present"
    event = _attendance_event(
        meeting, who.member_id, status, ev.AttendanceMethod.CODE, who.member_id, now
    )
    if not await repository.record_checkin(conn, meeting_id, who.member_id, status, now, event):
        # A concurrent check-in of the same member won the race: same answer, no event.
        again = await repository.invitee(conn, meeting_id, who.member_id)
        assert again is not None
        return AttendanceOut(
            meeting_id=meeting_id,
            member_id=who.member_id,
            status=again["attendance"],
            method="code",
            recorded_at=again["checked_in_at"],
            already_recorded=True,
        )
    return AttendanceOut(
        meeting_id=meeting_id,
        member_id=who.member_id,
        status=status,
        method="code",
        recorded_at=now,
    )


async def mark(
    conn: Connection,
    who: Principal,
    meeting_id: UUID,
    member_id: UUID,
    body: AttendanceMark,
    *,
    now: datetime,
    settings: MeetingsSettings,
) -> AttendanceOut:
    meeting, _, manager = await for_action(conn, who, meeting_id)
    require_manager(manager)
    require_open(meeting)
    target = await repository.invitee(conn, meeting_id, member_id)
    if target is None:
        raise problems.NotInvited("Người này không có tên trong danh sách cuộc họp")
    if target["standing"] == "exempt":
        raise problems.MemberExempt("Đảng viên được miễn sinh hoạt; không điểm danh")
    opens, closes = _window(meeting, settings)
    if body.status in ("present", "late") and now < opens:
        raise _outside_window(opens, closes)
    await repository.record_mark(
        conn, meeting_id, member_id, body.status, body.reason_code, who.member_id, now
    )
    await outbox.enqueue(
        conn,
        _attendance_event(
            meeting, member_id, body.status, ev.AttendanceMethod.MARKED, who.member_id, now
        ),
    )
    return AttendanceOut(
        meeting_id=meeting_id,
        member_id=member_id,
        status=body.status,
        method="marked",
        recorded_at=now,
    )


# ── closing ────────────────────────────────────────────────────────────────────────────────


def final_status(invitee: asyncpg.Record | dict[str, Any]) -> str:
    """Checked in or marked → that; replied absent (with a reason) → excused; else unexcused."""
    if invitee["standing"] == "exempt":
        return "exempt"
    if invitee["attendance"] in ("present", "late", "absent_excused", "absent_unexcused"):
        return str(invitee["attendance"])
    if invitee["rsvp"] == "absent" and invitee["rsvp_reason"] is not None:
        return "absent_excused"
    return "absent_unexcused"


def quorum_met(attending: int, base: int, ratio: float) -> bool:
    required = Fraction(ratio).limit_denominator(10_000)
    return base > 0 and Fraction(attending, base) >= required


async def close(
    conn: Connection,
    who: Principal,
    meeting_id: UUID,
    *,
    now: datetime,
    settings: MeetingsSettings,
) -> MeetingOut:
    meeting, _, manager = await for_action(conn, who, meeting_id, exclusive=True)
    require_manager(manager)
    require_open(meeting)
    if now < meeting["starts_at"]:
        raise problems.MeetingNotStarted("Chưa thể kết thúc một cuộc họp chưa bắt đầu")
    rows = await repository.invitees(conn, meeting_id)
    finals = [(r["member_id"], final_status(r)) for r in rows]
    tallies = dict.fromkeys(FINAL_STATUSES, 0)
    guests_present = 0
    for r, (_, status) in zip(rows, finals, strict=True):
        if r["standing"] == "guest":
            guests_present += status in ("present", "late")
        else:
            tallies[status] += 1
    invited = sum(tallies.values())
    base = invited - tallies["exempt"]
    attending = tallies["present"] + tallies["late"]
    met = quorum_met(attending, base, settings.quorum_ratio)
    ratio = round(settings.quorum_ratio, 4)
    stored = {
        **tallies,
        "invited": invited,
        "guests_present": guests_present,
        "quorum_base": base,
    }
    await repository.close(
        conn,
        meeting_id,
        finals,
        by=who.member_id,
        at=now,
        quorum_required=ratio,
        quorum_met=met,
        tallies=stored,
    )
    await outbox.enqueue(
        conn,
        ev.MeetingClosed(
            meeting_id=meeting_id,
            org_id=meeting["org_id"],
            org_path=meeting["org_path"],
            kind=ev.MeetingKind(meeting["kind"]),
            starts_at=meeting["starts_at"],
            invited=invited,
            present=tallies["present"],
            late=tallies["late"],
            absent_excused=tallies["absent_excused"],
            absent_unexcused=tallies["absent_unexcused"],
            exempt=tallies["exempt"],
            quorum_required=ratio,
            quorum_met=met,
            closed_by=who.member_id,
            occurred_at=now,
        ),
    )
    return await _answer(conn, who, meeting_id)


# ── roster labels (names for the minutes) ───────────────────────────────────────────────────


async def label_roster(
    conn: Connection, who: Principal, meeting_id: UUID, body: RosterLabels
) -> RosterLabelsOut:
    meeting, _, _ = await for_action(conn, who, meeting_id)
    if not access.edits_minutes(
        who, meeting["org_path"], meeting["chair_id"], meeting["minute_taker_id"]
    ):
        raise Forbidden("Chỉ bí thư, phó bí thư, chủ trì hoặc thư ký được ghi tên")
    on_roster = set(await repository.invitee_ids(conn, meeting_id))
    if set(body.labels) - on_roster:
        raise problems.InvalidPlan("Chỉ ghi tên cho người có trong danh sách cuộc họp")
    labelled = await repository.upsert_labels(conn, meeting_id, body.labels, who.member_id)
    return RosterLabelsOut(labelled=labelled)


# ── lists ──────────────────────────────────────────────────────────────────────────────────


def _listed(row: asyncpg.Record) -> dict[str, Any]:
    """What a meeting's list line and its full answer both say."""
    return {
        **{name: row[name] for name in ("id", "org_id", "org_path", "kind", "title", "location")},
        "starts_at": _times(row["starts_at"]),
        "ends_at": _times(row["ends_at"]),
        "status": row["status"],
        "occurrence": _occurrence(row),
        "counts": _counts(row),
    }


def _summary(row: asyncpg.Record, me: MyPart | None = None) -> MeetingSummary:
    return MeetingSummary(**_listed(row), me=me)


def _after(cursor: str | None) -> tuple[datetime, UUID] | None:
    def parse(raw: Any) -> tuple[datetime, UUID]:
        starts, meeting_id = raw
        return key_time(starts), key_uuid(meeting_id)

    return decode_keyset(cursor, parse)


def _page(rows: list[asyncpg.Record], items: list[MeetingSummary], limit: int) -> Page[Any]:
    next_cursor = None
    if len(rows) == limit:
        last = rows[-1]
        next_cursor = encode_cursor([last["starts_at"].isoformat(), str(last["id"])])
    return Page[MeetingSummary](items=items, next_cursor=next_cursor)


async def list_mine(
    conn: Connection,
    who: Principal,
    *,
    upcoming: bool,
    now: datetime,
    limit: int,
    cursor: str | None,
) -> Page[MeetingSummary]:
    rows = await repository.mine(
        conn, who.member_id, upcoming=upcoming, now=now, after=_after(cursor), limit=limit
    )
    return _page(rows, [_summary(r, _my_part(r, "me_")) for r in rows], limit)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    year, mon = (int(p) for p in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=LOCAL_TZ)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=LOCAL_TZ)
    return start, end


async def list_by_org(
    conn: Connection,
    who: Principal,
    org_id: UUID,
    month: str,
    *,
    limit: int,
    cursor: str | None,
) -> Page[MeetingSummary]:
    row = await repository.org(conn, org_id)
    if row is None or not access.manages_org(who, row["path"]):
        raise problems.OrgNotFound("Không tìm thấy tổ chức hoặc tổ chức ngoài phạm vi của bạn")
    start, end = month_bounds(month)
    rows = await repository.by_org(conn, row["path"], start, end, after=_after(cursor), limit=limit)
    return _page(rows, [_summary(r) for r in rows], limit)
