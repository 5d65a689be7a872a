"""The local stack under a write load through the gateway survives ``kill -9`` of each of its
servers in turn: the supervisor brings PostgreSQL, NATS, S3 and Caddy back on the same ports
and data, the services reconnect by themselves, and every write the platform accepted has its
event on the stream exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sotay_contracts import CloudEvent
from sotay_contracts.events.meetings import MeetingScheduled
from sotay_devstack.servers import free_port
from sotay_devstack.stack import Stack
from sotay_kit import messaging
from sotay_kit.topology import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]

SERVERS = ("nats", "postgres", "s3", "caddy")
WRITERS = 4
RESTART_DEADLINE = 120.0


async def poll(check: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        await asyncio.sleep(0.02)


@dataclass
class Write:
    started: float
    ended: float | None = None
    meeting_id: str | None = None  # set when the platform accepted it (201)


@dataclass
class WriteLoad:
    """Writers scheduling meetings in the demo cell through the gateway, back to back."""

    gateway: str
    token: str
    cell_id: str
    writes: list[Write] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _next: int = 0

    @property
    def accepted(self) -> list[str]:
        return [w.meeting_id for w in self.writes if w.meeting_id is not None]

    @property
    def in_flight(self) -> int:
        return sum(w.ended is None for w in self.writes)

    def straddling(self, moment: float) -> int:
        """Writes sent before ``moment`` and answered (or failed) after it."""
        return sum(
            w.started < moment and (w.ended is None or w.ended > moment) for w in self.writes
        )

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._writer()) for _ in range(WRITERS)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    def _plan(self) -> dict[str, object]:
        # Each meeting one hour after the previous one: all in the future, none the same.
        self._next += 1
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1, hours=self._next)
        return {
            "org_id": self.cell_id,
            "kind": "regular",
            "title": f"Sinh hoạt chi bộ lần {self._next}",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
        }

    async def _writer(self) -> None:
        headers = {"authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.gateway, timeout=30) as client:
            while not self._stop.is_set():
                write = Write(time.monotonic())
                self.writes.append(write)
                try:
                    r = await client.post("/api/v1/meetings", json=self._plan(), headers=headers)
                except httpx.HTTPError:
                    r = None
                write.ended = time.monotonic()
                if r is not None and r.status_code == 201:
                    [meeting] = r.json()["meetings"]
                    write.meeting_id = meeting["id"]
                else:
                    await asyncio.sleep(0.05)  # a server is down: do not spin


async def scheduled_on_stream(nats_url: str) -> list[CloudEvent]:
    """Every ``meetings.meeting.scheduled.v1`` event on the stream, from its start."""
    nc = await messaging.connect(nats_url, name="supervision-test")
    events: list[CloudEvent] = []
    try:
        sub = await nc.jetstream().subscribe(MeetingScheduled.SUBJECT, ordered_consumer=True)
        while True:
            try:
                msg = await sub.next_msg(timeout=5)
            except TimeoutError:
                return events
            events.append(CloudEvent.from_nats(msg.headers, msg.data))
            if msg.metadata.num_pending == 0:
                return events
    finally:
        await nc.close()


async def test_kill_each_server_under_writes_loses_and_doubles_no_event(
    server_tmp: Path,
) -> None:
    data = server_tmp / "data"
    stack = Stack(
        data, free_port(), {s.name: free_port() for s in SERVICES}, quiet=True, demo_month=False
    )
    await asyncio.to_thread(stack.start)
    load: WriteLoad | None = None
    try:
        desc = json.loads((data / "stack.json").read_text())
        creds = json.loads((data / "demo-credentials.json").read_text())
        secretary = creds["secretary"]
        async with httpx.AsyncClient(base_url=desc["gateway_url"], timeout=30) as client:
            r = await client.post(
                "/api/v1/auth/login",
                json={"username": secretary["username"], "password": secretary["password"]},
            )
            assert r.status_code == 200, r.text
        load = WriteLoad(desc["gateway_url"], r.json()["access_token"], creds["orgs"]["cell_id"])
        load.start()
        kills: list[dict[str, Any]] = []
        for name in SERVERS:
            server = stack.servers()[name]
            unit = stack.supervisor.unit(name)
            before = len(load.accepted)
            await poll(lambda: len(load.accepted) >= before + 5, "writes accepted", 60)  # noqa: B023
            await poll(lambda: load.in_flight > 0, "a write in flight", 10)
            old_pid, restarts = server.pid, unit.restarts
            assert old_pid is not None
            os.kill(old_pid, signal.SIGKILL)
            killed_at = time.monotonic()
            await poll(
                lambda: unit.restarts > restarts and server.alive,  # noqa: B023
                f"the supervisor to bring {name} back",
                RESTART_DEADLINE,
            )
            back_at = time.monotonic()
            assert server.pid != old_pid
            after = len(load.accepted)
            await poll(
                lambda: len(load.accepted) >= after + 5,  # noqa: B023
                f"writes accepted again after {name} came back",
                RESTART_DEADLINE,
            )
            kills.append(
                {
                    "server": name,
                    "in_flight_at_kill": load.straddling(killed_at),
                    "down_s": round(back_at - killed_at, 2),
                    "writes_again_s": round(time.monotonic() - killed_at, 2),
                }
            )
        await load.stop()
        accepted = load.accepted
        events: list[CloudEvent] = []

        async def all_arrived() -> bool:
            nonlocal events
            events = await scheduled_on_stream(desc["nats_url"])
            return set(accepted) <= {e.subject for e in events}

        deadline = time.monotonic() + 60
        while not await all_arrived():
            assert time.monotonic() < deadline, "accepted writes whose event never arrived"
        per_meeting = Counter(e.subject for e in events)
        per_id = Counter(e.id for e in events)
        figures = {
            "writes": len(load.writes),
            "accepted": len(accepted),
            "events": len(events),
            "doubled": sum(n > 1 for n in per_meeting.values()),
            "kills": kills,
        }
        print("supervision under load:", json.dumps(figures))
        # Every kill landed while writes were on their way through the platform.
        assert all(k["in_flight_at_kill"] > 0 for k in kills), kills
        # Each accepted write's event is on the stream exactly once, and nothing is doubled.
        assert all(per_meeting[m] == 1 for m in accepted)
        assert max(per_meeting.values()) == 1 and max(per_id.values()) == 1
        # The crashes and restarts are in the supervisor's log.
        log_lines = (data / "logs" / "supervisor.log").read_text().splitlines()
        logged = [json.loads(line) for line in log_lines]
        restarted = {e["server"] for e in logged if "server" in e and e["event"] == "restarted"}
        assert restarted == set(SERVERS)
        # The services rode it out: none was restarted, each is ready again (its Postgres pool
        # and NATS connection came back by themselves).
        assert [u.name for u in stack.supervisor.units if u.kind == "service" and u.restarts] == []
        async with httpx.AsyncClient(timeout=5) as client:
            for svc in SERVICES:
                url = f"{desc['services'][svc.name]['url']}/readyz"
                r = await client.get(url)
                assert r.status_code == 200, (svc.name, r.text)
    finally:
        if load is not None and not load._stop.is_set():
            with contextlib.suppress(Exception):
                await load.stop()
        await asyncio.to_thread(stack.stop)
