"""An "embedded" PostGIS cluster that OneGrid starts for itself when no database is configured.

It lives in a git-ignored folder of the project (``var/pg-<port>``) with its own port and
socket, so development and tests need nothing but this repository. PostgreSQL refuses to run
as root, so as root the cluster runs as the ``postgres`` system user; when that user cannot
reach the project folder (a checkout under a mode-700 home) the cluster goes under
/var/lib/postgresql instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from onegrid.errors import DatabaseUnavailable

POSTGIS_PACKAGE = "postgresql-{major}-postgis-3"
CLUSTER_SETTINGS = {
    # Sized for a 2-core, 24 GiB machine running bulk spatial joins; fine on smaller ones too.
    "shared_buffers": "512MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_parallel_workers_per_gather": "2",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "listen_addresses": "127.0.0.1",
    "max_connections": "100",
}


def find_postgres_bindir() -> Path:
    """The newest PostgreSQL server binaries installed (Debian keeps them off the PATH)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    if candidates:
        return Path(candidates[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise DatabaseUnavailable(
        "PostgreSQL server binaries (initdb) not found. Install them "
        "(Debian: apt-get install -y postgresql) or set ONEGRID_DATABASE_URL."
    )


def _major(bindir: Path) -> str:
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True)
    return out.stdout.split()[-1].split(".")[0]


def _is_root() -> bool:
    return os.geteuid() == 0


@dataclass
class EmbeddedCluster:
    base_dir: Path
    port: int
    bindir: Path

    @classmethod
    def for_project(
        cls, project_root: Path, port: int, base_dir: Path | None = None
    ) -> EmbeddedCluster:
        bindir = find_postgres_bindir()
        if base_dir is None:
            base_dir = project_root / "var" / f"pg-{port}"
            if _is_root() and not _reachable_by_postgres_user(project_root):
                base_dir = Path("/var/lib/postgresql") / f"onegrid-{port}"
        return cls(base_dir=base_dir, port=port, bindir=bindir)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "sock"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    def url(self, database: str) -> str:
        # TCP on loopback: socket paths over 107 bytes fail, and psycopg needs no special host.
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    # -- life cycle -------------------------------------------------------------------------
    def up(self, log=print) -> None:
        """Install PostGIS if needed, create the cluster once, and start it (idempotent)."""
        if self.running_pid() is None and not port_is_free("127.0.0.1", self.port):
            raise DatabaseUnavailable(
                f"port {self.port} is used by another program, so the embedded PostgreSQL "
                "cannot start there: set ONEGRID_EMBEDDED_PORT to a free port "
                "(or ONEGRID_DATABASE_URL to use a running PostgreSQL)"
            )
        ensure_postgis_installed(self.bindir, log=log)
        if not (self.data_dir / "PG_VERSION").exists():
            self._init(log)
        if self.running_pid() is None:
            self._start(log)

    def down(self) -> bool:
        if self.running_pid() is None:
            return False
        self._run_pg(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]
        )
        return True

    def running_pid(self) -> int | None:
        """The postmaster's pid if it is really alive: a stale postmaster.pid lies after a crash."""
        pidfile = self.data_dir / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if b"postgres" in cmdline else None

    def _init(self, log) -> None:
        log(f"Creating the embedded PostGIS cluster in {self.base_dir} (port {self.port})")
        self._make_dir(self.base_dir)
        self._make_dir(self.socket_dir)
        self._run_pg(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--auth=trust",
            ]
        )
        conf = "\n".join(f"{k} = '{v}'" for k, v in CLUSTER_SETTINGS.items())
        extra = f"\nport = {self.port}\nunix_socket_directories = '{self.socket_dir}'\n"
        self._append_as_owner(self.data_dir / "postgresql.auto.conf", conf + extra)

    def _start(self, log) -> None:
        # Remove what a crash leaves behind; running_pid() already proved nobody owns it.
        for stale in [self.data_dir / "postmaster.pid", *self.socket_dir.glob(".s.PGSQL.*")]:
            stale.unlink(missing_ok=True)
        log(f"Starting the embedded PostGIS cluster on port {self.port}")
        result = self._run_pg(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=False,
        )
        if result.returncode != 0:
            tail = ""
            if self.log_file.exists():
                tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-8:])
            raise DatabaseUnavailable(
                f"The embedded PostgreSQL did not start on port {self.port} "
                f"(is the port busy? set ONEGRID_EMBEDDED_PORT to another). Log:\n{tail}"
            )

    # -- running things as the right user ------------------------------------------------------
    def _make_dir(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if _is_root():
            shutil.chown(path, "postgres", "postgres")
        path.chmod(0o700)

    def _run_pg(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {"capture_output": True, "text": True, "cwd": "/"}
        if _is_root():
            kwargs.update(user="postgres", group="postgres", extra_groups=[])
        result = subprocess.run(argv, **kwargs)
        if check and result.returncode != 0:
            raise DatabaseUnavailable(f"{Path(argv[0]).name} failed: {result.stderr.strip()}")
        return result

    def _append_as_owner(self, path: Path, text: str) -> None:
        with path.open("a", encoding="utf-8") as f:
            f.write(text)
        if _is_root():
            shutil.chown(path, "postgres", "postgres")


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now."""
    with socket.socket() as probe:
        # As PostgreSQL and uvicorn do: connections in TIME_WAIT from a server just stopped
        # do not keep a new one from listening, and must not make the port look taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _reachable_by_postgres_user(project_root: Path) -> bool:
    """Can the postgres user traverse every folder down to the project root?"""
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", "-x", str(project_root)], capture_output=True
    )
    return result.returncode == 0


def ensure_postgis_installed(bindir: Path, log=print) -> None:
    major = _major(bindir)
    share = Path(f"/usr/share/postgresql/{major}/extension")
    if any(share.glob("postgis.control")):
        return
    package = POSTGIS_PACKAGE.format(major=major)
    if not _is_root():
        raise DatabaseUnavailable(
            f"PostGIS is not installed for PostgreSQL {major}. Run as root: "
            f"apt-get update && apt-get install -y {package}"
        )
    log(f"Installing {package} (about 30 s)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", package]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        result = subprocess.run(install, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise DatabaseUnavailable(f"apt-get install {package} failed: {result.stderr[-500:]}")
