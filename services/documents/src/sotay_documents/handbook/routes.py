"""HTTP routes of the handbook: ``/api/v1/handbook``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import NotFound, problem_responses
from sotay_kit.pagination import Cursor, Limit, Page
from sotay_kit.text import NoControlMultiline

from . import service
from .schemas import ArticleOut, ArticleSummary, CategoryOut

router = APIRouter(prefix="/api/v1/handbook", tags=["handbook"])


@router.get("", response_model=Page[ArticleSummary])
async def list_articles(
    who: CurrentPrincipal,
    conn: DbConnection,
    q: Annotated[
        str | None, Query(max_length=200, description="Tìm, có hoặc không dấu"), NoControlMultiline
    ] = None,
    category: Annotated[str | None, Query(max_length=100), NoControlMultiline] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Page[ArticleSummary]:
    return await service.list_articles(
        conn, who, q=q, category=category, limit=limit, cursor=cursor
    )


@router.get("/categories", response_model=list[CategoryOut])
async def categories(who: CurrentPrincipal, conn: DbConnection) -> list[CategoryOut]:
    return await service.categories(conn, who)


@router.get("/{slug}", response_model=ArticleOut, responses=problem_responses(NotFound))
async def get_article(
    slug: Annotated[str, Path(max_length=100, pattern=r"^[a-z0-9-]+$")],
    who: CurrentPrincipal,
    conn: DbConnection,
) -> ArticleOut:
    return await service.get_article(conn, who, slug)
