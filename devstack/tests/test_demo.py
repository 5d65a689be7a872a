"""The demo province: shaped like the reference province, every unique value unique by
construction, loaded once with its events, and its demo accounts sign in."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pyotp
from sotay_contracts import CloudEvent, parse_event
from sotay_devstack import demo
from sotay_identity.app import create_app
from sotay_identity.settings import IdentitySettings
from sotay_kit import db


@asynccontextmanager
async def identity_api(settings: IdentitySettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://identity") as client:
            yield client


async def sign_in(client: httpx.AsyncClient, account: dict[str, str]) -> dict[str, object]:
    body = {"username": account["username"], "password": account["password"]}
    if account.get("totp_secret"):
        body["otp"] = pyotp.TOTP(account["totp_secret"]).now()
    r = await client.post("/api/v1/auth/login", json=body)
    assert r.status_code == 200, r.text
    me = await client.get(
        "/api/v1/me", headers={"authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert me.status_code == 200, me.text
    return dict(me.json())


def test_phone_numbers_are_a_permutation_of_serial_numbers() -> None:
    phones = [demo.demo_phone(n) for n in range(200_000)]
    assert len(set(phones)) == len(phones)
    assert all(len(p) == 10 and p.startswith("09") and p.isdigit() for p in phones)


async def test_full_province_has_the_reference_shape_and_loads(
    identity_settings: IdentitySettings,
) -> None:
    b = demo.build_province("full")
    kinds = Counter(o.kind for o in b.orgs)
    assert kinds["district"] == 9
    assert kinds["grassroots_cell"] == 190
    assert kinds["cell"] == 2720
    cells = [o for o in b.orgs if o.kind in ("cell", "grassroots_cell")]
    per_cell = Counter(m.cell.id for m in b.members)
    village = [c for c in cells if c.title.startswith(tuple(demo.VILLAGE))]
    village_members = sum(per_cell[c.id] for c in village)
    assert 58_000 <= len(b.members) <= 62_000
    assert abs(len(village) / len(cells) - 0.46) < 0.01
    assert abs(village_members / len(b.members) - 0.61) < 0.03
    assert all(per_cell[c.id] > 0 for c in cells)  # every organisation has members
    phones = [m.phone for m in b.members if m.phone]
    assert 0.85 < len(phones) / len(b.members) < 0.95
    for values in (
        phones,
        [m.card_number for m in b.members],
        [m.id for m in b.members] + [o.id for o in b.orgs],
        [o.code for o in b.orgs],
        [o.path for o in b.orgs],
    ):
        assert len(set(values)) == len(values)

    # The whole province goes into a real identity database (its unique constraints included).
    dsn = identity_settings.database_url
    started = time.perf_counter()
    creds = await demo.load_province(dsn, identity_settings, b)
    seconds = time.perf_counter() - started
    assert creds is not None
    counts = creds["counts"]
    print(
        f"\ndemo province 'full' loaded in {seconds:.1f} s: {counts['orgs']} org units, "
        f"{counts['cells']} cells, {counts['members']} members"
    )
    conn = await db.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM members") == len(b.members)
        assert await conn.fetchval("SELECT count(*) FROM accounts") == len(b.members)
        assert await conn.fetchval("SELECT count(*) FROM org_units") == len(b.orgs)
        assert await conn.fetchval("SELECT count(phone) FROM members") == len(phones)
    finally:
        await conn.close()
    async with identity_api(identity_settings) as client:
        for label in ("admin", "secretary", "member"):
            me = await sign_in(client, creds[label])
            assert me["id"] == creds[label]["member_id"], (label, me)


async def test_small_province_loads_once_with_its_events(
    identity_settings: IdentitySettings,
) -> None:
    dsn = identity_settings.database_url
    creds = await demo.load(dsn, identity_settings, "small")
    assert creds is not None
    assert set(creds) >= {"admin", "operator", "secretary", "member", "orgs"}
    assert creds["admin"]["totp_secret"] and creds["operator"]["totp_secret"]
    conn = await db.connect(dsn)
    try:
        members = await conn.fetchval("SELECT count(*) FROM members")
        orgs = await conn.fetchval("SELECT count(*) FROM org_units")
        rows = await conn.fetch("SELECT headers, body FROM outbox ORDER BY seq")
        secretary_role = await conn.fetchval(
            "SELECT o.path FROM role_grants g JOIN org_units o ON o.id = g.org_id "
            "WHERE g.member_id = $1 AND g.role = 'cell_secretary'",
            creds["secretary"]["member_id"],
        )
        member_path = await conn.fetchval(
            "SELECT o.path FROM members m JOIN org_units o ON o.id = m.cell_id WHERE m.id = $1",
            creds["member"]["member_id"],
        )
    finally:
        await conn.close()
    assert (members, orgs) == (creds["counts"]["members"], creds["counts"]["orgs"])
    types = Counter(
        parse_event(CloudEvent.from_nats(r["headers"], r["body"])).SUBJECT for r in rows
    )
    assert types == {
        "identity.org.created.v1": orgs,
        "identity.member.created.v1": members,
        # Every member named on identity's internal directory (display name, card number).
        "identity.directory.described.v1": members,
        # The province's admin and operator, the demo cell's secretary, the district's committee
        # member.
        "identity.role.granted.v1": 4,
        "identity.account.activated.v1": 5,  # the five demo accounts are ready to use
    }
    # The secretary leads the demo member's own cell.
    assert secretary_role == member_path
    # Every demo account signs in, the operator and the admin with their second factor.
    async with identity_api(identity_settings) as client:
        for label in ("admin", "operator", "secretary", "member"):
            me = await sign_in(client, creds[label])
            assert me["id"] == creds[label]["member_id"], (label, me)
    assert await demo.load(dsn, identity_settings, "small") is None
