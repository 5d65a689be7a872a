"""Access matrix: every endpoint of orgs, members and role grants, called by an anonymous
caller, a plain member, the secretary of another cell, an operator and the org admin of a
sibling subtree (district B's admin on district A's things): 401/403/404 and never data, and
nothing changes in the database. The rightful admin (district A's) then succeeds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sotay_kit.clock import LOCAL_TZ

RIGHTFUL = "Lê Văn Huyện"  # org_admin of district A
SIBLING_ADMIN = "Phạm Văn Bình"  # org_admin of district B
INTRUDERS: list[str | None] = [
    None,  # anonymous
    "Hoàng Văn Đảng Viên",  # plain member of cell A1a
    "Đỗ Thị Bí Thư",  # cell_secretary of cell A1b
    "Ngô Văn Vận Hành",  # operator: runs the platform, does not administer organisations
    SIBLING_ADMIN,
]
TARGET = "Nguyễn Văn Bí Thư"  # member (and secretary) of cell A1a
PLAIN = "Hoàng Văn Đảng Viên"
TODAY = datetime.now(LOCAL_TZ).date().isoformat()
TABLES = (
    "org_units",
    "members",
    "memberships",
    "accounts",
    "role_grants",
    "refresh_tokens",
    "outbox",
    "audit_log",
)
CSV = (
    "Số thẻ đảng viên,Họ và tên,Ngày sinh,Giới tính\r\n"
    "88.000001,Bùi Thị Hạnh,01/02/1980,Nữ\r\n"
    "88.000002,Lý Văn Sơn,03/04/1975,Nam\r\n"
).encode()


@dataclass
class Ctx:
    tree: Any
    extra: dict[str, uuid.UUID]
    secretary_grant: uuid.UUID


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # formatted with ids
    body: Any = None
    params: Any = None
    csv: bool = False
    ok: int = 200

    def url(self, ctx: Ctx) -> str:
        ids = {
            **{k: str(v) for k, v in ctx.tree.ids.items()},
            **{k: str(v) for k, v in ctx.extra.items()},
            "target": str(ctx.tree.members[TARGET]),
            "grant": str(ctx.secretary_grant),
        }
        return self.path.format(**ids)

    def payload(self, ctx: Ctx) -> Any:
        def fill(value: Any) -> Any:
            if isinstance(value, str) and value.startswith("@"):
                key = value[1:]
                if key == "plain":
                    return str(ctx.tree.members[PLAIN])
                return str(ctx.extra.get(key) or ctx.tree.ids[key])
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            return value

        return fill(self.body), fill(self.params)


ENDPOINTS = [
    Endpoint("get org", "GET", "/api/v1/orgs/{commune_a1}"),
    Endpoint("children", "GET", "/api/v1/orgs/{commune_a1}/children"),
    Endpoint("org members", "GET", "/api/v1/orgs/{commune_a1}/members", params={"q": "bi thu"}),
    Endpoint("secretaries", "GET", "/api/v1/orgs/{commune_a1}/secretaries"),
    Endpoint(
        "create org",
        "POST",
        "/api/v1/orgs",
        ok=201,
        body={"parent_id": "@commune_a1", "title": "Chi bộ thôn Mới", "kind": "cell"},
    ),
    Endpoint("update org", "PATCH", "/api/v1/orgs/{cell_a1b}", body={"title": "Chi bộ Tây Hồ"}),
    Endpoint(
        "move org", "POST", "/api/v1/orgs/{cell_a1b}/move", body={"new_parent_id": "@commune_a2"}
    ),
    Endpoint("close org", "POST", "/api/v1/orgs/{empty_cell}/close", body={"closed_on": TODAY}),
    Endpoint(
        "create member",
        "POST",
        "/api/v1/members",
        ok=201,
        body={"card_number": "88.000009", "full_name": "Vũ Văn Mới", "cell_id": "@cell_a1a"},
    ),
    Endpoint(
        "import",
        "POST",
        "/api/v1/members/import",
        params={"cell_id": "@cell_a1a"},
        csv=True,
        ok=201,
    ),
    Endpoint("get member", "GET", "/api/v1/members/{target}"),
    Endpoint("memberships", "GET", "/api/v1/members/{target}/memberships"),
    Endpoint("update member", "PATCH", "/api/v1/members/{target}", body={"status": "exempt"}),
    Endpoint(
        "transfer",
        "POST",
        "/api/v1/members/{target}/transfer",
        body={"to_cell_id": "@cell_a1b", "effective_on": TODAY},
    ),
    Endpoint(
        "deactivate",
        "POST",
        "/api/v1/members/{target}/deactivate",
        body={"reason_code": "deceased", "effective_on": TODAY},
    ),
    Endpoint(
        "grant",
        "POST",
        "/api/v1/role-grants",
        ok=201,
        body={"member_id": "@plain", "role": "cell_deputy", "org_id": "@cell_a1a"},
    ),
    Endpoint("revoke", "DELETE", "/api/v1/role-grants/{grant}", ok=204),
    Endpoint("list grants", "GET", "/api/v1/role-grants", params={"org_id": "@commune_a1"}),
]


async def _add_org(
    conn: Any, parent_id: uuid.UUID, parent_path: str, kind: str, title: str
) -> uuid.UUID:
    org_id = uuid.uuid4()
    key = await conn.fetchval("SELECT nextval('org_key_seq')")
    await conn.execute(
        "INSERT INTO org_units (id, key, parent_id, path, title, kind, valid_from) "
        "VALUES ($1, $2, $3, $4, $5, $6, '2020-01-01')",
        org_id,
        key,
        parent_id,
        f"{parent_path}.{key}",
        title,
        kind,
    )
    return org_id


async def _setup(identity: Any, tree: Any) -> Ctx:
    async with identity.pool.acquire() as conn:
        commune_a2 = await _add_org(
            conn,
            tree.ids["district_a"],
            tree.paths["district_a"],
            "grassroots_committee",
            "Đảng ủy xã An Lạc",
        )
        empty = await _add_org(
            conn, tree.ids["commune_a1"], tree.paths["commune_a1"], "cell", "Chi bộ thôn Trống"
        )
        grant = await conn.fetchval(
            "SELECT id FROM role_grants WHERE member_id = $1 AND role = 'cell_secretary'",
            tree.members[TARGET],
        )
    return Ctx(tree, {"commune_a2": commune_a2, "empty_cell": empty}, grant)


async def _snapshot(identity: Any) -> dict[str, str]:
    async with identity.pool.acquire() as conn:
        return {
            t: await conn.fetchval(
                f"SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' "  # noqa: S608
                f"ORDER BY x::text)), '') FROM {t} x"
            )
            for t in TABLES
        }


async def _call(identity: Any, endpoint: Endpoint, ctx: Ctx, token: str | None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body, params = endpoint.payload(ctx)
    kwargs: dict[str, Any] = {"params": params, "headers": headers}
    if endpoint.csv:
        kwargs["content"] = CSV
        headers["content-type"] = "text/csv"
    elif body is not None:
        kwargs["json"] = body
    return await identity.client.request(endpoint.method, endpoint.url(ctx), **kwargs)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
async def test_access_matrix(identity: Any, tree: Any, token_for: Any, endpoint: Endpoint) -> None:
    ctx = await _setup(identity, tree)
    before = await _snapshot(identity)
    secrets = [
        tree.cards[TARGET],
        TARGET,
        "Chi bộ thôn Đông",
        "Đảng ủy xã An Phú",
        tree.paths["commune_a1"],
    ]
    for intruder in INTRUDERS:
        token = await token_for(intruder) if intruder else None
        response = await _call(identity, endpoint, ctx, token)
        who = intruder or "anonymous"
        if intruder is None:
            assert response.status_code == 401, (who, response.text)
            assert response.headers.get("www-authenticate", "").startswith("Bearer")
        elif intruder == SIBLING_ADMIN:
            assert response.status_code == 404, (who, response.text)
        else:
            assert response.status_code in (403, 404), (who, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), who
        for secret in secrets:
            assert secret not in response.text, (who, secret)
        assert await _snapshot(identity) == before, f"{who} changed something"

    response = await _call(identity, endpoint, ctx, await token_for(RIGHTFUL))
    assert response.status_code == endpoint.ok, response.text
    if endpoint.method != "GET":
        assert await _snapshot(identity) != before
