"""Fixtures for identity's tests: the app on a fresh migrated database, and a seeded tree."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from argon2 import PasswordHasher
from sotay_devstack.testing import Infra
from sotay_identity.app import SPEC, create_app
from sotay_identity.settings import IdentitySettings
from sotay_kit.testing.databases import DatabaseFactory
from sotay_kit.testing.harness import Harness, run_service, test_settings
from sotay_kit.text import fold

# OWASP parameters, as in production: tests exercise the real cost.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
PASSWORD = "Mật-khẩu-thử-2026"


IdentityApp = Harness[IdentitySettings]


@pytest_asyncio.fixture
async def identity(
    infra: Infra,
    make_database: DatabaseFactory,
    nats_operator: object,
    request: pytest.FixtureRequest,
) -> AsyncIterator[IdentityApp]:
    """Identity's app on a fresh database; ``@pytest.mark.identity_settings(name=value)``
    changes settings for one test."""
    marker = request.node.get_closest_marker("identity_settings")
    settings = test_settings(
        IdentitySettings,
        "identity",
        database_url=await make_database("identity", SPEC.versions_dir),
        nats_url=infra.nats.url,
        nats_password=infra.nats_passwords["identity"],
        **(marker.kwargs if marker else {}),
    )
    # Identity verifies the tokens it mints itself.
    async with run_service(
        create_app(settings),
        settings,
        base_url="http://identity",
        trust_test_tokens=False,
        client_address=("203.0.113.7", 50000),
    ) as harness:
        yield harness


@dataclass
class Tree:
    """A small province: province ─ district A ─ commune A1 ─ cells A1a, A1b;
    district B ─ cell B1."""

    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    members: dict[str, uuid.UUID] = field(default_factory=dict)
    cards: dict[str, str] = field(default_factory=dict)


async def insert_org(
    conn: Any, tree: Tree, name: str, parent: str | None, kind: str, title: str
) -> None:
    org_id = uuid.uuid4()
    key = await conn.fetchval("SELECT nextval('org_key_seq')")
    path = f"{tree.paths[parent]}.{key}" if parent else str(key)
    await conn.execute(
        "INSERT INTO org_units (id, key, parent_id, path, title, kind, code) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        org_id,
        key,
        tree.ids[parent] if parent else None,
        path,
        title,
        kind,
        f"ORG-{key}",
    )
    tree.ids[name], tree.paths[name] = org_id, path


async def insert_member(
    conn: Any,
    tree: Tree,
    name: str,
    cell: str,
    *,
    roles: tuple[tuple[str, str], ...] = (),
    password: str | None = PASSWORD,
    must_change: bool = False,
    phone: str | None = None,
) -> uuid.UUID:
    member_id = uuid.uuid4()
    card = f"{len(tree.cards) + 1:06d}-{uuid.uuid4().hex[:4]}"
    await conn.execute(
        "INSERT INTO members (id, card_number, full_name, search_name, cell_id, phone) "
        "VALUES ($1, $2, $3, $6, $4, $5)",
        member_id,
        card,
        name,
        tree.ids[cell],
        phone,
        fold(name),
    )
    await conn.execute(
        "INSERT INTO memberships (member_id, cell_id, org_path, started_on) "
        "VALUES ($1, $2, $3, (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)",
        member_id,
        tree.ids[cell],
        tree.paths[cell],
    )
    await conn.execute(
        "INSERT INTO accounts (member_id, password_hash, must_change_password, activated_at) "
        "VALUES ($1, $2, $3, now())",
        member_id,
        _HASHER.hash(password) if password else None,
        must_change,
    )
    for role, org in roles:
        await conn.execute(
            "INSERT INTO role_grants (id, member_id, role, org_id) VALUES ($1, $2, $3, $4)",
            uuid.uuid4(),
            member_id,
            role,
            tree.ids[org],
        )
    tree.members[name], tree.cards[name] = member_id, card
    return member_id


@pytest_asyncio.fixture
async def tree(identity: IdentityApp) -> Tree:
    """Org nodes and people every access test needs. Passwords are :data:`PASSWORD`."""
    t = Tree()
    async with identity.pool.acquire() as conn:
        await insert_org(conn, t, "province", None, "province", "Đảng bộ tỉnh Thử Nghiệm")
        await insert_org(conn, t, "district_a", "province", "district", "Đảng bộ huyện An Bình")
        await insert_org(
            conn, t, "commune_a1", "district_a", "grassroots_committee", "Đảng ủy xã An Phú"
        )
        await insert_org(conn, t, "cell_a1a", "commune_a1", "cell", "Chi bộ thôn Đông")
        await insert_org(conn, t, "cell_a1b", "commune_a1", "cell", "Chi bộ thôn Tây")
        await insert_org(conn, t, "district_b", "province", "district", "Đảng bộ huyện Bình Sơn")
        await insert_org(
            conn, t, "cell_b1", "district_b", "grassroots_cell", "Chi bộ cơ sở Trường THPT Bình Sơn"
        )
        await insert_member(
            conn, t, "Trần Thị Quản Trị", "cell_a1a", roles=(("org_admin", "province"),)
        )
        await insert_member(
            conn, t, "Lê Văn Huyện", "cell_a1b", roles=(("org_admin", "district_a"),)
        )
        await insert_member(
            conn, t, "Phạm Văn Bình", "cell_b1", roles=(("org_admin", "district_b"),)
        )
        await insert_member(
            conn, t, "Nguyễn Văn Bí Thư", "cell_a1a", roles=(("cell_secretary", "cell_a1a"),)
        )
        await insert_member(
            conn, t, "Đỗ Thị Bí Thư", "cell_a1b", roles=(("cell_secretary", "cell_a1b"),)
        )
        await insert_member(conn, t, "Hoàng Văn Đảng Viên", "cell_a1a", phone="0912000001")
        await insert_member(conn, t, "Vũ Thị Đảng Viên", "cell_b1")
        await insert_member(
            conn, t, "Ngô Văn Vận Hành", "cell_a1a", roles=(("operator", "province"),)
        )
    return t


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest_asyncio.fixture
async def token_for(identity: IdentityApp, tree: Tree) -> Any:
    """``await token_for("Hoàng Văn Đảng Viên")`` → an access token carrying that member's cell,
    org path and grants, minted by a test key that the service is made to trust. For tests of
    orgs, members and grants that should not depend on the login flow."""
    from sotay_kit.testing.tokens import TokenFactory

    factory = TokenFactory()
    factory.install(identity.app)

    async def mint(name: str, **overrides: Any) -> str:
        member_id = tree.members[name]
        async with identity.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT m.cell_id, o.path FROM members m JOIN org_units o ON o.id = m.cell_id "
                "WHERE m.id = $1",
                member_id,
            )
            grants = await conn.fetch(
                "SELECT g.role, o.path AS org_path FROM role_grants g "
                "JOIN org_units o ON o.id = g.org_id WHERE g.member_id = $1 "
                "AND g.revoked_at IS NULL",
                member_id,
            )
        claims: dict[str, Any] = {
            "member_id": member_id,
            "cell_id": row["cell_id"],
            "org_path": row["path"],
            "grants": [dict(g) for g in grants],
            "issuer": identity.settings.token_issuer,
            "audience": identity.settings.token_audience,
        }
        claims.update(overrides)
        return factory.mint(**claims)

    return mint


# ── real logins (the auth tests; usable by any test that wants a token minted by identity) ──


@pytest_asyncio.fixture
async def login(identity: IdentityApp, tree: Tree) -> Any:
    """``await login("Hoàng Văn Đảng Viên")`` → the token response (a dict) of a real
    ``POST /api/v1/auth/login`` by card number, asserted 200. ``password=``, ``otp=`` and
    ``username=`` override; ``expect=`` another status returns the response instead."""

    async def do(
        name: str,
        *,
        password: str = PASSWORD,
        otp: str | None = None,
        username: str | None = None,
        expect: int = 200,
        client: httpx.AsyncClient | None = None,
    ) -> Any:
        body: dict[str, Any] = {"username": username or tree.cards[name], "password": password}
        if otp is not None:
            body["otp"] = otp
        response = await (client or identity.client).post("/api/v1/auth/login", json=body)
        assert response.status_code == expect, response.text
        return response.json() if expect == 200 else response

    return do


@pytest_asyncio.fixture
async def enrol_totp(identity: IdentityApp, login: Any) -> Any:
    """``secret = await enrol_totp("Trần Thị Quản Trị")``: log in, start and confirm TOTP
    enrolment through the API. The confirmation uses the previous step's code, so a login
    right after can use the current one without being refused as a replay."""
    import time

    import pyotp

    async def do(name: str) -> str:
        tokens = await login(name)
        auth = bearer(tokens["access_token"])
        started = await identity.client.post("/api/v1/auth/totp", headers=auth)
        assert started.status_code == 200, started.text
        secret: str = started.json()["secret"]
        previous = pyotp.TOTP(secret).at(time.time() - 30)
        confirmed = await identity.client.post(
            "/api/v1/auth/totp/confirm", json={"otp": previous}, headers=auth
        )
        assert confirmed.status_code == 204, confirmed.text
        return secret

    return do
