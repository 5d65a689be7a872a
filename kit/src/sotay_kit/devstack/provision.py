"""One-shot provisioning for container deployments (docker-compose ``provision`` service).

``python -m sotay_kit.devstack.provision`` does what the local stack does before it starts the
services, reading everything from the environment:

- for every service whose ``<PREFIX>DATABASE_URL`` is set: apply its migrations;
- when ``PROVISION_NATS_URL``, ``PROVISION_NATS_USER`` and ``PROVISION_NATS_PASSWORD`` are set
  (the operator user): create or update the streams and durable consumers;
  ``PROVISION_NATS_REPLICAS`` sets the stream replicas (default 1; 3 in a cluster).

Idempotent: safe to run on every deployment.
"""

from __future__ import annotations

import asyncio
import logging
import os

from ..topology import OPERATOR_NATS_USER, SERVICES

log = logging.getLogger("sotay.provision")


def migrate_all() -> list[str]:
    from .. import migrations
    from .stack import _service_spec

    done = []
    for svc in SERVICES:
        dsn = os.environ.get(f"{svc.env_prefix}DATABASE_URL")
        if not dsn:
            continue
        migrations.upgrade(dsn, _service_spec(svc).versions_dir)
        done.append(svc.name)
    return done


async def provision_nats(url: str, user: str, password: str, replicas: int) -> None:
    from .. import messaging
    from .stack import all_consumers

    nc = await messaging.connect(url, user=user, password=password, name="provision")
    try:
        await messaging.provision(
            nc.jetstream(), messaging.platform_streams(), all_consumers(), replicas=replicas
        )
    finally:
        await nc.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    migrated = migrate_all()
    log.info("migrated: %s", ", ".join(migrated) or "nothing")
    url = os.environ.get("PROVISION_NATS_URL")
    if url:
        asyncio.run(
            provision_nats(
                url,
                os.environ.get("PROVISION_NATS_USER", OPERATOR_NATS_USER),
                os.environ["PROVISION_NATS_PASSWORD"],
                int(os.environ.get("PROVISION_NATS_REPLICAS", "1")),
            )
        )
        log.info("streams and consumers provisioned")


if __name__ == "__main__":
    main()
