"""Container entry point: ``SERVICE=<name> python -m sotay_kit.serve``.

Runs uvicorn with the service's app factory from :mod:`sotay_kit.topology`, on
``<PREFIX>HOST`` (default 0.0.0.0 in a container) and ``<PREFIX>PORT`` (default: the
service's topology port).
"""

from __future__ import annotations

import os
import sys

from .topology import SERVICE_BY_NAME


def main() -> None:
    name = os.environ.get("SERVICE", "")
    info = SERVICE_BY_NAME.get(name)
    if info is None:
        sys.exit(f"SERVICE must be one of: {', '.join(SERVICE_BY_NAME)} (got {name!r})")
    host = os.environ.get(f"{info.env_prefix}HOST", "0.0.0.0")
    port = os.environ.get(f"{info.env_prefix}PORT", str(info.default_port))
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", info.app_factory,
        "--host", host, "--port", port,
        "--no-access-log",  # the gateway writes access logs; the app logs JSON itself
        "--proxy-headers", "--forwarded-allow-ips", "*",
        "--timeout-graceful-shutdown", "20",
    ]  # fmt: skip
    os.execv(sys.executable, argv)  # noqa: S606 (replace this process with uvicorn)


if __name__ == "__main__":
    main()
