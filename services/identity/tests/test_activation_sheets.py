"""Activation sheets: printing members' activation cards is audited (ids only, never the codes),
and a lost code is replaced by a new one while the account has never been activated."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sotay_identity.members import activation

ADMIN = "Lê Văn Huyện"  # org_admin of district A
DISTRICT_B_ADMIN = "Phạm Văn Bình"
SECRETARY = "Nguyễn Văn Bí Thư"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def imported(identity: Any, tree: Any, token: str, cards: list[str]) -> list[dict[str, Any]]:
    names = ("Nguyễn Văn An", "Trần Thị Bích", "Lê Văn Cường", "Phạm Thị Dung")
    data = "Số thẻ đảng viên,Họ và tên\r\n" + "".join(
        f"{c},{names[i % len(names)]}\r\n" for i, c in enumerate(cards)
    )
    r = await identity.client.post(
        "/api/v1/members/import",
        content=data.encode(),
        params={"cell_id": str(tree.ids["cell_a1a"])},
        headers={**bearer(token), "content-type": "text/csv"},
    )
    assert r.status_code == 201, r.text
    accounts: list[dict[str, Any]] = r.json()["accounts"]
    return accounts


async def audit_rows(identity: Any, action: str) -> list[Any]:
    async with identity.pool.acquire() as conn:
        return list(
            await conn.fetch(
                "SELECT actor_id, target, details FROM audit_log WHERE action = $1 ORDER BY seq",
                action,
            )
        )


async def test_printing_a_sheet_is_audited_with_ids_only(
    identity: Any, tree: Any, token_for: Any
) -> None:
    admin = await token_for(ADMIN)
    accounts = await imported(identity, tree, admin, ["71.000001", "71.000002"])
    ids = [a["member_id"] for a in accounts]
    r = await identity.client.post(
        "/api/v1/members/activation-sheets",
        json={"member_ids": [*ids, ids[0]]},  # a repeated id counts once
        headers=bearer(admin),
    )
    assert r.status_code == 204, r.text
    [entry] = await audit_rows(identity, "members.activation_sheet_printed")
    assert entry["actor_id"] == tree.members[ADMIN]
    assert entry["target"] == str(tree.ids["cell_a1a"])
    details = entry["details"]
    assert (details["count"], details["member_ids"], details["cells"]) == (2, ids, 1)
    # Nothing of the cards but ids: no code, name or card number in the log.
    stored = json.dumps(details, ensure_ascii=False)
    for a in accounts:
        assert a["activation_code"] not in stored
        assert a["card_number"] not in stored and a["full_name"] not in stored


async def test_a_sheet_of_members_outside_my_subtree_is_refused_and_not_recorded(
    identity: Any, tree: Any, token_for: Any
) -> None:
    accounts = await imported(identity, tree, await token_for(ADMIN), ["71.000003"])
    mine = accounts[0]["member_id"]
    outsider = await token_for(DISTRICT_B_ADMIN)
    secretary = await token_for(SECRETARY)
    for token, ids, status in [
        (outsider, [mine], 404),  # outside district B: existence not confirmed
        (secretary, [mine], 403),  # in the secretary's reach, but not an admin
        (await token_for(ADMIN), [mine, str(uuid.uuid4())], 404),  # one unknown id
    ]:
        r = await identity.client.post(
            "/api/v1/members/activation-sheets", json={"member_ids": ids}, headers=bearer(token)
        )
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == "application/problem+json"
    for body in ({"member_ids": []}, {"member_ids": ["x"]}, {}):
        r = await identity.client.post(
            "/api/v1/members/activation-sheets", json=body, headers=bearer(await token_for(ADMIN))
        )
        assert r.status_code == 422, r.text
    assert await audit_rows(identity, "members.activation_sheet_printed") == []


async def test_a_lost_code_is_replaced_until_the_account_is_activated(
    identity: Any, tree: Any, token_for: Any
) -> None:
    admin = await token_for(ADMIN)
    [account] = await imported(identity, tree, admin, ["71.000004"])
    url = f"/api/v1/members/{account['member_id']}/activation-code"
    assert (
        await identity.client.post(url, headers=bearer(await token_for(SECRETARY)))
    ).status_code == 403
    r = await identity.client.post(url, headers=bearer(admin))
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    fresh = r.json()
    assert (
        fresh["card_number"] == "71.000004"
        and fresh["activation_code"] != account["activation_code"]
    )
    async with identity.pool.acquire() as conn:
        digest = await conn.fetchval(
            "SELECT activation_digest FROM accounts WHERE member_id = $1",
            uuid.UUID(account["member_id"]),
        )
    assert bytes(digest) == activation.digest(fresh["activation_code"])
    # The old code no longer opens the account; the new one does (first login: set a password).
    old = await identity.client.post(
        "/api/v1/auth/login",
        json={"username": "71.000004", "password": account["activation_code"]},
    )
    assert old.status_code == 401
    new = await identity.client.post(
        "/api/v1/auth/login", json={"username": "71.000004", "password": fresh["activation_code"]}
    )
    assert new.status_code == 403 and new.json()["type"].endswith("/password-change-required")
    r = await identity.client.post(
        "/api/v1/auth/password",
        json={
            "username": "71.000004",
            "current_password": fresh["activation_code"],
            "new_password": "Mật khẩu riêng của tôi 2026",
        },
    )
    assert r.status_code == 204, r.text
    again = await identity.client.post(url, headers=bearer(admin))
    assert again.status_code == 409, again.text
    [entry] = await audit_rows(identity, "members.activation_reissued")
    assert entry["target"] == account["member_id"]
    assert fresh["activation_code"] not in json.dumps(entry["details"])
