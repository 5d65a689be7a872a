"""HTTP routes of ``/api/v1/notification-preferences``."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from sotay_kit.app import DbConnection, SourceAddress
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import problem_responses

from ..deps import Now, Settings
from ..problems import InvalidPreferences, MemberNotFound
from . import service
from .schemas import PreferencesIn, PreferencesOut

router = APIRouter(prefix="/api/v1/notification-preferences", tags=["preferences"])


@router.get("", response_model=PreferencesOut)
async def get_mine(who: CurrentPrincipal, conn: DbConnection, settings: Settings) -> PreferencesOut:
    """Tùy chọn nhận thông báo của tôi: kênh, email/số điện thoại, giờ yên lặng."""
    return await service.get(conn, who, who.member_id, settings)


@router.put("", response_model=PreferencesOut, responses=problem_responses(InvalidPreferences))
async def put_mine(
    body: PreferencesIn, who: CurrentPrincipal, conn: DbConnection, settings: Settings, now: Now
) -> PreferencesOut:
    return await service.put(conn, who, who.member_id, body, settings, now)


@router.get(
    "/{member_id}", response_model=PreferencesOut, responses=problem_responses(MemberNotFound)
)
async def get_member(
    member_id: UUID, who: CurrentPrincipal, conn: DbConnection, settings: Settings
) -> PreferencesOut:
    """Tùy chọn của một đảng viên trong chi bộ tôi phụ trách (bí thư, phó bí thư, quản trị)."""
    return await service.get(conn, who, member_id, settings)


@router.put(
    "/{member_id}",
    response_model=PreferencesOut,
    responses=problem_responses(MemberNotFound, InvalidPreferences),
)
async def put_member(
    member_id: UUID,
    body: PreferencesIn,
    who: CurrentPrincipal,
    conn: DbConnection,
    settings: Settings,
    now: Now,
    source: SourceAddress,
) -> PreferencesOut:
    """Ví dụ: bật SMS cho đảng viên không dùng điện thoại thông minh (ghi nhật ký kiểm toán)."""
    return await service.put(conn, who, member_id, body, settings, now, source)
