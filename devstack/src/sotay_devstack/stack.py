"""The local stack: every server and service of the platform on one machine, no Docker.

``python -m sotay_devstack run`` (what ``make run`` calls) starts PostgreSQL, NATS, S3 and
the gateway from their pip wheels, applies every service's migrations, provisions streams,
consumers and buckets, starts the five services under a supervisor that restarts a crashed
one, waits until all are ready, writes ``.data/stack.json`` and stops everything on Ctrl-C.
The servers are supervised like the services (:mod:`sotay_devstack.supervisor`): a crashed
PostgreSQL, NATS, S3 or Caddy comes back on the same ports and data.
The same :class:`Stack` runs the end-to-end tests.

``scale=2`` (``make run SCALE=2``, docs/scaling.md) runs two replicas of every service behind
the gateway, which balances them and health-checks each on ``/readyz``, and NATS as a 3-node
cluster whose streams are replicated on the three nodes (R3, ``sync_interval: always``);
``stack.json`` lists every replica and node with its URL and pid. ``workers`` runs each
service process with that many uvicorn workers (one by default).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from minio import Minio
from sotay_analytics.app import SPEC as ANALYTICS
from sotay_documents.app import SPEC as DOCUMENTS
from sotay_identity.app import SPEC as IDENTITY
from sotay_identity.settings import IdentitySettings
from sotay_kit import messaging, migrations
from sotay_kit.app import ServiceSpec
from sotay_kit.messaging import ConsumerSpec
from sotay_kit.provision import consumers_of
from sotay_kit.topology import (
    GATEWAY_DEFAULT_PORT,
    OPERATOR_NATS_USER,
    SERVICES,
    ServiceInfo,
)
from sotay_meetings.app import SPEC as MEETINGS
from sotay_notify.app import SPEC as NOTIFY

from . import demo as demo_province
from .demo import Size as DemoSize
from .demo_month import MonthSummary
from .demo_month import load_month as load_demo_month
from .servers import (
    NATS_USERS,
    Caddy,
    ManagedProcess,
    Nats,
    Postgres,
    SeaweedS3,
    free_port,
    generate_secret,
    wait_for_port,
)
from .supervisor import Supervisor, Unit

log = logging.getLogger("sotay.stack")

DOCUMENTS_BUCKET = "sotay-documents"


#: Every service's spec, by the name the topology gives it.
SPECS: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        IDENTITY,
        DOCUMENTS,
        MEETINGS,
        NOTIFY,
        ANALYTICS,
    )
}


def all_consumers() -> list[ConsumerSpec]:
    return consumers_of(SPECS.values())


def _vapid_private_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Secrets:
    """Credentials the stack generates once into ``.data/secrets.json`` (mode 0600)."""

    postgres_password: str
    nats_passwords: dict[str, str]
    s3_access_key: str
    s3_secret_key: str
    # identity's data key (AES-256-GCM at rest), base64
    data_key: str = ""
    # notify's VAPID key (Web Push, RFC 8292): base64url raw P-256 private scalar
    vapid_private_key: str = ""

    @classmethod
    def load_or_create(cls, path: Path) -> Secrets:
        if path.exists():
            data = json.loads(path.read_text())
            secrets_ = cls(**data)
            for user in NATS_USERS:  # a user added since the file was written
                secrets_.nats_passwords.setdefault(user, generate_secret())
            if not secrets_.vapid_private_key:  # a file written before notify had one
                secrets_.vapid_private_key = _vapid_private_key()
        else:
            secrets_ = cls(
                postgres_password=generate_secret(),
                nats_passwords={u: generate_secret() for u in NATS_USERS},
                s3_access_key="sotay" + generate_secret(8),
                s3_secret_key=generate_secret(32),
                data_key=base64.b64encode(secrets.token_bytes(32)).decode(),
                vapid_private_key=_vapid_private_key(),
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(secrets_.__dict__, indent=2))
        os.chmod(path, 0o600)
        return secrets_


@dataclass
class ServiceProcess:
    info: ServiceInfo
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    workers: int = 1
    replica: int = 1  # 1, 2 …: which of the service's replicas

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.proc.poll() if self.proc is not None else None

    def kill(self) -> None:
        """SIGKILL what is left of the process group, and reap the process."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def start(self) -> None:
        out = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                self.info.app_factory,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "10",
                *(["--workers", str(self.workers)] if self.workers > 1 else []),
            ],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@dataclass
