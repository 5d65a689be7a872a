"""Access-token verification: only EdDSA at+jwt tokens of our issuer and audience pass."""

from __future__ import annotations

import base64
import json
import time
import uuid

import httpx
import jwt
import pytest
from sotay_kit.auth import Principal, RoleGrant, TokenVerifier, path_within
from sotay_kit.errors import Unauthorized
from sotay_kit.testing.tokens import AUDIENCE, ISSUER, JWKS_URL, TokenFactory


@pytest.fixture
def factory() -> TokenFactory:
    return TokenFactory()


def verifier_for(factory: TokenFactory, *others: TokenFactory) -> TokenVerifier:
    client = httpx.AsyncClient(transport=factory.transport(factories=others))
    return TokenVerifier(JWKS_URL, issuer=ISSUER, audience=AUDIENCE, client=client)


async def test_valid_token_gives_principal_with_grants(factory: TokenFactory) -> None:
    member = uuid.uuid4()
    token = factory.mint(
        member_id=member,
        org_path="1.4.17",
        grants=[{"role": "cell_secretary", "org_path": "1.4.17"}],
    )
    principal = await verifier_for(factory).verify(token)
    assert principal.member_id == member
    assert principal.org_path == "1.4.17"
    assert principal.can("cell_secretary", "1.4.17")
    assert not principal.can("cell_secretary", "1.4.18")
    assert not principal.can("org_admin", "1.4.17")


async def test_jwks_is_cached_by_kid(factory: TokenFactory) -> None:
    verifier = verifier_for(factory)
    for _ in range(5):
        await verifier.verify(factory.mint())
    assert factory.jwks_fetches == 1


async def test_rotated_key_is_fetched_when_its_kid_appears(factory: TokenFactory) -> None:
    verifier = verifier_for(factory)
    verifier._refetch_interval = 0  # let the next unknown kid trigger a refetch at once
    await verifier.verify(factory.mint())
    new_key = TokenFactory()
    factory.served.append(new_key.jwk())  # identity rotates: publishes the new key
    await verifier.verify(new_key.mint())
    assert factory.jwks_fetches == 2
    await verifier.verify(factory.mint())  # the old key keeps working during the overlap
    assert factory.jwks_fetches == 2


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, object], claims: dict[str, object], signature: bytes) -> str:
    return ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(signature)]
    )


def _claims() -> dict[str, object]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 600,
        "grants": [{"role": "operator", "org_path": "1"}],
    }


async def test_rejects_alg_none(factory: TokenFactory) -> None:
    token = _forge({"alg": "none", "typ": "at+jwt", "kid": factory.kid}, _claims(), b"")
    with pytest.raises(Unauthorized):
        await verifier_for(factory).verify(token)


async def test_rejects_hs256_signed_with_the_public_key(factory: TokenFactory) -> None:
    # The classic confusion attack: HMAC keyed with the (public) JWK bytes.
    public = json.dumps(factory.jwk()).encode()
    import hashlib
    import hmac

    header = {"alg": "HS256", "typ": "at+jwt", "kid": factory.kid}
    signing_input = (
        _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(_claims()).encode())
    ).encode()
    sig = hmac.new(public, signing_input, hashlib.sha256).digest()
    token = signing_input.decode() + "." + _b64(sig)
    with pytest.raises(Unauthorized, match="Thuật toán"):
        await verifier_for(factory).verify(token)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"audience": "other-api"}, "không hợp lệ"),
        ({"issuer": "https://evil.example/identity"}, "không hợp lệ"),
        ({"typ": "JWT"}, "Loại"),
        ({"expires_in": -60}, "hết hạn"),
    ],
    ids=["wrong-aud", "wrong-iss", "wrong-typ", "expired"],
)
async def test_rejects_wrong_claims(
    factory: TokenFactory, kwargs: dict[str, object], message: str
) -> None:
    token = factory.mint(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(Unauthorized, match=message):
        await verifier_for(factory).verify(token)


async def test_rejects_unknown_kid(factory: TokenFactory) -> None:
    stranger = TokenFactory()
    with pytest.raises(Unauthorized, match="Khóa"):
        await verifier_for(factory).verify(stranger.mint())


async def test_rejects_tampered_signature_and_payload(factory: TokenFactory) -> None:
    token = factory.mint(grants=[{"role": "member", "org_path": "1.2"}])
    head, payload, sig = token.split(".")
    bad_sig = sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthorized):
        await verifier_for(factory).verify(f"{head}.{payload}.{bad_sig}")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["grants"] = [{"role": "org_admin", "org_path": "1"}]
    with pytest.raises(Unauthorized):
        await verifier_for(factory).verify(f"{head}.{_b64(json.dumps(claims).encode())}.{sig}")


