"""Notify's settings (env prefix ``NOTIFY_``).

Channels are off until configured: email needs ``smtp_host``, SMS needs ``sms_provider_url``,
Web Push needs a VAPID key (``vapid_private_key``). Outside production an ephemeral VAPID key is
generated at start-up when none is configured (subscriptions made against it stop working at
the next restart); in production, without a key, Web Push is off. The optional channel
secrets are ``SecretStr | None``: unset means "channel not used", not a development default.
"""

from __future__ import annotations

from datetime import time

from pydantic import Field, SecretStr, model_validator
from sotay_kit.settings import ServiceSettings, settings_config


class NotifySettings(ServiceSettings):
    model_config = settings_config("notify")

    # Absolute links in email and SMS bodies (in-app and push carry relative deep links).
    public_base_url: str = "http://localhost:8080"

    # Reminders: minutes before a meeting starts, and before a study deadline.
    meeting_reminder_minutes: tuple[int, ...] = (24 * 60, 60)
    study_reminder_minutes: tuple[int, ...] = (3 * 24 * 60, 24 * 60)
    # Default quiet hours (Asia/Ho_Chi_Minh) for members who have not chosen their own.
    default_quiet_start: time | None = time(22, 0)
    default_quiet_end: time | None = time(6, 0)

    # Background work (reminders, dispatch, deliveries); off in tests that drive ``tick``.
    run_scheduler: bool = True
    scheduler_interval_seconds: float = Field(default=2.0, gt=0, le=60)
    # In-app deliveries reported on the bus: notify.notification.delivered_batch.v1, one event
    # per cause and batch of at most 2,000 members (docs/notify.md "Province fan-out").
    emit_inapp_events: bool = True
    # Also one notify.notification.delivered.v1 (channel inapp) per member, as before the batch
    # subject existed: for a consumer still on v1 during a migration (DESIGN.md §6); off by
    # default, since its cost on the bus grows per member.
    inapp_per_member_events: bool = False
    dispatch_chunk: int = Field(default=2000, ge=10, le=20000)
    # An audience larger than this is not written by the DOCUMENTS consumer itself: it records
    # a fan-out job and returns, and the worker writes the notifications chunk by chunk
    # (``dispatch_chunk`` members per transaction), so small audiences never wait behind it.
    fanout_inline_max: int = Field(default=2000, ge=0, le=1_000_000)

    # Deliveries: attempts per channel, delay before each retry (the last one repeats).
    delivery_max_attempts: int = Field(default=6, ge=1, le=20)
    delivery_backoff_seconds: tuple[float, ...] = (30.0, 120.0, 600.0, 1800.0, 7200.0)
    delivery_batch: int = Field(default=200, ge=1, le=5000)
    delivery_lease_seconds: float = Field(default=120.0, gt=0)

    # Web Push (RFC 8030/8291/8292).
    vapid_private_key: SecretStr | None = None  # base64url raw P-256 scalar, DER or PEM
    vapid_subject: str = "mailto:thongbao@sotay.vn"
    push_concurrency: int = Field(default=32, ge=1, le=1000)
    push_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    push_ttl_seconds: int = Field(default=24 * 3600, ge=0, le=28 * 24 * 3600)
    max_push_subscriptions: int = Field(default=10, ge=1, le=100)
    # TEST ONLY: origins (``http://127.0.0.1:1234``) exempt from the https and public-address
    # checks, for the local fake push service. Empty by default; refused in production.
    push_test_allowed_origins: tuple[str, ...] = ()

    # Email over SMTP (aiosmtplib).
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    smtp_sender: str = "Sổ tay Đảng viên <thongbao@sotay.local>"
    smtp_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    email_concurrency: int = Field(default=4, ge=1, le=100)

    # SMS through an HTTP provider (docs/notify.md, "SMS provider API").
    sms_provider_url: str = ""
    sms_api_key: SecretStr | None = None
    sms_sender: str = "SOTAY"
    sms_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    # Server-Sent Events.
    sse_heartbeat_seconds: float = Field(default=15.0, gt=0, le=120)
    sse_retry_ms: int = Field(default=3000, ge=100, le=60000)

    @model_validator(mode="after")
    def _notify_production(self) -> NotifySettings:
        if self.environment == "production" and self.push_test_allowed_origins:
            raise ValueError("notify refuses to start in production with push_test_allowed_origins")
        return self
