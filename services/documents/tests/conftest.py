"""Fixtures for the documents service: the app on a fresh migrated database with real NATS and
S3, a small org tree fed to its identity projection through real identity events, and tokens
the service trusts."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
import pytest_asyncio
from minio import Minio
from nats.aio.client import Client as NATS
from sotay_contracts import Event, new_cloud_event
from sotay_contracts.events import identity as ev
from sotay_devstack.testing import Infra, S3Info
from sotay_documents.app import SPEC, create_app
from sotay_documents.settings import DocumentsSettings
from sotay_kit import messaging
from sotay_kit.testing.databases import DatabaseFactory
from sotay_kit.testing.harness import Harness, run_service, test_settings
from sotay_kit.testing.pdf import make_pdf

RESOLUTION_LINES = [
    "Nghị quyết số 21-NQ/TW",
    "về tăng cường củng cố, xây dựng tổ chức cơ sở đảng",
    "và nâng cao chất lượng đội ngũ đảng viên trong giai đoạn mới",
]

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

# name: (parent, path, kind)
ORGS = {
    "province": (None, "1", "province"),
    "district_a": ("province", "1.2", "district"),
    "commune_a1": ("district_a", "1.2.3", "grassroots_committee"),
    "cell_a1a": ("commune_a1", "1.2.3.4", "cell"),
    "cell_a1b": ("commune_a1", "1.2.3.5", "cell"),
    "district_b": ("province", "1.6", "district"),
    "cell_b1": ("district_b", "1.6.7", "grassroots_cell"),
}
# name: (cell, grants as (role, org))
MEMBERS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "admin": ("cell_a1a", (("org_admin", "province"),)),
    "secretary_a1a": ("cell_a1a", (("cell_secretary", "cell_a1a"),)),
    "member_a1a_1": ("cell_a1a", ()),
    "member_a1a_2": ("cell_a1a", ()),
    "member_a1b": ("cell_a1b", ()),
    "secretary_b1": ("cell_b1", (("cell_secretary", "cell_b1"),)),
    "member_b1": ("cell_b1", ()),
}


@dataclass(kw_only=True)
class Env(Harness[DocumentsSettings]):
    s3: Minio
    nc: NATS
    org_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    member_ids: dict[str, uuid.UUID] = field(default_factory=dict)

    def path(self, org: str) -> str:
        return ORGS[org][1]

    def auth(self, name: str, **overrides: Any) -> dict[str, str]:
        cell, grants = MEMBERS[name]
        claims: dict[str, Any] = {
            "member_id": self.member_ids[name],
            "cell_id": self.org_ids[cell],
            "org_path": self.path(cell),
            "grants": [{"role": r, "org_path": self.path(o)} for r, o in grants],
            "issuer": self.settings.token_issuer,
            "audience": self.settings.token_audience,
        }
        claims.update(overrides)
        return {"authorization": f"Bearer {self.tokens.mint(**claims)}"}

    def configure(self, **changes: Any) -> None:
        """Change settings of the running app (e.g. a tiny URL lifetime or upload cap)."""
        self.settings = self.settings.model_copy(update=changes)
        self.app.state.resources.settings = self.settings

    def objects(self) -> list[str]:
        return [o.object_name for o in self.s3.list_objects(self.settings.bucket, recursive=True)]

    async def upload(
        self,
        who: str,
        content: bytes,
        filename: str = "van-ban.pdf",
        *,
        expect: int = 201,
        **fields: Any,
    ) -> Any:
        data = {"title": "Văn bản thử nghiệm", "kind": "resolution", **fields}
        response = await self.client.post(
            "/api/v1/documents",
            data=data,
            files={"file": (filename, content, "application/octet-stream")},
            headers=self.auth(who),
        )
        assert response.status_code == expect, response.text
        return response.json() if expect == 201 else response

    async def publish(self, who: str, document_id: str, *orgs: str, **body: Any) -> Any:
        response = await self.client.post(
            f"/api/v1/documents/{document_id}/publish",
            json={"org_ids": [str(self.org_ids[o]) for o in orgs], **body},
            headers=self.auth(who),
        )
        assert response.status_code == 201, response.text
        return response.json()


def identity_history(
    org_ids: dict[str, uuid.UUID], member_ids: dict[str, uuid.UUID]
) -> list[Event]:
    events: list[Event] = []
    for name, (parent, path, kind) in ORGS.items():
        events.append(
            ev.OrgCreated(
                org_id=org_ids[name],
                parent_id=org_ids[parent] if parent else None,
                path=path,
                kind=ev.OrgKind(kind),
                title=f"Tổ chức {name}",
                status=ev.OrgStatus.ACTIVE,
                valid_from=date(2026, 1, 1),
                revision=1,
                occurred_at=NOW,
            )
        )
    for name, (cell, _) in MEMBERS.items():
        events.append(
            ev.MemberCreated(
                member_id=member_ids[name],
                cell_id=org_ids[cell],
                org_path=ORGS[cell][1],
                membership=ev.Membership.OFFICIAL,
                status=ev.MemberStatus.ACTIVE,
                revision=1,
                occurred_at=NOW,
            )
        )
    return events


async def wait_until(predicate: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@pytest.fixture
def pdf() -> Any:
    """``pdf([lines])`` → the bytes of a small valid PDF with that (Vietnamese) text."""
    return make_pdf


@pytest.fixture
def resolution() -> bytes:
    return make_pdf(RESOLUTION_LINES)


@pytest_asyncio.fixture
async def env(
    infra: Infra, s3: S3Info, make_database: DatabaseFactory, nats_operator: NATS
) -> AsyncIterator[Env]:
    dsn = await make_database("documents", SPEC.versions_dir)
    js = nats_operator.jetstream()
    org_ids = {name: uuid.uuid4() for name in ORGS}
    member_ids = {name: uuid.uuid4() for name in MEMBERS}
    for event in identity_history(org_ids, member_ids):
        ce = new_cloud_event(event)
        await js.publish(ce.nats_subject, ce.data, headers=ce.to_nats_headers())
    await messaging.provision(js, [], [b.spec for b in SPEC.consumers])
    settings = test_settings(
        DocumentsSettings,
        "documents",
        database_url=dsn,
        nats_url=infra.nats.url,
        nats_password=infra.nats_passwords["documents"],
        s3_endpoint=s3.endpoint,
        s3_access_key=s3.access_key,
        s3_secret_key=s3.secret_key,
        bucket=f"docs-{uuid.uuid4().hex[:12]}",  # a bucket per test, created by the service
        run_outbox_relay=True,  # the study tests read the relayed events on the stream
    )
    async with run_service(
        create_app(settings),
        settings,
        base_url="http://documents",
        client_address=("198.51.100.7", 40000),
    ) as harness:
        env = Env(
            **harness.fields(),
            s3=s3.server.client(),
            nc=nats_operator,
            org_ids=org_ids,
            member_ids=member_ids,
        )

        async def projected() -> bool:
            n = await env.pool.fetchval("SELECT count(*) FROM idp_members")
            return bool(n == len(MEMBERS))

        await wait_until(projected, "the identity projection")
        yield env


async def post_news(env: Env, who: str, *orgs: str) -> str:
    posted = await env.client.post(
        "/api/v1/news",
        json={
            "title": "Thông báo của Tỉnh ủy",
            "body": "Nội dung.",
            "org_ids": [str(env.org_ids[o]) for o in orgs],
        },
        headers=env.auth(who),
    )
    assert posted.status_code == 201, posted.text
    return str(posted.json()["id"])
