"""The demo province: shaped like the reference province, loaded once, with its events."""

from __future__ import annotations

from collections import Counter

from sotay_contracts import CloudEvent, parse_event
from sotay_devstack import demo
from sotay_identity.settings import IdentitySettings
from sotay_kit import db


def test_full_province_has_the_reference_shape() -> None:
    b = demo.build_province("full")
    kinds = Counter(o.kind for o in b.orgs)
    assert kinds["district"] == 9
    assert kinds["grassroots_cell"] == 190
    assert kinds["cell"] == 2720
    cells = {o.id: o for o in b.orgs if o.kind in ("cell", "grassroots_cell")}
    per_cell = Counter(m[10] for m in b.members)
    village = [c for c in cells.values() if c.title.startswith(tuple(demo.VILLAGE))]
    village_members = sum(per_cell[c.id] for c in village)
    assert 58_000 <= len(b.members) <= 62_000
    assert abs(len(village) / len(cells) - 0.46) < 0.01
    assert abs(village_members / len(b.members) - 0.61) < 0.03
    assert all(per_cell[c] > 0 for c in cells)  # every organisation has members
    assert len({m[1] for m in b.members}) == len(b.members)  # card numbers unique


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
        "identity.role.granted.v1": 3,
        "identity.account.activated.v1": 4,  # the demo accounts are ready to use
    }
    # The secretary leads the demo member's own cell.
    assert secretary_role == member_path
    assert await demo.load(dsn, identity_settings, "small") is None
