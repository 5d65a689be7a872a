"""Identity's settings (env prefix ``IDENTITY_``)."""

from __future__ import annotations

import base64
import binascii

from pydantic import Field, SecretStr, model_validator
from sotay_kit.settings import ServiceSettings, settings_config

# A fixed key for local runs and tests only; production refuses it (see the validator).
_DEV_DATA_KEY = base64.b64encode(b"sotay-local-development-key-0032").decode()


class IdentitySettings(ServiceSettings):
    model_config = settings_config("identity")

    # 32-byte AES-256-GCM key, base64: encrypts citizen-id numbers, TOTP secrets and the
    # private signing keys at rest.
    data_key: SecretStr = SecretStr(_DEV_DATA_KEY)

    access_token_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=3600)
    activation_code_ttl_days: int = Field(default=30, ge=1, le=365)

    # Browser mode's refresh-token cookie (DESIGN.md §12). None: ``Secure`` unless the request
    # came to localhost/127.0.0.1/[::1] (a developer's plain-http `make run`); in production
    # None means always, and False is refused.
    cookie_secure: bool | None = None

    # argon2id, OWASP minimum: m=19 MiB, t=2, p=1.
    argon2_memory_kib: int = Field(default=19 * 1024, ge=19 * 1024)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)

    # An account locks after N failures (temporary). A source address with N failures in a
    # window is paced, never locked (docs/identity.md, "Throttling"): its attempts take turns
    # `source_delay_seconds` apart, doubling every `source_delay_doubling_every` failures up to
    # `source_max_delay_seconds`; one that would wait longer than `source_max_wait_seconds`
    # gets 429 with Retry-After.
    account_max_failures: int = Field(default=5, ge=3)
    account_lock_seconds: int = Field(default=15 * 60, ge=60)
    source_max_failures: int = Field(default=30, ge=5)
    source_window_seconds: int = Field(default=5 * 60, ge=60)
    source_delay_seconds: float = Field(default=1.0, gt=0, le=60)
    source_delay_doubling_every: int = Field(default=5, ge=1)
    source_max_delay_seconds: float = Field(default=15.0, gt=0, le=120)
    source_max_wait_seconds: float = Field(default=30.0, ge=0, le=120)

    @model_validator(mode="after")
    def _check_data_key(self) -> IdentitySettings:
        try:
            raw = base64.b64decode(self.data_key.get_secret_value(), validate=True)
        except binascii.Error as exc:
            raise ValueError("data_key must be base64") from exc
        if len(raw) != 32:
            raise ValueError("data_key must decode to 32 bytes")
        if self.environment == "production" and self.data_key.get_secret_value() == _DEV_DATA_KEY:
            raise ValueError("refusing to start in production with the development data_key")
        if self.environment == "production" and self.cookie_secure is False:
            raise ValueError("refusing to start in production with cookie_secure=false")
        return self

    def refresh_cookie_secure(self, host: str | None) -> bool:
        """Whether the refresh-token cookie of a request that came to ``host`` is ``Secure``."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        if self.environment == "production":
            return True
        return host not in {"localhost", "127.0.0.1", "::1", "[::1]"}

    def data_key_bytes(self) -> bytes:
        return base64.b64decode(self.data_key.get_secret_value())
