"""Access tokens as DESIGN.md §8 describes them, checked from outside: PyJWT against the JWKS
(no identity code involved), kit's TokenVerifier, key rotation and retirement, and ``/me``."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import httpx
import jwt
import pyotp
import pytest
from sotay_identity.auth import keys
from sotay_identity.crypto import DataCipher
from sotay_kit.auth import TokenVerifier
from sotay_kit.errors import Unauthorized

MEMBER = "Hoàng Văn Đảng Viên"
SECRETARY = "Nguyễn Văn Bí Thư"
OPERATOR = "Ngô Văn Vận Hành"


async def _jwks(identity: Any) -> dict[str, Any]:
    response = await identity.client.get("/api/v1/auth/jwks")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def _decode_independently(identity: Any, token: str) -> dict[str, Any]:
    """PyJWT only: the key from the published JWK Set, EdDSA only, every claim required."""
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in (await _jwks(identity))["keys"] if k["kid"] == kid)
    key = jwt.PyJWK(jwk)
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=["EdDSA"],
        audience=identity.settings.token_audience,
        issuer=identity.settings.token_issuer,
        options={"require": ["iss", "aud", "sub", "iat", "exp", "jti"]},
    )
    return claims


def _fresh_verifier(identity: Any) -> TokenVerifier:
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=identity.app), base_url="http://identity.internal"
    )
    return TokenVerifier(
        "http://identity.internal/api/v1/auth/jwks",
        issuer=identity.settings.token_issuer,
        audience=identity.settings.token_audience,
        client=client,
    )


async def test_jwks_is_a_cacheable_ed25519_key_set(identity: Any) -> None:
    response = await identity.client.get("/api/v1/auth/jwks")
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    (jwk,) = response.json()["keys"]
    assert {k: jwk[k] for k in ("kty", "crv", "alg", "use")} == {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
    }
    assert len(base64.urlsafe_b64decode(jwk["x"] + "==")) == 32
    assert jwk["kid"] == keys.thumbprint(jwk["x"])
    assert "d" not in jwk  # never the private part
    async with identity.pool.acquire() as conn:
        stored = bytes(await conn.fetchval("SELECT private_key_enc FROM signing_keys"))
    cipher = DataCipher(identity.settings.data_key_bytes())
    with pytest.raises(ValueError, match="ciphertext"):
        cipher.decrypt(stored, "signing-key:another-kid")  # bound to its row


async def test_access_token_has_the_claims_of_design_8(
    identity: Any, tree: Any, login: Any
) -> None:
    before = int(time.time())
    tokens = await login(SECRETARY)
    token = tokens["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["typ"] == "at+jwt"
    assert header["kid"] in {k["kid"] for k in (await _jwks(identity))["keys"]}

    claims = await _decode_independently(identity, token)
    assert claims["iss"] == identity.settings.token_issuer
    assert claims["aud"] == identity.settings.token_audience
    assert claims["sub"] == str(tree.members[SECRETARY])
    assert before - 1 <= claims["iat"] <= int(time.time()) + 1
    assert claims["exp"] - claims["iat"] == identity.settings.access_token_ttl_seconds == 600
    assert len(claims["jti"]) >= 16
    assert claims["cell_id"] == str(tree.ids["cell_a1a"])
    assert claims["org_path"] == tree.paths["cell_a1a"]
    assert claims["grants"] == [
        {"role": "member", "org_path": tree.paths["cell_a1a"]},
        {"role": "cell_secretary", "org_path": tree.paths["cell_a1a"]},
    ]

    # Refused by an independent verifier when anything is off.
    jwk = (await _jwks(identity))["keys"][0]
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, jwt.PyJWK(jwk), algorithms=["EdDSA"], audience="another-api")
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(token, jwt.PyJWK(jwk), algorithms=["RS256"], audience="sotay-api")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, jwt.PyJWK(jwk), algorithms=["EdDSA"], audience="sotay-api")

    # And accepted by kit's verifier, which every service uses.
    verifier = _fresh_verifier(identity)
    try:
        principal = await verifier.verify(token)
    finally:
        await verifier.aclose()
    assert principal.member_id == tree.members[SECRETARY]
    assert principal.org_path == tree.paths["cell_a1a"]
    assert principal.can("cell_secretary", tree.paths["cell_a1a"])
    assert not principal.can("cell_secretary", tree.paths["cell_a1b"])


async def test_expired_token_is_refused(identity: Any, tree: Any, login: Any) -> None:
    tokens = await login(MEMBER)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    verifier = _fresh_verifier(identity)
    try:
        await verifier.verify(tokens["access_token"])  # caches the key
        # Re-sign the same claims, expired, with identity's own key: refused on exp alone.
        async with identity.pool.acquire() as conn:
            kid, private = await keys.signer(conn, DataCipher(identity.settings.data_key_bytes()))
        expired = jwt.encode(
            {**claims, "iat": claims["iat"] - 700, "exp": claims["iat"] - 100},
            private,
            algorithm="EdDSA",
            headers={"kid": kid, "typ": "at+jwt"},
        )
        with pytest.raises(Unauthorized):
            await verifier.verify(expired)
    finally:
        await verifier.aclose()
    response = await identity.client.get(
        "/api/v1/me", headers={"authorization": f"Bearer {expired}"}
    )
    assert response.status_code == 401


async def test_key_rotation_and_retirement(
    identity: Any, tree: Any, login: Any, enrol_totp: Any
) -> None:
    old_tokens = await login(MEMBER)
    old_kid = jwt.get_unverified_header(old_tokens["access_token"])["kid"]
    secret = await enrol_totp(OPERATOR)
    operator = await login(OPERATOR, otp=pyotp.TOTP(secret).now())
    op_auth = {"authorization": f"Bearer {operator['access_token']}"}

    # Only a root operator may rotate.
    member_auth = {"authorization": f"Bearer {old_tokens['access_token']}"}
    assert (
        await identity.client.post("/api/v1/identity/signing-keys/rotate", headers=member_auth)
    ).status_code == 403

    rotated = await identity.client.post("/api/v1/identity/signing-keys/rotate", headers=op_auth)
    assert rotated.status_code == 200, rotated.text
    new_kid = rotated.json()["kid"]
    assert new_kid != old_kid
    assert {k["kid"] for k in (await _jwks(identity))["keys"]} == {old_kid, new_kid}

    # The old token still verifies (independently, with kit, and in identity itself).
    await _decode_independently(identity, old_tokens["access_token"])
    assert (await identity.client.get("/api/v1/me", headers=member_auth)).status_code == 200
    new_tokens = await login(MEMBER)
    assert jwt.get_unverified_header(new_tokens["access_token"])["kid"] == new_kid
    await _decode_independently(identity, new_tokens["access_token"])
    new_auth = {"authorization": f"Bearer {new_tokens['access_token']}"}
    assert (await identity.client.get("/api/v1/me", headers=new_auth)).status_code == 200
    refreshed = await identity.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": old_tokens["refresh_token"]}
    )
    assert jwt.get_unverified_header(refreshed.json()["access_token"])["kid"] == new_kid

    # Retiring the old key: its tokens stop verifying; the new key's keep working.
    retired = await identity.client.post(
        f"/api/v1/identity/signing-keys/{old_kid}/retire", headers=op_auth
    )
    assert retired.status_code == 204, retired.text
    assert [k["kid"] for k in (await _jwks(identity))["keys"]] == [new_kid]
    verifier = _fresh_verifier(identity)
    try:
        with pytest.raises(Unauthorized):
            await verifier.verify(old_tokens["access_token"])
        assert (await verifier.verify(new_tokens["access_token"])).member_id == (
            tree.members[MEMBER]
        )
    finally:
        await verifier.aclose()
    assert (await identity.client.get("/api/v1/me", headers=member_auth)).status_code == 401
    assert (await identity.client.get("/api/v1/me", headers=new_auth)).status_code == 200

    # The last key cannot be retired; an unknown one is a clear conflict.
    new_op = await login(OPERATOR, otp=pyotp.TOTP(secret).at(time.time() + 30))
    new_op_auth = {"authorization": f"Bearer {new_op['access_token']}"}
    last = await identity.client.post(
        f"/api/v1/identity/signing-keys/{new_kid}/retire", headers=new_op_auth
    )
    assert last.status_code == 409
    assert last.json()["type"] == "https://sotay.vn/problems/signing-key-conflict"

    async with identity.pool.acquire() as conn:
        audit = await conn.fetch(
            "SELECT action, actor_id, target FROM audit_log WHERE action LIKE 'auth.signing_key%' "
            "ORDER BY seq"
        )
    assert [(r["action"], r["target"]) for r in audit] == [
        ("auth.signing_key_rotated", new_kid),
        ("auth.signing_key_retired", old_kid),
    ]
    assert all(r["actor_id"] == tree.members[OPERATOR] for r in audit)


async def test_signing_key_survives_restart_and_is_shared(identity: Any) -> None:
    """Keys live in Postgres: a second start (another replica) signs with the same key."""
    cipher = DataCipher(identity.settings.data_key_bytes())
    before = (await _jwks(identity))["keys"]
    await keys.ensure_signing_key(identity.pool, cipher)
    assert (await _jwks(identity))["keys"] == before
    keys._private_keys.clear()  # another process: nothing cached
    async with identity.pool.acquire() as conn:
        kid, _ = await keys.signer(conn, cipher)
    assert kid == before[0]["kid"]


async def test_me_returns_the_org_path_from_root_to_cell(
    identity: Any, tree: Any, login: Any
) -> None:
    tokens = await login(SECRETARY)
    response = await identity.client.get(
        "/api/v1/me", headers={"authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["id"] == str(tree.members[SECRETARY])
    assert me["card_number"] == tree.cards[SECRETARY]
    assert me["full_name"] == SECRETARY
    assert me["cell"] == {
        "id": str(tree.ids["cell_a1a"]),
        "title": "Chi bộ thôn Đông",
        "kind": "cell",
        "path": tree.paths["cell_a1a"],
    }
    assert [(o["id"], o["title"], o["kind"]) for o in me["org_path"]] == [
        (str(tree.ids["province"]), "Đảng bộ tỉnh Thử Nghiệm", "province"),
        (str(tree.ids["district_a"]), "Đảng bộ huyện An Bình", "district"),
        (str(tree.ids["commune_a1"]), "Đảng ủy xã An Phú", "grassroots_committee"),
        (str(tree.ids["cell_a1a"]), "Chi bộ thôn Đông", "cell"),
    ]
    assert [(r["role"], r["org"]["id"]) for r in me["roles"]] == [
        ("member", str(tree.ids["cell_a1a"])),
        ("cell_secretary", str(tree.ids["cell_a1a"])),
    ]
    assert me["second_factor"] == {
        "enabled": False,
        "pending_confirmation": False,
        "required": False,
    }
    # No other member's data, no anonymous access.
    assert (await identity.client.get("/api/v1/me")).status_code == 401
    forged = jwt.encode({"sub": str(uuid.uuid4())}, "k" * 32, algorithm="HS256")
    assert (
        await identity.client.get("/api/v1/me", headers={"authorization": f"Bearer {forged}"})
    ).status_code == 401
