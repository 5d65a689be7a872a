"""Notify's own Prometheus metrics (bounded labels: causes, channels, outcomes, reasons)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

NOTIFICATIONS_CREATED = Counter(
    "sotay_notify_notifications_created",
    "In-app notifications written, by cause.",
    ["cause"],
)
RECIPIENTS_SKIPPED = Counter(
    "sotay_notify_recipients_skipped",
    "Recipients or events left out, by reason (unknown_member, unknown_meeting, …).",
    ["reason"],
)
REMINDERS = Counter(
    "sotay_notify_reminders",
    "Reminders handled by the scheduler, by kind and outcome (fired, skipped).",
    ["kind", "outcome"],
)
DELIVERIES = Counter(
    "sotay_notify_deliveries",
    "Delivery attempts on push, email and SMS, by channel and outcome.",
    ["channel", "outcome"],
)
SUBSCRIPTIONS_REMOVED = Counter(
    "sotay_notify_push_subscriptions_removed",
    "Push subscriptions removed because the push service answered 404/410.",
)
SSE_STREAMS = Gauge(
    "sotay_notify_sse_streams", "Open Server-Sent Events streams.", multiprocess_mode="livesum"
)
