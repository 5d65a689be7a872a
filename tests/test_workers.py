"""A service under ``python -m sotay_kit.serve`` with several worker processes (issue 13 item 3,
docs/scaling.md): the workers share the port, one of them relays the outbox, ``/metrics``
reports the whole service, and a worker killed with SIGKILL is replaced while the others keep
answering. The entry point believes X-Forwarded-For from the trusted proxies only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sotay_analytics.app import SPEC
from sotay_devstack.servers import free_port
from sotay_devstack.testing import Infra
from sotay_kit import serve
from sotay_kit.settings import ServiceSettings
from sotay_kit.testing.databases import DatabaseFactory

from .conftest import wait_until

REPORT = "/api/v1/reports/document-reach"
RELAY_LOCK_HOLDERS = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"


def _children(pid: int) -> set[int]:
    """uvicorn's worker processes (not multiprocessing's resource tracker)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    children = {int(p) for p in path.read_text().split()} if path.exists() else set()
    workers = set()
    for child in children:
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            workers.add(child)
    return workers


async def _counted(client: httpx.AsyncClient) -> float:
    """The service's count of answered report requests, as ``/metrics`` reports it."""
    text = (await client.get("/metrics")).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "sotay_http_requests_total" and s.labels.get("route") == REPORT
    )


def _counting_workers(directory: Path) -> set[int]:
    """The workers whose counters are in the metrics directory."""
    return {
        int(p.stem.rsplit("_", 1)[1]) for p in directory.iterdir() if p.name.startswith("counter_")
    }


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


async def test_two_workers_share_the_port_relay_once_report_together_and_replace_the_dead(
    infra: Infra,
    make_database: DatabaseFactory,
    nats_operator: object,
    tmp_path: Path,
    started: list[subprocess.Popen[bytes]],
) -> None:
    dsn = await make_database("analytics", SPEC.versions_dir)
    port = free_port()
    env = {
        **os.environ,
        "SERVICE": "analytics",
        "ANALYTICS_HOST": "127.0.0.1",
        "ANALYTICS_PORT": str(port),
        "ANALYTICS_WORKERS": "2",
        "ANALYTICS_DATABASE_URL": dsn,
        "ANALYTICS_NATS_URL": infra.nats.url,
        "ANALYTICS_NATS_USER": "analytics",
        "ANALYTICS_NATS_PASSWORD": infra.nats_passwords["analytics"],
        "ANALYTICS_RUN_CONSUMERS": "false",
        "ANALYTICS_GAUGE_REFRESH_SECONDS": "0",
        serve.MULTIPROC_ENV: str(tmp_path / "metrics"),
    }
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sotay_kit.serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    started.append(proc)
    base = f"http://127.0.0.1:{port}"
    db = await asyncpg.connect(dsn)
    # A fresh connection per request, so the kernel hands them to either worker.
    limits = httpx.Limits(max_keepalive_connections=0)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5, limits=limits) as client:

            async def ready() -> bool:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
                try:
                    ok = (await client.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False
                return ok and len(_children(proc.pid)) == 2

            await wait_until(ready, "two workers answering", timeout=60)

            async def one_relay() -> bool:
                return await db.fetchval(RELAY_LOCK_HOLDERS) == 1

            # Both workers run a relay; one holds the database's lock, the other waits.
            await wait_until(one_relay, "one relay holding the lock")

            for _ in range(40):  # counted (probes are not): 401 without a token
                assert (await client.get(REPORT)).status_code == 401
            assert await _counted(client) == 40
            served = _counting_workers(tmp_path / "metrics")
            assert served <= _children(proc.pid)

            # SIGKILL a worker that answered: the other answers meanwhile, uvicorn starts a
            # new one, and the dead worker's requests still count in the service's totals.
            victim = min(served)
            os.kill(victim, signal.SIGKILL)
            failed = 0
            for _ in range(20):
                try:
                    failed += (await client.get(REPORT)).status_code != 401
                except httpx.TransportError:
                    failed += 1
            assert failed == 0

            async def replaced() -> bool:  # a third worker has started its app
                children = _children(proc.pid)
                started = (tmp_path / "serve.log").read_text().count('"service started"')
                return len(children) == 2 and victim not in children and started == 3

            await wait_until(replaced, "the killed worker replaced", timeout=60)
            await wait_until(one_relay, "one relay holding the lock after the kill")
            assert await _counted(client) == 60
            assert len(_counting_workers(tmp_path / "metrics")) >= 2  # summed over workers
    finally:
        await db.close()
        log.close()


def test_workers_default_to_the_cores_in_production_and_one_elsewhere(tmp_path: Path) -> None:
    local = ServiceSettings()
    assert local.worker_processes(8) == 1
    production = ServiceSettings.model_construct(environment="production", workers=None)
    assert production.worker_processes(8) == 8
    assert ServiceSettings(workers=3).worker_processes(8) == 3
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("max 100000\n")
    assert serve.available_cores(cpu_max) == len(os.sched_getaffinity(0))
    cpu_max.write_text("50000 100000\n")  # half a core: still one worker
    assert serve.available_cores(cpu_max) == 1
    assert serve.available_cores(tmp_path / "absent") == len(os.sched_getaffinity(0))


def test_forwarded_headers_are_believed_from_the_trusted_proxies_only() -> None:
    settings = ServiceSettings(trusted_proxies=["10.0.0.0/8", "::1/128"], workers=2)
    argv = serve.uvicorn_argv("identity", settings, host="0.0.0.0", port="8101")
    assert argv[argv.index("--forwarded-allow-ips") + 1] == "10.0.0.0/8,::1/128"
    assert argv[argv.index("--workers") + 1] == "2"
    assert "*" not in argv