class Stack:
    data_dir: Path
    gateway_port: int = GATEWAY_DEFAULT_PORT
    service_ports: Mapping[str, int] = field(default_factory=dict)
    quiet: bool = False
    environment: str = "local"
    demo: DemoSize | None = "small"  # the demo province's size; None loads nothing
    # A month of activity in the demo province (meetings, documents, news, notifications),
    # played through the running services once they are up (sotay_devstack.demo_month).
    demo_month: bool = True
    # Replicas of every service (2: NATS runs as a 3-node cluster too) and uvicorn workers
    # per replica.
    scale: int = 1
    workers: int = 1

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.secrets = Secrets.load_or_create(self.data_dir / "secrets.json")
        self.logs = self.data_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pg: Postgres | None = None
        self.nats: Nats | None = None  # the first node when NATS is a cluster
        self.nats_nodes: list[Nats] = []
        self.s3: SeaweedS3 | None = None
        self.caddy: Caddy | None = None
        self.services: dict[str, ServiceProcess] = {}  # each service's first replica
        self.replicas: dict[str, list[ServiceProcess]] = {}
        self.ports: dict[str, int] = {}
        # What the demo month did, when this start loaded it.
        self.demo_month_summary: MonthSummary | None = None
        self.supervisor = Supervisor(
            self.logs / "supervisor.log", say=self._say, on_restart=self._after_restart
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def _start(self) -> None:
        s = self.secrets
        self._say("▸ PostgreSQL …")
        self.pg = Postgres(self.data_dir / "postgres", free_port(), s.postgres_password)
        self.pg.start()
        for svc in SERVICES:
            self.pg.create_database(svc.database)
        self._say("▸ migrations …")
        for svc in SERVICES:
            migrations.upgrade(self.pg.dsn(svc.database), SPECS[svc.name].versions_dir)
        if self.demo is not None:
            self._load_demo(self.demo)
        self._start_nats()
        asyncio.run(self._provision_nats())
        self._say("▸ S3 storage …")
        self.s3 = SeaweedS3(self.data_dir / "s3", free_port(), s.s3_access_key, s.s3_secret_key)
        self.s3.start()
        self._provision_buckets()
        self._say("▸ services …")
        self.ports = {s.name: self.service_ports.get(s.name) or free_port() for s in SERVICES}
        for svc in SERVICES:
            for replica in range(1, self.scale + 1):
                port = self.ports[svc.name] if replica == 1 else free_port()
                suffix = "" if replica == 1 else f"-{replica}"
                proc = ServiceProcess(
                    svc,
                    port,
                    self._service_env(svc, port),
                    self.logs / f"{svc.name}{suffix}.log",
                    workers=self.workers,
                    replica=replica,
                )
                proc.start()
                self.replicas.setdefault(svc.name, []).append(proc)
            self.services[svc.name] = self.replicas[svc.name][0]
        self._wait_ready(timeout=90 * self.scale)
        self._say("▸ gateway …")
        self.caddy = Caddy(
            self.gateway_port,
            free_port(),
            {name: [p.port for p in procs] for name, procs in self.replicas.items()},
            self.logs,
            s3=self.s3.endpoint,
        )
        self.caddy.start()
        self.write_description()
        for name, server in self.servers().items():
            self.supervisor.watch("server", name, server)
        for proc in self.service_processes():
            self.supervisor.watch("service", self.unit_name(proc), proc)
        self.supervisor.start()
        if self.demo is not None and self.demo_month:
            self._load_demo_month(self.demo)

    def _start_nats(self) -> None:
        s = self.secrets
        if self.scale == 1:
            self._say("▸ NATS JetStream …")
            self.nats = Nats(self.data_dir / "nats", free_port(), free_port(), s.nats_passwords)
            self.nats.start()
            self.nats_nodes = [self.nats]
            return
        self._say("▸ NATS JetStream, a cluster of 3 nodes …")
        cluster_ports = [free_port() for _ in range(3)]
        self.nats_nodes = [
            Nats(
                self.data_dir / f"nats-{i + 1}",
                free_port(),
                free_port(),
                s.nats_passwords,
                server_name=f"nats-{i + 1}",
                cluster_port=port,
                routes=[p for p in cluster_ports if p != port],
            )
            for i, port in enumerate(cluster_ports)
        ]
        for node in self.nats_nodes:  # a node is ready only once the cluster has formed
            node.launch()
        for node in self.nats_nodes:
            node.wait_ready(timeout=60)
        self.nats = self.nats_nodes[0]

    @property
    def nats_url(self) -> str:
        """Every NATS node's client URL, comma-separated (services connect to any)."""
        return ",".join(node.url for node in self.nats_nodes)

    def service_processes(self) -> list[ServiceProcess]:
        """Every replica of every service."""
        return [proc for procs in self.replicas.values() for proc in procs]

    @staticmethod
    def unit_name(proc: ServiceProcess) -> str:
        """``identity`` for a service's first replica, ``identity-2`` for the second …"""
        return proc.info.name if proc.replica == 1 else f"{proc.info.name}-{proc.replica}"

    def servers(self) -> dict[str, Postgres | Nats | SeaweedS3 | Caddy]:
        """The servers started so far, by name (``nats-1`` … for a cluster's nodes)."""
        servers: dict[str, Postgres | Nats | SeaweedS3 | Caddy | None] = {"postgres": self.pg}
        if len(self.nats_nodes) > 1:
            servers.update({node.server_name or "": node for node in self.nats_nodes})
        else:
            servers["nats"] = self.nats
        servers.update({"s3": self.s3, "caddy": self.caddy})
        return {name: server for name, server in servers.items() if server is not None}

    def stop(self) -> None:
        self.supervisor.stop()
        if self.caddy is not None:
            self.caddy.stop()
        for proc in self.service_processes():
            proc.stop()
        for server in (self.s3, *self.nats_nodes, self.pg):
            if server is not None:
                server.stop()
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / "stack.json").unlink()

    # -- provisioning ------------------------------------------------------------------------

    async def _provision_nats(self) -> None:
        assert self.nats is not None
        nc = await messaging.connect(self.nats.url_for(OPERATOR_NATS_USER), name="provision")
        try:
            report = await messaging.provision(
                nc.jetstream(),
                messaging.platform_streams(),
                all_consumers(),
                replicas=3 if len(self.nats_nodes) == 3 else 1,
            )
            log.info("provisioned", extra={"new": report.created, "updated": report.updated})
        finally:
            await nc.close()

    def _load_demo(self, size: DemoSize) -> None:
        """The demo province, loaded when identity's database is empty."""
        assert self.pg is not None
        dsn = self.pg.dsn("identity")
        settings = IdentitySettings(database_url=dsn, data_key=self.secrets.data_key)
        creds = asyncio.run(demo_province.load(dsn, settings, size))
        path = self.data_dir / "demo-credentials.json"
        if creds is not None:
            path.touch(mode=0o600, exist_ok=True)
            path.write_text(json.dumps(creds, ensure_ascii=False, indent=2))
            os.chmod(path, 0o600)
            counts = creds["counts"]
            self._say(
                f"▸ demo province loaded: {counts['orgs']} org units, {counts['cells']} "
                f"cells, {counts['members']} members"
            )

    def _load_demo_month(self, size: DemoSize) -> None:
        """The demo month, played through the services once (see :mod:`.demo_month`)."""
        assert self.pg is not None and self.caddy is not None
        creds_path = self.data_dir / "demo-credentials.json"
        if not creds_path.exists():
            return
        dsns = {svc.name: self.pg.dsn(svc.database) for svc in SERVICES}
        settings = IdentitySettings(database_url=dsns["identity"], data_key=self.secrets.data_key)
        self._say("▸ demo month …")
        try:
            summary = asyncio.run(
                load_demo_month(
                    f"http://localhost:{self.gateway_port}",
                    dsns,
                    settings,
                    json.loads(creds_path.read_text()),
                    size,
                )
            )
        except Exception as exc:
            # The platform is up and usable without the month: say what went wrong, go on.
            log.exception("demo month failed")
            self._say(f"▸ demo month failed, the platform runs without it: {exc}")
            return
        if summary is None:
            self._say("▸ demo month: already loaded")
            return
        self.demo_month_summary = summary
        self._say(
            f"▸ demo month loaded in {summary.seconds:.1f} s: {summary.documents} documents, "
            f"{summary.news} news, {summary.cells} cells with {summary.past_meetings} past and "
            f"{summary.upcoming_meetings} upcoming meetings, {summary.replies} replies, "
            f"{summary.reads} reads; a consultation with {summary.consultation_comments} "
            f"comments, {summary.quiz_passed} quiz passes in {summary.quiz_attempts} attempts, "
            f"a review period with {summary.self_assessments} self-assessments"
        )

    def _provision_buckets(self) -> None:
        assert self.s3 is not None
        client = Minio(
            self.s3.endpoint,
            access_key=self.secrets.s3_access_key,
            secret_key=self.secrets.s3_secret_key,
            secure=False,
        )
        if not client.bucket_exists(DOCUMENTS_BUCKET):
            client.make_bucket(DOCUMENTS_BUCKET)

    def _service_env(self, svc: ServiceInfo, port: int) -> dict[str, str]:
        assert self.pg is not None and self.nats is not None and self.s3 is not None
        p = svc.env_prefix
        identity_port = self.ports["identity"]
        env = {k: v for k, v in os.environ.items() if not k.endswith("_PASSWORD")}
        env.update(
            {
                f"{p}ENVIRONMENT": self.environment,
                f"{p}PORT": str(port),
                f"{p}DATABASE_URL": self.pg.dsn(svc.database),
                f"{p}NATS_URL": self.nats_url,
                f"{p}NATS_USER": svc.nats_user,
                f"{p}NATS_PASSWORD": self.secrets.nats_passwords[svc.nats_user],
                f"{p}S3_ENDPOINT": self.s3.endpoint,
                f"{p}S3_ACCESS_KEY": self.secrets.s3_access_key,
                f"{p}S3_SECRET_KEY": self.secrets.s3_secret_key,
            }
        )
        if svc.name == "identity":
            env[f"{p}DATA_KEY"] = self.secrets.data_key
        if svc.name == "documents":
            # Download links are signed for the gateway, which routes the bucket to S3: the file
            # is then same-origin for the app, which keeps it offline.
            env[f"{p}S3_PUBLIC_ENDPOINT"] = f"localhost:{self.gateway_port}"
            env[f"{p}S3_PUBLIC_SECURE"] = "false"
        if svc.name == "notify":
            env[f"{p}VAPID_PRIVATE_KEY"] = self.secrets.vapid_private_key
        env[f"{p}JWKS_URL"] = f"http://127.0.0.1:{identity_port}/api/v1/auth/jwks"
        return env

    # -- readiness and supervision ----------------------------------------------------------

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = {self.unit_name(proc): proc for proc in self.service_processes()}
        with httpx.Client(timeout=2) as client:
            while pending:
                for name, proc in list(pending.items()):
                    assert proc.proc is not None
                    if proc.proc.poll() is not None:
                        raise RuntimeError(
                            f"service {name} exited during start-up; see {proc.log_path}"
                        )
                    with contextlib.suppress(httpx.HTTPError):
                        r = client.get(f"http://127.0.0.1:{proc.port}/readyz")
                        if r.status_code == 200:
                            del pending[name]
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(f"services not ready: {sorted(pending)}")
                if pending:
                    time.sleep(0.1)

    def _after_restart(self, unit: Unit) -> None:
        """A restarted process has a new pid: say so in stack.json."""
        with contextlib.suppress(Exception):
            self.write_description()

    # -- description -------------------------------------------------------------------------

    def description(self) -> dict[str, Any]:
        assert self.pg and self.nats and self.s3 and self.caddy
        return {
            "gateway_url": f"http://localhost:{self.gateway_port}",
            # The operator's URL of every node (comma-separated: sotay_kit.messaging.connect).
            "nats_url": ",".join(node.url_for(OPERATOR_NATS_USER) for node in self.nats_nodes),
            "nats_monitor_url": f"http://127.0.0.1:{self.nats.monitor_port}",
            "postgres": {"dsn": self.pg.dsn()},
            "s3": {
                "endpoint": self.s3.endpoint,
                "access_key": self.secrets.s3_access_key,
                "secret_key": self.secrets.s3_secret_key,
                "bucket": DOCUMENTS_BUCKET,
            },
            "gateway_admin_url": f"http://127.0.0.1:{self.caddy.admin_port}",
            "nats_nodes": [
                {
                    "name": node.server_name or "nats",
                    "url": node.url,
                    "monitor_url": node.monitor_url,
                    "cluster_port": node.cluster_port,
                    "pid": node.pid,
                }
                for node in self.nats_nodes
            ],
            # Each service: its first replica's URL, port and pid (as with one replica), its
            # database, and every replica.
            "services": {
                name: {
                    "url": f"http://127.0.0.1:{procs[0].port}",
                    "port": procs[0].port,
                    "dsn": self.pg.dsn(procs[0].info.database),
                    "pid": procs[0].proc.pid if procs[0].proc else None,
                    "replicas": [
                        {
                            "name": self.unit_name(p),
                            "url": f"http://127.0.0.1:{p.port}",
                            "port": p.port,
                            "pid": p.proc.pid if p.proc else None,
                            "workers": p.workers,
                        }
                        for p in procs
                    ],
                }
                for name, procs in self.replicas.items()
            },
            "pids": self.pids(),
        }

    def pids(self) -> list[int]:
        pids = [p.proc.pid for p in self.service_processes() if p.proc is not None]
        for server in (self.pg, *self.nats_nodes, self.s3, self.caddy):
            if server is not None and server.pid is not None:
                pids.append(server.pid)
        return pids

    def write_description(self) -> Path:
        path = self.data_dir / "stack.json"
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(self.description(), indent=2))
        os.chmod(path, 0o600)
        return path


