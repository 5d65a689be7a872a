"""The scaled-out stack (``make run SCALE=2``: two replicas of every service, a 3-node NATS
cluster with R3 streams) under a steady load through the gateway (meetings scheduled, check-ins
with the rotating code, reads, an open notification stream) loses a NATS node and one replica of
every service to ``kill -9`` at the same moment: the supervisor restarts them, the gateway and
the NATS clients fail over, every write the platform accepted has its event on the stream once
and its row in analytics' projection, and the member's open notification stream receives every
notification addressed to them (docs/scaling.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx
import pytest
from sotay_contracts import CloudEvent
from sotay_contracts.events.meetings import AttendanceRecorded
from sotay_devstack.servers import free_port
from sotay_devstack.stack import Stack
from sotay_kit import messaging
from sotay_kit.topology import SERVICES

from .test_stack_supervision import WriteLoad, poll, scheduled_on_stream

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]

READERS = 2
RESTART_DEADLINE = 120.0


@dataclass
class Requests:
    """Every request of the load and when it failed (a transport error or a 5xx)."""

    sent: int = 0
    failed: list[float] = field(default_factory=list)

    def record(self, response: httpx.Response | None) -> None:
        self.sent += 1
        if response is None or response.status_code >= 500:
            self.failed.append(time.monotonic())


async def _read(gateway: str, token: str, stop: asyncio.Event, requests: Requests) -> None:
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        while not stop.is_set():
            for path in ("/api/v1/me", "/api/v1/inbox"):
                try:
                    r: httpx.Response | None = await client.get(path, headers=headers)
                except httpx.HTTPError:
                    r = None
                requests.record(r)
                if r is None or r.status_code >= 500:
                    await asyncio.sleep(0.05)


@dataclass
class CheckinLoad:
    """The secretary opens a meeting about to start and shows its rotating code; the member
    checks in with it — again and again. ``checked_in``: the meetings whose check-in was
    accepted."""

    gateway: str
    secretary: str
    member: str
    cell_id: str
    requests: Requests = field(default_factory=Requests)
    checked_in: list[str] = field(default_factory=list)
    scheduled: list[str] = field(default_factory=list)
    in_flight: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        by_secretary = {"authorization": f"Bearer {self.secretary}"}
        by_member = {"authorization": f"Bearer {self.member}"}
        async with httpx.AsyncClient(base_url=self.gateway, timeout=30) as client:
            n = 0
            while not stop.is_set():
                n += 1
                starts = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
                plan = {
                    "org_id": self.cell_id,
                    "kind": "thematic",
                    "title": f"Sinh hoạt chuyên đề {n}",
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(hours=1)).isoformat(),
                }
                r = await self._send(client, "POST", "/api/v1/meetings", by_secretary, plan)
                if r is None or r.status_code != 201:
                    continue
                meeting = r.json()["meetings"][0]["id"]
                self.scheduled.append(meeting)
                path = f"/api/v1/meetings/{meeting}"
                r = await self._send(client, "GET", f"{path}/checkin-code", by_secretary)
                if r is None or r.status_code != 200:
                    continue
                body = {"code": r.json()["code"]}
                r = await self._send(client, "POST", f"{path}/checkin", by_member, body)
                if r is not None and r.status_code == 200:
                    self.checked_in.append(meeting)

    async def _send(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        headers: dict[str, str],
        body: object = None,
    ) -> httpx.Response | None:
        self.in_flight += 1
        try:
            r: httpx.Response | None = await client.request(
                method, path, headers=headers, json=body
            )
        except httpx.HTTPError:
            r = None
        finally:
            self.in_flight -= 1
        self.requests.record(r)
        if r is None or r.status_code >= 400:
            await asyncio.sleep(0.05)  # a replica is down: do not spin
        return r


async def _events_on(nats_url: str, subject: str) -> list[CloudEvent]:
    """Every event on ``subject``, from the stream's start."""
    nc = await messaging.connect(nats_url, name="replicas-chaos-test")
    events: list[CloudEvent] = []
    try:
        sub = await nc.jetstream().subscribe(subject, ordered_consumer=True)
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


async def _sse_events(response: httpx.Response) -> AsyncIterator[tuple[str | None, str, str]]:
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if "data" in fields:
                yield fields.get("id"), fields.get("event", "message"), fields["data"]
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


