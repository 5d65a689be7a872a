"""Mint access tokens for tests the way identity will: Ed25519, ``typ: at+jwt``, a ``kid``."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

ISSUER = "https://sotay.local/identity"
AUDIENCE = "sotay-api"
JWKS_URL = "http://identity.test/api/v1/auth/jwks"


class TokenFactory:
    def __init__(self, kid: str | None = None) -> None:
        self.kid = kid or uuid.uuid4().hex[:16]
        self.key = Ed25519PrivateKey.generate()
        self.issuer = ISSUER
        self.audience = AUDIENCE

    def install(self, app: Any) -> None:
        """Make a running service trust this factory's key, as it trusts identity's: its
        verifier reads this factory's JWKS. Tokens are then minted with the service's
        issuer and audience."""
        from sotay_kit.auth import TokenVerifier

        resources = app.state.resources
        self.issuer = resources.settings.token_issuer
        self.audience = resources.settings.token_audience
        client = httpx.AsyncClient(transport=self.transport())
        resources.exit_stack.push_async_callback(client.aclose)
        resources.verifier = TokenVerifier(
            JWKS_URL, issuer=self.issuer, audience=self.audience, client=client
        )

    def jwk(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(self.key.public_key()))
        data.update({"kid": self.kid, "alg": "EdDSA", "use": "sig"})
        return data

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk()]}

    def mint(
        self,
        *,
        member_id: uuid.UUID | None = None,
        org_path: str | None = "1.2.3",
        cell_id: uuid.UUID | None = None,
        grants: Sequence[Mapping[str, str]] = (),
        issuer: str | None = None,
        audience: str | None = None,
        typ: str = "at+jwt",
        expires_in: int = 600,
        headers: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": issuer or self.issuer,
            "aud": audience or self.audience,
            "sub": str(member_id or uuid.uuid4()),
            "iat": now,
            "exp": now + expires_in,
            "jti": uuid.uuid4().hex,
            "org_path": org_path,
            "cell_id": str(cell_id or uuid.uuid4()),
            "grants": [dict(g) for g in grants],
            **extra,
        }
        hdr = {"kid": self.kid, "typ": typ, **(headers or {})}
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers=hdr)

    def transport(self, *, factories: Sequence[TokenFactory] = ()) -> httpx.MockTransport:
        """An in-process HTTP peer serving the JWKS (identity's endpoint, as the verifier sees
        it). ``served`` can be changed to rotate keys; ``jwks_fetches`` counts requests."""
        self.served = [self.jwk(), *(f.jwk() for f in factories)]
        self.jwks_fetches = 0

        def handler(request: httpx.Request) -> httpx.Response:
            self.jwks_fetches += 1
            return httpx.Response(200, json={"keys": self.served})

        return httpx.MockTransport(handler)
