"""Access tokens (JWT, EdDSA, ``typ: at+jwt``) and opaque refresh tokens (DESIGN.md §8)."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from sotay_contracts.tokens import ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_TYPE
from sotay_kit.db import Connection

from ..crypto import DataCipher, sha256
from ..settings import IdentitySettings
from . import keys
from .repository import Subject

# Roles whose holders must use a second factor; without one their tokens do not carry them.
PRIVILEGED_ROLES = frozenset({"org_admin", "operator"})


@dataclass(frozen=True, slots=True)
class EffectiveGrants:
    grants: tuple[tuple[str, str], ...]
    enrolment_required: bool


def effective_grants(subject: Subject) -> EffectiveGrants:
    """The grants a token carries: the implicit ``member`` role on the member's own cell, then
    the active grants — without the privileged ones while the second factor is not enabled."""
    privileged = any(role in PRIVILEGED_ROLES for role, _ in subject.grants)
    strip = privileged and not subject.totp_enabled
    out: list[tuple[str, str]] = [("member", subject.cell_path)]
    for grant in subject.grants:
        if strip and grant[0] in PRIVILEGED_ROLES:
            continue
        if grant not in out:
            out.append(grant)
    return EffectiveGrants(tuple(out), enrolment_required=strip)


async def issue_access_token(
    conn: Connection,
    cipher: DataCipher,
    settings: IdentitySettings,
    subject: Subject,
    grants: tuple[tuple[str, str], ...],
    *,
    amr: tuple[str, ...],
) -> str:
    kid, private = await keys.signer(conn, cipher)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": str(subject.member_id),
        "iat": now,
        "exp": now + settings.access_token_ttl_seconds,
        "jti": uuid.uuid4().hex,
        "cell_id": str(subject.cell_id),
        "org_path": subject.cell_path,
        "grants": [{"role": role, "org_path": path} for role, path in grants],
        "amr": list(amr),
    }
    return jwt.encode(
        claims,
        private,
        algorithm=ACCESS_TOKEN_ALGORITHM,
        headers={"typ": ACCESS_TOKEN_TYPE, "kid": kid},
    )


def new_refresh_token() -> tuple[str, bytes]:
    """An opaque token (256 random bits) and the digest that is stored."""
    token = secrets.token_urlsafe(32)
    return token, sha256(token)


def refresh_digest(token: str) -> bytes:
    return sha256(token)
