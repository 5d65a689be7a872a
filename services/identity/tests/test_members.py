"""Members: create (with a one-time activation code), read, update, transfer, deactivate."""

from __future__ import annotations

import json
import unicodedata
import uuid
from datetime import datetime, timedelta
from typing import Any

from sotay_contracts import CloudEvent, parse_event
from sotay_contracts.events.identity import (
    MemberCreated,
    MemberDeactivated,
    MemberDescribed,
    MemberTransferred,
    MemberUpdated,
    RoleRevoked,
)
from sotay_identity.crypto import sha256
from sotay_identity.members import activation
from sotay_kit.clock import LOCAL_TZ

ADMIN = "Lê Văn Huyện"  # org_admin of district A
PROVINCE_ADMIN = "Trần Thị Quản Trị"
SECRETARY = "Nguyễn Văn Bí Thư"  # cell_secretary of cell A1a
MEMBER = "Hoàng Văn Đảng Viên"  # plain member of cell A1a
TODAY = datetime.now(LOCAL_TZ).date()


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def outbox_events(identity: Any, subject: str | None = None) -> list[Any]:
    async with identity.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT headers, body FROM outbox WHERE $1::text IS NULL OR subject = $1 ORDER BY seq",
            subject,
        )
    return [parse_event(CloudEvent.from_nats(r["headers"], bytes(r["body"]))) for r in rows]


def new_member(tree: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "card_number": "79.001234",
        "full_name": unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết"),
        "date_of_birth": "1980-03-15",
        "sex": "female",
        "phone": "+84 (98) 765-4321",
        "email": "tuyet.nguyen@Example.VN",
        "admitted_on": "2005-05-19",
        "official_on": "2006-05-19",
        "cell_id": str(tree.ids["cell_a1a"]),
        "citizen_id": "001180012345",
    }
    body.update(overrides)
    return body


