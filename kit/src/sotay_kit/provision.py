"""One-shot provisioning for container deployments (docker-compose ``provision`` service).

``python -m sotay_kit.provision`` does what the local stack does before it starts the services,
reading everything from the environment:

- for every service whose ``<PREFIX>DATABASE_URL`` is set: apply its migrations;
- when ``PROVISION_NATS_URL``, ``PROVISION_NATS_USER`` and ``PROVISION_NATS_PASSWORD`` are set
  (the operator user): create or update the streams and durable consumers;
  ``PROVISION_NATS_REPLICAS`` sets the stream replicas (default 1; 3 in a cluster).

Idempotent: safe to run on every deployment.

Kit imports no service: like uvicorn's ``--factory`` (see :mod:`sotay_kit.serve`), a service's
``SPEC`` is found by the module name :mod:`sotay_kit.topology` gives it, at run time, in an image
where every service is installed (docs/decisions.md, "The local stack is not kit").
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Iterable, Sequence

from . import messaging, migrations
from .app import ServiceSpec
from .messaging import ConsumerSpec
from .topology import OPERATOR_NATS_USER, SERVICES, ServiceInfo

log = logging.getLogger("sotay.provision")


def service_spec(service: ServiceInfo) -> ServiceSpec:
    """The ``SPEC`` of an installed service, by the module name the topology gives it."""
    spec = importlib.import_module(service.spec_module).SPEC
    if not isinstance(spec, ServiceSpec):
        raise TypeError(f"{service.spec_module}.SPEC is not a ServiceSpec")
    return spec


def consumers_of(specs: Iterable[ServiceSpec]) -> list[ConsumerSpec]:
    """Every durable consumer the given services bind."""
    return [binding.spec for spec in specs for binding in spec.consumers]


def migrate_all(specs: Sequence[ServiceSpec]) -> list[str]:
    """Migrate every service whose ``<PREFIX>DATABASE_URL`` is set; names of those migrated."""
    done = []
    for svc, spec in zip(SERVICES, specs, strict=True):
        dsn = os.environ.get(f"{svc.env_prefix}DATABASE_URL")
        if not dsn:
            continue
        migrations.upgrade(dsn, spec.versions_dir)
        done.append(svc.name)
    return done


async def provision_nats(
    url: str, user: str, password: str, replicas: int, consumers: Sequence[ConsumerSpec]
) -> None:
    nc = await messaging.connect(url, user=user, password=password, name="provision")
    try:
        await messaging.provision(
            nc.jetstream(), messaging.platform_streams(), consumers, replicas=replicas
        )
    finally:
        await nc.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    specs = [service_spec(svc) for svc in SERVICES]
    migrated = migrate_all(specs)
    log.info("migrated: %s", ", ".join(migrated) or "nothing")
    url = os.environ.get("PROVISION_NATS_URL")
    if url:
        asyncio.run(
            provision_nats(
                url,
                os.environ.get("PROVISION_NATS_USER", OPERATOR_NATS_USER),
                os.environ["PROVISION_NATS_PASSWORD"],
                int(os.environ.get("PROVISION_NATS_REPLICAS", "1")),
                consumers_of(specs),
            )
        )
        log.info("streams and consumers provisioned")


if __name__ == "__main__":
    main()