def run(
    data_dir: Path,
    gateway_port: int,
    ports: Mapping[str, int] | None = None,
    demo: DemoSize | None = "small",
    *,
    scale: int = 1,
    workers: int = 1,
) -> None:
    """Run until SIGINT/SIGTERM. Services listen on their topology ports unless overridden
    (a second replica on a free port)."""
    if ports is None:
        ports = {s.name: s.default_port for s in SERVICES}
    stack = Stack(data_dir, gateway_port, ports, demo=demo, scale=scale, workers=workers)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack.start()
    try:
        desc = stack.description()
        print(f"\nSổ tay Đảng viên điện tử is up. Open the app: {desc['gateway_url']}/")
        print("  (sign in with the member account below)")
        for name, service in desc["services"].items():
            replicas = len(service["replicas"])
            more = f"  ({replicas} replicas)" if replicas > 1 else ""
            print(f"  {name:<10} {desc['gateway_url']}/api/v1/{name}/docs{more}")
        if len(desc["nats_nodes"]) > 1:
            print(f"  NATS       a cluster of {len(desc['nats_nodes'])} nodes, streams R3")
        print(f"  stack description: {stack.data_dir / 'stack.json'}")
        creds_path = stack.data_dir / "demo-credentials.json"
        if creds_path.exists():
            creds = json.loads(creds_path.read_text())
            print(f"Demo accounts (also in {creds_path}):")
            for label in ("admin", "operator", "committee", "secretary", "member"):
                c = creds[label]
                extra = f"  totp_secret {c['totp_secret']}" if c.get("totp_secret") else ""
                print(f"  {label:<10} {c['username']}  {c['password']}{extra}")
        print("Ctrl-C stops everything.", flush=True)
        stopping.wait()
    finally:
        print("\nstopping …", flush=True)
        stack.stop()
        print("stopped.", flush=True)


__all__ = ["ManagedProcess", "Stack", "run", "wait_for_port"]
