"""Restart what crashed: every server and service of the local stack, with backoff.

One thread looks at every process a few times a second. A process that died is reaped (no
defunct process stays behind), whatever is left of its process group is killed, and it is
started again on the same ports and the same data directory — at once the first time, then
after growing delays (0.5 s, 1 s, 2 s … 30 s) while it keeps dying within
:data:`STABLE_AFTER` seconds of its start. A server's ``start()`` returns once it is ready
again; a start that fails is retried on the same schedule. The clients reconnect by themselves
(NATS: reconnect forever; asyncpg's pool: a new connection for a closed one; the relay and the
consumers: retry), so nothing else restarts with them.

Every crash and restart is a JSON line in ``logs/supervisor.log``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

log = logging.getLogger("sotay.supervisor")

#: A process that ran this long before it died was stable: its next restart is immediate.
STABLE_AFTER = 30.0
FIRST_DELAY = 0.5
MAX_DELAY = 30.0
POLL_INTERVAL = 0.2


class Restartable(Protocol):
    """A server (``servers._Server``) or a service process of the stack."""

    @property
    def alive(self) -> bool: ...

    @property
    def returncode(self) -> int | None: ...

    def kill(self) -> None:
        """Kill what is left of the process group and reap it."""

    def start(self) -> None:
        """Start again on the same ports and data (a server: until it is ready)."""


@dataclass
class Unit:
    kind: str  # "server" or "service": the key of its lines in supervisor.log
    name: str
    process: Restartable
    restarts: int = 0
    failures: int = 0  # crashes and failed starts since it last ran stably
    started_at: float = field(default_factory=time.monotonic)
    retry_at: float | None = None  # set while the unit is down and waits for its next try

    def delay(self) -> float:
        """0 for the first failure in a row, then 0.5 s, 1 s, 2 s … up to 30 s."""
        if self.failures <= 1:
            return 0.0
        return float(min(FIRST_DELAY * 2 ** (self.failures - 2), MAX_DELAY))


class Supervisor:
    def __init__(
        self,
        log_path: Path,
        *,
        say: Callable[[str], None] = print,
        on_restart: Callable[[Unit], None] | None = None,
    ) -> None:
        self.log_path = log_path
        self.units: list[Unit] = []
        self._say = say
        self._on_restart = on_restart
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, kind: str, name: str, process: Restartable) -> Unit:
        unit = Unit(kind, name, process)
        self.units.append(unit)
        return unit

    def unit(self, name: str) -> Unit:
        return next(u for u in self.units if u.name == name)

    def start(self) -> None:
        self._running.set()
        self._thread = threading.Thread(target=self._loop, name="supervisor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 120) -> None:
        """Stop watching; waits for a restart under way to finish (a server start is bounded)."""
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while self._running.is_set():
            for unit in self.units:
                if not self._running.is_set():
                    return
                self._check(unit)
            time.sleep(POLL_INTERVAL)

    def _check(self, unit: Unit) -> None:
        now = time.monotonic()
        if unit.retry_at is None:
            if unit.process.alive:
                return
            if now - unit.started_at >= STABLE_AFTER:
                unit.failures = 0
            unit.failures += 1
            unit.retry_at = now + unit.delay()
            self._record(unit, "exited", exit_code=unit.process.returncode, retry_in=unit.delay())
        if now < unit.retry_at:
            return
        unit.process.kill()  # reap it, and whatever it left in its process group
        try:
            unit.process.start()
        except Exception as exc:
            unit.failures += 1
            unit.retry_at = time.monotonic() + unit.delay()
            error = f"{type(exc).__name__}: {exc}"
            self._record(unit, "start failed", error=error, retry_in=unit.delay())
            return
        unit.restarts += 1
        unit.started_at = time.monotonic()
        unit.retry_at = None
        self._record(unit, "restarted")
        if self._on_restart is not None:
            self._on_restart(unit)

    def _record(self, unit: Unit, event: str, **details: object) -> None:
        entry = {
            "time": time.time(),
            unit.kind: unit.name,
            "event": event,
            "restart": unit.restarts + (event != "restarted"),
            **details,
        }
        with self.log_path.open("a") as out:
            out.write(json.dumps(entry) + "\n")
        text = f"{unit.kind} {unit.name}: {event}" + "".join(
            f", {k} {v}" for k, v in details.items()
        )
        log.info(text)  # said to the person running the stack just below
        self._say(f"! {text}")
