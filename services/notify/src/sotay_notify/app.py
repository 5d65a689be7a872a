"""The notify service: Thông báo: hộp thư trong ứng dụng, Web Push, email, SMS và nhắc việc.

Consumers (one durable ``notify`` per source stream) turn events into notifications; a
background worker fires reminders and delivers to push, email and SMS; the inbox API and its
SSE stream serve members. See docs/notify.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from py_vapid import Vapid  # type: ignore[import-untyped]
from sotay_kit import audit
from sotay_kit.app import BackgroundJob, Resources, ServiceSpec, background, create_service_app

from . import partitioned
from .delivery.channels import Email, Sms, WebPush, generate_vapid, load_vapid
from .delivery.service import Channels
from .deps import NotifyState
from .events.consumers import bindings
from .events.service import Policy
from .hub import Hub
from .inbox.routes import router as inbox_router
from .preferences.routes import router as preferences_router
from .push.routes import router as push_router
from .settings import NotifySettings
from .worker import Worker

log = logging.getLogger("sotay.notify")

SPEC = ServiceSpec(
    name="notify",
    version="0.1.0",
    description="Thông báo: hộp thư trong ứng dụng, Web Push, email, SMS và nhắc việc.",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
    routers=[audit.router("notify"), inbox_router, preferences_router, push_router],
    consumers=bindings(Policy()),
    partitioned=partitioned.TABLES,
)


def policy(settings: NotifySettings) -> Policy:
    return Policy(
        meeting_reminder_minutes=tuple(settings.meeting_reminder_minutes),
        study_reminder_minutes=tuple(settings.study_reminder_minutes),
        fanout_inline_max=settings.fanout_inline_max,
        broadcast_events=settings.emit_inapp_events,
    )


def vapid_keys(settings: NotifySettings) -> Vapid | None:
    key = settings.vapid_private_key.get_secret_value() if settings.vapid_private_key else ""
    if key:
        return load_vapid(key)
    if settings.environment != "production":
        log.warning("no VAPID key configured: using an ephemeral one (not for production)")
        return generate_vapid()
    log.error("no VAPID key configured: Web Push is off (set NOTIFY_VAPID_PRIVATE_KEY)")
    return None


def build_channels(
    settings: NotifySettings, client: httpx.AsyncClient, vapid: Vapid | None
) -> Channels:
    email = None
    if settings.smtp_host:
        email = Email(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else "",
            starttls=settings.smtp_starttls,
            use_tls=settings.smtp_use_tls,
            timeout=settings.smtp_timeout_seconds,
            concurrency=settings.email_concurrency,
        )
    sms = None
    if settings.sms_provider_url:
        sms = Sms(
            client,
            base_url=settings.sms_provider_url,
            api_key=settings.sms_api_key.get_secret_value() if settings.sms_api_key else "",
            sender=settings.sms_sender,
            timeout=settings.sms_timeout_seconds,
        )
    return Channels(
        webpush=None
        if vapid is None
        else WebPush(
            client,
            vapid,
            subject=settings.vapid_subject,
            ttl=settings.push_ttl_seconds,
            allowed_origins=settings.push_test_allowed_origins,
        ),
        email=email,
        sms=sms,
        push_slots=asyncio.Semaphore(settings.push_concurrency),
    )


def _http_client(settings: NotifySettings) -> httpx.AsyncClient:
    """One client for every push service and the SMS provider: connections are reused;
    redirects are never followed (an endpoint must not bounce us inside the network)."""
    return httpx.AsyncClient(
        timeout=settings.push_timeout_seconds,
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(
            max_connections=settings.push_concurrency + 8,
            max_keepalive_connections=settings.push_concurrency,
        ),
    )


@asynccontextmanager
async def lifespan(app: FastAPI, core: Resources) -> AsyncIterator[NotifyState]:
    settings = core.settings
    assert isinstance(settings, NotifySettings)
    async with _http_client(settings) as client:
        hub = Hub(settings.database_url)
        vapid = vapid_keys(settings)
        channels = build_channels(settings, client, vapid)
        worker = Worker(core.pool, settings, channels, hub, clock=core.clock)
        jobs: dict[str, BackgroundJob] = {"notify hub": hub.run}
        if settings.run_scheduler:
            jobs["notify worker"] = worker.run
        async with background(jobs, grace=10):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hub.connected.wait(), timeout=5)
            yield NotifyState.extend(
                core,
                settings=settings,
                hub=hub,
                channels=channels,
                worker=worker,
                http=client,
                vapid=vapid,
            )


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    spec = dataclasses.replace(SPEC, consumers=bindings(policy(settings)))
    app = create_service_app(spec, settings, lifespan=lifespan)
    app.state.bindings = spec.consumers  # what the consumers apply (tests drive them)
    return app
