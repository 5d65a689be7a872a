"""The local servers (sotay_devstack.servers) start, bind 127.0.0.1 only and enforce auth.

Each server is started once for this module on free ports in a temporary directory.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import asyncpg
import httpx
import nats
import psutil
import pytest
import pytest_asyncio
from minio import Minio
from minio.error import S3Error
from nats.aio.client import Client as NATS
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig, StreamSource
from sotay_devstack.servers import (
    LOCALHOST,
    NATS_USERS,
    Caddy,
    Nats,
    Postgres,
    SeaweedS3,
    free_port,
    generate_secret,
    nats_inbox_prefix,
    nats_password_env,
    wait_until,
)
from sotay_devstack.testing import server_dir
from sotay_kit.topology import (
    ANALYTICS_READER_NATS_USER,
    OPERATOR_NATS_USER,
    PUBLIC_STREAM,
    PUBLIC_SUBJECTS,
    SERVICES,
)


def _listening(pid: int) -> set[tuple[str, int]]:
    """(ip, port) of every TCP socket in LISTEN state held by ``pid`` and its children."""
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    out = set()
    for p in procs:
        for c in p.net_connections(kind="inet"):
            if c.status == psutil.CONN_LISTEN:
                out.add((c.laddr.ip, c.laddr.port))
    return out


# ============================================================================================
# PostgreSQL
# ============================================================================================


@pytest.fixture(scope="session")
def pg() -> Iterator[Postgres]:
    with server_dir("pg") as root:
        server = Postgres(root, free_port(), "pg-" + generate_secret())
        server.start()
        yield server
        server.stop()


async def test_postgres_accepts_only_the_password(pg: Postgres) -> None:
    conn = await asyncpg.connect(pg.dsn())
    try:
        assert await conn.fetchval("SELECT 1") == 1
        assert await conn.fetchval("SHOW listen_addresses") == LOCALHOST
        assert await conn.fetchval("SHOW max_connections") == "300"
        assert await conn.fetchval("SHOW fsync") == "on"
        assert await conn.fetchval("SHOW server_encoding") == "UTF8"
    finally:
        await conn.close()
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(
            host=LOCALHOST, port=pg.port, user="postgres", password="wrong", database="postgres"
        )
    with pytest.raises(
        (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)
    ):
        await asyncpg.connect(
            host=LOCALHOST, port=pg.port, user="postgres", database="postgres", password=""
        )


def test_postgres_runs_unprivileged_and_local_only(pg: Postgres) -> None:
    assert pg.pid is not None
    if os.geteuid() == 0:
        assert psutil.Process(pg.pid).username() != "root"
    assert _listening(pg.pid) == {(LOCALHOST, pg.port)}


async def test_create_database_is_idempotent(pg: Postgres) -> None:
    assert pg.create_database("servers_test") is True
    assert pg.create_database("servers_test") is False
    conn = await asyncpg.connect(pg.dsn("servers_test"))
    try:
        assert await conn.fetchval("SELECT current_database()") == "servers_test"
    finally:
        await conn.close()
    with pytest.raises(ValueError, match="invalid database name"):
        pg.create_database('x"; DROP DATABASE postgres; --')


async def test_postgres_data_survives_stop_and_kill(pg: Postgres) -> None:
    pg.create_database("durable")
    conn = await asyncpg.connect(pg.dsn("durable"))
    await conn.execute("CREATE TABLE IF NOT EXISTS t (v text)")
    await conn.execute("INSERT INTO t VALUES ('committed')")
    await conn.close()

    first_pid = pg.pid
    pg.kill()
    assert not pg.alive
    pg.start()  # crash recovery on the same data directory
    assert pg.pid != first_pid
    pg.restart()  # clean stop + start
    conn = await asyncpg.connect(pg.dsn("durable"))
    try:
        assert await conn.fetchval("SELECT count(*) FROM t WHERE v = 'committed'") == 1
    finally:
        await conn.close()


# ============================================================================================
# NATS
# ============================================================================================


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nats]:
    passwords = {u: generate_secret() for u in NATS_USERS}
    server = Nats(tmp_path_factory.mktemp("nats"), free_port(), free_port(), passwords)
    server.start()
    yield server
    server.stop()


class Conn:
    """A NATS connection as one user, collecting the async errors (permission violations)."""

    def __init__(self, nc: NATS, errors: list[str], got_error: asyncio.Event) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.errors = errors
        self._got_error = got_error

    async def violation(self, timeout: float = 5) -> str:
        await asyncio.wait_for(self._got_error.wait(), timeout)
        return self.errors[-1].lower()

    def reset(self) -> None:
        self.errors.clear()
        self._got_error.clear()


async def _connect(server: Nats, user: str, password: str | None = None) -> Conn:
    errors: list[str] = []
    got_error = asyncio.Event()

    async def on_error(e: Exception) -> None:
        errors.append(str(e))
        got_error.set()

    nc = await nats.connect(
        server.url,
        user=user,
        password=server.password(user) if password is None else password,
        inbox_prefix=nats_inbox_prefix(user),
        error_cb=on_error,
        allow_reconnect=False,
        connect_timeout=5,
    )
    return Conn(nc, errors, got_error)


@pytest_asyncio.fixture(scope="session")
async def provisioned(nats_server: Nats) -> AsyncIterator[Nats]:
    """Streams as the platform has them: one per service, DLQ, PUBLIC sourced from the others."""
    op = await _connect(nats_server, OPERATOR_NATS_USER)
    try:
        for s in SERVICES:
            await op.js.add_stream(name=s.stream, subjects=[s.subjects])
        await op.js.add_stream(name="DLQ", subjects=["dlq.>"])
        await op.js.add_stream(
            StreamConfig(
                name=PUBLIC_STREAM,
                sources=[
                    StreamSource(name=stream, filter_subject=subject)
                    for subject in PUBLIC_SUBJECTS
                    for stream in ("DOCUMENTS", "MEETINGS")
                    if subject.startswith(stream.lower() + ".")
                ],
            )
        )
    finally:
        await op.nc.close()
    yield nats_server


def test_nats_binds_localhost_only(nats_server: Nats) -> None:
    assert nats_server.pid is not None
    assert _listening(nats_server.pid) == {
        (LOCALHOST, nats_server.port),
        (LOCALHOST, nats_server.monitor_port),
    }
    assert nats_server.url == f"nats://{LOCALHOST}:{nats_server.port}"
    pw = nats_server.password("identity")
    assert nats_server.url_for("identity") == f"nats://identity:{pw}@{LOCALHOST}:{nats_server.port}"
    assert nats_password_env("analytics_reader") == "NATS_PASSWORD_ANALYTICS_READER"
    with pytest.raises(ValueError, match="unknown NATS user"):
        nats_password_env("nobody")


async def _raw_connect(server: Nats, credentials: dict[str, str]) -> str:
    """Speak the NATS protocol directly: CONNECT + PING, return the server's answer line."""
    reader, writer = await asyncio.open_connection(LOCALHOST, server.port)
    try:
        info = await asyncio.wait_for(reader.readline(), 5)
        assert info.startswith(b"INFO ")
        assert json.loads(info[5:])["auth_required"] is True
        connect = {"verbose": False, "pedantic": False, "protocol": 1, **credentials}
        writer.write(b"CONNECT " + json.dumps(connect).encode() + b"\r\nPING\r\n")
        await writer.drain()
        return (await asyncio.wait_for(reader.readline(), 5)).decode().strip()
    finally:
        writer.close()
        await writer.wait_closed()


