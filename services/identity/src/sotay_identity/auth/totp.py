"""TOTP (RFC 6238) through pyotp: SHA-1, 6 digits, 30-second steps, ±1 step of clock drift.

A code is accepted once: the matching step must be later than ``accounts.totp_last_step``, which
a successful use advances atomically (see ``repository.claim_totp_step``).
"""

from __future__ import annotations

from uuid import UUID

import pyotp
import segno
from pyotp.exceptions import OTPVerificationError

ISSUER = "Sổ tay Đảng viên"
INTERVAL = 30
DIGITS = 6
VALID_WINDOW = 1


def new_secret() -> str:
    """160 random bits, base32 (RFC 4226's recommended length)."""
    return pyotp.random_base32(length=32)


def secret_aad(member_id: UUID) -> str:
    """Associated data binding an encrypted TOTP secret to its account."""
    return f"totp:{member_id}"


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL, issuer=ISSUER)


def provisioning_uri(secret: str, account_name: str) -> str:
    return _totp(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_inline(scale=4, border=2))


def matching_step(secret: str, otp: str) -> int | None:
    """The time step the code belongs to (within ±1 of now), or None when it matches none."""
    code = otp.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    try:
        return _totp(secret).verify_and_get_timecode(code, valid_window=VALID_WINDOW)
    except OTPVerificationError:
        return None
