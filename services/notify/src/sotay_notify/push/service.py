"""Push subscription use cases: each member manages only their own devices."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sotay_kit.auth import Principal
from sotay_kit.db import Connection

from ..delivery import endpoints
from ..problems import InvalidPushEndpoint, SubscriptionNotFound, TooManySubscriptions
from ..settings import NotifySettings
from . import repository as repo
from .schemas import SubscriptionIn, SubscriptionOut


def _out(row: Any) -> SubscriptionOut:
    return SubscriptionOut(
        id=row["id"],
        endpoint_origin=endpoints.origin_of(row["endpoint"]),
        created_at=row["created_at"],
        last_success_at=row["last_success_at"],
    )


async def subscribe(
    conn: Connection, who: Principal, body: SubscriptionIn, settings: NotifySettings, now: datetime
) -> SubscriptionOut:
    try:
        await endpoints.check(body.endpoint, settings.push_test_allowed_origins)
    except endpoints.UnsafeEndpoint as exc:
        raise InvalidPushEndpoint(str(exc)) from exc
    if await repo.count(conn, who.member_id, body.endpoint) >= settings.max_push_subscriptions:
        raise TooManySubscriptions(
            f"Tối đa {settings.max_push_subscriptions} thiết bị; hãy xóa bớt thiết bị cũ"
        )
    row = await repo.upsert(
        conn, uuid4(), who.member_id, body.endpoint, body.keys.p256dh, body.keys.auth, now
    )
    return _out(row)


async def list_mine(conn: Connection, who: Principal) -> list[SubscriptionOut]:
    return [_out(r) for r in await repo.list_for(conn, who.member_id)]


async def unsubscribe(conn: Connection, who: Principal, subscription_id: UUID) -> None:
    if not await repo.delete(conn, who.member_id, subscription_id):
        raise SubscriptionNotFound("Không tìm thấy đăng ký nhận thông báo đẩy")
