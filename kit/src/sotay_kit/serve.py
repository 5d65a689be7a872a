"""Container entry point: ``SERVICE=<name> python -m sotay_kit.serve``.

Runs uvicorn with the service's app factory from :mod:`sotay_kit.topology`, on
``<PREFIX>HOST`` (default 0.0.0.0 in a container) and ``<PREFIX>PORT`` (default: the
service's topology port), with ``<PREFIX>WORKERS`` processes: in production the cores the
process may use (CPU affinity, capped by the container's CPU limit), one otherwise. Each worker
is a replica of the service in every respect (docs/scaling.md): its own pool, NATS connection,
relay candidate, consumers and background loops.

X-Forwarded-For is believed only from ``<PREFIX>TRUSTED_PROXIES`` (the gateway), like
:func:`sotay_kit.app.source_address` does: a client that reaches a service directly cannot
pass for another address.

With several workers, Prometheus metrics are kept in ``PROMETHEUS_MULTIPROC_DIR`` (a fresh
directory under the temporary directory unless set) so that ``/metrics`` on any worker reports
the whole service (:func:`sotay_kit.metrics.latest`).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .settings import ServiceSettings
from .topology import SERVICE_BY_NAME

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def available_cores(cpu_max: Path = _CPU_MAX) -> int:
    """The cores this process may run on: its CPU affinity, capped by the cgroup v2 CPU
    quota (a container's CPU limit; rounded up)."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = cpu_max.read_text().split()
    except (OSError, ValueError):
        return cores
    if quota == "max":
        return cores
    return max(1, min(cores, math.ceil(int(quota) / int(period))))


def uvicorn_argv(name: str, settings: ServiceSettings, *, host: str, port: str) -> list[str]:
    info = SERVICE_BY_NAME[name]
    proxies = ",".join(str(network) for network in settings.trusted_proxies)
    return [
        sys.executable, "-m", "uvicorn", "--factory", info.app_factory,
        "--host", host, "--port", port,
        "--workers", str(settings.worker_processes(available_cores())),
        "--no-access-log",  # the gateway writes access logs; the app logs JSON itself
        "--proxy-headers", "--forwarded-allow-ips", proxies or "127.0.0.1",
        "--timeout-graceful-shutdown", "20",
    ]  # fmt: skip


def _metrics_directory(service: str) -> str:
    """An empty directory for the workers' metric files: the one configured (emptied: files
    of a previous run would be counted again), or a new one."""
    configured = os.environ.get(MULTIPROC_ENV)
    if not configured:
        return tempfile.mkdtemp(prefix=f"sotay-{service}-metrics-")
    path = Path(configured)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return str(path)


def main() -> None:
    name = os.environ.get("SERVICE", "")
    info = SERVICE_BY_NAME.get(name)
    if info is None:
        sys.exit(f"SERVICE must be one of: {', '.join(SERVICE_BY_NAME)} (got {name!r})")
    settings = ServiceSettings(_env_prefix=info.env_prefix)
    host = os.environ.get(f"{info.env_prefix}HOST", "0.0.0.0")
    port = os.environ.get(f"{info.env_prefix}PORT", str(info.default_port))
    argv = uvicorn_argv(name, settings, host=host, port=port)
    if settings.worker_processes(available_cores()) > 1:
        os.environ[MULTIPROC_ENV] = _metrics_directory(name)
    os.execv(sys.executable, argv)  # noqa: S606 (replace this process with uvicorn)


if __name__ == "__main__":
    main()