@dataclass
class Listener:
    """The member's app: one open stream through the gateway, reopened after
    ``Last-Event-ID`` when its replica dies, as the browser's EventSource does."""

    gateway: str
    token: str
    received: list[str] = field(default_factory=list)  # cause ids, in order of arrival
    reconnects: int = 0
    last_id: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(
            base_url=self.gateway, timeout=httpx.Timeout(10, read=60)
        ) as client:
            while not stop.is_set():
                headers = {"authorization": f"Bearer {self.token}"}
                if self.last_id is not None:
                    headers["last-event-id"] = self.last_id
                try:
                    async with client.stream(
                        "GET", "/api/v1/inbox/stream", headers=headers
                    ) as resp:
                        if resp.status_code != 200:
                            raise httpx.HTTPError(f"stream answered {resp.status_code}")
                        async for event_id, kind, data in _sse_events(resp):
                            if kind == "ready" and self.last_id is None:
                                self.last_id = str(json.loads(data)["seq"])
                            if kind == "notification":
                                self.last_id = event_id
                                self.received.append(json.loads(data)["cause_id"])
                except httpx.HTTPError:
                    pass
                if not stop.is_set():
                    self.reconnects += 1
                    await asyncio.sleep(0.2)


async def _login(gateway: str, account: dict[str, str]) -> str:
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        r = await client.post(
            "/api/v1/auth/login",
            json={"username": account["username"], "password": account["password"]},
        )
        assert r.status_code == 200, r.text
        token: str = r.json()["access_token"]
        return token


