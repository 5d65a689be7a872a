"""The supervisor restarts a process that keeps crashing at once, then with growing delays, and
leaves a process that runs alone."""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path

from sotay_devstack.servers import ManagedProcess
from sotay_devstack.supervisor import Supervisor


def _wait(check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_crashing_process_is_restarted_with_growing_delays(tmp_path: Path) -> None:
    crashing = ManagedProcess(
        "crashing", [sys.executable, "-c", "raise SystemExit(3)"], log_path=tmp_path / "c.log"
    )
    steady = ManagedProcess(
        "steady", [sys.executable, "-c", "import time; time.sleep(60)"], log_path=tmp_path / "s.log"
    )
    crashing.start()
    steady.start()
    steady_pid = steady.pid
    log_path = tmp_path / "supervisor.log"
    supervisor = Supervisor(log_path, say=lambda _: None)
    unit = supervisor.watch("service", "crashing", crashing)
    supervisor.watch("service", "steady", steady)
    supervisor.start()
    try:
        _wait(lambda: unit.restarts >= 4, 30)
    finally:
        supervisor.stop()
        crashing.stop()
        steady.stop()
    entries = [json.loads(line) for line in log_path.read_text().splitlines()]
    exits = [e for e in entries if e["event"] == "exited"]
    assert all(e["service"] == "crashing" and e["exit_code"] == 3 for e in exits)
    # At once the first time, then 0.5 s, 1 s, 2 s: it keeps dying within seconds of its start.
    assert [e["retry_in"] for e in exits[:4]] == [0.0, 0.5, 1.0, 2.0]
    restarted = [e["time"] for e in entries if e["event"] == "restarted"]
    gaps = [b - a for a, b in itertools.pairwise(restarted)]
    assert gaps[1] >= 0.9 and gaps[2] >= 1.9, gaps  # the delays were really waited
    assert steady.pid == steady_pid  # the steady process was left alone
