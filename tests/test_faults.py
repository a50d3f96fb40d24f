"""The factory under database faults, through a loopback fault proxy in front of a real PostgreSQL.

Each fault test first parses the factory file through the proxy while all is well (which writes
the snapshot), then parses it again, with Airflow's DagBag in a process of its own forked from a
parent that imported Airflow (as the DAG processor forks one per file; tests/conftest.py), while
the database is down, refuses the login, is too slow, hangs, or cuts the connection mid-read. Every DAG built
before must still be built, well inside Airflow's 30 s import timeout, and the result must say
the snapshot was used; once the fault clears, that report reaches the ``_parse`` table.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from factory import store
from factory.enums import RowStatus
from factory.errors import ConfigSourceError
from factory.loader import load_platform
from factory.models import parse_config
from factory.names import platform_slug
from factory.operations.provisioning.render import factory_file_name
from simulators.ecosystem import generate_ecosystem, seed_database
from simulators.fault_proxy import FaultProxy
from simulators.parse_loop import ParseRun, parse_once
from yellowtui.cli import main as cli

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timed]

PLATFORM = "YellowLive"
SLUG = platform_slug(PLATFORM)
STREAMS = 40
AIRFLOW_IMPORT_TIMEOUT_S = 30.0
#: "Well inside" the import timeout: a fault may cost a few seconds, never most of the budget.
FAULT_PARSE_LIMIT_S = 10.0


@dataclass
class Rig:
    """One platform in its own database, its factory file, and a fault proxy in front of the server."""

    db_url: str  # direct (Unix socket): for the test's own setup and checks
    proxy: FaultProxy
    dags: Path
    snapshots: Path
    user: str = "postgres"

    @property
    def database(self) -> str:
        return make_url(self.db_url).database

    @property
    def proxied_url(self) -> str:
        return self.proxy.url(self.database, user=self.user)

    @property
    def factory_file(self) -> Path:
        return self.dags / factory_file_name(PLATFORM)

    def env(self, url: str | None = None) -> dict[str, str]:
        """The parse's settings; its AIRFLOW_HOME is the session's private one (tests/conftest.py),
        the one the warm parent imported Airflow with."""
        return {
            "YELLOW_SNAPSHOT_DIR": str(self.snapshots),
            "YELLOW_DB_URL": url or self.proxied_url,
            "YELLOW_DB_CONNECT_TIMEOUT": "1",
            "YELLOW_DB_STATEMENT_TIMEOUT_MS": "500",
        }

    def parse(self, url: str | None = None) -> ParseRun:
        """DagBag in a child forked from the warm parent, as Airflow's DAG processor parses, with its
        30 s import timeout."""
        run = parse_once(self.factory_file, env=self.env(url), timeout=AIRFLOW_IMPORT_TIMEOUT_S)
        assert run.forked
        return run

    def sql(self, *statements: str) -> None:
        engine = create_engine(self.db_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        finally:
            engine.dispose()

    def parse_reports(self) -> list[dict]:
        result = CliRunner().invoke(cli, ["parses", "--db", self.db_url, "--platform", PLATFORM, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)


@pytest.fixture
def rig(pg, db_url, tmp_path):
    eco = generate_ecosystem(1, STREAMS, seed=3)
    seed_database(db_url, eco, dags_folder=tmp_path / "dags")
    with FaultProxy(pg.socket_path) as proxy:
        yield Rig(db_url, proxy, tmp_path / "dags", tmp_path / "snapshots")


def _change_one_row(db_url: str) -> None:
    """Update one row, so the next parse must read every row again (not the fingerprint shortcut)."""
    from factory.db import get_engine

    with get_engine(db_url).begin() as conn:
        row = store.read_rows(conn, SLUG, status=RowStatus.ACTIVE)[0]
        config = parse_config(row.config_json, row.stream_key)
        schedule = "@daily" if config.schedule != "@daily" else "@weekly"
        store.write_row(conn, SLUG, row.stream_key, config.model_copy(update={"schedule": schedule}).to_json())


# ---- the faults: (apply, clear, expected cause in the report) --------------------------------


def _database_down(rig: Rig) -> Callable[[], None]:
    rig.proxy.refuse()
    return rig.proxy.pass_through


def _login_refused(rig: Rig) -> Callable[[], None]:
    rig.sql(f'ALTER ROLE "{rig.user}" NOLOGIN')
    return lambda: rig.sql(f'ALTER ROLE "{rig.user}" LOGIN')


def _slow_query(rig: Rig) -> Callable[[], None]:
    """The server itself is slow: a lock makes the query wait beyond the statement timeout."""
    engine = create_engine(rig.db_url)
    holder = engine.connect()
    holder.execute(text(f"LOCK TABLE {SLUG}_airflow_dsg IN ACCESS EXCLUSIVE MODE"))

    def clear() -> None:
        holder.rollback()
        holder.close()
        engine.dispose()

    return clear


def _slow_network(rig: Rig) -> Callable[[], None]:
    rig.proxy.delay(2.0)
    return rig.proxy.pass_through


def _stalled(rig: Rig) -> Callable[[], None]:
    rig.proxy.stall()
    return rig.proxy.pass_through


def _hangs_mid_reply(rig: Rig) -> Callable[[], None]:
    rig.proxy.stall_after(600)  # the handshake (~450 bytes) gets through, the replies after it hang
    return rig.proxy.pass_through


def _cut_mid_read(rig: Rig) -> Callable[[], None]:
    _change_one_row(rig.db_url)  # every row must be read: ~36 kB, cut after 8 kB
    rig.proxy.cut_after(8000)
    return rig.proxy.pass_through


FAULTS = {
    "database down": (_database_down, "Connection refused"),
    "login refused": (_login_refused, "is not permitted to log in"),
    "slow beyond the statement timeout": (_slow_query, "canceling statement due to statement timeout"),
    "slow network beyond the connect timeout": (_slow_network, "timeout expired"),
    "stalled server": (_stalled, "timeout expired"),
    "hangs mid-reply": (_hangs_mid_reply, "no reply from the database within"),
    "connection cut mid-read": (_cut_mid_read, "server closed the connection unexpectedly"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_builds_every_dag_from_the_snapshot(rig: Rig, fault: str):
    apply, cause = FAULTS[fault]
    if fault == "login refused":
        rig.user = f"reader_{rig.database}"
        rig.sql(
            f'CREATE ROLE "{rig.user}" LOGIN',
            f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{rig.user}"',
            f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{rig.user}"',
        )

    good = rig.parse()
    assert good.ok, good.import_errors or good.stderr_tail
    assert good.dags == STREAMS
    assert good.load_result["source"] == "database"
    assert (rig.snapshots / f"{SLUG}.json").exists()

    clear = apply(rig)
    try:
        started = time.monotonic()
        faulty = rig.parse()
        elapsed = time.monotonic() - started
    finally:
        clear()

    assert faulty.import_errors == {}, faulty.import_errors
    assert faulty.dag_ids == good.dag_ids, "a DAG built before the fault went missing"
    assert faulty.parse_ms / 1000 < FAULT_PARSE_LIMIT_S, f"parse took {faulty.parse_ms:.0f} ms under '{fault}'"
    assert elapsed < AIRFLOW_IMPORT_TIMEOUT_S
    result = faulty.load_result
    assert result["source"] == "snapshot"
    assert cause in result["source_detail"], result["source_detail"]
    if fault == "connection cut mid-read":
        assert rig.proxy.stats.cut >= 1
    if fault == "hangs mid-reply":
        assert rig.proxy.stats.stalled >= 1

    # The fault has cleared: the next parse reaches the database and flushes the spooled report.
    recovered = load_platform(PLATFORM, url=rig.proxied_url, snapshot_dir=rig.snapshots)
    assert recovered.source in ("database", "database-unchanged")
    assert set(recovered.dags) == set(good.dag_ids)
    reports = rig.parse_reports()
    spooled = [r for r in reports if r["source"] == "snapshot"]
    assert len(spooled) == 1, [r["source"] for r in reports]
    assert cause in spooled[0]["source_detail"]
    assert spooled[0]["dags_built"] == STREAMS
    assert not (rig.snapshots / f"{SLUG}.reports.jsonl").exists()


def test_no_snapshot_and_no_database_is_one_clear_error(rig: Rig):
    rig.proxy.refuse()
    url = f"postgresql+psycopg2://postgres:s3cret-pw@127.0.0.1:{rig.proxy.port}/{rig.database}"

    run = rig.parse(url)

    assert run.dags == 0
    assert len(run.import_errors) == 1
    (error,) = run.import_errors.values()
    assert "ConfigSourceError" in error
    assert f"127.0.0.1:{rig.proxy.port}/{rig.database}" in error  # names the database...
    assert "***" in error and "s3cret-pw" not in error  # ...with the password hidden
    assert "Connection refused" in error  # ...and the cause
    assert "no snapshot" in error
    assert "s3cret-pw" not in run.stderr_tail

    with pytest.raises(ConfigSourceError, match="Connection refused") as caught:
        load_platform(PLATFORM, url=url, snapshot_dir=rig.snapshots)
    assert "s3cret-pw" not in str(caught.value)


def test_fault_proxy_modes_against_the_real_server(pg, rig: Rig):
    """The proxy itself: each mode does what it says, and stays bounded."""

    def connect(timeout: int = 1):
        return psycopg2.connect(
            host="127.0.0.1", port=rig.proxy.port, user="postgres", dbname=rig.database, connect_timeout=timeout
        )

    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM yellowlive_airflow_dsg")
        assert cur.fetchone() == (STREAMS,)
    conn.close()

    rig.proxy.refuse()
    with pytest.raises(psycopg2.OperationalError, match="Connection refused"):
        connect()
    rig.proxy.drop()
    with pytest.raises(psycopg2.OperationalError, match="closed the connection"):
        connect()
    rig.proxy.stall()
    started = time.monotonic()
    with pytest.raises(psycopg2.OperationalError, match="timeout expired"):
        connect()
    assert time.monotonic() - started < 5
    rig.proxy.cut_after(4000)
    conn = connect()
    with pytest.raises(psycopg2.OperationalError, match="closed the connection"), conn.cursor() as cur:
        cur.execute("SELECT config_json FROM yellowlive_airflow_dsg")
        cur.fetchall()
    assert rig.proxy.stats.cut == 1
    rig.proxy.pass_through()
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy(("10.0.0.1", 5432))
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy(pg.socket_path, host="0.0.0.0")
