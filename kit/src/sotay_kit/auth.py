"""Access-token verification (DESIGN.md §8) as a FastAPI dependency.

Services accept only EdDSA tokens of type ``at+jwt`` with the expected ``iss`` and ``aud`` and
an unexpired ``exp``; keys come from identity's JWKS, cached by ``kid``. Rotation reaches every
service two ways: an unknown ``kid`` triggers a refetch (at most once per
``refetch_interval``, so forged kids cannot flood identity), and the whole set is refetched
when older than ``max_age`` (identity's Cache-Control), which is how a retired key stops being
trusted.

A verified token is cached until its ``exp`` (a bounded LRU keyed by the SHA-256 of its bytes,
so no raw token is kept as a key): the same bearer presented again costs a hash and a dict
lookup instead of an Ed25519 verification, base64 and JSON decoding and claim validation.
This changes nothing an access token could do before: access tokens are not revocable before
``exp`` (logout and disabling revoke *refresh* tokens; docs/identity.md), and a cached token
still needs its ``kid`` in the current key set, so a retired key stops a cached token exactly
when it stops an uncached one. Only successes are cached; different bytes are a different key.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import httpx
import jwt
from fastapi import Depends, Request
from pydantic import ValidationError
from sotay_contracts.tokens import (
    ACCESS_TOKEN_ALGORITHM,
    ACCESS_TOKEN_TYPE,
    AccessTokenClaims,
)

from .errors import Unauthorized


def path_within(path: str, ancestor: str) -> bool:
    """True when ``path`` is ``ancestor`` or lies in its subtree."""
    return path == ancestor or path.startswith(ancestor + ".")


@dataclass(frozen=True, slots=True)
class RoleGrant:
    role: str
    org_path: str


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller, as the access token describes them."""

    member_id: UUID
    cell_id: UUID | None
    org_path: str | None
    grants: tuple[RoleGrant, ...]

    def can(self, role: str | Iterable[str], org_path: str) -> bool:
        """Holds ``role`` (or one of the roles) on ``org_path`` or on one of its ancestors."""
        roles = {role} if isinstance(role, str) else set(role)
        return any(g.role in roles and path_within(org_path, g.org_path) for g in self.grants)

    def is_addressed(self, org_path: str) -> bool:
        """Something addressed to ``org_path`` reaches me: it is on the path from my cell up."""
        return self.org_path is not None and path_within(self.org_path, org_path)

    def subtree_roots(self, role: str | Iterable[str]) -> list[str]:
        roles = {role} if isinstance(role, str) else set(role)
        return sorted({g.org_path for g in self.grants if g.role in roles})


class TokenVerifier:
    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        client: httpx.AsyncClient | None = None,
        refetch_interval: float = 1.0,
        max_age: float = 300.0,
        leeway: float = 5.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self._client = client
        self._own_client = client is None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._last_fetch = -1e9
        self._fetched_at = -1e9  # of the keys in the cache
        self._refetch_interval = refetch_interval
        self._max_age = max_age
        self._leeway = leeway
        self._lock = asyncio.Lock()
        # sha256(token) -> (exp, kid, principal), least recently used first.
        self._verified: OrderedDict[bytes, tuple[float, str, Principal]] = OrderedDict()
        self._cache_size = cache_size
        self._clock = clock

    async def aclose(self) -> None:
        if self._client is not None and self._own_client:
            await self._client.aclose()

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._last_fetch < self._refetch_interval:
                return
            self._last_fetch = time.monotonic()
            if self._client is None:
                self._client = httpx.AsyncClient(timeout=5.0)
            try:
                response = await self._client.get(self.jwks_url)
                response.raise_for_status()
                keys = response.json().get("keys", [])
            except (httpx.HTTPError, ValueError):
                return  # keep the cached keys; the caller sees an unknown kid
            fresh: dict[str, jwt.PyJWK] = {}
            for jwk in keys:
                if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "kid" not in jwk:
                    continue
                try:
                    fresh[jwk["kid"]] = jwt.PyJWK(jwk, algorithm=ACCESS_TOKEN_ALGORITHM)
                except jwt.PyJWTError:
                    continue
            self._keys = fresh
            self._fetched_at = time.monotonic()

    async def _key_for(self, kid: str) -> jwt.PyJWK:
        if time.monotonic() - self._fetched_at > self._max_age:
            await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            await self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("Khóa ký không xác định")
        return key

    async def verify(self, token: str) -> Principal:
        digest = hashlib.sha256(token.encode()).digest()
        cached = self._verified.get(digest)
        if cached is not None:
            exp, kid, principal = cached
            if self._clock() < exp:
                await self._key_for(kid)  # a retired key stops cached tokens too
                self._verified.move_to_end(digest)
                return principal
            del self._verified[digest]
        principal, exp, kid = await self._verify_signed(token)
        self._verified[digest] = (exp, kid, principal)
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return principal

    async def _verify_signed(self, token: str) -> tuple[Principal, float, str]:
        """Verify signature and claims; the principal, the token's ``exp`` and its ``kid``."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("Mã truy cập không hợp lệ") from exc
        if header.get("alg") != ACCESS_TOKEN_ALGORITHM:
            raise Unauthorized("Thuật toán ký không được chấp nhận")
        if str(header.get("typ", "")).lower() not in {ACCESS_TOKEN_TYPE, "application/at+jwt"}:
            raise Unauthorized("Loại mã truy cập không hợp lệ")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("Thiếu định danh khóa ký")
        key = await self._key_for(kid)
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ACCESS_TOKEN_ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Mã truy cập đã hết hạn") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("Mã truy cập không hợp lệ") from exc
        exp = float(payload["exp"])  # PyJWT has checked it is a number
        if self._clock() > exp + self._leeway:  # the same check, on this verifier's clock
            raise Unauthorized("Mã truy cập đã hết hạn")
        try:
            claims = AccessTokenClaims.model_validate(payload)
        except ValidationError as exc:
            raise Unauthorized("Nội dung mã truy cập không hợp lệ") from exc
        principal = Principal(
            member_id=claims.sub,
            cell_id=claims.cell_id,
            org_path=claims.org_path,
            grants=tuple(RoleGrant(g.role, g.org_path) for g in claims.grants),
        )
        return principal, exp, kid


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Cần đăng nhập", headers={"WWW-Authenticate": 'Bearer realm="sotay"'})
    return token.strip()


async def require_principal(request: Request) -> Principal:
    verifier: TokenVerifier = request.app.state.resources.verifier
    try:
        return await verifier.verify(bearer_token(request))
    except Unauthorized as exc:
        exc.headers.setdefault("WWW-Authenticate", 'Bearer error="invalid_token"')
        raise


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
