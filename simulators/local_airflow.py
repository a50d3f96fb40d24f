"""A real Airflow 3 on this machine: api-server, scheduler and dag-processor on 127.0.0.1.

Metadata lives in a database of the embedded PostgreSQL, the dags folder holds the rendered
factory files, and the factory runs its ingestion job with the local launcher
(``YELLOW_JOB_LAUNCHER=local``), so runs really happen without Kubernetes::

    with LocalAirflow(home, metadata_url, dags_folder, env={"YELLOW_DB_URL": config_url}) as af:
        af.url, af.username, af.password   # the REST API and its simple-auth-manager login

Each component runs in its own process group with its log in ``home/logs``; :meth:`stop`
sends SIGTERM to each group, then SIGKILL after a grace period, and checks no process of the
group is left. ``python -m simulators.local_airflow up`` runs one in the foreground.

With ``bundles=B`` > 1 the factory files are spread over B DAG bundles (factory.bundles): every
component gets the same ``dag_bundle_config_list`` and one ``airflow dag-processor -B NAME`` runs
per bundle (components ``dag-processor-dags-folder``, ``dag-processor-yellow-1``, ...).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

COMPONENTS = ("api-server", "scheduler", "dag-processor")
#: A DAG processor of one bundle: ``dag-processor-{bundle name}``.
BUNDLE_PROCESSOR_PREFIX = "dag-processor-"
USERNAME = "admin"
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"
#: Variables of the calling process that must not leak into the stack (they would point it at
#: another Airflow, another config database, or the wrong launcher).
_INHERITED_PREFIXES = ("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_", "YELLOW_", "_AIRFLOW")
#: Parse limits above Airflow's defaults (30 s per import, 50 s per file processor): tests on a slow,
#: shared machine must not fail on time. ``raise_parse_limits=False`` keeps Airflow's own, as a
#: benchmark of what production sees must.
TEST_PARSE_LIMITS = {
    "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
    "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "180",
    # A task's calls to the execution API (5 s by default): on a busy machine the API server,
    # also parsing and serving the dashboard, answers a task's start later than that, and the
    # task is killed before it runs.
    "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
}


class LocalAirflowError(RuntimeError):
    """The local Airflow did not start, or did not stop cleanly; the message names the log to read."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``, read from /proc."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 3 and int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


