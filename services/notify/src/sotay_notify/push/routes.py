"""HTTP routes of ``/api/v1/push-subscriptions`` (Web Push devices of the caller)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import problem_responses

from ..delivery.channels import application_server_key
from ..deps import Now, Settings, State
from ..problems import (
    InvalidPushEndpoint,
    PushUnavailable,
    SubscriptionNotFound,
    TooManySubscriptions,
)
from . import service
from .schemas import SubscriptionIn, SubscriptionOut, VapidKeyOut

router = APIRouter(prefix="/api/v1/push-subscriptions", tags=["push"])


@router.get(
    "/vapid-public-key", response_model=VapidKeyOut, responses=problem_responses(PushUnavailable)
)
async def vapid_public_key(who: CurrentPrincipal, state: State) -> VapidKeyOut:
    """Khóa công khai VAPID (applicationServerKey) để trình duyệt đăng ký nhận thông báo."""
    vapid = state.vapid
    if vapid is None:
        raise PushUnavailable("Máy chủ chưa có khóa VAPID; chưa thể nhận thông báo đẩy")
    return VapidKeyOut(public_key=application_server_key(vapid))


@router.post(
    "",
    response_model=SubscriptionOut,
    status_code=201,
    responses=problem_responses(PushUnavailable, InvalidPushEndpoint, TooManySubscriptions),
)
async def subscribe(
    body: SubscriptionIn,
    who: CurrentPrincipal,
    conn: DbConnection,
    state: State,
    settings: Settings,
    now: Now,
) -> SubscriptionOut:
    """Đăng ký thiết bị nhận thông báo đẩy (``PushSubscription.toJSON()`` của trình duyệt).
    Địa chỉ phải là https và không trỏ tới mạng nội bộ."""
    if state.vapid is None:
        raise PushUnavailable("Máy chủ chưa có khóa VAPID; chưa thể nhận thông báo đẩy")
    return await service.subscribe(conn, who, body, settings, now)


@router.get("", response_model=list[SubscriptionOut])
async def list_mine(who: CurrentPrincipal, conn: DbConnection) -> list[SubscriptionOut]:
    return await service.list_mine(conn, who)


@router.delete(
    "/{subscription_id}", status_code=204, responses=problem_responses(SubscriptionNotFound)
)
async def unsubscribe(subscription_id: UUID, who: CurrentPrincipal, conn: DbConnection) -> Response:
    await service.unsubscribe(conn, who, subscription_id)
    return Response(status_code=204)
