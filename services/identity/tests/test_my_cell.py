"""A member sees their own cell's members by name, card number and role — never phone or
citizen-id numbers — and no other cell; their own memberships history is readable too."""

from __future__ import annotations

from typing import Any

from .conftest import bearer

MEMBER = "Hoàng Văn Đảng Viên"


async def _cell_members(identity: Any, token: str, **params: Any) -> Any:
    return await identity.client.get(
        "/api/v1/me/cell/members", params=params, headers=bearer(token)
    )


async def test_a_member_sees_their_cell_by_name_card_and_role(
    identity: Any, tree: Any, login: Any
) -> None:
    token = (await login(MEMBER))["access_token"]
    response = await _cell_members(identity, token)
    assert response.status_code == 200, response.text
    page = response.json()
    by_name = {m["full_name"]: m for m in page["items"]}
    assert set(by_name) == {
        "Trần Thị Quản Trị",
        "Nguyễn Văn Bí Thư",
        MEMBER,
        "Ngô Văn Vận Hành",
    }
    assert by_name["Nguyễn Văn Bí Thư"]["roles"] == ["cell_secretary"]
    assert by_name[MEMBER]["roles"] == []
    # A grant on the province is not a role in the cell.
    assert by_name["Trần Thị Quản Trị"]["roles"] == []
    assert by_name[MEMBER]["card_number"] == tree.cards[MEMBER]
    assert by_name[MEMBER]["id"] == str(tree.members[MEMBER])
    for member in page["items"]:
        assert set(member) == {"id", "card_number", "full_name", "roles"}
    assert "0912000001" not in response.text  # the member's phone number


async def test_pages_through_the_cell(identity: Any, tree: Any, login: Any) -> None:
    token = (await login(MEMBER))["access_token"]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await _cell_members(identity, token, **params)).json()
        seen += [m["full_name"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 4 == len(set(seen))
    bad = await _cell_members(identity, token, cursor="not-a-cursor")
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")


async def test_a_member_who_left_sees_no_cell(identity: Any, tree: Any, token_for: Any) -> None:
    token = await token_for(MEMBER)
    async with identity.pool.acquire() as conn:
        await conn.execute(
            "UPDATE members SET status = 'transferred_out' WHERE id = $1", tree.members[MEMBER]
        )
    response = await _cell_members(identity, token)
    assert response.status_code == 404
    assert response.json()["title"] == "Không tìm thấy"


async def test_the_org_members_listing_answers_a_member_for_their_own_cell_only(
    identity: Any, tree: Any, login: Any
) -> None:
    token = (await login(MEMBER))["access_token"]
    own = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['cell_a1a']}/members", headers=bearer(token)
    )
    assert own.status_code == 200, own.text
    names = {m["full_name"] for m in own.json()["items"]}
    assert MEMBER in names and "Nguyễn Văn Bí Thư" in names and len(names) == 4
    assert "0912000001" not in own.text and "phone" not in own.text
    # The commune above the cell needs a role (403 inside the member's path), a sibling cell
    # is as if it did not exist (404).
    commune = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['commune_a1']}/members", headers=bearer(token)
    )
    assert commune.status_code == 403
    sibling = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['cell_a1b']}/members", headers=bearer(token)
    )
    assert sibling.status_code == 404


async def test_other_cells_stay_refused(identity: Any, tree: Any, login: Any) -> None:
    token = (await login(MEMBER))["access_token"]
    other = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['cell_b1']}/members", headers=bearer(token)
    )
    assert other.status_code == 404
    anonymous = await identity.client.get("/api/v1/me/cell/members")
    assert anonymous.status_code == 401


async def test_my_memberships_history(identity: Any, tree: Any, login: Any) -> None:
    token = (await login(MEMBER))["access_token"]
    member_id = tree.members[MEMBER]
    response = await identity.client.get(
        f"/api/v1/members/{member_id}/memberships", headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    [membership] = response.json()["items"]
    assert membership["cell_id"] == str(tree.ids["cell_a1a"])
    assert membership["cell_title"] == "Chi bộ thôn Đông" and membership["ended_on"] is None
    someone_else = tree.members["Vũ Thị Đảng Viên"]
    response = await identity.client.get(
        f"/api/v1/members/{someone_else}/memberships", headers=bearer(token)
    )
    assert response.status_code == 404
