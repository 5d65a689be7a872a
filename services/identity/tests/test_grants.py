"""Role grants: grant, revoke, list by subtree, find a cell's secretary by role."""

from __future__ import annotations

import uuid
from typing import Any

from sotay_contracts import CloudEvent, parse_event
from sotay_contracts.events.identity import RoleGranted, RoleRevoked

PROVINCE_ADMIN = "Trần Thị Quản Trị"
ADMIN = "Lê Văn Huyện"  # org_admin of district A
DISTRICT_B_ADMIN = "Phạm Văn Bình"
OPERATOR = "Ngô Văn Vận Hành"
MEMBER = "Hoàng Văn Đảng Viên"  # plain member of cell A1a


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def outbox_events(identity: Any, subject: str) -> list[Any]:
    async with identity.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT headers, body FROM outbox WHERE subject = $1 ORDER BY seq", subject
        )
    return [parse_event(CloudEvent.from_nats(r["headers"], bytes(r["body"]))) for r in rows]


async def grant(identity: Any, token: str, member: uuid.UUID, role: str, org: uuid.UUID) -> Any:
    return await identity.client.post(
        "/api/v1/role-grants",
        json={"member_id": str(member), "role": role, "org_id": str(org)},
        headers=bearer(token),
    )


async def test_grant_list_and_revoke(identity: Any, tree: Any, token_for: Any) -> None:
    admin = await token_for(ADMIN)
    member_id = tree.members[MEMBER]
    # Before: the plain member reads the cell's roster (names only) but not a cellmate's record,
    # which holds contact and identity numbers.
    record = f"/api/v1/members/{tree.members['Nguyễn Văn Bí Thư']}"
    assert (
        await identity.client.get(record, headers=bearer(await token_for(MEMBER)))
    ).status_code == 403

    response = await grant(identity, admin, member_id, "cell_deputy", tree.ids["cell_a1a"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["role"], body["org_path"], body["granted_by"]) == (
        "cell_deputy",
        tree.paths["cell_a1a"],
        str(tree.members[ADMIN]),
    )
    (granted,) = await outbox_events(identity, "identity.role.granted.v1")
    assert isinstance(granted, RoleGranted)
    assert (granted.grant_id, granted.member_id, granted.org_path) == (
        uuid.UUID(body["id"]),
        member_id,
        tree.paths["cell_a1a"],
    )
    # The member's next token carries the grant: now they read a cellmate's record.
    assert (
        await identity.client.get(record, headers=bearer(await token_for(MEMBER)))
    ).status_code == 200

    duplicate = await grant(identity, admin, member_id, "cell_deputy", tree.ids["cell_a1a"])
    assert duplicate.status_code == 409

    listed = await identity.client.get(
        "/api/v1/role-grants",
        params={"org_id": str(tree.ids["commune_a1"])},
        headers=bearer(admin),
    )
    assert listed.status_code == 200
    assert {(g["full_name"], g["role"]) for g in listed.json()["items"]} == {
        ("Hoàng Văn Đảng Viên", "cell_deputy"),
        ("Nguyễn Văn Bí Thư", "cell_secretary"),
        ("Đỗ Thị Bí Thư", "cell_secretary"),
    }
    only = await identity.client.get(
        "/api/v1/role-grants",
        params={"org_id": str(tree.ids["district_a"]), "role": "cell_secretary", "limit": 1},
        headers=bearer(admin),
    )
    page2 = await identity.client.get(
        "/api/v1/role-grants",
        params={
            "org_id": str(tree.ids["district_a"]),
            "role": "cell_secretary",
            "limit": 1,
            "cursor": only.json()["next_cursor"],
        },
        headers=bearer(admin),
    )
    assert {g["full_name"] for g in only.json()["items"] + page2.json()["items"]} == {
        "Nguyễn Văn Bí Thư",
        "Đỗ Thị Bí Thư",
    }
    officers = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['cell_a1a']}/secretaries", headers=bearer(admin)
    )
    assert [(o["full_name"], o["role"]) for o in officers.json()["items"]] == [
        ("Nguyễn Văn Bí Thư", "cell_secretary"),
        ("Hoàng Văn Đảng Viên", "cell_deputy"),
    ]

    revoked = await identity.client.delete(
        f"/api/v1/role-grants/{body['id']}", headers=bearer(admin)
    )
    assert revoked.status_code == 204
    (event,) = await outbox_events(identity, "identity.role.revoked.v1")
    assert isinstance(event, RoleRevoked) and event.revoked_by == tree.members[ADMIN]
    again = await identity.client.delete(f"/api/v1/role-grants/{body['id']}", headers=bearer(admin))
    assert again.status_code == 409
    assert (
        await identity.client.get(record, headers=bearer(await token_for(MEMBER)))
    ).status_code == 403
    async with identity.pool.acquire() as conn:
        audit = await conn.fetch(
            "SELECT action, actor_id, target FROM audit_log WHERE action LIKE 'roles.%' "
            "ORDER BY seq"
        )
    assert [(a["action"], a["actor_id"], a["target"]) for a in audit] == [
        ("roles.granted", tree.members[ADMIN], body["id"]),
        ("roles.revoked", tree.members[ADMIN], body["id"]),
    ]


