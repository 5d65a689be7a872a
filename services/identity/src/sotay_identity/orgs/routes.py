"""HTTP routes of the org tree: ``/api/v1/orgs``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import Conflict, Forbidden, NotFound, Unprocessable, problem_responses
from sotay_kit.pagination import Cursor, Limit, Page
from sotay_kit.text import NoControl

from ..deps import Now, SourceAddress
from . import service
from .schemas import (
    CellMateOut,
    OrgClose,
    OrgCreate,
    OrgFound,
    OrgMemberOut,
    OrgMove,
    OrgOut,
    OrgPatch,
    SecretaryOut,
)

router = APIRouter(prefix="/api/v1/orgs", tags=["orgs"])
me_router = APIRouter(prefix="/api/v1/me", tags=["me"])


@me_router.get(
    "/cell/members",
    responses=problem_responses(NotFound),
    response_model=Page[CellMateOut],
    summary="Đảng viên chi bộ của tôi (họ tên, số thẻ, chức vụ)",
)
async def list_my_cell_members(
    who: CurrentPrincipal, conn: DbConnection, limit: Limit = 100, cursor: Cursor = None
) -> Page[CellMateOut]:
    return await service.list_my_cell_members(conn, who, limit=limit, cursor=cursor)


@router.get(
    "/search",
    response_model=list[OrgFound],
    responses=problem_responses(Unprocessable),
    summary="Tìm tổ chức theo tên hoặc mã, có hoặc không dấu, trong phạm vi được phân quyền",
)
async def search_orgs(
    who: CurrentPrincipal,
    conn: DbConnection,
    q: Annotated[
        str,
        Query(min_length=1, max_length=100, description="Tên hoặc mã tổ chức, có hoặc không dấu"),
        NoControl,
    ],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    include_closed: Annotated[bool, Query(description="Kể cả tổ chức đã giải thể")] = False,
) -> list[OrgFound]:
    """Các tổ chức đang hoạt động trong các cây được phân quyền xem (cấp ủy, quản trị, bí thư),
    tổ chức cấp trên trước; mỗi kết quả kèm các tổ chức cấp trên trong phạm vi đó."""
    return await service.search_orgs(conn, who, q, limit=limit, include_closed=include_closed)


@router.get("/{org_id}", response_model=OrgOut, responses=problem_responses(Forbidden, NotFound))
async def get_org(org_id: UUID, who: CurrentPrincipal, conn: DbConnection) -> OrgOut:
    return await service.get_org(conn, who, org_id)


@router.get(
    "/{org_id}/children",
    response_model=Page[OrgOut],
    responses=problem_responses(Forbidden, NotFound),
)
async def list_children(
    org_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    limit: Limit = 100,
    cursor: Cursor = None,
    include_closed: Annotated[bool, Query(description="Kể cả tổ chức đã giải thể")] = False,
) -> Page[OrgOut]:
    return await service.list_children(
        conn, who, org_id, limit=limit, cursor=cursor, include_closed=include_closed
    )


@router.get(
    "/{org_id}/members",
    response_model=Page[OrgMemberOut],
    responses=problem_responses(Forbidden, NotFound),
)
async def list_members(
    org_id: UUID,
    who: CurrentPrincipal,
    conn: DbConnection,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Tìm theo họ tên, có hoặc không dấu"),
        NoControl,
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[OrgMemberOut]:
    return await service.list_members(conn, who, org_id, query=q, limit=limit, cursor=cursor)


@router.get(
    "/{org_id}/secretaries",
    response_model=Page[SecretaryOut],
    responses=problem_responses(Forbidden, NotFound),
)
async def list_secretaries(
    org_id: UUID, who: CurrentPrincipal, conn: DbConnection
) -> Page[SecretaryOut]:
    """Bí thư và phó bí thư của một chi bộ (tìm theo vai trò được phân)."""
    return await service.list_secretaries(conn, who, org_id)


@router.post(
    "",
    response_model=OrgOut,
    status_code=201,
    responses=problem_responses(Forbidden, NotFound, Unprocessable, Conflict),
)
async def create_org(
    body: OrgCreate, who: CurrentPrincipal, conn: DbConnection, source: SourceAddress, now: Now
) -> OrgOut:
    return await service.create_org(conn, who, body, source=source, now=now)


@router.patch(
    "/{org_id}",
    response_model=OrgOut,
    responses=problem_responses(Forbidden, NotFound, Unprocessable, Conflict),
)
async def update_org(
    org_id: UUID, body: OrgPatch, who: CurrentPrincipal, conn: DbConnection, now: Now
) -> OrgOut:
    return await service.update_org(conn, who, org_id, body, now=now)


@router.post(
    "/{org_id}/move",
    response_model=OrgOut,
    responses=problem_responses(Forbidden, NotFound, Unprocessable, Conflict),
)
async def move_org(
    org_id: UUID,
    body: OrgMove,
    who: CurrentPrincipal,
    conn: DbConnection,
    source: SourceAddress,
    now: Now,
) -> OrgOut:
    return await service.move_org(conn, who, org_id, body, source=source, now=now)


@router.post(
    "/{org_id}/close",
    response_model=OrgOut,
    responses=problem_responses(Forbidden, NotFound, Unprocessable, Conflict),
)
async def close_org(
    org_id: UUID,
    body: OrgClose,
    who: CurrentPrincipal,
    conn: DbConnection,
    source: SourceAddress,
    now: Now,
) -> OrgOut:
    return await service.close_org(conn, who, org_id, body, source=source, now=now)
