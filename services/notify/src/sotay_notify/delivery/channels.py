"""The outside channels: Web Push (pywebpush's RFC 8291 encryption, py_vapid's RFC 8292
signature, sent over one shared ``httpx.AsyncClient``), email (aiosmtplib) and SMS (an HTTP
provider, API in docs/notify.md). Each ``send`` answers a :class:`Result`; none raises for a
delivery problem."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid  # type: ignore[import-untyped]
from pywebpush import WebPusher, WebPushException  # type: ignore[import-untyped]
from sotay_contracts.events.notify import DeliveryError

from . import endpoints

log = logging.getLogger("sotay.notify.channels")


@dataclass(frozen=True, slots=True)
class Result:
    ok: bool
    error: DeliveryError | None = None
    permanent: bool = False
    detail: str | None = None
    retry_after: float | None = None

    @property
    def gone(self) -> bool:
        return self.error is DeliveryError.SUBSCRIPTION_GONE


DELIVERED = Result(True)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def http_result(response: httpx.Response, *, push: bool) -> Result:
    status = response.status_code
    detail = f"http {status}"
    if 200 <= status < 300:
        return DELIVERED
    if push and status in (404, 410):
        return Result(False, DeliveryError.SUBSCRIPTION_GONE, True, detail)
    if status == 429:
        return Result(False, DeliveryError.RATE_LIMITED, False, detail, _retry_after(response))
    if status in (408, 504):
        return Result(False, DeliveryError.TIMEOUT, False, detail)
    if status >= 500:
        return Result(False, DeliveryError.PROVIDER_ERROR, False, detail, _retry_after(response))
    return Result(False, DeliveryError.REJECTED, True, detail)


def exception_result(exc: Exception) -> Result:
    if isinstance(exc, httpx.TimeoutException | asyncio.TimeoutError):
        return Result(False, DeliveryError.TIMEOUT, False, type(exc).__name__)
    return Result(False, DeliveryError.PROVIDER_ERROR, False, type(exc).__name__)


# -- Web Push ------------------------------------------------------------------------------


def load_vapid(private_key: str) -> Vapid:
    """A VAPID key from settings (base64url raw scalar, base64url DER or PEM)."""
    text = private_key.strip()
    if text.startswith("-----BEGIN"):
        return Vapid.from_pem(text.encode())
    return Vapid.from_string(text)


def generate_vapid() -> Vapid:
    vapid = Vapid()
    vapid.generate_keys()
    return vapid


def application_server_key(vapid: Vapid) -> str:
    """The public key as browsers' ``PushManager.subscribe({applicationServerKey})`` wants it."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


class WebPush:
    def __init__(
        self,
        client: httpx.AsyncClient,
        vapid: Vapid,
        *,
        subject: str,
        ttl: int,
        allowed_origins: Sequence[str] = (),
    ) -> None:
        self.client = client
        self.vapid = vapid
        self.subject = subject
        self.ttl = ttl
        self.allowed_origins = tuple(allowed_origins)
        self._signed: dict[str, tuple[float, dict[str, str]]] = {}

    def _vapid_headers(self, origin: str) -> dict[str, str]:
        """RFC 8292 ``Authorization: vapid t=…, k=…`` for the push service's origin, signed
        once an hour per origin (valid 12 h)."""
        now = time.time()
        cached = self._signed.get(origin)
        if cached is not None and cached[0] > now:
            return cached[1]
        claims: dict[str, Any] = {"aud": origin, "sub": self.subject, "exp": int(now) + 12 * 3600}
        headers: dict[str, str] = self.vapid.sign(claims)
        self._signed[origin] = (now + 3600, headers)
        return headers

    async def send(self, sub: Subscription, payload: dict[str, Any], *, urgent: bool) -> Result:
        try:
            origin = await endpoints.check(sub.endpoint, self.allowed_origins)
        except endpoints.UnsafeEndpoint:
            return Result(False, DeliveryError.REJECTED, True, "unsafe endpoint")
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            pusher = WebPusher(
                {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
            )
            body: bytes = pusher.encode(data, content_encoding="aes128gcm")["body"]
        except (WebPushException, ValueError) as exc:
            return Result(False, DeliveryError.REJECTED, True, type(exc).__name__)
        headers = {
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(self.ttl),
            "Urgency": "high" if urgent else "normal",
            **self._vapid_headers(origin),
        }
        try:
            response = await self.client.post(sub.endpoint, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return exception_result(exc)
        return http_result(response, push=True)


# -- email ---------------------------------------------------------------------------------


class Email:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        use_tls: bool = False,
        timeout: float = 15.0,
        concurrency: int = 4,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.use_tls = use_tls
        self.timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)

    async def send(self, to: str, subject: str, text: str) -> Result:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(text)
        try:
            async with self._slots:
                await aiosmtplib.send(
                    message,
                    hostname=self.host,
                    port=self.port,
                    username=self.username or None,
                    password=self.password or None,
                    start_tls=self.starttls,
                    use_tls=self.use_tls,
                    timeout=self.timeout,
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            permanent = all(c >= 500 for c in codes)
            return Result(
                False,
                DeliveryError.REJECTED if permanent else DeliveryError.PROVIDER_ERROR,
                permanent,
                f"smtp {codes[0] if codes else ''}",
            )
        except aiosmtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.code < 600
            error = DeliveryError.REJECTED if permanent else DeliveryError.PROVIDER_ERROR
            return Result(False, error, permanent, f"smtp {exc.code}")
        except aiosmtplib.SMTPTimeoutError as exc:
            return Result(False, DeliveryError.TIMEOUT, False, type(exc).__name__)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Result(False, DeliveryError.PROVIDER_ERROR, False, type(exc).__name__)
        return DELIVERED


# -- SMS -----------------------------------------------------------------------------------


class Sms:
    """``POST {base}/v1/messages`` with ``{"to", "from", "text", "reference"}`` and a bearer key;
    2xx = accepted, 429/5xx = try later, other 4xx = refused for good."""

    def __init__(
        self, client: httpx.AsyncClient, *, base_url: str, api_key: str, sender: str, timeout: float
    ) -> None:
        self.client = client
        self.url = base_url.rstrip("/") + "/v1/messages"
        self.api_key = api_key
        self.sender = sender
        self.timeout = timeout

    async def send(self, to: str, text: str, reference: str) -> Result:
        try:
            response = await self.client.post(
                self.url,
                json={"to": to, "from": self.sender, "text": text, "reference": reference},
                headers={"Authorization": f"Bearer {self.api_key}"},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            return exception_result(exc)
        return http_result(response, push=False)