async def test_grant_rules(identity: Any, tree: Any, token_for: Any) -> None:
    admin = await token_for(ADMIN)
    province = await token_for(PROVINCE_ADMIN)
    member_id = tree.members[MEMBER]
    cases = [
        # A cell role on another cell than the member's own.
        (admin, member_id, "cell_secretary", "cell_a1b", 422),
        # A cell role on a committee.
        (admin, member_id, "cell_secretary", "commune_a1", 422),
        # Outside the district A admin's reach.
        (admin, tree.members["Vũ Thị Đảng Viên"], "org_admin", "cell_b1", 404),
        (admin, member_id, "org_admin", "district_b", 404),
        # Org admins do not make operators; an admin of a cell's district does not make a
        # district B member an admin in district A either (the member is out of reach).
        (province, member_id, "operator", "province", 403),
        (admin, tree.members["Vũ Thị Đảng Viên"], "org_admin", "district_a", 404),
        (admin, uuid.uuid4(), "org_admin", "district_a", 404),
        (admin, member_id, "org_admin", None, 404),
    ]
    for token, member, role, org, status in cases:
        org_id = tree.ids[org] if org else uuid.uuid4()
        response = await grant(identity, token, member, role, org_id)
        assert response.status_code == status, (role, org, response.text)
    bad_role = await identity.client.post(
        "/api/v1/role-grants",
        json={"member_id": str(member_id), "role": "king", "org_id": str(tree.ids["cell_a1a"])},
        headers=bearer(admin),
    )
    assert bad_role.status_code == 422
    async with identity.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0

    # org_admin may be given on a node above the member's cell; operators make operators.
    ok = await grant(identity, admin, member_id, "org_admin", tree.ids["commune_a1"])
    assert ok.status_code == 201
    op = await grant(
        identity, await token_for(OPERATOR), member_id, "operator", tree.ids["province"]
    )
    assert op.status_code == 201
    by_admin = await identity.client.delete(
        f"/api/v1/role-grants/{op.json()['id']}", headers=bearer(province)
    )
    assert by_admin.status_code == 403
    by_operator = await identity.client.delete(
        f"/api/v1/role-grants/{op.json()['id']}", headers=bearer(await token_for(OPERATOR))
    )
    assert by_operator.status_code == 204
    # The district B admin cannot revoke a grant in district A (404), nor list district A.
    b_admin = await token_for(DISTRICT_B_ADMIN)
    assert (
        await identity.client.delete(
            f"/api/v1/role-grants/{ok.json()['id']}", headers=bearer(b_admin)
        )
    ).status_code == 404
    assert (
        await identity.client.get(
            "/api/v1/role-grants",
            params={"org_id": str(tree.ids["district_a"])},
            headers=bearer(b_admin),
        )
    ).status_code == 404