async def test_nats_refuses_anonymous_and_wrong_password(nats_server: Nats) -> None:
    assert await _raw_connect(nats_server, {}) == "-ERR 'Authorization Violation'"
    wrong = {"user": "identity", "pass": "wrong"}
    assert await _raw_connect(nats_server, wrong) == "-ERR 'Authorization Violation'"
    right = {"user": "identity", "pass": nats_server.password("identity")}
    assert await _raw_connect(nats_server, right) == "PONG"


async def test_operator_can_manage_streams(provisioned: Nats) -> None:
    op = await _connect(provisioned, OPERATOR_NATS_USER)
    try:
        info = await op.js.add_stream(name="OPS_SCRATCH", subjects=["ops.scratch.>"])
        assert info.config.name == "OPS_SCRATCH"
        assert await op.js.delete_stream("OPS_SCRATCH")
    finally:
        await op.nc.close()


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
async def test_service_publishes_only_its_own_subjects(provisioned: Nats, service: str) -> None:
    other = next(s for s in SERVICES if s.name != service)
    conn = await _connect(provisioned, service)
    try:
        ack = await conn.js.publish(f"{service}.thing.happened.v1", b"{}", timeout=5)
        assert ack.stream == service.upper()
        ack = await conn.js.publish(f"dlq.{service}.{service}-x", b"{}", timeout=5)
        assert ack.stream == "DLQ"

        # Denied publishes are dropped by the server, which reports them to the client.
        await conn.nc.publish(f"{other.name}.thing.happened.v1", b"{}")
        assert f'publish to "{other.name}.thing.happened.v1"' in await conn.violation()

        conn.reset()
        await conn.nc.publish(f"dlq.{other.name}.x", b"{}")
        assert f'publish to "dlq.{other.name}.x"' in await conn.violation()

        conn.reset()
        await conn.nc.subscribe(f"{other.name}.>")
        assert "permissions violation for subscription" in await conn.violation()

        conn.reset()
        await conn.nc.subscribe("_INBOX.>")  # the default inbox prefix is not its own
        assert "permissions violation for subscription" in await conn.violation()

        conn.reset()
        body = json.dumps({"name": "EVIL", "subjects": ["evil.>"]}).encode()
        await conn.nc.publish("$JS.API.STREAM.CREATE.EVIL", body, reply=conn.nc.new_inbox())
        assert 'publish to "$js.api.stream.create.evil"' in await conn.violation()
    finally:
        await conn.nc.close()


