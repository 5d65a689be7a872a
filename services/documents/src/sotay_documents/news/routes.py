"""HTTP routes of news: ``/api/v1/news``."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import Forbidden, NotFound, problem_responses
from sotay_kit.pagination import Cursor, Limit, Page

from ..deps import Now
from . import service
from .schemas import NewsIn, NewsOut

router = APIRouter(prefix="/api/v1/news", tags=["news"])


@router.get("", response_model=Page[NewsOut])
async def list_news(
    who: CurrentPrincipal, conn: DbConnection, limit: Limit = 20, cursor: Cursor = None
) -> Page[NewsOut]:
    """Tin gửi tới một tổ chức trên đường từ chi bộ của tôi lên gốc."""
    return await service.list_news(conn, who, limit=limit, cursor=cursor)


@router.post("", response_model=NewsOut, status_code=201, responses=problem_responses(Forbidden))
async def publish_news(
    body: NewsIn, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> NewsOut:
    return await service.publish(conn, who, body, now=now)


@router.get("/{news_id}", response_model=NewsOut, responses=problem_responses(NotFound))
async def get_news(news_id: UUID, who: CurrentPrincipal, conn: DbConnection) -> NewsOut:
    return await service.get_news(conn, who, news_id)


@router.delete("/{news_id}", status_code=204, responses=problem_responses(NotFound, Forbidden))
async def retract_news(news_id: UUID, who: CurrentPrincipal, conn: DbConnection) -> Response:
    await service.retract(conn, who, news_id)
    return Response(status_code=204)
