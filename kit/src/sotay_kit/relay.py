"""Run a service's outbox relay as its own process.

    SOTAY_RELAY_DSN=postgresql://… SOTAY_RELAY_NATS_URL=nats://… \
        python -m sotay_kit.relay --service identity

(credentials come from the environment, not the command line, so ``ps`` does not show them).

Services run the relay inside their app by default; a standalone relay is for operations
(draining a backlog while the service is down) and for the chaos tests that SIGKILL it.
Each acknowledged batch prints one JSON line with running totals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys

from . import messaging
from .outbox import OutboxRelay


class _ReportingRelay(OutboxRelay):
    async def relay_batch(self, conn):  # type: ignore[no-untyped-def]
        sent = await super().relay_batch(conn)
        if sent:
            line = {"published": self.published, "duplicates": self.duplicates, "batch": sent}
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
        return sent


async def _main(args: argparse.Namespace) -> None:
    nc = await messaging.connect(
        args.nats_url,
        name=f"{args.service}-relay",
        inbox_prefix=messaging.service_inbox_prefix(args.service),
    )
    relay = _ReportingRelay(
        args.service,
        args.dsn,
        nc.jetstream(),
        batch_size=args.batch_size,
        publish_timeout=args.publish_timeout,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await relay.run(stop)
    finally:
        await nc.drain()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--service", required=True)
    parser.add_argument("--dsn", default=os.environ.get("SOTAY_RELAY_DSN"))
    parser.add_argument("--nats-url", default=os.environ.get("SOTAY_RELAY_NATS_URL"))
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--publish-timeout", type=float, default=5.0)
    args = parser.parse_args()
    if not args.dsn or not args.nats_url:
        parser.error("SOTAY_RELAY_DSN and SOTAY_RELAY_NATS_URL are required")
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
