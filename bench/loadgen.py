"""HTTP load generators for the benches that drive servers over the network.

``wrk`` (Debian's package ``wrk``, compiled C with LuaJIT) is the generator: on the 2-core
machine it issues tens of thousands of requests/s, well above any server here, so a figure it
measures is the server's. The async httpx generator is a fallback only: it tops out at
≈ 350–1,500 requests/s on the same machine, close to what the services themselves serve, so
its figures (and ratios) describe the generator as much as the server — it says so when used.

A ``Target`` is a method, a base URL and the requests to rotate through (path, bearer
authorization, JSON body). ``once=True`` makes it count-bound: every request is sent once
(check-ins: each one a first check-in) and the figure is over the requests available.
``duplicate`` is a marker in an answer body that means "not a new write" (a repeated
check-in answers 200 with ``"already_recorded":true``); such answers are not counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Request:
    path: str
    authorization: str = ""
    body: str = ""  # compact JSON, sent with Content-Type: application/json


@dataclass(frozen=True)
class Target:
    base_url: str
    requests: Sequence[Request]
    method: str = "GET"
    expect: int = 200
    once: bool = False
    duplicate: str | None = None


@dataclass
class Load:
    requests: int  # answers with the expected status (duplicates left out)
    seconds: float
    p50_ms: float
    p99_ms: float
    generator: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


class LoadError(RuntimeError):
    """A measured request was answered with an unexpected status: the figure would be false."""


@dataclass
class Generator:
    name: str
    concurrency: int
    notes: list[str] = field(default_factory=list)

    async def run(self, target: Target, duration: float, warmup: float = 0.5) -> Load:
        raise NotImplementedError


# ── wrk ─────────────────────────────────────────────────────────────────────────────────────

# One script for every figure (the bare limit included), so each pays the same generator cost.
# Arguments: data file, thread count, "once"|"loop", expected status, method, duplicate marker.
# The data file holds one request a line: path TAB authorization TAB body.
WRK_SCRIPT = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local function now_us()
  local ts = ffi.new("bench_timespec")
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local threads = {}
local created = 0
function setup(thread)
  thread:set("tid", created)
  created = created + 1
  table.insert(threads, thread)
end

local reqs = {}
local n = 0
local i = 0
local once = false
local expect = 200
local marker = nil
answered, ok, dup, bad, first_bad, started_us, stopped_us = 0, 0, 0, 0, "", 0, 0

function init(args)
  local nthreads = tonumber(args[2])
  once = args[3] == "once"
  expect = tonumber(args[4])
  local method = args[5]
  if args[6] ~= nil and args[6] ~= "" then marker = args[6] end
  local line_no = 0
  for line in io.lines(args[1]) do
    if (not once) or (line_no % nthreads == tid) then
      local p, a, b = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      if a ~= "" then headers["Authorization"] = a end
      if b ~= "" then headers["Content-Type"] = "application/json" else b = nil end
      n = n + 1
      reqs[n] = wrk.format(method, p, headers, b)
    end
    line_no = line_no + 1
  end
  if not once then i = (tid * 7919) % n end
end

function request()
  if started_us == 0 then started_us = now_us() end
  i = i + 1
  if i > n then i = 1 end  -- a count-bound thread stops on its last answer (below)
  return reqs[i]
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= expect then
    bad = bad + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(body or "", 1, 300) end
  elseif marker ~= nil and body ~= nil and string.find(body, marker, 1, true) then
    dup = dup + 1
  else
    ok = ok + 1
  end
  if once and ok + bad >= n then
    stopped_us = now_us()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local t_ok, t_dup, t_bad, first, t0, t1 = 0, 0, 0, "", nil, 0
  for _, t in ipairs(threads) do
    t_ok = t_ok + t:get("ok")
    t_dup = t_dup + t:get("dup")
    t_bad = t_bad + t:get("bad")
    if first == "" then first = t:get("first_bad") end
    local s, e = t:get("started_us"), t:get("stopped_us")
    if s > 0 and (t0 == nil or s < t0) then t0 = s end
    if e > t1 then t1 = e end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"ok":%d,"dup":%d,"bad":%d,"duration_us":%d,"span_us":%d,' ..
    '"p50_us":%d,"p99_us":%d,"socket_errors":%d}\n',
    t_ok, t_dup, t_bad, summary.duration, (t0 ~= nil and t1 > t0) and (t1 - t0) or 0,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout))
  io.write("WRKBAD " .. string.gsub(first, "\n", " ") .. "\n")
end
"""