async def test_service_pulls_acks_and_naks_its_durable(provisioned: Nats) -> None:
    """The exact subjects nats-py uses for a bound pull consumer are allowed."""
    op = await _connect(provisioned, OPERATOR_NATS_USER)
    meetings = await _connect(provisioned, "meetings")
    identity = await _connect(provisioned, "identity")
    try:
        await op.js.add_consumer(
            "IDENTITY",
            ConsumerConfig(
                durable_name="meetings",
                ack_policy=AckPolicy.EXPLICIT,
                filter_subject="identity.member.>",
            ),
        )
        await identity.js.publish("identity.member.created.v1", b'{"n": 1}', timeout=5)
        assert (await meetings.js.account_info()).streams >= 1
        assert (await meetings.js.stream_info("IDENTITY")).state.messages >= 1

        sub = await meetings.js.pull_subscribe(
            "identity.member.>", durable="meetings", stream="IDENTITY"
        )
        [msg] = await sub.fetch(1, timeout=5)
        assert msg.reply.startswith("$JS.ACK.IDENTITY.meetings.")
        await msg.in_progress()
        await msg.nak(delay=0.05)
        [again] = await sub.fetch(1, timeout=5)
        assert again.metadata.num_delivered == 2
        await again.ack_sync(timeout=5)
        info = await meetings.js.consumer_info("IDENTITY", "meetings")
        assert (info.num_ack_pending, info.num_pending) == (0, 0)
        assert meetings.errors == []

        # Another service's durable is out of reach: taking its events would lose them.
        await op.js.add_consumer(
            "IDENTITY", ConsumerConfig(durable_name="notify", ack_policy=AckPolicy.EXPLICIT)
        )
        meetings.reset()
        with pytest.raises(nats.errors.TimeoutError):
            await meetings.js.consumer_info("IDENTITY", "notify", timeout=0.5)
        assert "permissions violation for publish" in await meetings.violation()

        # Creating consumers is the operator's job.
        with pytest.raises(nats.errors.TimeoutError):
            await meetings.js.add_consumer(
                "IDENTITY", ConsumerConfig(durable_name="meetings-rogue"), timeout=0.5
            )
        assert 'publish to "$js.api.consumer.durable.create.identity.meetings-rogue"' in (
            await meetings.violation()
        )
    finally:
        for c in (op, meetings, identity):
            await c.nc.close()


