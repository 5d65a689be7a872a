"""Prometheus metrics every service exports.

Label values are bounded: routes are templates (``/api/v1/meetings/{meeting_id}``), never raw
paths; outcomes and reasons come from closed sets.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
    "sotay_http_requests_in_progress", "HTTP requests being handled.", ["service"]
)

OUTBOX_BACKLOG = Gauge("sotay_outbox_backlog", "Outbox rows not yet published.", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "sotay_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row.", ["service"]
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
    ["service", "consumer"],
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
)

# Names as Prometheus exposes them (counters gain ``_total``, histograms ``_bucket`` …).
EXPORTED_METRICS: frozenset[str] = frozenset(
    {
        "sotay_http_requests_total",
        "sotay_http_request_duration_seconds_bucket",
        "sotay_http_request_duration_seconds_sum",
        "sotay_http_request_duration_seconds_count",
        "sotay_http_requests_in_progress",
        "sotay_outbox_backlog",
        "sotay_outbox_oldest_age_seconds",
        "sotay_outbox_published_total",
        "sotay_outbox_duplicates_total",
        "sotay_outbox_publish_errors_total",
        "sotay_consumer_handled_total",
        "sotay_consumer_handle_duration_seconds_bucket",
        "sotay_consumer_handle_duration_seconds_sum",
        "sotay_consumer_handle_duration_seconds_count",
        "sotay_consumer_lag",
        "sotay_dlq_messages_total",
        "sotay_dependency_up",
    }
)
