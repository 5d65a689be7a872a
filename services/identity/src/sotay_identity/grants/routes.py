"""HTTP routes of role grants: ``/api/v1/role-grants``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sotay_contracts.tokens import Role
from sotay_kit.app import DbConnection
from sotay_kit.auth import CurrentPrincipal
from sotay_kit.errors import Conflict, Forbidden, NotFound, Unprocessable, problem_responses
from sotay_kit.pagination import Cursor, Limit, Page

from ..deps import Now, SourceAddress
from . import service
from .schemas import GrantCreate, GrantOut

router = APIRouter(prefix="/api/v1/role-grants", tags=["role-grants"])


@router.post(
    "",
    response_model=GrantOut,
    status_code=201,
    responses=problem_responses(Forbidden, NotFound, Unprocessable, Conflict),
)
async def grant_role(
    body: GrantCreate, who: CurrentPrincipal, conn: DbConnection, source: SourceAddress, now: Now
) -> GrantOut:
    return await service.grant(conn, who, body, source=source, now=now)


@router.delete(
    "/{grant_id}", status_code=204, responses=problem_responses(Forbidden, NotFound, Conflict)
)
async def revoke_role(
    grant_id: UUID, who: CurrentPrincipal, conn: DbConnection, source: SourceAddress, now: Now
) -> Response:
    await service.revoke(conn, who, grant_id, source=source, now=now)
    return Response(status_code=204)


@router.get("", response_model=Page[GrantOut], responses=problem_responses(Forbidden, NotFound))
async def list_grants(
    who: CurrentPrincipal,
    conn: DbConnection,
    org_id: Annotated[UUID, Query(description="Gốc của cây con cần xem")],
    role: Annotated[Role | None, Query(description="Lọc theo vai trò")] = None,
    member_id: Annotated[UUID | None, Query()] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[GrantOut]:
    """Active grants on nodes of the subtree at ``org_id``; needs org_admin there."""
    return await service.list_grants(
        conn, who, org_id, role=role, member_id=member_id, limit=limit, cursor=cursor
    )
