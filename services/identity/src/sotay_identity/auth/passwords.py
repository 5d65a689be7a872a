"""Passwords: argon2id hashing off the event loop, the new-password policy, NFC normalisation.

argon2id at the settings' parameters (OWASP minimum m=19 MiB, t=2, p=1). A hash costs tens of
milliseconds of CPU, so it runs on a small dedicated thread pool (argon2-cffi releases the GIL),
sized to the CPU count: concurrent logins queue there instead of stalling every other request
on the event loop, and memory stays bounded (19 MiB per running hash).

Passwords are NFC-normalised before hashing and before verifying: the same Vietnamese password
typed on two keyboards (precomposed "ệ" or "e" + combining marks) is the same password.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from ..problems import WeakPassword
from ..settings import IdentitySettings

MIN_LENGTH = 10
MAX_LENGTH = 256  # bounds the work one request can ask of argon2

_executor: ThreadPoolExecutor | None = None
_dummy_hashes: dict[tuple[int, int, int], str] = {}


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="argon2"
        )
    return _executor


def _params(settings: IdentitySettings) -> tuple[int, int, int]:
    return settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def hasher(settings: IdentitySettings) -> PasswordHasher:
    return _hasher(*_params(settings))


def normalise(password: str) -> str:
    return unicodedata.normalize("NFC", password)


async def hash_password(settings: IdentitySettings, password: str) -> str:
    h = hasher(settings)
    return await asyncio.get_running_loop().run_in_executor(_pool(), h.hash, normalise(password))


def _verify(h: PasswordHasher, stored: str, password: str) -> tuple[bool, bool]:
    try:
        h.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, h.check_needs_rehash(stored)


async def verify_password(
    settings: IdentitySettings, stored: str, password: str
) -> tuple[bool, bool]:
    """(matches, needs_rehash): rehash when the stored parameters differ from the settings."""
    h = hasher(settings)
    return await asyncio.get_running_loop().run_in_executor(
        _pool(), _verify, h, stored, normalise(password)
    )


async def spend_equal_time(settings: IdentitySettings, password: str) -> None:
    """Verify against a dummy hash: an unknown user costs what a known one does."""
    params = _params(settings)
    dummy = _dummy_hashes.get(params)
    if dummy is None:
        dummy = await hash_password(settings, secrets.token_urlsafe(16))
        _dummy_hashes[params] = dummy
    await verify_password(settings, dummy, password)


def _comparable(value: str) -> str:
    return "".join(ch for ch in normalise(value).casefold() if ch.isalnum())


def check_policy(new_password: str, *, current: str, card_number: str, phone: str | None) -> str:
    """The NFC form of an acceptable new password, or :class:`WeakPassword`."""
    new = normalise(new_password)
    if len(new) < MIN_LENGTH:
        raise WeakPassword(f"Mật khẩu mới phải có ít nhất {MIN_LENGTH} ký tự")
    if len(new) > MAX_LENGTH:
        raise WeakPassword(f"Mật khẩu mới không được dài quá {MAX_LENGTH} ký tự")
    if new == normalise(current):
        raise WeakPassword("Mật khẩu mới phải khác mật khẩu (hoặc mã kích hoạt) hiện tại")
    comparable = _comparable(new)
    for identifier in (card_number, phone):
        if identifier and comparable == _comparable(identifier):
            raise WeakPassword("Mật khẩu mới không được trùng số thẻ đảng viên hoặc số điện thoại")
    if len(set(new)) < 3:
        raise WeakPassword("Mật khẩu mới quá đơn giản")
    return new