async def test_rejects_token_signed_by_another_key_with_our_kid(factory: TokenFactory) -> None:
    impostor = TokenFactory(kid=factory.kid)
    with pytest.raises(Unauthorized):
        await verifier_for(factory).verify(impostor.mint())


async def test_rejects_malformed_claims(factory: TokenFactory) -> None:
    token = jwt.encode(
        {**_claims(), "sub": "not-a-uuid"},
        factory.key,
        algorithm="EdDSA",
        headers={"kid": factory.kid, "typ": "at+jwt"},
    )
    with pytest.raises(Unauthorized, match="Nội dung"):
        await verifier_for(factory).verify(token)


def test_subtree_rules() -> None:
    assert path_within("1.2.3", "1.2")
    assert path_within("1.2", "1.2")
    assert not path_within("1.23", "1.2")
    assert not path_within("1", "1.2")
    p = Principal(uuid.uuid4(), None, "1.2.3", (RoleGrant("committee_member", "1.2"),))
    assert p.can(["org_admin", "committee_member"], "1.2.9")
    assert not p.can("committee_member", "1.3")
    assert p.is_addressed("1") and p.is_addressed("1.2.3")
    assert not p.is_addressed("1.2.4")


async def test_retired_key_stops_being_trusted_when_the_set_is_refreshed(
    factory: TokenFactory,
) -> None:
    verifier = verifier_for(factory)
    token = factory.mint()
    await verifier.verify(token)
    factory.served.clear()  # identity retires the key
    await verifier.verify(token)  # still within max_age: the cached set is used
    verifier._fetched_at -= verifier._max_age + 1  # the cached set has aged out
    verifier._last_fetch -= verifier._refetch_interval + 1
    with pytest.raises(Unauthorized, match="Khóa"):
        await verifier.verify(token)


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _count_signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    decode = jwt.decode

    def counting(token: str, *args: object, **kwargs: object) -> object:
        calls.append(token)
        return decode(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("sotay_kit.auth.jwt.decode", counting)
    return calls


async def test_a_verified_token_is_not_verified_again(
    factory: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = _count_signature_checks(monkeypatch)
    verifier = verifier_for(factory)
    token = factory.mint(grants=[{"role": "cell_secretary", "org_path": "1.4"}])
    first = await verifier.verify(token)
    for _ in range(3):
        assert await verifier.verify(token) == first
    assert len(checks) == 1
    await verifier.verify(factory.mint())  # another token is verified on its own
    assert len(checks) == 2


async def test_a_cached_token_is_refused_once_expired(factory: TokenFactory) -> None:
    clock = _Clock()
    client = httpx.AsyncClient(transport=factory.transport())
    verifier = TokenVerifier(JWKS_URL, issuer=ISSUER, audience=AUDIENCE, client=client, clock=clock)
    token = factory.mint(expires_in=60)
    await verifier.verify(token)
    clock.now += 30
    await verifier.verify(token)
    clock.now += 60  # past exp and the leeway
    with pytest.raises(Unauthorized, match="hết hạn"):
        await verifier.verify(token)


async def test_a_tampered_copy_of_a_cached_token_is_verified_and_refused(
    factory: TokenFactory,
) -> None:
    verifier = verifier_for(factory)
    token = factory.mint(grants=[{"role": "member", "org_path": "1.2"}])
    await verifier.verify(token)
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["grants"] = [{"role": "org_admin", "org_path": "1"}]
    with pytest.raises(Unauthorized):
        await verifier.verify(f"{head}.{_b64(json.dumps(claims).encode())}.{sig}")
    bad_sig = sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthorized):
        await verifier.verify(f"{head}.{payload}.{bad_sig}")


async def test_the_cache_is_bounded_and_drops_the_least_recently_used(
    factory: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = _count_signature_checks(monkeypatch)
    client = httpx.AsyncClient(transport=factory.transport())
    verifier = TokenVerifier(
        JWKS_URL, issuer=ISSUER, audience=AUDIENCE, client=client, cache_size=2
    )
    a, b, c = factory.mint(), factory.mint(), factory.mint()
    await verifier.verify(a)
    await verifier.verify(b)
    await verifier.verify(a)  # a is now the most recently used
    await verifier.verify(c)  # evicts b
    assert len(verifier._verified) == 2
    assert len(checks) == 3
    await verifier.verify(a)
    assert len(checks) == 3
    await verifier.verify(b)
    assert len(checks) == 4
    assert a not in repr(verifier._verified)  # keyed by digest, not by the token
