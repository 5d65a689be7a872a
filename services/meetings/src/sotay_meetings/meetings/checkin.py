"""The rotating check-in code (mã điểm danh).

Every ``step`` seconds a new code: HMAC-SHA256 under the meeting's own secret (generated at
scheduling, kept in the meetings database only) over the meeting id and the time step,
truncated to 8 decimal digits the way HOTP does (RFC 4226 §5.3), so it can also be typed.
The code of the current and of the previous step are accepted; the code of an older step is
"expired"; anything else — a forged code or another meeting's code — is "invalid".
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from uuid import UUID

DIGITS = 8
# How far back a refused code is recognised as a once-valid (expired) one rather than invalid.
EXPIRED_LOOKBACK_STEPS = 240


def new_secret() -> bytes:
    return secrets.token_bytes(32)


def step_of(when: datetime, step_seconds: int) -> int:
    return int(when.timestamp()) // step_seconds


def code_at(secret: bytes, meeting_id: UUID, step: int) -> str:
    message = meeting_id.bytes + step.to_bytes(8, "big", signed=False)
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    number = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


@dataclass(frozen=True, slots=True)
class CurrentCode:
    code: str
    step: int
    expires_at: datetime


def current(secret: bytes, meeting_id: UUID, now: datetime, step_seconds: int) -> CurrentCode:
    step = step_of(now, step_seconds)
    expires = datetime.fromtimestamp((step + 1) * step_seconds, UTC)
    return CurrentCode(code_at(secret, meeting_id, step), step, expires)


class Verdict(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


def verify(secret: bytes, meeting_id: UUID, code: str, now: datetime, step_seconds: int) -> Verdict:
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return Verdict.INVALID
    step = step_of(now, step_seconds)
    for candidate in (step, step - 1):
        if hmac.compare_digest(code_at(secret, meeting_id, candidate), code):
            return Verdict.VALID
    for candidate in range(step - 2, step - 2 - EXPIRED_LOOKBACK_STEPS, -1):
        if hmac.compare_digest(code_at(secret, meeting_id, candidate), code):
            return Verdict.EXPIRED
    return Verdict.INVALID
