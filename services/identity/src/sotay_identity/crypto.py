"""Encryption at rest and digests (``cryptography``'s AES-GCM; no home-made crypto)."""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class DataCipher:
    """AES-256-GCM with a random 96-bit nonce; ``associated`` binds a value to its row/column
    so a ciphertext copied to another record does not decrypt."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str, associated: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), associated.encode())

    def decrypt(self, blob: bytes, associated: str) -> str:
        try:
            return self._aead.decrypt(blob[:12], blob[12:], associated.encode()).decode()
        except InvalidTag as exc:
            raise ValueError("ciphertext does not match its key or record") from exc


def sha256(data: str | bytes) -> bytes:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).digest()
