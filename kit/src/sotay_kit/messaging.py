"""NATS connections and declarative JetStream provisioning.

Streams and durable consumers are created explicitly by :func:`provision` (run by the stack
and by deployment tooling with the operator user), never as a side effect of subscribing:
services only bind to what exists.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
    SubjectTransform,
)
from nats.js.errors import NotFoundError

from .topology import DLQ_STREAM, DLQ_SUBJECT_PREFIX, PUBLIC_STREAM, PUBLIC_SUBJECTS, SERVICES

log = logging.getLogger("sotay.messaging")

# Long enough to cover a relay that crashes, restarts and republishes its unacknowledged batch.
DUPLICATE_WINDOW_SECONDS = 20 * 60


async def connect(
    url: str,
    *,
    user: str | None = None,
    password: str | None = None,
    name: str,
    inbox_prefix: str | None = None,
) -> NATS:
    """Connect with reconnects forever; callbacks only log (no credentials in messages).

    ``url`` may list a cluster's nodes separated by commas (``nats://a:4222,nats://b:4222``):
    the client connects to any of them and moves to another when its node dies."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", extra={"error": type(exc).__name__})

    client: list[NATS] = []

    async def on_disconnect() -> None:
        if client and (client[0].is_closed or client[0].is_draining):
            return  # our own close or drain, not an outage
        log.warning("nats disconnected")

    async def on_reconnect() -> None:
        log.info("nats reconnected")

    kwargs: dict[str, object] = {}
    if user:
        kwargs["user"] = user
        kwargs["password"] = password or ""
    if inbox_prefix:
        kwargs["inbox_prefix"] = inbox_prefix
    nc = await nats.connect(
        [server.strip() for server in url.split(",") if server.strip()],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        **kwargs,
    )
    client.append(nc)
    return nc


def service_inbox_prefix(service: str) -> str:
    """Each service user may subscribe only to its own reply subjects (deploy/nats)."""
    return f"_INBOX_{service}"


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """A durable pull consumer. ``name`` starts with the owning service (NATS permissions)."""

    name: str
    stream: str
    filter_subjects: tuple[str, ...] = ()
    max_deliver: int = 8
    # Delays of the consumer's own nak(delay=…) after a failed attempt; the last one repeats.
    # Deliberately not the server's `backoff`: with one, JetStream takes backoff[0] as the ack
    # wait, and a batch that works longer than that would be redelivered while still running.
    backoff: tuple[float, ...] = (1.0, 5.0, 15.0, 60.0)
    ack_wait: float = 60.0
    max_ack_pending: int = 2000
    description: str = ""

    @property
    def service(self) -> str:
        return self.name.split("-", 1)[0]

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.name,
            name=self.name,
            description=self.description or None,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
            max_deliver=self.max_deliver,
            max_ack_pending=self.max_ack_pending,
            filter_subjects=list(self.filter_subjects) or None,
        )


EXTERNAL_PREFIX = "ext-"
_TEAM_RE = re.compile(r"^[a-z0-9][a-z0-9_]{1,30}$")


def external_consumer(team: str, *, subjects: Sequence[str] = ()) -> ConsumerSpec:
    """The durable an external team pulls from (``ext-<team>`` on ``PUBLIC``, DESIGN.md §6).

    The operator provisions it (``provision(js, [], [external_consumer("thongke")])``): the
    ``analytics_reader`` NATS user may pull and ack but not create consumers. ``subjects``
    narrows it to some of the public subjects (default: all of them)."""
    if not _TEAM_RE.match(team):
        raise ValueError("team: 2-31 characters, lower-case letters, digits and '_'")
    unknown = set(subjects) - set(PUBLIC_SUBJECTS)
    if unknown:
        raise ValueError(f"not public subjects: {sorted(unknown)}")
    return ConsumerSpec(
        name=f"{EXTERNAL_PREFIX}{team}",
        stream=PUBLIC_STREAM,
        filter_subjects=tuple(subjects),
        # No backoff here: ConsumerSpec.backoff is the delay of our own consumers' nak and never
        # reaches the server; an external client redelivers after ack_wait or naks with its own.
        max_deliver=20,
        ack_wait=60.0,
        max_ack_pending=10_000,
        description=f"external analytics consumer of team {team}",
    )


@dataclass(frozen=True, slots=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...] = ()
    sources: tuple[tuple[str, tuple[str, ...]], ...] = ()
    description: str = ""
    max_age_seconds: float = 0.0  # 0 keeps everything: projections rebuild from sequence 1

    def config(self, replicas: int) -> StreamConfig:
        sources = None
        if self.sources:
            sources = [
                StreamSource(
                    name=stream,
                    subject_transforms=[SubjectTransform(src=s, dest=s) for s in subjects],
                )
                for stream, subjects in self.sources
            ]
        return StreamConfig(
            name=self.name,
            description=self.description or None,
            subjects=list(self.subjects) or None,
            sources=sources,
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=self.max_age_seconds,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            num_replicas=replicas,
            allow_direct=True,
        )


def platform_streams() -> list[StreamSpec]:
    """One stream per producing service, the dead-letter stream and the public stream."""
    streams = [
        StreamSpec(s.stream, (s.subjects,), description=f"events published by {s.name}")
        for s in SERVICES
    ]
    streams.append(
        StreamSpec(
            DLQ_STREAM,
            (f"{DLQ_SUBJECT_PREFIX}.>",),
            description="dead letters: invalid events and exhausted retries, with the reason",
        )
    )
    by_service: dict[str, list[str]] = {}
    for subject in PUBLIC_SUBJECTS:
        by_service.setdefault(subject.split(".", 1)[0], []).append(subject)
    stream_of = {s.name: s.stream for s in SERVICES}
    streams.append(
        StreamSpec(
            PUBLIC_STREAM,
            sources=tuple(
                (stream_of[svc], tuple(subjects)) for svc, subjects in sorted(by_service.items())
            ),
            description="public subjects for external analytics consumers (DESIGN.md §6)",
        )
    )
    return streams


@dataclass
class ProvisionReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


async def provision(
    js: JetStreamContext,
    streams: Sequence[StreamSpec],
    consumers: Iterable[ConsumerSpec],
    *,
    replicas: int = 1,
) -> ProvisionReport:
    """Create or update streams and durable consumers. Idempotent."""
    report = ProvisionReport()
    for spec in streams:
        cfg = spec.config(replicas)
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(cfg)
            report.created.append(f"stream {spec.name}")
        else:
            await js.update_stream(cfg)
            report.updated.append(f"stream {spec.name}")
    for consumer in consumers:
        try:
            await js.consumer_info(consumer.stream, consumer.name)
        except NotFoundError:
            report.created.append(f"consumer {consumer.stream}/{consumer.name}")
        else:
            report.updated.append(f"consumer {consumer.stream}/{consumer.name}")
        await js.add_consumer(consumer.stream, consumer.config())
    return report
