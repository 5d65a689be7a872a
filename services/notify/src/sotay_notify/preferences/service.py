"""Preferences use cases.

Contact points: identity's events carry no personal data, so notify never learns a member's
email or phone from identity. A member registers their own (self-service); for members
without a smartphone, their cell's secretary or deputy (or an org admin above) may set SMS
and a phone for them. Anyone else gets 404 — existence is not confirmed."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from uuid import UUID

from sotay_kit import audit
from sotay_kit.auth import Principal
from sotay_kit.db import Connection

from ..problems import InvalidPreferences, MemberNotFound
from ..settings import NotifySettings
from . import repository as repo
from .schemas import Channels, PreferencesIn, PreferencesOut, QuietHours

MANAGER_ROLES = ("cell_secretary", "cell_deputy", "org_admin")


def _quiet(start: time | None, end: time | None) -> QuietHours | None:
    if start is None or end is None:
        return None
    return QuietHours(start=f"{start:%H:%M}", end=f"{end:%H:%M}")


def _out(member_id: UUID, row: Any, settings: NotifySettings) -> PreferencesOut:
    if row is None:
        return PreferencesOut(
            member_id=member_id,
            channels=Channels(),
            email_address=None,
            phone=None,
            quiet_hours=_quiet(settings.default_quiet_start, settings.default_quiet_end),
        )
    return PreferencesOut(
        member_id=member_id,
        channels=Channels(webpush=row["webpush"], email=row["email"], sms=row["sms"]),
        email_address=row["email_address"],
        phone=row["phone"],
        quiet_hours=_quiet(row["quiet_start"], row["quiet_end"]),
        updated_at=row["updated_at"],
    )


async def _authorize(conn: Connection, who: Principal, member_id: UUID) -> None:
    if member_id == who.member_id:
        return
    path = await repo.member_path(conn, member_id)
    if path is None or not who.can(MANAGER_ROLES, path):
        raise MemberNotFound("Không tìm thấy đảng viên")


async def get(
    conn: Connection, who: Principal, member_id: UUID, settings: NotifySettings
) -> PreferencesOut:
    await _authorize(conn, who, member_id)
    return _out(member_id, await repo.get(conn, member_id), settings)


async def put(
    conn: Connection,
    who: Principal,
    member_id: UUID,
    body: PreferencesIn,
    settings: NotifySettings,
    now: datetime,
    source: str | None = None,
) -> PreferencesOut:
    await _authorize(conn, who, member_id)
    if body.channels.email and body.email_address is None:
        raise InvalidPreferences("Cần địa chỉ email để bật thông báo qua email")
    if body.channels.sms and body.phone is None:
        raise InvalidPreferences("Cần số điện thoại để bật thông báo qua SMS")
    quiet = body.quiet_hours
    row = await repo.put(
        conn,
        member_id,
        webpush=body.channels.webpush,
        email=body.channels.email,
        sms=body.channels.sms,
        email_address=body.email_address,
        phone=body.phone,
        quiet_start=QuietHours.parse(quiet.start) if quiet else None,
        quiet_end=QuietHours.parse(quiet.end) if quiet else None,
        updated_by=who.member_id,
        now=now,
    )
    if member_id != who.member_id:
        # A manager set someone else's contact points: audited (channels only, no contact data).
        await audit.record(
            conn,
            "notify.preferences_set_for_member",
            actor_id=who.member_id,
            target=str(member_id),
            source=source,
            details={
                "webpush": body.channels.webpush,
                "email": body.channels.email,
                "sms": body.channels.sms,
            },
        )
    return _out(member_id, row, settings)