async def test_analytics_reader_reads_public_only(provisioned: Nats) -> None:
    documents = await _connect(provisioned, "documents")
    reader = await _connect(provisioned, ANALYTICS_READER_NATS_USER)
    op = await _connect(provisioned, OPERATOR_NATS_USER)
    try:
        await documents.js.publish("documents.document.read.v1", b'{"public": true}', timeout=5)
        await documents.js.publish(
            "documents.document.uploaded.v1", b'{"public": false}', timeout=5
        )

        # The operator provisions the external team's durable; the reader only pulls and acks.
        await op.js.add_consumer(
            PUBLIC_STREAM,
            ConsumerConfig(durable_name="ext-servers-test", ack_policy=AckPolicy.EXPLICIT),
        )
        sub = await reader.js.pull_subscribe_bind("ext-servers-test", stream=PUBLIC_STREAM)
        [msg] = await sub.fetch(1, timeout=10)  # sourcing into PUBLIC is asynchronous
        assert msg.subject == "documents.document.read.v1"
        await msg.ack_sync(timeout=5)
        assert reader.errors == []

        await reader.nc.publish("documents.document.read.v1", b"{}")
        assert "permissions violation for publish" in await reader.violation()

        reader.reset()
        await reader.nc.publish("anything.at.all", b"x")
        assert "permissions violation for publish" in await reader.violation()

        reader.reset()
        with pytest.raises(nats.errors.TimeoutError):
            await reader.js.add_consumer(
                "DOCUMENTS", ConsumerConfig(durable_name="ext-sneaky"), timeout=0.5
            )
        assert 'publish to "$js.api.consumer.durable.create.documents.ext-sneaky"' in (
            await reader.violation()
        )

        # Not even on PUBLIC: a push consumer's deliver subject is not checked against the
        # creator's permissions, so creating one would let the reader write into any subject.
        reader.reset()
        with pytest.raises(nats.errors.TimeoutError):
            await reader.js.add_consumer(
                PUBLIC_STREAM,
                ConsumerConfig(durable_name="ext-push", deliver_subject="identity.evil"),
                timeout=0.5,
            )
        assert "permissions violation for publish" in await reader.violation()

        reader.reset()
        await reader.nc.subscribe("documents.>")
        assert "permissions violation for subscription" in await reader.violation()
    finally:
        await documents.nc.close()
        await reader.nc.close()
        await op.nc.close()


async def test_jetstream_survives_restart_and_kill(provisioned: Nats) -> None:
    conn = await _connect(provisioned, "notify")
    ack = await conn.js.publish("notify.durable.check.v1", b"kept", timeout=5)
    await conn.nc.close()

    port = provisioned.port
    provisioned.kill()
    provisioned.start()
    provisioned.restart()
    assert provisioned.port == port

    op = await _connect(provisioned, OPERATOR_NATS_USER)
    try:
        msg = await op.js.get_msg("NOTIFY", ack.seq)
        assert msg.data == b"kept"
    finally:
        await op.nc.close()


