#!/usr/bin/env python3
"""Read the public events of Sổ tay Đảng viên điện tử (an external team's consumer).

Needs only nats-py (``pip install nats-py``). The platform's operator gives you:

    NATS_URL       e.g. nats://nats.sotay.example:4222 (tls://… in production)
    NATS_USER      analytics_reader
    NATS_PASSWORD  the password of that user
    NATS_DURABLE   your durable consumer on the PUBLIC stream, ext-<team>

Run it:

    NATS_URL=… NATS_USER=analytics_reader NATS_PASSWORD=… NATS_DURABLE=ext-thongke \\
        python public_consumer.py            # runs until Ctrl-C
    python public_consumer.py --max 100      # stop after 100 events
    python public_consumer.py --idle 10      # stop after 10 s without events

Each event is printed as one JSON line on stdout: the CloudEvents attributes (from the ``ce-*``
headers) and ``data`` (the JSON body). An event is acknowledged only after it was written out;
a crash before that means JetStream delivers it again, so deduplicate on ``id`` (UUIDv7).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time

import nats
from nats.errors import TimeoutError as NatsTimeoutError

STREAM = "PUBLIC"
INBOX_PREFIX = "_INBOX_ext"  # the only reply subjects the analytics_reader user may receive on
REQUIRED = ("ce-specversion", "ce-id", "ce-source", "ce-type", "ce-subject", "ce-time")


def parse_cloud_event(headers: dict[str, str] | None, body: bytes) -> dict[str, object]:
    """CloudEvents 1.0, binary content mode: attributes in ce-* headers, data in the body."""
    h = {k.lower(): v for k, v in (headers or {}).items()}
    missing = [name for name in REQUIRED if not h.get(name)]
    if missing or h["ce-specversion"] != "1.0":
        raise ValueError(f"not a CloudEvents 1.0 message (missing {missing})")
    return {
        "id": h["ce-id"],
        "type": h["ce-type"],
        "source": h["ce-source"],
        "subject": h["ce-subject"],
        "time": h["ce-time"],
        "dataschema": h.get("ce-dataschema"),
        "traceparent": h.get("traceparent"),
        "data": json.loads(body),
    }


async def run(max_events: int | None, idle: float | None, batch: int) -> int:
    nc = await nats.connect(
        os.environ["NATS_URL"],
        user=os.environ.get("NATS_USER", "analytics_reader"),
        password=os.environ["NATS_PASSWORD"],
        inbox_prefix=INBOX_PREFIX,
        name="public-consumer-example",
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    seen = 0
    last_event = time.monotonic()
    try:
        js = nc.jetstream()
        # Bind to the durable the operator created; never create consumers yourself.
        sub = await js.pull_subscribe_bind(os.environ["NATS_DURABLE"], stream=STREAM)
        while not stop.is_set():
            if max_events is not None and seen >= max_events:
                break
            if idle is not None and time.monotonic() - last_event > idle:
                break
            want = batch if max_events is None else min(batch, max_events - seen)
            try:
                msgs = await sub.fetch(want, timeout=1.0)
            except NatsTimeoutError:
                continue
            for msg in msgs:
                try:
                    event = parse_cloud_event(msg.headers, msg.data)
                except ValueError as exc:
                    print(json.dumps({"error": str(exc), "subject": msg.subject}), file=sys.stderr)
                    await msg.term()  # it will never parse: do not get it again
                    continue
                event["nats_subject"] = msg.subject
                print(json.dumps(event, ensure_ascii=False), flush=True)
                await msg.ack()
                seen += 1
                last_event = time.monotonic()
    finally:
        await nc.drain()
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--max", type=int, default=None, help="stop after this many events")
    parser.add_argument("--idle", type=float, default=None, help="stop after N s without events")
    parser.add_argument("--batch", type=int, default=100, help="events fetched per request")
    args = parser.parse_args()
    n = asyncio.run(run(args.max, args.idle, args.batch))
    print(f"{n} events", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