async def test_a_nats_node_and_a_replica_of_each_service_killed_under_load_lose_nothing(
    server_tmp: Path,
) -> None:
    data = server_tmp / "data"
    stack = Stack(
        data,
        free_port(),
        {s.name: free_port() for s in SERVICES},
        quiet=True,
        demo_month=False,
        scale=2,
    )
    started = time.monotonic()
    await asyncio.to_thread(stack.start)
    start_seconds = time.monotonic() - started
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    load: WriteLoad | None = None
    try:
        desc = json.loads((data / "stack.json").read_text())
        # stack.json lists three NATS nodes and two replicas of every service, each with a pid.
        assert [n["name"] for n in desc["nats_nodes"]] == ["nats-1", "nats-2", "nats-3"]
        assert all(n["pid"] and n["url"] for n in desc["nats_nodes"])
        for svc in SERVICES:
            replicas = desc["services"][svc.name]["replicas"]
            assert len(replicas) == 2 and all(r["pid"] and r["url"] for r in replicas)
        creds = json.loads((data / "demo-credentials.json").read_text())
        gateway = desc["gateway_url"]
        secretary = await _login(gateway, creds["secretary"])
        member = await _login(gateway, creds["member"])

        listener = Listener(gateway, member)
        reads = Requests()
        tasks.append(asyncio.create_task(listener.run(stop)))
        await poll(lambda: listener.last_id is not None, "the member's stream open", 30)
        tasks += [asyncio.create_task(_read(gateway, member, stop, reads)) for _ in range(READERS)]
        load = WriteLoad(gateway, secretary, creds["orgs"]["cell_id"])
        load.start()
        checkins = CheckinLoad(gateway, secretary, member, creds["orgs"]["cell_id"])
        tasks.append(asyncio.create_task(checkins.run(stop)))
        await poll(lambda: len(load.accepted) >= 10, "writes accepted", 60)
        await poll(lambda: len(checkins.checked_in) >= 3, "check-ins accepted", 60)
        await poll(lambda: load.in_flight > 0, "a write in flight", 10)

        # kill -9, at one moment: a NATS node and one replica of each service.
        victims = {"nats-2": stack.servers()["nats-2"].pid}
        victims.update({f"{s.name}-2": stack.replicas[s.name][1].proc.pid for s in SERVICES})  # type: ignore[union-attr]
        units = {name: stack.supervisor.unit(name) for name in victims}
        restarts = {name: unit.restarts for name, unit in units.items()}
        sent_before = reads.sent + checkins.requests.sent + len(load.writes)
        killed_at = time.monotonic()
        for pid in victims.values():
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
        in_flight_at_kill = load.straddling(killed_at) + checkins.in_flight
        await poll(
            lambda: all(u.restarts > restarts[n] and u.process.alive for n, u in units.items()),
            "the supervisor to restart every killed process",
            RESTART_DEADLINE,
        )
        restarted_at = time.monotonic()
        # Every replica ready again (the gateway's health checks take them back).
        async with httpx.AsyncClient(timeout=5) as client:

            async def all_ready() -> bool:
                for svc in SERVICES:
                    for replica in stack.replicas[svc.name]:
                        with contextlib.suppress(httpx.HTTPError):
                            r = await client.get(f"http://127.0.0.1:{replica.port}/readyz")
                            if r.status_code == 200:
                                continue
                        return False
                return True

            deadline = time.monotonic() + RESTART_DEADLINE
            while not await all_ready():
                assert time.monotonic() < deadline, "replicas not ready after their restart"
                await asyncio.sleep(0.2)
        ready_at = time.monotonic()
        accepted_then, checked_then = len(load.accepted), len(checkins.checked_in)
        await poll(lambda: len(load.accepted) >= accepted_then + 5, "writes after restart", 60)
        await poll(
            lambda: len(checkins.checked_in) >= checked_then + 2, "check-ins after restart", 60
        )
        await load.stop()
        stop.set()  # the check-ins and reads stop too; the stream stays open
        await asyncio.gather(*tasks[1:])
        sent_during = reads.sent + checkins.requests.sent + len(load.writes) - sent_before
        accepted = load.accepted

        # Every accepted write: its event on the (R3) stream once …
        events = await scheduled_on_stream(desc["nats_url"])
        deadline = time.monotonic() + 60
        while not set(accepted) <= {e.subject for e in events}:
            assert time.monotonic() < deadline, "accepted writes whose event never arrived"
            await asyncio.sleep(0.5)
            events = await scheduled_on_stream(desc["nats_url"])
        per_meeting = Counter(e.subject for e in events)
        # … and every accepted check-in's attendance event, once.
        # (Only the member checks in to those meetings: one event each, its subject the meeting.)
        # A relay restarted by the kill publishes what it had pending a little later: wait for
        # them (bounded) as for the scheduled events above, then count.
        attendance = await _events_on(desc["nats_url"], AttendanceRecorded.SUBJECT)
        deadline = time.monotonic() + 60
        while not set(checkins.checked_in) <= {e.subject for e in attendance}:
            assert time.monotonic() < deadline, "accepted check-ins whose event never arrived"
            await asyncio.sleep(0.5)
            attendance = await _events_on(desc["nats_url"], AttendanceRecorded.SUBJECT)
        per_checkin = Counter(e.subject for e in attendance)
        # … its row in analytics' projection (what the reports count) …
        conn = await asyncpg.connect(desc["services"]["analytics"]["dsn"])
        try:

            async def projected() -> int:
                n: int = await conn.fetchval(
                    "SELECT count(*) FROM an_meetings WHERE meeting_id = ANY($1::uuid[])",
                    [UUID(m) for m in accepted],
                )
                return n

            async def checkins_projected() -> int:
                n: int = await conn.fetchval(
                    "SELECT count(*) FROM an_attendance WHERE method = 'code' "
                    "AND meeting_id = ANY($1::uuid[])",
                    [UUID(m) for m in checkins.checked_in],
                )
                return n

            deadline = time.monotonic() + 60
            while await projected() < len(accepted):
                assert time.monotonic() < deadline, "accepted writes missing from analytics"
                await asyncio.sleep(0.5)
            while await checkins_projected() < len(checkins.checked_in):
                assert time.monotonic() < deadline, "accepted check-ins missing from analytics"
                await asyncio.sleep(0.5)
        finally:
            await conn.close()
        # … and its notification on the member's stream, once.
        addressed = set(accepted) | set(checkins.scheduled)
        deadline = time.monotonic() + 60
        while not addressed <= set(listener.received):
            assert time.monotonic() < deadline, "notifications missing from the stream"
            await asyncio.sleep(0.5)
        tasks[0].cancel()  # the stream stays open (heartbeats) until it is cut
        await asyncio.gather(*tasks, return_exceptions=True)
        seen = Counter(listener.received)

        write_failures = [w for w in load.writes if w.meeting_id is None and w.ended]
        figures = {
            "stack_start_s": round(start_seconds, 1),
            "killed": sorted(victims),
            "in_flight_at_kill": in_flight_at_kill,
            "restarted_within_s": round(restarted_at - killed_at, 1),
            "all_ready_again_s": round(ready_at - killed_at, 1),
            "requests_during_failover": sent_during,
            "failed_requests": len(reads.failed)
            + len(write_failures)
            + len(checkins.requests.failed),
            "failed_reads": len(reads.failed),
            "failed_writes": len(write_failures),
            "failed_checkin_requests": len(checkins.requests.failed),
            "writes_accepted": len(accepted),
            "events_lost": len(set(accepted) - set(per_meeting)),
            "events_doubled": sum(n > 1 for n in per_meeting.values()),
            "checkins_accepted": len(checkins.checked_in),
            "checkin_events_lost": len(set(checkins.checked_in) - set(per_checkin)),
            "checkin_events_doubled": sum(per_checkin[m] > 1 for m in checkins.checked_in),
            "sse_reconnects": listener.reconnects,
            "sse_missing": len(addressed - set(seen)),
            "sse_doubled": sum(seen[m] > 1 for m in addressed),
        }
        print("\nreplicas chaos:", json.dumps(figures))
        assert in_flight_at_kill > 0  # the kill hit while writes were on their way
        assert figures["events_lost"] == 0 and figures["events_doubled"] == 0
        assert figures["checkin_events_lost"] == 0 and figures["checkin_events_doubled"] == 0
        assert figures["sse_missing"] == 0 and figures["sse_doubled"] == 0
    finally:
        stop.set()
        if load is not None:
            with contextlib.suppress(Exception):
                await load.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(stack.stop)
