"""Settings shared by every service.

Each service subclasses :class:`ServiceSettings` and sets its own ``env_prefix``
(``IDENTITY_``, ``DOCUMENTS_`` …). Defaults are for a developer machine; in production
(``<PREFIX>ENVIRONMENT=production``) the settings refuse to start with them.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .partitions import MONTHS_AHEAD

Environment = Literal["local", "test", "production"]

_UNSAFE_SECRETS = {"", "changeme", "secret", "password", "dev"}


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Environment = "local"
    host: str = "127.0.0.1"
    port: int = Field(default=8100, ge=1, le=65535)
    log_level: str = "INFO"

    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    db_pool_min: int = Field(default=1, ge=0)
    db_pool_max: int = Field(default=10, ge=1)

    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str = ""
    nats_password: SecretStr = SecretStr("")

    s3_endpoint: str = "127.0.0.1:8333"
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    s3_secure: bool = False
    # Fixed so the SDK never asks the server for a bucket's location before signing.
    s3_region: str = "us-east-1"

    # Access tokens (DESIGN.md §8): every service verifies them itself against identity's JWKS.
    jwks_url: str = "http://127.0.0.1:8101/api/v1/auth/jwks"
    token_issuer: str = "https://sotay.local/identity"  # noqa: S105 - not a secret
    token_audience: str = "sotay-api"  # noqa: S105 - not a secret

    # Peers whose X-Forwarded-For is believed (the gateway); others are taken at their address.
    # Addresses or networks: in Kubernetes the gateway's pods come and go inside the pod CIDR.
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = (
        IPv4Network("127.0.0.1/32"),
        IPv6Network("::1/128"),
    )

    # Worker processes under ``python -m sotay_kit.serve`` (docs/scaling.md): unset, the cores
    # the process may use in production and one otherwise.
    workers: int | None = Field(default=None, ge=1, le=64)

    # OpenTelemetry: traces go to an OTLP/HTTP collector when set, nowhere otherwise.
    otlp_endpoint: str | None = None

    # Consumers and the relay; 0 turns a background worker off (e.g. in a test that drives it).
    run_outbox_relay: bool = True
    run_consumers: bool = True

    # Monthly partitions of the tables that grow with members × time (sotay_kit.partitions):
    # created this many months ahead, checked this often; retention in whole months per table
    # overrides the table's own (``PARTITION_RETENTION_MONTHS='{"inbox": 6}'``). Audit logs are
    # archived past retention, never dropped.
    run_partition_maintenance: bool = True
    partition_months_ahead: int = Field(default=MONTHS_AHEAD, ge=1, le=24)
    partition_check_seconds: float = Field(default=3600.0, ge=1.0)
    partition_retention_months: dict[str, int] = Field(default_factory=dict)

    def worker_processes(self, cores: int) -> int:
        """How many uvicorn workers to run given the ``cores`` available."""
        if self.workers is not None:
            return self.workers
        return max(1, cores) if self.environment == "production" else 1

    def is_trusted_proxy(self, peer: str) -> bool:
        """Whether ``peer`` (a socket's address) is one of ``trusted_proxies``."""
        try:
            address = ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.trusted_proxies)

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> ServiceSettings:
        if self.environment != "production":
            return self
        problems = []
        if self.nats_password.get_secret_value() in _UNSAFE_SECRETS:
            problems.append("nats_password")
        if self.s3_secret_key.get_secret_value() in _UNSAFE_SECRETS:
            problems.append("s3_secret_key")
        if "@127.0.0.1:5432/postgres" in self.database_url or ":@" in self.database_url:
            problems.append("database_url")
        if not self.jwks_url.startswith("https://") and "127.0.0.1" in self.jwks_url:
            problems.append("jwks_url")
        if problems:
            raise ValueError(
                "refusing to start in production with development defaults: " + ", ".join(problems)
            )
        return self


def settings_config(service: str) -> SettingsConfigDict:
    """The ``model_config`` for a service's settings class: env prefix ``<SERVICE>_``."""
    return SettingsConfigDict(env_prefix=f"{service.upper()}_", extra="ignore", frozen=True)