@dataclass
class Component:
    """One Airflow process (and its children): a process group with a log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class LocalAirflow:
    """Start and stop a real Airflow 3 on 127.0.0.1 and a free port (see the module docstring).

    ``env`` is added to every component's environment (``YELLOW_DB_URL`` for the factory,
    ``YELLOW_JOB_SCRIPT`` for the simulated job, or any ``AIRFLOW__`` override).
    ``raise_parse_limits`` applies :data:`TEST_PARSE_LIMITS`; without it Airflow's defaults hold.
    """

    home: Path
    db_url: str
    dags_folder: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    log: Callable[[str], None] = lambda _: None
    #: API server processes (``airflow api-server --workers``). One serves the tests; Airflow
    #: advises about one per CPU when pages are many, as each page is built on one CPU.
    api_workers: int = 1
    raise_parse_limits: bool = True
    #: DAG bundles the factory files are spread over, one DAG processor each (factory.bundles).
    bundles: int = 1
    #: The scheduler's worker log server (0: a free port, as for :attr:`port`).
    log_server_port: int = 0
    components: dict[str, Component] = field(default_factory=dict, init=False)
    password: str | None = field(default=None, init=False)
    jwt_secret: str = field(default_factory=lambda: secrets.token_hex(32), init=False)
    _secret_key: str = field(default_factory=lambda: secrets.token_hex(16), init=False, repr=False)

    def __post_init__(self) -> None:
        self.home = Path(self.home).resolve()
        self.dags_folder = Path(self.dags_folder).resolve()
        if not self.port:
            self.port = free_port()
        if not self.log_server_port:
            self.log_server_port = free_port()

    # ---- where and how ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The API server's root (what the REST client's ``host`` takes)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def username(self) -> str:
        return USERNAME

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    def environment(self) -> dict[str, str]:
        """The environment every component runs with."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_PREFIXES)}
        venv_bin = str(Path(sys.executable).parent)
        base["PATH"] = venv_bin + os.pathsep + base.get("PATH", "")
        ours = {
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            # The scheduler's log server, on a free port instead of the fixed 8793: two local
            # Airflows (tests in parallel, or the demo beside the tests) must not share it.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.log_server_port),
            "AIRFLOW__API__SECRET_KEY": self._secret_key,
            "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.db_url,
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "15",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "300",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "YELLOW_JOB_LAUNCHER": "local",
            "YELLOW_SNAPSHOT_DIR": str(self.home / "yellow_snapshots"),
            **(TEST_PARSE_LIMITS if self.raise_parse_limits else {}),
            **self._bundle_environment(),
        }
        return {**base, **ours, **self.env}

    def _bundle_environment(self) -> dict[str, str]:
        if self.bundles <= 1:
            return {}
        from factory.bundles import BundleConfig

        return {
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": BundleConfig(
                self.dags_folder, self.bundles
            ).config_value()
        }

    @property
    def processors(self) -> list[str]:
        """The DAG processor components: one, or one per bundle."""
        if self.bundles <= 1:
            return ["dag-processor"]
        from factory.bundles import bundle_name

        return [f"{BUNDLE_PROCESSOR_PREFIX}{bundle_name(j)}" for j in range(self.bundles)]

    def _airflow(self) -> str:
        return str(Path(sys.executable).with_name("airflow"))

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = 300.0) -> LocalAirflow:
        """Migrate the metadata database, start the three components, wait until healthy."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.dags_folder.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        try:
            self.migrate(timeout=timeout)
            for name in ("api-server", "scheduler", *self.processors):
                self.start_component(name)
            self.wait_healthy(deadline - time.monotonic())
        except BaseException:
            self.stop()
            raise
        return self

    def migrate(self, timeout: float = 300.0) -> None:
        """``airflow db migrate`` (idempotent: quick when the schema is current)."""
        started = time.monotonic()
        self.log("Migrating the Airflow metadata database …")
        log_path = self.log_dir / "db-migrate.log"
        with log_path.open("wb") as out:
            proc = subprocess.run(
                [self._airflow(), "db", "migrate"],
                env=self.environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
                start_new_session=True,
            )
        if proc.returncode != 0:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
            raise LocalAirflowError(f"airflow db migrate failed (exit {proc.returncode}); see {log_path}:\n{tail}")
        self.log(f"Migrated in {time.monotonic() - started:.1f} s.")

    def start_component(self, name: str) -> Component:
        """Start one component (``api-server``, ``scheduler``, ``dag-processor`` or one bundle's
        ``dag-processor-{bundle}``) in its own group."""
        bundle = name.removeprefix(BUNDLE_PROCESSOR_PREFIX) if name.startswith(BUNDLE_PROCESSOR_PREFIX) else None
        if name not in COMPONENTS and bundle is None:
            raise ValueError(f"unknown component {name!r}; one of {', '.join(COMPONENTS)}, or dag-processor-BUNDLE")
        old = self.components.get(name)
        if old is not None and old.running():
            return old
        args = [self._airflow(), name] if bundle is None else [self._airflow(), "dag-processor", "-B", bundle]
        if name == "api-server":
            args += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.api_workers)]
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as out:
            process = subprocess.Popen(
                args,
                env=self.environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.home,
            )
        component = Component(name, process, log_path)
        self.components[name] = component
        self.log(f"Started airflow {name} (pid {process.pid}, log {log_path}).")
        return component

    def stop_component(self, name: str, grace: float = 20.0) -> None:
        """SIGTERM the component's process group, SIGKILL what is left after ``grace`` seconds,
        and raise :class:`LocalAirflowError` if any of its processes is still alive."""
        component = self.components.pop(name, None)
        if component is None:
            return
        pgid = component.pid  # start_new_session: the leader's pid is the group id
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            component.process.poll()
            if not group_members(pgid):
                break
            time.sleep(0.2)
        if group_members(pgid):
            _signal_group(pgid, signal.SIGKILL)
            kill_deadline = time.monotonic() + 10
            while group_members(pgid) and time.monotonic() < kill_deadline:
                component.process.poll()
                time.sleep(0.1)
        with contextlib.suppress(subprocess.TimeoutExpired):
            component.process.wait(timeout=5)
        left = group_members(pgid)
        if left:
            raise LocalAirflowError(f"airflow {name}: processes {left} survived SIGKILL")
        self.log(f"Stopped airflow {name} (pid {component.pid}).")

    def stop(self, grace: float = 20.0) -> None:
        """Stop every component (scheduler first, so no task starts while the API goes away)."""
        errors = []
        processors = [n for n in self.components if n.startswith("dag-processor")]
        for name in ("scheduler", *processors, "api-server"):
            try:
                self.stop_component(name, grace)
            except LocalAirflowError as exc:
                errors.append(str(exc))
        if errors:
            raise LocalAirflowError("; ".join(errors))

    def __enter__(self) -> LocalAirflow:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pids(self) -> dict[str, int]:
        return {name: c.pid for name, c in self.components.items()}

    # ---- health and login ------------------------------------------------------------------

    def health(self, timeout: float = 5.0) -> dict[str, Any] | None:
        """``/api/v2/monitor/health`` as a dict, or None when the API server does not answer."""
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=timeout) as resp:
                return dict(json.loads(resp.read()))
        except (OSError, ValueError):
            return None

    def wait_healthy(self, timeout: float = 180.0, components: Iterable[str] = ("scheduler", "dag_processor")) -> None:
        """Wait until the API answers and reports the metadata database and ``components`` healthy."""
        deadline = time.monotonic() + max(timeout, 1.0)
        wanted = ("metadatabase", *components)
        last: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            for component in self.components.values():
                if not component.running():
                    raise LocalAirflowError(
                        f"airflow {component.name} exited with {component.process.returncode}; "
                        f"see {component.log_path}:\n{component.log_tail()}"
                    )
            last = self.health()
            if last and all((last.get(k) or {}).get("status") == "healthy" for k in wanted):
                self.password = self.read_password()
                self.log(f"Airflow is up at {self.url}.")
                return
            time.sleep(1.0)
        raise LocalAirflowError(f"Airflow at {self.url} not healthy after {timeout:.0f} s (last health: {last})")

    def read_password(self) -> str:
        """The admin password the simple auth manager generated (never printed by this module)."""
        path = self.home / PASSWORDS_FILE
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                return str(json.loads(path.read_text())[USERNAME])
            except (OSError, ValueError, KeyError):
                time.sleep(0.5)
        raise LocalAirflowError(f"no password for {USERNAME!r} in {path}")

    def token(self) -> str:
        """A fresh JWT from ``POST /auth/token``."""
        body = json.dumps({"username": self.username, "password": self.password or self.read_password()}).encode()
        request = urllib.request.Request(
            f"{self.url}/auth/token", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            return str(json.loads(resp.read())["access_token"])

    def credentials_env(self) -> dict[str, str]:
        """``AIRFLOW_API_URL``/``_USERNAME``/``_PASSWORD`` for ``yellowtui`` and its service."""
        return {
            "AIRFLOW_API_URL": self.url,
            "AIRFLOW_API_USERNAME": self.username,
            "AIRFLOW_API_PASSWORD": self.password or self.read_password(),
        }


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# ---- command line -------------------------------------------------------------------------


def _up(args: Any) -> int:
    """Start PostgreSQL and Airflow on a fresh ecosystem, print how to reach it, wait for ctrl-c."""
    from factory.operations.provisioning.bootstrap import Split, bootstrap
    from simulators.ecosystem import generate_ecosystem
    from simulators.postgres import start_postgres

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM (and SIGINT when a shell ignores it) stop cleanly

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    home = Path(args.home).resolve()
    server = start_postgres(home / "pgdata")
    try:
        config_url = server.create_database("yellow_config")
        meta_url = server.create_database("airflow_meta")
        eco = generate_ecosystem(args.platforms, args.streams, args.seed)
        bootstrap(eco, config_url, home / "dags", split=Split(bundles=args.bundles if args.bundles > 1 else None))
        env = {"YELLOW_DB_URL": config_url}
        if args.job_script:
            env["YELLOW_JOB_SCRIPT"] = str(Path(args.job_script).resolve())
        airflow = LocalAirflow(
            home / "airflow", meta_url, home / "dags", env=env, port=args.port, log=print, bundles=args.bundles
        )
        airflow.start()
        try:
            print(f"export AIRFLOW_API_URL={airflow.url} AIRFLOW_API_USERNAME={airflow.username}")
            print(f"the password is in {airflow.home / PASSWORDS_FILE}; YELLOW_DB_URL={config_url}")
            print("ctrl-c stops everything")
            while all(c.running() for c in airflow.components.values()):
                time.sleep(1)
            print("a component exited; stopping", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
        finally:
            airflow.stop()
    finally:
        from factory.db import dispose_engines

        dispose_engines()
        server.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m simulators.local_airflow up [--home DIR] [--platforms N --streams N]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m simulators.local_airflow", description=_up.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start PostgreSQL + Airflow with a generated ecosystem; ctrl-c stops")
    up.add_argument("--home", default=".local-airflow", help="working directory (default: ./.local-airflow)")
    up.add_argument("--platforms", type=int, default=1)
    up.add_argument("--streams", type=int, default=5)
    up.add_argument("--seed", type=int, default=0)
    up.add_argument("--port", type=int, default=0, help="API port (default: a free one)")
    up.add_argument("--job-script", help="YELLOW_JOB_SCRIPT for the simulated job")
    up.add_argument("--bundles", type=int, default=1, help="DAG bundles, one DAG processor each (default: 1)")
    args = parser.parse_args(argv)
    return _up(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
