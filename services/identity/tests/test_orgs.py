"""Org tree: read, children, roster search, create, rename, move a subtree, close."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Any

from sotay_contracts import CloudEvent, parse_event
from sotay_contracts.events.identity import OrgClosed, OrgCreated, OrgMoved, OrgUpdated
from sotay_kit.clock import LOCAL_TZ

TODAY = datetime.now(LOCAL_TZ).date().isoformat()
PROVINCE_ADMIN = "Trần Thị Quản Trị"
DISTRICT_A_ADMIN = "Lê Văn Huyện"
DISTRICT_B_ADMIN = "Phạm Văn Bình"
MEMBER = "Hoàng Văn Đảng Viên"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def events(identity: Any, subject: str) -> list[Any]:
    async with identity.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT headers, body FROM outbox WHERE subject = $1 ORDER BY seq", subject
        )
    return [parse_event(CloudEvent.from_nats(r["headers"], bytes(r["body"]))) for r in rows]


async def create(identity: Any, token: str, **body: Any) -> Any:
    body = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in body.items()}
    return await identity.client.post("/api/v1/orgs", json=body, headers=bearer(token))


async def test_get_org_and_children(identity: Any, tree: Any, token_for: Any) -> None:
    admin = await token_for(DISTRICT_A_ADMIN)
    response = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['commune_a1']}", headers=bearer(admin)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["path"] == tree.paths["commune_a1"]
    assert body["kind"] == "grassroots_committee" and body["status"] == "active"
    assert body["title"] == "Đảng ủy xã An Phú"

    first = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['commune_a1']}/children",
        params={"limit": 1},
        headers=bearer(admin),
    )
    assert first.status_code == 200 and first.json()["next_cursor"]
    second = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['commune_a1']}/children",
        params={"limit": 1, "cursor": first.json()["next_cursor"]},
        headers=bearer(admin),
    )
    ids = [i["id"] for i in first.json()["items"] + second.json()["items"]]
    assert ids == [str(tree.ids["cell_a1a"]), str(tree.ids["cell_a1b"])]
    assert second.json()["next_cursor"] is None

    # A member reads their own cell, not the commune above it.
    member = await token_for(MEMBER)
    own = await identity.client.get(f"/api/v1/orgs/{tree.ids['cell_a1a']}", headers=bearer(member))
    assert own.status_code == 200
    above = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['commune_a1']}", headers=bearer(member)
    )
    assert above.status_code == 403
    unknown = await identity.client.get(f"/api/v1/orgs/{uuid.uuid4()}", headers=bearer(admin))
    assert unknown.status_code == 404
    bad_cursor = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['commune_a1']}/children",
        params={"cursor": "%%%"},
        headers=bearer(admin),
    )
    assert bad_cursor.status_code == 400


async def test_members_of_subtree_searchable_without_diacritics(
    identity: Any, tree: Any, token_for: Any
) -> None:
    admin = await token_for(DISTRICT_A_ADMIN)
    url = f"/api/v1/orgs/{tree.ids['commune_a1']}/members"
    everyone = await identity.client.get(url, headers=bearer(admin))
    assert everyone.status_code == 200
    names = {m["full_name"] for m in everyone.json()["items"]}
    # Subtree of commune A1: both its cells, nobody from district B.
    assert "Hoàng Văn Đảng Viên" in names and "Đỗ Thị Bí Thư" in names
    assert "Vũ Thị Đảng Viên" not in names
    assert all(
        set(m) == {"id", "card_number", "full_name", "status", "membership", "cell_id"}
        for m in everyone.json()["items"]
    )

    for q in ("bi thu", "BÍ THƯ", "Bí Thư", "bi"):
        found = await identity.client.get(url, params={"q": q}, headers=bearer(admin))
        assert {m["full_name"] for m in found.json()["items"]} == {
            "Nguyễn Văn Bí Thư",
            "Đỗ Thị Bí Thư",
        }, q
    do = await identity.client.get(url, params={"q": "do thi"}, headers=bearer(admin))
    assert [m["full_name"] for m in do.json()["items"]] == ["Đỗ Thị Bí Thư"]
    nothing = await identity.client.get(url, params={"q": "100%_"}, headers=bearer(admin))
    assert nothing.json()["items"] == []

    # Keyset pagination walks the whole roster once.
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await identity.client.get(url, params=params, headers=bearer(admin))).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(m["id"] for m in everyone.json()["items"])
    assert len(seen) == len(set(seen))

    # A cell secretary reads their cell's roster.
    secretary = await token_for("Nguyễn Văn Bí Thư")
    cell = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['cell_a1a']}/members", headers=bearer(secretary)
    )
    assert cell.status_code == 200
    assert "Hoàng Văn Đảng Viên" in {m["full_name"] for m in cell.json()["items"]}


async def test_create_org_under_parent_with_kind_rules(
    identity: Any, tree: Any, token_for: Any
) -> None:
    admin = await token_for(DISTRICT_A_ADMIN)
    title_nfd = unicodedata.normalize("NFD", "Chi bộ thôn Bắc")
    response = await create(
        identity,
        admin,
        parent_id=tree.ids["commune_a1"],
        title=f"  {title_nfd} ",
        kind="cell",
        code="CB-BAC",
    )
    assert response.status_code == 201, response.text
    org = response.json()
    assert org["title"] == "Chi bộ thôn Bắc"  # NFC, trimmed
    async with identity.pool.acquire() as conn:
        key = await conn.fetchval("SELECT key FROM org_units WHERE id = $1", uuid.UUID(org["id"]))
    assert org["path"] == f"{tree.paths['commune_a1']}.{key}"
    assert org["parent_id"] == str(tree.ids["commune_a1"]) and org["revision"] == 1

    created = await events(identity, "identity.org.created.v1")
    assert len(created) == 1 and isinstance(created[0], OrgCreated)
    assert created[0].path == org["path"] and created[0].kind == "cell"

    # Kind rules: a cell sits under a grassroots committee; districts only under the province.
    for parent, kind in (
        ("district_a", "cell"),
        ("commune_a1", "district"),
        ("cell_a1a", "cell"),
        ("commune_a1", "grassroots_cell"),
        ("province", "province"),
    ):
        refused = await create(
            identity,
            await token_for(PROVINCE_ADMIN),
            parent_id=tree.ids[parent],
            title="Thử",
            kind=kind,
        )
        assert refused.status_code == 422, (parent, kind)
        assert refused.headers["content-type"].startswith("application/problem+json")
    ok = await create(
        identity,
        admin,
        parent_id=tree.ids["district_a"],
        title="Chi bộ cơ sở Trường THCS An Bình",
        kind="grassroots_cell",
    )
    assert ok.status_code == 201

    duplicate = await create(
        identity,
        admin,
        parent_id=tree.ids["commune_a1"],
        title="Chi bộ khác",
        kind="cell",
        code="CB-BAC",
    )
    assert duplicate.status_code == 409
    blank = await create(
        identity, admin, parent_id=tree.ids["commune_a1"], title="   ", kind="cell"
    )
    assert blank.status_code == 422
    # The district A admin cannot create in district B (404: not in reach).
    elsewhere = await create(
        identity, admin, parent_id=tree.ids["district_b"], title="X", kind="grassroots_cell"
    )
    assert elsewhere.status_code == 404
    assert len(await events(identity, "identity.org.created.v1")) == 2


async def test_rename_emits_changed_fields(identity: Any, tree: Any, token_for: Any) -> None:
    admin = await token_for(DISTRICT_A_ADMIN)
    url = f"/api/v1/orgs/{tree.ids['cell_a1a']}"
    renamed = await identity.client.patch(
        url, json={"title": "Chi bộ thôn Đông Hưng", "code": None}, headers=bearer(admin)
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["title"] == "Chi bộ thôn Đông Hưng"
    assert renamed.json()["code"] is None and renamed.json()["revision"] == 2
    same = await identity.client.patch(
        url, json={"title": "Chi bộ thôn Đông Hưng"}, headers=bearer(admin)
    )
    assert same.status_code == 200 and same.json()["revision"] == 2
    suspended = await identity.client.patch(
        url, json={"status": "suspended"}, headers=bearer(admin)
    )
    assert suspended.json()["status"] == "suspended"
    updates = await events(identity, "identity.org.updated.v1")
    assert [type(e) for e in updates] == [OrgUpdated, OrgUpdated]
    assert updates[0].changed_fields == ["code", "title"]
    assert updates[1].changed_fields == ["status"] and updates[1].revision == 3

    for bad in (
        {"title": None},
        {"status": "closed"},
        {"valid_to": "1990-01-01"},
        {"kind": "district"},
    ):
        refused = await identity.client.patch(url, json=bad, headers=bearer(admin))
        assert refused.status_code == 422, bad


async def test_move_rewrites_paths_of_the_subtree(identity: Any, tree: Any, token_for: Any) -> None:
    province = await token_for(PROVINCE_ADMIN)
    admin_a = await token_for(DISTRICT_A_ADMIN)
    # A member leaves cell A1b earlier: their closed membership keeps its historical path.
    async with identity.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO memberships (member_id, cell_id, org_path, started_on, ended_on, "
            "end_reason) VALUES ($1, $2, $3, '2020-01-01', '2021-01-01', 'transferred')",
            tree.members[MEMBER],
            tree.ids["cell_a1b"],
            tree.paths["cell_a1b"],
        )
    url = f"/api/v1/orgs/{tree.ids['commune_a1']}/move"

    # District A's admin does not administer district B: 404, nothing moves.
    refused = await identity.client.post(
        url, json={"new_parent_id": str(tree.ids["district_b"])}, headers=bearer(admin_a)
    )
    assert refused.status_code == 404
    # Under its own subtree: refused.
    inside = await identity.client.post(
        url, json={"new_parent_id": str(tree.ids["cell_a1a"])}, headers=bearer(province)
    )
    assert inside.status_code == 422

    moved = await identity.client.post(
        url, json={"new_parent_id": str(tree.ids["district_b"])}, headers=bearer(province)
    )
    assert moved.status_code == 200, moved.text
    key = tree.paths["commune_a1"].rsplit(".", 1)[1]
    new_path = f"{tree.paths['district_b']}.{key}"
    assert moved.json()["path"] == new_path
    assert moved.json()["parent_id"] == str(tree.ids["district_b"])
    async with identity.pool.acquire() as conn:
        paths = dict(await conn.fetch("SELECT id, path FROM org_units"))
        open_paths = {
            r["member_id"]: r["org_path"]
            for r in await conn.fetch(
                "SELECT member_id, org_path FROM memberships WHERE ended_on IS NULL"
            )
        }
        closed_path = await conn.fetchval(
            "SELECT org_path FROM memberships WHERE ended_on IS NOT NULL"
        )
    for name in ("cell_a1a", "cell_a1b"):
        cell_key = tree.paths[name].rsplit(".", 1)[1]
        assert paths[tree.ids[name]] == f"{new_path}.{cell_key}"
    assert paths[tree.ids["district_a"]] == tree.paths["district_a"]
    assert open_paths[tree.members[MEMBER]] == paths[tree.ids["cell_a1a"]]
    assert open_paths[tree.members["Đỗ Thị Bí Thư"]] == paths[tree.ids["cell_a1b"]]
    assert closed_path == tree.paths["cell_a1b"]

    (event,) = await events(identity, "identity.org.moved.v1")
    assert isinstance(event, OrgMoved)
    assert (event.old_path, event.new_path) == (tree.paths["commune_a1"], new_path)
    assert event.old_parent_id == tree.ids["district_a"]
    assert event.new_parent_id == tree.ids["district_b"]
    # The district A admin no longer reaches the commune; the district B admin now does.
    lost = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['cell_a1a']}/members", headers=bearer(admin_a)
    )
    assert lost.status_code in (403, 404)
    gained = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['cell_a1a']}/members",
        headers=bearer(await token_for(DISTRICT_B_ADMIN)),
    )
    assert gained.status_code == 200
    again = await identity.client.post(
        url, json={"new_parent_id": str(tree.ids["district_b"])}, headers=bearer(province)
    )
    assert again.status_code == 409


async def test_close_refused_while_members_or_children_remain(
    identity: Any, tree: Any, token_for: Any
) -> None:
    admin = await token_for(DISTRICT_A_ADMIN)
    with_members = await identity.client.post(
        f"/api/v1/orgs/{tree.ids['cell_a1a']}/close",
        json={"closed_on": TODAY},
        headers=bearer(admin),
    )
    assert with_members.status_code == 409
    problem = with_members.json()
    assert "đảng viên" in problem["detail"] and problem["members_on_roll"] >= 1
    with_children = await identity.client.post(
        f"/api/v1/orgs/{tree.ids['commune_a1']}/close",
        json={"closed_on": TODAY},
        headers=bearer(admin),
    )
    assert with_children.status_code == 409
    assert with_children.json()["open_children"] == 2
    async with identity.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM org_units WHERE status = 'closed'") == 0
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0


async def test_close_an_empty_cell_keeps_its_history(
    identity: Any, tree: Any, token_for: Any
) -> None:
    admin = await token_for(DISTRICT_A_ADMIN)
    created = await create(
        identity,
        admin,
        parent_id=tree.ids["commune_a1"],
        title="Chi bộ thôn Nam",
        kind="cell",
        code="CB-NAM",
        valid_from="2020-01-01",
    )
    cell_id = created.json()["id"]
    # A deputy on the cell: closing revokes it.
    async with identity.pool.acquire() as conn:
        grant_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO role_grants (id, member_id, role, org_id) VALUES ($1, $2, "
            "'committee_member', $3)",
            grant_id,
            tree.members[MEMBER],
            uuid.UUID(cell_id),
        )
    early = await identity.client.post(
        f"/api/v1/orgs/{cell_id}/close", json={"closed_on": "2019-12-31"}, headers=bearer(admin)
    )
    assert early.status_code == 422
    closed = await identity.client.post(
        f"/api/v1/orgs/{cell_id}/close",
        json={"closed_on": "2025-07-01", "successor_id": str(tree.ids["cell_a1a"])},
        headers=bearer(admin),
    )
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["status"] == "closed" and body["valid_to"] == "2025-07-01"
    assert body["successor_id"] == str(tree.ids["cell_a1a"])
    (event,) = await events(identity, "identity.org.closed.v1")
    assert isinstance(event, OrgClosed)
    assert event.successor_org_id == tree.ids["cell_a1a"] and event.closed_on.isoformat() == (
        "2025-07-01"
    )
    (revoked,) = await events(identity, "identity.role.revoked.v1")
    assert revoked.grant_id == grant_id

    # Still readable; hidden from children unless asked; its code is free again.
    assert (await identity.client.get(f"/api/v1/orgs/{cell_id}", headers=bearer(admin))).json()[
        "status"
    ] == "closed"
    url = f"/api/v1/orgs/{tree.ids['commune_a1']}/children"
    open_ids = [
        c["id"] for c in (await identity.client.get(url, headers=bearer(admin))).json()["items"]
    ]
    all_ids = [
        c["id"]
        for c in (
            await identity.client.get(url, params={"include_closed": "true"}, headers=bearer(admin))
        ).json()["items"]
    ]
    assert cell_id not in open_ids and cell_id in all_ids
    reused = await create(
        identity,
        admin,
        parent_id=tree.ids["commune_a1"],
        title="Chi bộ thôn Nam mới",
        kind="cell",
        code="CB-NAM",
    )
    assert reused.status_code == 201
    again = await identity.client.post(
        f"/api/v1/orgs/{cell_id}/close", json={"closed_on": "2025-07-01"}, headers=bearer(admin)
    )
    assert again.status_code == 409
    renamed = await identity.client.patch(
        f"/api/v1/orgs/{cell_id}", json={"title": "X"}, headers=bearer(admin)
    )
    assert renamed.status_code == 409
    # Nothing can be created under a closed node.
    under = await create(identity, admin, parent_id=uuid.UUID(cell_id), title="X", kind="cell")
    assert under.status_code in (409, 422)


async def test_secretaries_found_by_role(identity: Any, tree: Any, token_for: Any) -> None:
    member = await token_for(MEMBER)
    response = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['cell_a1a']}/secretaries", headers=bearer(member)
    )
    assert response.status_code == 200
    assert [(s["full_name"], s["role"]) for s in response.json()["items"]] == [
        ("Nguyễn Văn Bí Thư", "cell_secretary")
    ]
