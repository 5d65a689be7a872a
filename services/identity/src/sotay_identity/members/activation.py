"""One-time activation codes for accounts created by an admin or by a CSV import.

Why a SHA-256 digest and not argon2: an activation code is 100 bits drawn from ``secrets``
(20 Crockford base32 characters, printed as ``XXXX-XXXX-XXXX-XXXX-XXXX``). Slow password hashes
exist to make guessing *low-entropy, human-chosen* secrets expensive; guessing a uniformly random
100-bit value is already out of reach (2^100 candidates) even at billions of SHA-256 per second,
so a fast hash loses nothing, and the stored value still reveals nothing about the code. Hashing
60,000 codes with argon2id at the OWASP parameters (19 MiB, t=2: some 30–50 ms each on one core)
would take 30–50 minutes of CPU — a CSV import of a province would time out, or every request
would be stuck behind it. With SHA-256 the whole batch costs milliseconds. Codes expire
(``activation_code_ttl_days``), are unique (``accounts.activation_digest``), work once, and
the first login must replace them by a password the member chooses, which is argon2id-hashed.

Crockford base32 avoids the letters people misread (no I, L, O, U); when checking, ``O`` is read
as ``0`` and ``I``/``L`` as ``1``, case, spaces and dashes are ignored.

Digest = ``sha256(canonical(code))`` where the canonical form is the 20 upper-case characters
without separators. :func:`matches` is the check the login uses.
"""

from __future__ import annotations

import base64
import hmac
import secrets

from ..crypto import sha256

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
CODE_BITS = 100
CODE_LENGTH = CODE_BITS // 5  # 20 characters
GROUP = 4

_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET.encode())


def new_code() -> str:
    """A fresh code, ``XXXX-XXXX-XXXX-XXXX-XXXX``: the first 100 bits of 13 bytes from the OS
    CSPRNG, base32-encoded, in the Crockford alphabet."""
    text = base64.b32encode(secrets.token_bytes(13))[:CODE_LENGTH].translate(_FROM_RFC4648)
    return "-".join(text[i : i + GROUP].decode() for i in range(0, CODE_LENGTH, GROUP))


def canonical(code: str) -> str | None:
    """The 20-character upper-case form, or None when ``code`` cannot be an activation code."""
    text = code.strip().upper().translate(_READ_AS)
    if len(text) != CODE_LENGTH or any(c not in ALPHABET for c in text):
        return None
    return text


def digest(code: str) -> bytes:
    text = canonical(code)
    if text is None:
        raise ValueError("not an activation code")
    return sha256(text)


def matches(code: str, stored_digest: bytes) -> bool:
    text = canonical(code)
    return text is not None and hmac.compare_digest(sha256(text), stored_digest)
