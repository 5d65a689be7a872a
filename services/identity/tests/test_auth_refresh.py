"""Refresh tokens: rotation, family revocation on reuse (RFC 9700 §4.14.2), logout, and a
refresh that re-reads the member (revoked roles, deactivated members)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import jwt
from sotay_identity.crypto import sha256

DEPUTY = "Hoàng Văn Đảng Viên"
SECRETARY = "Nguyễn Văn Bí Thư"
PROBLEMS = "https://sotay.vn/problems/"


async def _refresh(identity: Any, token: str) -> Any:
    return await identity.client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def _claims(access_token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(access_token, options={"verify_signature": False})
    return claims


async def test_refresh_rotates_within_the_family(identity: Any, tree: Any, login: Any) -> None:
    first = await login(DEPUTY)
    response = await _refresh(identity, first["refresh_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert set(second) >= {"access_token", "token_type", "expires_in", "refresh_token"}
    assert second["refresh_token"] != first["refresh_token"]
    assert _claims(second["access_token"])["jti"] != _claims(first["access_token"])["jti"]
    third = (await _refresh(identity, second["refresh_token"])).json()

    async with identity.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT family_id, digest, used_at, revoked_at FROM refresh_tokens "
            "WHERE member_id = $1 ORDER BY issued_at, used_at NULLS LAST",
            tree.members[DEPUTY],
        )
    assert len(rows) == 3 and len({r["family_id"] for r in rows}) == 1
    assert [r["used_at"] is not None for r in rows] == [True, True, False]
    # Stored as digests only.
    assert {bytes(r["digest"]) for r in rows} == {
        sha256(t["refresh_token"]) for t in (first, second, third)
    }


async def test_reuse_of_a_rotated_token_revokes_the_family(
    identity: Any, tree: Any, login: Any
) -> None:
    first = await login(DEPUTY)
    other_session = await login(DEPUTY)
    second = (await _refresh(identity, first["refresh_token"])).json()
    third = (await _refresh(identity, second["refresh_token"])).json()

    replay = await _refresh(identity, first["refresh_token"])  # the stolen copy
    assert replay.status_code == 401
    assert replay.json()["type"] == PROBLEMS + "invalid-refresh-token"
    # The newest token of the family no longer works either …
    newest = await _refresh(identity, third["refresh_token"])
    assert newest.status_code == 401
    # … but another family (another device) is untouched.
    assert (await _refresh(identity, other_session["refresh_token"])).status_code == 200

    async with identity.pool.acquire() as conn:
        audit = await conn.fetch(
            "SELECT actor_id, outcome, details FROM audit_log WHERE action = 'auth.refresh'"
        )
        live = await conn.fetchval(
            "SELECT count(*) FROM refresh_tokens WHERE member_id = $1 AND revoked_at IS NULL",
            tree.members[DEPUTY],
        )
    assert len(audit) == 1 and audit[0]["outcome"] == "reuse_detected"
    assert audit[0]["actor_id"] == tree.members[DEPUTY]
    assert audit[0]["details"]["revoked"] == 3
    assert live == 2  # other_session's used token + its successor


async def test_concurrent_use_of_one_token_lets_one_win_and_revokes(
    identity: Any, tree: Any, login: Any
) -> None:
    first = await login(DEPUTY)
    a, b = await asyncio.gather(
        _refresh(identity, first["refresh_token"]), _refresh(identity, first["refresh_token"])
    )
    assert sorted([a.status_code, b.status_code]) == [200, 401]
    winner = a if a.status_code == 200 else b
    # The second use was a reuse: the winner's token died with the family.
    assert (await _refresh(identity, winner.json()["refresh_token"])).status_code == 401


async def test_logout_revokes_the_family(identity: Any, tree: Any, login: Any) -> None:
    first = await login(DEPUTY)
    second = (await _refresh(identity, first["refresh_token"])).json()
    out = await identity.client.post(
        "/api/v1/auth/logout", json={"refresh_token": first["refresh_token"]}
    )
    assert out.status_code == 204
    assert (await _refresh(identity, second["refresh_token"])).status_code == 401
    # Unknown tokens: same answer, nothing to learn.
    unknown = await identity.client.post(
        "/api/v1/auth/logout", json={"refresh_token": "không-tồn-tại"}
    )
    assert unknown.status_code == 204


async def test_unknown_and_expired_refresh_tokens(identity: Any, tree: Any, login: Any) -> None:
    assert (await _refresh(identity, uuid.uuid4().hex)).status_code == 401
    tokens = await login(DEPUTY)
    async with identity.pool.acquire() as conn:
        await conn.execute(
            "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' "
            "WHERE member_id = $1",
            tree.members[DEPUTY],
        )
    expired = await _refresh(identity, tokens["refresh_token"])
    assert expired.status_code == 401
    async with identity.pool.acquire() as conn:
        revoked = await conn.fetchval(
            "SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NOT NULL"
        )
    assert revoked == 0  # an expired token is not a replay


async def test_refresh_rereads_grants_and_member(identity: Any, tree: Any, login: Any) -> None:
    tokens = await login(SECRETARY)
    grants = _claims(tokens["access_token"])["grants"]
    secretary_grant = {"role": "cell_secretary", "org_path": tree.paths["cell_a1a"]}
    assert secretary_grant in grants

    async with identity.pool.acquire() as conn:
        await conn.execute(
            "UPDATE role_grants SET revoked_at = now() WHERE member_id = $1",
            tree.members[SECRETARY],
        )
    refreshed = (await _refresh(identity, tokens["refresh_token"])).json()
    assert _claims(refreshed["access_token"])["grants"] == [
        {"role": "member", "org_path": tree.paths["cell_a1a"]}
    ]

    async with identity.pool.acquire() as conn:
        await conn.execute(
            "UPDATE members SET status = 'transferred_out' WHERE id = $1",
            tree.members[SECRETARY],
        )
    refused = await _refresh(identity, refreshed["refresh_token"])
    assert refused.status_code == 401
    assert refused.json()["type"] == PROBLEMS + "invalid-credentials"
    await login(SECRETARY, expect=401)

    # An exempt member keeps logging in and refreshing.
    async with identity.pool.acquire() as conn:
        await conn.execute(
            "UPDATE members SET status = 'exempt' WHERE id = $1", tree.members[SECRETARY]
        )
    assert (await _refresh(identity, refreshed["refresh_token"])).status_code == 200


async def test_refresh_refuses_disabled_accounts(identity: Any, tree: Any, login: Any) -> None:
    tokens = await login(DEPUTY)
    async with identity.pool.acquire() as conn:
        await conn.execute(
            "UPDATE accounts SET disabled = true WHERE member_id = $1", tree.members[DEPUTY]
        )
    assert (await _refresh(identity, tokens["refresh_token"])).status_code == 401
