"""A fresh identity database (migrated, empty) for the demo province to load into."""

from __future__ import annotations

import pytest_asyncio
from sotay_devstack.testing import Infra
from sotay_identity.app import SPEC
from sotay_identity.settings import IdentitySettings
from sotay_kit.testing.databases import DatabaseFactory


@pytest_asyncio.fixture
async def identity_settings(infra: Infra, make_database: DatabaseFactory) -> IdentitySettings:
    """Settings of an identity service whose database is fresh and empty."""
    return IdentitySettings(
        environment="test",
        database_url=await make_database("identity", SPEC.versions_dir),
        nats_url=infra.nats.url,
        nats_user="identity",
        nats_password=infra.nats_passwords["identity"],
        run_outbox_relay=False,
    )
