"""Second factor (TOTP, RFC 6238): mandatory for org admins and operators, optional for
members; enrolment, codes refused when wrong or replayed."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pyotp

ADMIN = "Trần Thị Quản Trị"
OPERATOR = "Ngô Văn Vận Hành"
MEMBER = "Hoàng Văn Đảng Viên"
PASSWORD = "Mật-khẩu-thử-2026"
PROBLEMS = "https://sotay.vn/problems/"


def _grants(tokens: dict[str, Any]) -> list[dict[str, str]]:
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    grants: list[dict[str, str]] = claims["grants"]
    return grants


def _wrong_code(secret: str) -> str:
    """A code that matches no step near now."""
    totp = pyotp.TOTP(secret)
    near = {totp.at(time.time() + 30 * k) for k in range(-3, 4)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in near)


def _auth(tokens: dict[str, Any]) -> dict[str, str]:
    return {"authorization": f"Bearer {tokens['access_token']}"}


async def test_admin_without_second_factor_gets_no_privileged_grant(
    identity: Any, tree: Any, login: Any
) -> None:
    tokens = await login(ADMIN)
    assert tokens["second_factor_enrolment_required"] is True
    roles = {g["role"] for g in _grants(tokens)}
    assert roles == {"member"}
    me = (await identity.client.get("/api/v1/me", headers=_auth(tokens))).json()
    assert me["second_factor"] == {
        "enabled": False,
        "pending_confirmation": False,
        "required": True,
    }
    # Refreshing does not bring it back either.
    refreshed = await identity.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.json()["second_factor_enrolment_required"] is True
    assert {g["role"] for g in _grants(refreshed.json())} == {"member"}


async def test_operator_grant_arrives_with_the_second_factor(
    identity: Any, tree: Any, login: Any, enrol_totp: Any
) -> None:
    stripped = await login(OPERATOR)
    assert {g["role"] for g in _grants(stripped)} == {"member"}
    # The privileged grant is really missing: the operators' audit log is refused.
    refused = await identity.client.get("/api/v1/identity/audit", headers=_auth(stripped))
    assert refused.status_code == 403
    secret = await enrol_totp(OPERATOR)
    full = await login(OPERATOR, otp=pyotp.TOTP(secret).now())
    assert {"role": "operator", "org_path": tree.paths["province"]} in _grants(full)
    allowed = await identity.client.get("/api/v1/identity/audit", headers=_auth(full))
    assert allowed.status_code == 200, allowed.text


async def test_enrolment_then_login_needs_the_code(identity: Any, tree: Any, login: Any) -> None:
    before = await login(ADMIN)
    auth = _auth(before)
    started = await identity.client.post("/api/v1/auth/totp", headers=auth)
    assert started.status_code == 200, started.text
    body = started.json()
    secret = body["secret"]
    assert len(secret) == 32
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={secret}" in body["otpauth_uri"]
    assert tree.cards[ADMIN] in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg") and "path" in body["qr_svg"]
    async with identity.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT totp_secret_enc, totp_enabled FROM accounts WHERE member_id = $1",
            tree.members[ADMIN],
        )
    assert row["totp_enabled"] is False  # pending until confirmed
    assert secret.encode() not in bytes(row["totp_secret_enc"])  # stored encrypted
    # Not yet confirmed: the password alone still logs in.
    await login(ADMIN)

    wrong = await identity.client.post(
        "/api/v1/auth/totp/confirm", json={"otp": _wrong_code(secret)}, headers=auth
    )
    assert wrong.status_code == 400 and wrong.json()["type"] == PROBLEMS + "invalid-otp"

    previous = pyotp.TOTP(secret).at(time.time() - 30)
    confirmed = await identity.client.post(
        "/api/v1/auth/totp/confirm", json={"otp": previous}, headers=auth
    )
    assert confirmed.status_code == 204, confirmed.text
    # Sessions opened with the password alone are gone.
    stale = await identity.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": before["refresh_token"]}
    )
    assert stale.status_code == 401

    missing = await login(ADMIN, expect=401)
    assert missing.json()["type"] == PROBLEMS + "second-factor-required"

    code = pyotp.TOTP(secret).now()
    tokens = await login(ADMIN, otp=code)
    assert tokens["second_factor_enrolment_required"] is False
    assert {"role": "org_admin", "org_path": tree.paths["province"]} in _grants(tokens)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["amr"] == ["pwd", "otp"]

    replayed = await login(ADMIN, otp=code, expect=401)
    assert replayed.json()["type"] == PROBLEMS + "invalid-credentials"
    bad = await login(ADMIN, otp=_wrong_code(secret), expect=401)
    assert bad.json()["type"] == PROBLEMS + "invalid-credentials"
    # The previous step's code was used by the confirmation: refused too.
    await login(ADMIN, otp=previous, expect=401)

    async with identity.pool.acquire() as conn:
        outcomes = await conn.fetch(
            "SELECT outcome, details FROM audit_log WHERE action = 'auth.login' "
            "AND actor_id = $1 ORDER BY seq",
            tree.members[ADMIN],
        )
        failed = await conn.fetchval(
            "SELECT failed_logins FROM accounts WHERE member_id = $1", tree.members[ADMIN]
        )
    reasons = [(r["outcome"], r["details"].get("reason")) for r in outcomes]
    assert ("second_factor_required", "otp_missing") in reasons
    assert ("failure", "replayed_otp") in reasons
    assert failed >= 2  # wrong and replayed codes count as failed attempts
    assert all(code not in str(r["details"]) for r in outcomes)


async def test_privileged_cannot_disable_member_can(
    identity: Any, tree: Any, login: Any, enrol_totp: Any
) -> None:
    admin_secret = await enrol_totp(OPERATOR)
    operator = await login(OPERATOR, otp=pyotp.TOTP(admin_secret).now())
    refused = await identity.client.delete("/api/v1/auth/totp", headers=_auth(operator))
    assert refused.status_code == 403
    assert refused.json()["type"] == PROBLEMS + "second-factor-mandatory"
    again = await identity.client.post("/api/v1/auth/totp", headers=_auth(operator))
    assert again.status_code == 409

    secret = await enrol_totp(MEMBER)
    assert (await login(MEMBER, expect=401)).json()["type"] == (PROBLEMS + "second-factor-required")
    member = await login(MEMBER, otp=pyotp.TOTP(secret).now())
    me = (await identity.client.get("/api/v1/me", headers=_auth(member))).json()
    assert me["second_factor"]["enabled"] is True and me["second_factor"]["required"] is False
    disabled = await identity.client.delete("/api/v1/auth/totp", headers=_auth(member))
    assert disabled.status_code == 204
    await login(MEMBER)  # the password alone again


async def test_unauthenticated_password_change_needs_the_code_too(
    identity: Any, tree: Any, login: Any, enrol_totp: Any, password: str
) -> None:
    secret = await enrol_totp(MEMBER)
    body = {
        "username": tree.cards[MEMBER],
        "current_password": password,
        "new_password": "mật khẩu mới của tôi",
    }
    missing = await identity.client.post("/api/v1/auth/password", json=body)
    assert missing.status_code == 401
    assert missing.json()["type"] == PROBLEMS + "second-factor-required"
    ok = await identity.client.post(
        "/api/v1/auth/password", json={**body, "otp": pyotp.TOTP(secret).now()}
    )
    assert ok.status_code == 204, ok.text


async def test_one_code_used_twice_at_once_logs_in_once(
    identity: Any, tree: Any, login: Any, enrol_totp: Any
) -> None:
    import asyncio

    secret = await enrol_totp(MEMBER)
    code = pyotp.TOTP(secret).now()
    body = {"username": tree.cards[MEMBER], "password": PASSWORD, "otp": code}
    a, b = await asyncio.gather(
        identity.client.post("/api/v1/auth/login", json=body),
        identity.client.post("/api/v1/auth/login", json=body),
    )
    assert sorted([a.status_code, b.status_code]) == [200, 401]