async def test_create_member_returns_activation_code_once(
    identity: Any, tree: Any, token_for: Any
) -> None:
    admin = await token_for(ADMIN)
    response = await identity.client.post(
        "/api/v1/members", json=new_member(tree), headers=bearer(admin)
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    member_id = uuid.UUID(body["id"])
    assert body["full_name"] == "Nguyễn Thị Ánh Tuyết"  # stored NFC
    assert body["phone"] == "0987654321"
    assert body["email"] == "tuyet.nguyen@example.vn"
    assert body["membership"] == "official" and body["status"] == "active"
    assert body["org_path"] == tree.paths["cell_a1a"]
    assert body["citizen_id"] == "001180012345"  # the creating admin sees it in full
    code = body["activation_code"]
    assert len(code) == 24 and code.count("-") == 4
    assert activation.canonical(code) is not None

    async with identity.pool.acquire() as conn:
        account = await conn.fetchrow("SELECT * FROM accounts WHERE member_id = $1", member_id)
        member = await conn.fetchrow("SELECT * FROM members WHERE id = $1", member_id)
        memberships = await conn.fetch("SELECT * FROM memberships WHERE member_id = $1", member_id)
    assert account["password_hash"] is None and account["must_change_password"]
    assert bytes(account["activation_digest"]) == sha256(code.replace("-", ""))
    assert activation.matches(code.lower(), bytes(account["activation_digest"]))
    assert account["activation_expires_at"].date() > TODAY
    assert member["search_name"] == "nguyen thi anh tuyet"
    assert b"001180012345" not in bytes(member["citizen_id_enc"])  # encrypted at rest
    assert len(memberships) == 1 and memberships[0]["ended_on"] is None

    # The code is never shown again: not to the admin, not to the member.
    again = await identity.client.get(f"/api/v1/members/{member_id}", headers=bearer(admin))
    assert again.status_code == 200 and "activation_code" not in again.json()
    assert code not in again.text

    (event,) = await outbox_events(identity, "identity.member.created.v1")
    assert isinstance(event, MemberCreated)
    assert event.member_id == member_id and event.org_path == tree.paths["cell_a1a"]


async def test_citizen_id_masked_except_for_org_admin(
    identity: Any, tree: Any, token_for: Any
) -> None:
    admin = await token_for(ADMIN)
    created = await identity.client.post(
        "/api/v1/members", json=new_member(tree), headers=bearer(admin)
    )
    member_id = created.json()["id"]
    tree.members["Tuyết"] = uuid.UUID(member_id)
    url = f"/api/v1/members/{member_id}"
    by_secretary = await identity.client.get(url, headers=bearer(await token_for(SECRETARY)))
    assert by_secretary.status_code == 200
    assert by_secretary.json()["citizen_id"] == "********2345"
    by_self = await identity.client.get(url, headers=bearer(await token_for("Tuyết")))
    assert by_self.status_code == 200 and by_self.json()["citizen_id"] == "********2345"
    by_admin = await identity.client.get(url, headers=bearer(await token_for(PROVINCE_ADMIN)))
    assert by_admin.json()["citizen_id"] == "001180012345"
    # A cell-mate without a role: 403; a member elsewhere: 404.
    assert (
        await identity.client.get(url, headers=bearer(await token_for(MEMBER)))
    ).status_code == 403
    assert (
        await identity.client.get(url, headers=bearer(await token_for("Vũ Thị Đảng Viên")))
    ).status_code == 404


async def test_create_member_validation(identity: Any, tree: Any, token_for: Any) -> None:
    admin = await token_for(ADMIN)
    first = await identity.client.post(
        "/api/v1/members", json=new_member(tree), headers=bearer(admin)
    )
    assert first.status_code == 201
    cases: list[tuple[dict[str, Any], int]] = [
        ({"phone": "012345"}, 422),
        ({"phone": "0212345678"}, 422),  # not a mobile number
        ({"citizen_id": "00118001234"}, 422),  # 11 digits
        ({"full_name": "Nguyễn 3 Tuyết"}, 422),
        ({"full_name": "   "}, 422),
        ({"card_number": "x"}, 422),
        ({"email": "not-an-email"}, 422),
        ({"sex": "nữ"}, 422),  # the API speaks male/female; "Nữ" is for CSV
        ({"date_of_birth": (TODAY + timedelta(days=1)).isoformat()}, 422),
        ({"admitted_on": "1979-01-01"}, 422),  # before birth
        ({"official_on": "2004-01-01"}, 422),  # before admission
        ({"cell_id": str(tree.ids["commune_a1"])}, 422),  # not a cell
        ({"cell_id": str(tree.ids["cell_b1"])}, 404),  # outside district A
        ({"cell_id": str(uuid.uuid4())}, 404),
        ({"unexpected": 1}, 422),
        ({}, 409),  # same card number
        ({"card_number": "79.009999"}, 409),  # same phone
    ]
    for overrides, status in cases:
        response = await identity.client.post(
            "/api/v1/members", json=new_member(tree, **overrides), headers=bearer(admin)
        )
        assert response.status_code == status, (overrides, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    probationary = await identity.client.post(
        "/api/v1/members",
        json=new_member(tree, card_number="79.005555", phone=None, official_on=None),
        headers=bearer(admin),
    )
    assert probationary.status_code == 201
    assert probationary.json()["membership"] == "probationary"
    async with identity.pool.acquire() as conn:
        stored = await conn.fetchval("SELECT count(*) FROM members WHERE card_number LIKE '79.%'")
    assert stored == 2


async def test_update_personal_data_and_exempt_status(
    identity: Any, tree: Any, token_for: Any
) -> None:
    admin = await token_for(ADMIN)
    member_id = tree.members[MEMBER]
    url = f"/api/v1/members/{member_id}"
    renamed = await identity.client.patch(
        url,
        json={
            "full_name": "Hoàng Văn Đảng Viên Mới",
            "phone": "0912 000 009",
            "citizen_id": "001090000001",
        },
        headers=bearer(admin),
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["phone"] == "0912000009"
    assert renamed.json()["citizen_id"] == "001090000001"
    async with identity.pool.acquire() as conn:
        assert (
            await conn.fetchval("SELECT search_name FROM members WHERE id = $1", member_id)
            == "hoang van dang vien moi"
        )
    # Personal data fires no member event; the new name goes to identity's internal directory
    # only (name and card number: what secretaries and committees see).
    (described,) = await outbox_events(identity)
    assert isinstance(described, MemberDescribed)
    assert (described.member_id, described.full_name, described.card_number) == (
        member_id,
        "Hoàng Văn Đảng Viên Mới",
        tree.cards[MEMBER],
    )

    exempt = await identity.client.patch(url, json={"status": "exempt"}, headers=bearer(admin))
    assert exempt.json()["status"] == "exempt"
    back = await identity.client.patch(
        url, json={"status": "active", "membership": "probationary"}, headers=bearer(admin)
    )
    assert back.status_code == 200
    updates = await outbox_events(identity, "identity.member.updated.v1")
    assert all(isinstance(e, MemberUpdated) for e in updates)
    assert [(e.status, e.changed_fields) for e in updates] == [
        ("exempt", ["status"]),
        ("active", ["membership", "status"]),
    ]
    assert updates[1].revision > updates[0].revision

    # Exempt members stay on the roster.
    exempt_again = await identity.client.patch(
        url, json={"status": "exempt"}, headers=bearer(admin)
    )
    assert exempt_again.status_code == 200
    roster = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['cell_a1a']}/members", headers=bearer(admin)
    )
    assert str(member_id) in {m["id"] for m in roster.json()["items"]}

    for bad in (
        {"status": "deceased"},
        {"full_name": None},
        {"phone": "123"},
        {"cell_id": str(tree.ids["cell_a1b"])},
    ):
        refused = await identity.client.patch(url, json=bad, headers=bearer(admin))
        assert refused.status_code == 422, bad
    taken = await identity.client.patch(
        url, json={"card_number": tree.cards[SECRETARY]}, headers=bearer(admin)
    )
    assert taken.status_code == 409
    # A secretary reads but does not edit.
    by_secretary = await identity.client.patch(
        url, json={"full_name": "Khác"}, headers=bearer(await token_for(SECRETARY))
    )
    assert by_secretary.status_code == 403


async def test_transfer_keeps_history(identity: Any, tree: Any, token_for: Any) -> None:
    admin = await token_for(ADMIN)
    secretary_id = tree.members[SECRETARY]
    response = await identity.client.post(
        f"/api/v1/members/{secretary_id}/transfer",
        json={"to_cell_id": str(tree.ids["cell_a1b"]), "effective_on": TODAY.isoformat()},
        headers=bearer(admin),
    )
    assert response.status_code == 200, response.text
    assert response.json()["cell_id"] == str(tree.ids["cell_a1b"])
    assert response.json()["org_path"] == tree.paths["cell_a1b"]
    async with identity.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT cell_id, org_path, started_on, ended_on, end_reason FROM memberships "
            "WHERE member_id = $1 ORDER BY id",
            secretary_id,
        )
        grants = await conn.fetchval(
            "SELECT count(*) FROM role_grants WHERE member_id = $1 AND revoked_at IS NULL",
            secretary_id,
        )
        audit = await conn.fetchrow(
            "SELECT actor_id, target, details FROM audit_log WHERE action = 'members.transferred'"
        )
    assert len(rows) == 2
    assert (rows[0]["cell_id"], rows[0]["ended_on"], rows[0]["end_reason"]) == (
        tree.ids["cell_a1a"],
        TODAY,
        "transferred",
    )
    assert (rows[1]["cell_id"], rows[1]["org_path"], rows[1]["ended_on"]) == (
        tree.ids["cell_a1b"],
        tree.paths["cell_a1b"],
        None,
    )
    # The secretary of cell A1a is no longer its secretary once transferred out.
    assert grants == 0
    assert audit["actor_id"] == tree.members[ADMIN] and audit["target"] == str(secretary_id)

    history = await identity.client.get(
        f"/api/v1/members/{secretary_id}/memberships", headers=bearer(admin)
    )
    assert [m["cell_id"] for m in history.json()["items"]] == [
        str(tree.ids["cell_a1a"]),
        str(tree.ids["cell_a1b"]),
    ]
    (moved,) = await outbox_events(identity, "identity.member.transferred.v1")
    assert isinstance(moved, MemberTransferred)
    assert (moved.from_cell_id, moved.to_cell_id) == (tree.ids["cell_a1a"], tree.ids["cell_a1b"])
    assert (moved.from_org_path, moved.to_org_path) == (
        tree.paths["cell_a1a"],
        tree.paths["cell_a1b"],
    )
    (revoked,) = await outbox_events(identity, "identity.role.revoked.v1")
    assert isinstance(revoked, RoleRevoked) and revoked.revoked_by is None

    # Refusals: same cell, outside the admin's district, an org that is not a cell.
    for to_cell, status in (("cell_a1b", 409), ("cell_b1", 404), ("commune_a1", 422)):
        refused = await identity.client.post(
            f"/api/v1/members/{secretary_id}/transfer",
            json={"to_cell_id": str(tree.ids[to_cell]), "effective_on": TODAY.isoformat()},
            headers=bearer(admin),
        )
        assert refused.status_code == status, to_cell
    early = await identity.client.post(
        f"/api/v1/members/{secretary_id}/transfer",
        json={"to_cell_id": str(tree.ids["cell_a1a"]), "effective_on": "2000-01-01"},
        headers=bearer(admin),
    )
    assert early.status_code == 422
    # The province admin can move them to district B.
    across = await identity.client.post(
        f"/api/v1/members/{secretary_id}/transfer",
        json={"to_cell_id": str(tree.ids["cell_b1"]), "effective_on": TODAY.isoformat()},
        headers=bearer(await token_for(PROVINCE_ADMIN)),
    )
    assert across.status_code == 200
    assert len(await outbox_events(identity, "identity.member.transferred.v1")) == 2