# ============================================================================================
# SeaweedFS S3
# ============================================================================================


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    server = SeaweedS3(
        tmp_path_factory.mktemp("s3"), free_port(), "AK" + generate_secret(9), generate_secret()
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bucket(s3: SeaweedS3) -> str:
    client = s3.client()
    client.make_bucket("servers-test")
    client.put_object("servers-test", "doc.txt", io.BytesIO(b"hello s3"), 8)
    return "servers-test"


def test_s3_binds_only_chosen_localhost_ports(s3: SeaweedS3) -> None:
    assert s3.pid is not None
    listening = _listening(s3.pid)
    assert {ip for ip, _ in listening} == {LOCALHOST}
    assert {port for _, port in listening} == set(s3.all_ports().values())
    assert s3.endpoint == f"{LOCALHOST}:{s3.s3_port}"


def test_s3_with_keys_reads_and_writes(s3: SeaweedS3, bucket: str) -> None:
    client = s3.client()
    assert client.bucket_exists(bucket)
    assert client.get_object(bucket, "doc.txt").read() == b"hello s3"
    assert [o.object_name for o in client.list_objects(bucket)] == ["doc.txt"]


def test_s3_refuses_anonymous_requests(s3: SeaweedS3, bucket: str) -> None:
    with httpx.Client(base_url=s3.url, timeout=5) as http:
        assert http.get(f"/{bucket}/doc.txt").status_code == 403
        assert http.get("/").status_code == 403
        assert http.put(f"/{bucket}/anon.txt", content=b"x").status_code == 403
    assert not any(o.object_name == "anon.txt" for o in s3.client().list_objects(bucket))


def test_s3_refuses_wrong_keys(s3: SeaweedS3, bucket: str) -> None:
    wrong_secret = Minio(
        s3.endpoint,
        access_key=s3.access_key,
        secret_key="not-the-secret",
        secure=False,
        region="us-east-1",
    )
    with pytest.raises(S3Error) as e:
        wrong_secret.get_object(bucket, "doc.txt")
    assert e.value.code in {"SignatureDoesNotMatch", "AccessDenied"}

    wrong_key = Minio(
        s3.endpoint,
        access_key="AKNOTAKEY",
        secret_key=s3.secret_key,
        secure=False,
        region="us-east-1",
    )
    with pytest.raises(S3Error) as e:
        wrong_key.list_buckets()
    assert e.value.code in {"InvalidAccessKeyId", "AccessDenied"}


def test_s3_refuses_expired_presigned_url(s3: SeaweedS3, bucket: str) -> None:
    client = s3.client()
    fresh = client.presigned_get_object(bucket, "doc.txt", expires=timedelta(minutes=5))
    expired = client.presigned_get_object(
        bucket,
        "doc.txt",
        expires=timedelta(seconds=60),
        request_date=datetime.now(UTC) - timedelta(minutes=10),
    )
    with httpx.Client(timeout=5) as http:
        ok = http.get(fresh)
        assert (ok.status_code, ok.content) == (200, b"hello s3")
        assert http.get(expired).status_code == 403
        tampered = fresh.replace("doc.txt", "doc.txt?x=1") if "?" not in fresh else fresh + "0"
        assert http.get(tampered).status_code == 403


# ============================================================================================
# Caddy
# ============================================================================================


class _Upstream(BaseHTTPRequestHandler):
    seen: list[dict[str, str | None]] = []  # noqa: RUF012

    def do_GET(self) -> None:
        if self.path == "/healthz":
            body = b'{"status":"ok"}'
        else:
            type(self).seen.append({"path": self.path, "request_id": self.headers["X-Request-Id"]})
            payload: dict[str, object] = {"path": self.path}
            if self.path.endswith("/big"):
                payload["items"] = ["đảng viên"] * 500
            body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-Id", "upstream-must-not-leak")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        # Like a service, read the whole body, then answer with its size.
        size = int(self.headers.get("Content-Length") or 0)
        received = len(self.rfile.read(size)) if size else 0
        body = json.dumps({"path": self.path, "received": received}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


APP_INDEX = '<!doctype html><html lang="vi"><title>Sổ tay Đảng viên</title></html>\n'


@pytest.fixture(scope="session")
def upstream() -> Iterator[int]:
    server = ThreadingHTTPServer((LOCALHOST, 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def caddy(tmp_path_factory: pytest.TempPathFactory, upstream: int) -> Iterator[Caddy]:
    # A stand-in for the built web app, so these tests do not depend on whether the client
    # was built (the real app is served and checked in tests/test_web_app.py).
    app = tmp_path_factory.mktemp("web")
    (app / "index.html").write_text(APP_INDEX, encoding="utf-8")
    (app / "assets").mkdir()
    (app / "assets" / "app-3f2a.js").write_text("export {};\n", encoding="utf-8")
    server = Caddy(
        free_port(),
        free_port(),
        {"identity": upstream},
        tmp_path_factory.mktemp("caddy"),
        web_root=app,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def gateway(caddy: Caddy) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=caddy.url, timeout=15) as client:
        yield client


def test_gateway_routes_resources_to_their_service(gateway: httpx.Client) -> None:
    for path in (
        "/api/v1/orgs",
        "/api/v1/orgs/42/children?limit=5",
        "/api/v1/identity/openapi.json",
    ):
        r = gateway.get(path)
        assert r.status_code == 200, (path, r.text)
        assert r.json()["path"] == path
        request_id = r.headers["X-Request-Id"]
        assert uuid.UUID(request_id)
        assert _Upstream.seen[-1] == {"path": path, "request_id": request_id}
        assert r.headers.get_list("X-Request-Id") == [request_id]


def test_gateway_keeps_a_client_request_id(gateway: httpx.Client) -> None:
    r = gateway.get("/api/v1/me", headers={"X-Request-Id": "client-abc.123"})
    assert r.status_code == 200
    assert r.headers["X-Request-Id"] == "client-abc.123"
    assert _Upstream.seen[-1]["request_id"] == "client-abc.123"
    # A malformed one is replaced.
    r = gateway.get("/api/v1/me", headers={"X-Request-Id": "bad id\twith spaces" + "x" * 200})
    assert uuid.UUID(r.headers["X-Request-Id"])


def test_gateway_serves_the_app_outside_the_api(gateway: httpx.Client) -> None:
    # The app's own paths (and names a service answers on its own port) get index.html, never
    # a service's metrics or health; a missing hashed asset is a 404, never index.html.
    for path in ("/", "/nope", "/meetings/42", "/metrics", "/healthz"):
        r = gateway.get(path)
        assert r.status_code == 200, path
        assert r.text == APP_INDEX, path
        assert r.headers["Cache-Control"] == "no-cache", path
        assert uuid.UUID(r.headers["X-Request-Id"])
    r = gateway.get("/assets/app-3f2a.js")
    assert r.status_code == 200
    assert "immutable" in r.headers["Cache-Control"]
    r = gateway.get("/assets/app-0000.js")
    assert r.status_code == 404
    assert r.text != APP_INDEX


def test_gateway_unknown_api_path_is_problem_json(gateway: httpx.Client) -> None:
    for path in ("/api/v1/orgsX", "/api/v2/orgs", "/api/metrics", "/api/"):
        r = gateway.get(path)
        assert r.status_code == 404, path
        assert r.headers["Content-Type"] == "application/problem+json"
        body = r.json()
        assert body["status"] == 404
        assert {"type", "title", "status", "detail"} <= body.keys()
        assert uuid.UUID(r.headers["X-Request-Id"])


def test_gateway_refuses_oversized_bodies_except_uploads(gateway: httpx.Client) -> None:
    r = gateway.post("/api/v1/orgs", content=b"x" * (1024 * 1024 + 1))
    assert r.status_code == 413
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["status"] == 413
    # A CSV import may be larger (16 MB at the service): the gateway passes all of it on.
    r = gateway.post("/api/v1/members/import", content=b"x" * (2 * 1024 * 1024))
    assert r.status_code == 200
    assert r.json()["received"] == 2 * 1024 * 1024


def test_gateway_upstream_down_is_problem_json(gateway: httpx.Client) -> None:
    r = gateway.get("/api/v1/meetings")  # no meetings upstream in this test
    assert r.status_code in {502, 503}
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["status"] == r.status_code
    assert uuid.UUID(r.headers["X-Request-Id"])


def test_gateway_compresses_json(caddy: Caddy, gateway: httpx.Client) -> None:
    r = gateway.get("/api/v1/orgs/big", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["Content-Encoding"] == "gzip"
    assert len(r.json()["items"]) == 500  # httpx decoded it
    with httpx.stream(
        "GET", f"{caddy.url}/api/v1/orgs/big", headers={"Accept-Encoding": "gzip"}
    ) as raw:
        assert raw.headers["Content-Encoding"] == "gzip"
        compressed = b"".join(raw.iter_raw())
    assert json.loads(gzip.decompress(compressed))["path"] == "/api/v1/orgs/big"


def test_gateway_metrics_are_private_and_logs_are_json(caddy: Caddy, gateway: httpx.Client) -> None:
    assert caddy.pid is not None
    listening = _listening(caddy.pid)
    assert {ip for ip, _ in listening} == {LOCALHOST}
    assert {caddy.port, caddy.admin_port, caddy.metrics_port} <= {p for _, p in listening}

    r = gateway.get("/api/v1/orgs", headers={"Authorization": "Bearer top-secret-token"})
    request_id = r.headers["X-Request-Id"]
    metrics = httpx.get(caddy.metrics_url, timeout=5)
    assert metrics.status_code == 200
    assert "caddy_http_requests_total" in metrics.text

    def logged() -> list[dict[str, object]]:
        if not caddy.access_log.exists():
            return []
        entries = [json.loads(line) for line in caddy.access_log.read_text().splitlines()]
        return [e for e in entries if e.get("request_id") == request_id]

    [entry] = wait_until(logged, 10, what="the access log entry")
    assert entry["status"] == 200
    assert entry["resp_headers"]["X-Request-Id"] == [request_id]  # type: ignore[index]
    assert "top-secret-token" not in caddy.access_log.read_text()


def test_helpers_wait_until_times_out() -> None:
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="never"):
        wait_until(lambda: False, 0.2, what="never")
    assert time.monotonic() - start < 2
