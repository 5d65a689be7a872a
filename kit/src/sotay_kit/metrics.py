"""Prometheus metrics every service exports.

Label values are bounded: routes are templates (``/api/v1/meetings/{meeting_id}``), never raw
paths; outcomes and reasons come from closed sets.

A service running several worker processes (``sotay_kit.serve``) keeps its metrics in files
under ``PROMETHEUS_MULTIPROC_DIR``: :func:`latest` then reports the whole service from any
worker (counters and histograms summed; each gauge combined as its ``multiprocess_mode`` says,
over the live workers).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics import MetricWrapperBase

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter(
    "sotay_http_requests",
    "HTTP requests handled, by route template and status code.",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "sotay_http_request_duration_seconds",
    "HTTP request latency by route template.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_IN_PROGRESS = Gauge(
    "sotay_http_requests_in_progress",
    "HTTP requests being handled.",
    ["service"],
    multiprocess_mode="livesum",
)

# Set by the relay that holds the lock, whichever worker that is: the latest value wins.
OUTBOX_BACKLOG = Gauge(
    "sotay_outbox_backlog",
    "Outbox rows not yet published.",
    ["service"],
    multiprocess_mode="livemostrecent",
)
OUTBOX_OLDEST_AGE = Gauge(
    "sotay_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row.",
    ["service"],
    multiprocess_mode="livemostrecent",
)
OUTBOX_PUBLISHED = Counter(
    "sotay_outbox_published", "Outbox rows published and acknowledged by JetStream.", ["service"]
)
OUTBOX_DUPLICATES = Counter(
    "sotay_outbox_duplicates",
    "Publishes that JetStream recognised as duplicates (Nats-Msg-Id seen before).",
    ["service"],
)
OUTBOX_ERRORS = Counter(
    "sotay_outbox_publish_errors", "Outbox publish attempts that failed.", ["service"]
)

CONSUMER_HANDLED = Counter(
    "sotay_consumer_handled",
    "Events handled by a consumer, by outcome "
    "(applied, duplicate, skipped, retried, dead_lettered).",
    ["service", "consumer", "outcome"],
)
CONSUMER_DURATION = Histogram(
    "sotay_consumer_handle_duration_seconds",
    "Time to handle one event (transaction included).",
    ["service", "consumer"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
)
CONSUMER_LAG = Gauge(
    "sotay_consumer_lag",
    "Messages in the stream not yet delivered to the consumer.",
    ["service", "stream", "consumer"],
    multiprocess_mode="livemostrecent",  # the durable's lag, whichever worker read it last
)
DLQ_MESSAGES = Counter(
    "sotay_dlq_messages",
    "Events sent to the dead-letter stream, by reason.",
    ["service", "consumer", "reason"],
)

DEPENDENCY_UP = Gauge(
    "sotay_dependency_up",
    "1 when the dependency answered the last readiness check, 0 otherwise.",
    ["service", "dependency"],
    multiprocess_mode="livemin",  # down when any live worker lost it
)

_ALL = (
    HTTP_REQUESTS,
    HTTP_DURATION,
    HTTP_IN_PROGRESS,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISHED,
    OUTBOX_DUPLICATES,
    OUTBOX_ERRORS,
    CONSUMER_HANDLED,
    CONSUMER_DURATION,
    CONSUMER_LAG,
    DLQ_MESSAGES,
    DEPENDENCY_UP,
)
_SAMPLE_SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
}


def exposed_names(metrics: Iterable[MetricWrapperBase]) -> frozenset[str]:
    """Sample names as Prometheus scrapes them (counters gain ``_total``, histograms
    ``_bucket``/``_sum``/``_count``), derived from the metric objects themselves. A service
    that exports metrics of its own publishes ``exposed_names(its metrics)`` next to them."""
    names = set()
    for metric in metrics:
        for family in metric.describe():
            for suffix in _SAMPLE_SUFFIXES[family.type]:
                names.add(family.name + suffix)
    return frozenset(names)


# What dashboards and alert rules may query (tests/test_deploy.py checks them against it).
EXPORTED_METRICS: frozenset[str] = exposed_names(_ALL)


# A metrics file's header (its used length and padding): a shorter file holds nothing yet.
_HEADER_BYTES = 8


class _WorkersCollector(multiprocess.MultiProcessCollector):
    """prometheus_client's collector without the files still empty. A worker creates its file
    before it sizes it, and reading a file in that instant raised and failed the whole
    ``/metrics`` answer — for good when the worker was killed in it, since its file stays
    (prometheus/client_python#1199, open). An empty file has recorded nothing: leaving it out
    loses no sample."""

    def collect(self) -> Iterable[Any]:
        files = []
        for path in glob.glob(os.path.join(self._path, "*.db")):
            try:
                if os.path.getsize(path) >= _HEADER_BYTES:
                    files.append(path)
            except FileNotFoundError:  # a dead worker's live gauges, removed meanwhile
                continue
        merged: Iterable[Any] = self.merge(files, accumulate=True)  # type: ignore[no-untyped-call]
        return merged


def latest() -> bytes:
    """The exposition of ``/metrics``: this process's registry, or with several workers the
    whole service's (every live worker's files in ``PROMETHEUS_MULTIPROC_DIR``)."""
    if not os.environ.get(MULTIPROC_ENV):
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    _WorkersCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def worker_exited(pid: int) -> None:
    """Forget a worker's live gauges (its counters stay in the totals)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