@dataclass
class Wrk(Generator):
    executable: str = "wrk"
    threads: int = 2

    async def run(self, target: Target, duration: float, warmup: float = 0.5) -> Load:
        if warmup and not target.once:
            await self._wrk(target, warmup)
        return await self._wrk(target, duration)

    async def _wrk(self, target: Target, duration: float) -> Load:
        threads = max(1, min(self.threads, self.concurrency, len(target.requests)))
        with tempfile.TemporaryDirectory(prefix="sotay-bench-wrk-") as tmp:
            script, data = Path(tmp) / "bench.lua", Path(tmp) / "requests.tsv"
            script.write_text(WRK_SCRIPT)
            data.write_text(
                "".join(f"{r.path}\t{r.authorization}\t{r.body}\n" for r in target.requests)
            )
            argv = [
                self.executable,
                f"-t{threads}",
                f"-c{max(self.concurrency, threads)}",
                f"-d{max(1, round(duration))}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                str(script),
                target.base_url,
                "--",
                str(data),
                str(threads),
                "once" if target.once else "loop",
                str(target.expect),
                target.method,
                target.duplicate or "",
            ]
            proc = await asyncio.create_subprocess_exec(
                *argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            out, _ = await proc.communicate()
        text = out.decode(errors="replace")
        summary = next((ln for ln in text.splitlines() if ln.startswith("WRKJSON ")), None)
        if proc.returncode != 0 or summary is None:
            raise LoadError(f"wrk failed ({proc.returncode}): {text[-800:]}")
        figures = json.loads(summary.removeprefix("WRKJSON "))
        if figures["bad"]:
            first = next(ln for ln in text.splitlines() if ln.startswith("WRKBAD "))
            raise LoadError(
                f"{target.method} {target.requests[0].path}: {figures['bad']} answers other "
                f"than {target.expect}, the first: {first.removeprefix('WRKBAD ')}"
            )
        # A count-bound run ends when its requests are answered, before wrk's -d elapses.
        span = figures["span_us"] if target.once and figures["span_us"] else None
        seconds = (span or figures["duration_us"]) / 1e6
        return Load(
            figures["ok"],
            seconds,
            figures["p50_us"] / 1000,
            figures["p99_us"] / 1000,
            self.name,
        )


# ── httpx (fallback) ────────────────────────────────────────────────────────────────────────


@dataclass
class Httpx(Generator):
    async def run(self, target: Target, duration: float, warmup: float = 0.5) -> Load:
        """``concurrency`` workers, each an httpx client with one keep-alive connection (one
        client with a pool of 32 spends its time in the pool: ≈ 350 req/s instead of ≈ 1,500)."""
        clients = [
            httpx.AsyncClient(
                base_url=target.base_url,
                timeout=60,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            )
            for _ in range(self.concurrency)
        ]
        requests = list(target.requests)
        position = 0
        latencies: list[float] = []
        done = 0

        def take() -> Request | None:
            nonlocal position
            if target.once and position >= len(requests):
                return None
            r = requests[position % len(requests)]
            position += 1
            return r

        async def phase(seconds: float, count: bool) -> float:
            nonlocal done
            deadline = time.perf_counter() + seconds

            async def worker(client: httpx.AsyncClient) -> None:
                nonlocal done
                while time.perf_counter() < deadline and (req := take()) is not None:
                    headers = {"authorization": req.authorization} if req.authorization else {}
                    if req.body:
                        headers["content-type"] = "application/json"
                    start = time.perf_counter()
                    r = await client.request(
                        target.method, req.path, headers=headers, content=req.body or None
                    )
                    if r.status_code != target.expect:
                        raise LoadError(f"{req.path}: {r.status_code} {r.text[:300]}")
                    if count:
                        latencies.append(time.perf_counter() - start)
                        if not (target.duplicate and target.duplicate in r.text):
                            done += 1

            start = time.perf_counter()
            await asyncio.gather(*(worker(c) for c in clients))
            return time.perf_counter() - start

        try:
            if warmup and not target.once:
                await phase(warmup, count=False)
            seconds = await phase(duration, count=True)
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))
        cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
        return Load(done, seconds, cuts[49] * 1000, cuts[98] * 1000, self.name)


# ── choosing ────────────────────────────────────────────────────────────────────────────────

HTTPX_WARNING = (
    "WARNING: wrk is not available — measuring with the httpx fallback generator. Its own limit "
    "(≈ 350–1,500 req/s on 2 cores) is close to what the services serve, so every figure and "
    "ratio below describes the generator as much as the server. Install Debian's package `wrk` "
    "(apt-get install wrk) for figures that are the server's."
)


def _install_wrk() -> str | None:
    """``apt-get install wrk`` when running as root on a Debian-like system; else None."""
    apt = shutil.which("apt-get")
    if apt is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    print("bench: wrk missing — installing Debian's package `wrk` (apt-get install -y wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in ([apt, "install", "-y", "wrk"], [apt, "update"], [apt, "install", "-y", "wrk"]):
        done = subprocess.run(attempt, env=env, capture_output=True, text=True, check=False)
        if attempt[1] == "install" and done.returncode == 0:
            break
    return shutil.which("wrk")


def choose(concurrency: int, *, allow_wrk: bool = True) -> Generator:
    """wrk if found (or installable here), else the httpx fallback, loudly."""
    executable = (shutil.which("wrk") or _install_wrk()) if allow_wrk else None
    if executable is not None:
        threads = max(1, min(4, os.cpu_count() or 1))
        return Wrk("wrk", concurrency, executable=executable, threads=threads)
    reason = (
        "the httpx generator was asked for"
        if not allow_wrk
        else "wrk not found; not root, so not installed"
    )
    return Httpx("httpx (fallback)", concurrency, notes=[reason, HTTPX_WARNING])
