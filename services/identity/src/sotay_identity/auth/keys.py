"""Token signing keys (Ed25519), kept in Postgres so every replica signs with the same key.

- The private key is stored encrypted with the data key (AES-GCM, associated data
  ``signing-key:<kid>`` so a ciphertext cannot be swapped between rows); the public half is a
  JWK in ``signing_keys.public_jwk``.
- ``kid`` is the RFC 7638 thumbprint of the public JWK.
- The signer is the newest key not retired; every key not retired is published in the JWKS, so
  tokens signed before a rotation keep verifying until they expire or their key is retired.
- Signing reads the current ``kid`` (one indexed query) and decrypts a private key only the first
  time it sees that ``kid``: a rotation done by any replica is picked up at the next token.

Rotation makes the new key the signer at once. Verifiers learn it from the unknown ``kid``
(kit's TokenVerifier refetches the JWKS on an unknown kid); see :func:`rotate_signing_key`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sotay_kit import db
from sotay_kit.db import Connection

from ..crypto import DataCipher
from ..problems import SigningKeyConflict
from . import repository

_KEYS_LOCK = 0x7369676E_6B6579  # serialises key creation, rotation and retirement
_CACHE_LIMIT = 16
_private_keys: dict[str, Ed25519PrivateKey] = {}


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def thumbprint(x: str) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of an Ed25519 public key."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def _associated(kid: str) -> str:
    return f"signing-key:{kid}"


def _new_key(cipher: DataCipher) -> tuple[str, bytes, dict[str, Any], Ed25519PrivateKey]:
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    private_raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    x = _b64url(public_raw)
    kid = thumbprint(x)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}
    encrypted = cipher.encrypt(base64.b64encode(private_raw).decode(), _associated(kid))
    return kid, encrypted, jwk, private


async def _insert_new(conn: Connection, cipher: DataCipher) -> str:
    kid, encrypted, jwk, private = _new_key(cipher)
    await repository.insert_signing_key(conn, kid, encrypted, jwk)
    _remember(kid, private)
    return kid


def _remember(kid: str, private: Ed25519PrivateKey) -> None:
    if len(_private_keys) >= _CACHE_LIMIT:
        _private_keys.clear()
    _private_keys[kid] = private


async def ensure_signing_key(pool: db.Pool, cipher: DataCipher) -> None:
    """At start-up: create a key when none is active (replicas starting together create one)."""
    async with db.transaction(pool) as conn:
        await repository.lock_signing_keys(conn, _KEYS_LOCK)
        if await repository.current_signing_kid(conn) is None:
            await _insert_new(conn, cipher)


async def rotate_signing_key(conn: Connection, cipher: DataCipher) -> str:
    """Add a key that signs from now on; older keys stay published until retired.

    Verifiers that cached the JWKS fetch it again when they meet the new ``kid``.
    Returns the new ``kid``.
    """
    await repository.lock_signing_keys(conn, _KEYS_LOCK)
    return await _insert_new(conn, cipher)


async def retire_signing_key(conn: Connection, kid: str) -> None:
    """Stop publishing ``kid``: tokens it signed no longer verify. The last key stays."""
    await repository.lock_signing_keys(conn, _KEYS_LOCK)
    states = await repository.signing_key_states(conn)
    active = [r["kid"] for r in states if r["retired_at"] is None]
    if kid not in active:
        raise SigningKeyConflict("Khóa ký không tồn tại hoặc đã ngừng sử dụng")
    if len(active) == 1:
        raise SigningKeyConflict("Không thể ngừng khóa ký cuối cùng; hãy xoay khóa trước")
    await repository.retire_signing_key(conn, kid)
    _private_keys.pop(kid, None)


async def signer(conn: Connection, cipher: DataCipher) -> tuple[str, Ed25519PrivateKey]:
    """The current signing key: its ``kid`` read each time, the private key cached by kid."""
    kid = await repository.current_signing_kid(conn)
    if kid is None:
        raise RuntimeError("no active signing key (ensure_signing_key runs at start-up)")
    private = _private_keys.get(kid)
    if private is None:
        encrypted = await repository.signing_private_key(conn, kid)
        if encrypted is None:
            raise RuntimeError("signing key vanished")
        raw = base64.b64decode(cipher.decrypt(encrypted, _associated(kid)))
        private = Ed25519PrivateKey.from_private_bytes(raw)
        _remember(kid, private)
    return kid, private


async def jwks(conn: Connection) -> dict[str, Any]:
    return {"keys": await repository.published_keys(conn)}