async def test_deactivate_closes_membership_and_revokes_access(
    identity: Any, tree: Any, token_for: Any
) -> None:
    admin = await token_for(ADMIN)
    member_id = tree.members[SECRETARY]
    async with identity.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO refresh_tokens (id, family_id, member_id, digest, expires_at) "
            "VALUES ($1, $1, $2, $3, now() + interval '1 day')",
            uuid.uuid4(),
            member_id,
            sha256(uuid.uuid4().hex),
        )
    response = await identity.client.post(
        f"/api/v1/members/{member_id}/deactivate",
        json={"reason_code": "deceased", "effective_on": TODAY.isoformat()},
        headers=bearer(admin),
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "deceased"
    async with identity.pool.acquire() as conn:
        membership = await conn.fetchrow(
            "SELECT ended_on, end_reason FROM memberships WHERE member_id = $1", member_id
        )
        tokens = await conn.fetchval(
            "SELECT count(*) FROM refresh_tokens WHERE member_id = $1 AND revoked_at IS NULL",
            member_id,
        )
        grants = await conn.fetchval(
            "SELECT count(*) FROM role_grants WHERE member_id = $1 AND revoked_at IS NULL",
            member_id,
        )
        disabled = await conn.fetchval(
            "SELECT disabled FROM accounts WHERE member_id = $1", member_id
        )
    assert (membership["ended_on"], membership["end_reason"]) == (TODAY, "deceased")
    assert tokens == 0 and grants == 0 and disabled
    (event,) = await outbox_events(identity, "identity.member.deactivated.v1")
    assert isinstance(event, MemberDeactivated)
    assert event.reason_code == "deceased" and event.cell_id == tree.ids["cell_a1a"]
    assert len(await outbox_events(identity, "identity.role.revoked.v1")) == 1

    roster = await identity.client.get(
        f"/api/v1/orgs/{tree.ids['cell_a1a']}/members", headers=bearer(admin)
    )
    assert str(member_id) not in {m["id"] for m in roster.json()["items"]}
    again = await identity.client.post(
        f"/api/v1/members/{member_id}/deactivate",
        json={"reason_code": "other", "effective_on": TODAY.isoformat()},
        headers=bearer(admin),
    )
    assert again.status_code == 409
    patch = await identity.client.patch(
        f"/api/v1/members/{member_id}", json={"status": "active"}, headers=bearer(admin)
    )
    assert patch.status_code == 409
    bad_reason = await identity.client.post(
        f"/api/v1/members/{tree.members[MEMBER]}/deactivate",
        json={"reason_code": "bored", "effective_on": TODAY.isoformat()},
        headers=bearer(admin),
    )
    assert bad_reason.status_code == 422


async def test_events_carry_no_personal_data(identity: Any, tree: Any, token_for: Any) -> None:
    admin = await token_for(ADMIN)
    body = new_member(tree)
    created = await identity.client.post("/api/v1/members", json=body, headers=bearer(admin))
    member_id = created.json()["id"]
    await identity.client.patch(
        f"/api/v1/members/{member_id}", json={"status": "exempt"}, headers=bearer(admin)
    )
    await identity.client.post(
        f"/api/v1/members/{member_id}/transfer",
        json={"to_cell_id": str(tree.ids["cell_a1b"]), "effective_on": TODAY.isoformat()},
        headers=bearer(admin),
    )
    await identity.client.post(
        f"/api/v1/members/{member_id}/deactivate",
        json={"reason_code": "transferred_out", "effective_on": TODAY.isoformat()},
        headers=bearer(admin),
    )
    async with identity.pool.acquire() as conn:
        rows = await conn.fetch("SELECT subject, headers, body FROM outbox ORDER BY seq")
    assert [r["subject"] for r in rows] == [
        "identity.member.created.v1",
        "identity.directory.described.v1",
        "identity.member.updated.v1",
        "identity.member.transferred.v1",
        "identity.directory.described.v1",
        "identity.member.deactivated.v1",
        "identity.directory.erased.v1",
    ]
    # The directory (never PUBLIC, DESIGN.md §6) names the member: name (NFC) and card number,
    # and nothing else personal.
    directory = [r for r in rows if r["subject"] == "identity.directory.described.v1"]
    for row in directory:
        data = json.loads(bytes(row["body"]))
        assert data["full_name"] == unicodedata.normalize("NFC", body["full_name"])
        assert data["card_number"] == "79.001234"
        assert set(data) == {
            "member_id", "full_name", "card_number", "cell_id", "org_path", "revision",
            "occurred_at",
        }  # fmt: skip
    assert [json.loads(bytes(r["body"]))["cell_id"] for r in directory] == [
        str(tree.ids["cell_a1a"]),
        str(tree.ids["cell_a1b"]),
    ]
    rows = [r for r in rows if r not in directory]
    secrets = [
        "Tuyết",
        "Tuyet",
        "0987654321",
        "987654321",
        "001180012345",
        "79.001234",
        "example.vn",
        created.json()["activation_code"],
    ]
    for row in rows:
        ce = CloudEvent.from_nats(row["headers"], bytes(row["body"]))
        parse_event(ce)
        text = json.dumps(row["headers"]) + bytes(row["body"]).decode()
        for secret in secrets:
            assert secret.lower() not in text.lower(), (row["subject"], secret)
