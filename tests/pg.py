"""A throwaway PostgreSQL cluster for tests, started from the installed server binaries."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

UNPRIVILEGED_USERS = ("postgres", "bridge-pg")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries were found."""


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl: `pg_config --bindir`, /usr/lib/postgresql/*/bin, or PATH."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10)
            candidates.append(Path(out.stdout.strip()))
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates.extend(Path(p) for p in sorted(versions, key=_version_key, reverse=True))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) in pg_config --bindir, /usr/lib/postgresql/*/bin or PATH"
    )


def _version_key(path: str) -> float:
    try:
        return float(Path(path).parent.name)
    except ValueError:
        return 0.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresCluster:
    """One initdb'd data directory and the server running on it; `url` is the SQLAlchemy base URL."""

    bindir: Path
    root: Path
    port: int
    run_as: str | None

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}"

    def start_command(self) -> list[str]:
        options = (
            f"-k {self.root} -p {self.port} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        return [
            str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.logfile),
            "-o", options, "-w", "-t", "60", "start",
        ]  # fmt: skip

    def stop_command(self) -> list[str]:
        return [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "-t", "60", "stop"]

    def run(self, command: Sequence[str], *, timeout: float = 120) -> None:
        argv = _as_user(self.run_as, command)
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            log = ""
            with contextlib.suppress(OSError):
                log = self.logfile.read_text(errors="replace")[-4000:]
            raise RuntimeError(
                f"{shlex.join(argv)} failed with exit code {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\nserver log:\n{log}"
            )


def start_cluster(*, attempts: int = 3) -> PostgresCluster:
    """initdb a fresh cluster in a temporary directory and start it on a free 127.0.0.1 port."""
    bindir = find_bindir()
    run_as = _unprivileged_user() if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="bridge-pg-", dir=_scratch_dir()))
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    cluster = PostgresCluster(bindir=bindir, root=root, port=0, run_as=run_as)
    try:
        cluster.run(
            [str(bindir / "initdb"), "-D", str(cluster.datadir), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C", "--no-sync"]
        )  # fmt: skip
        for attempt in range(attempts):
            cluster.port = free_port()
            try:
                cluster.run(cluster.start_command())
                return cluster
            except RuntimeError:
                # Another process may have taken the port between free_port() and the bind; try another.
                if attempt == attempts - 1:
                    raise
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    raise AssertionError("unreachable")


def stop_cluster(cluster: PostgresCluster) -> None:
    try:
        cluster.run(cluster.stop_command())
    finally:
        shutil.rmtree(cluster.root, ignore_errors=True)


def _scratch_dir() -> str | None:
    """A tmpfs when there is one: CREATE DATABASE per test is about ten times faster than on a disk."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) and shutil.disk_usage(shm).free > 512 * 2**20:
        return shm
    return None


def _unprivileged_user() -> str:
    """initdb refuses to run as root: use the `postgres` system user, creating a user if there is none."""
    for name in UNPRIVILEGED_USERS:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    name = UNPRIVILEGED_USERS[-1]
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return name


def _as_user(user: str | None, command: Sequence[str]) -> list[str]:
    if user is None:
        return list(command)
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", user, "--", *command]
    return ["su", "-s", "/bin/sh", user, "-c", shlex.join(command)]
