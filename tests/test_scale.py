"""The factory at scale, parsed as Airflow parses it (DagBag in a process of its own, forked from a
parent that imported Airflow, as the DAG processor forks one per file: tests/conftest.py).

One bad row among thousands costs only its own DAG and shows up in ``yellowtui errors``; a
worker naming one dag_id builds only that DAG; an unchanged table is not read or validated again.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url

from factory import store
from factory.db import get_engine
from factory.enums import RowStatus
from factory.loader import load_platform
from factory.models import parse_config
from factory.names import dag_id_for, platform_slug
from factory.operations.provisioning.render import factory_file_name
from simulators.ecosystem import bad_rows, generate_ecosystem, seed_database
from simulators.fault_proxy import FaultProxy
from simulators.parse_loop import ParseRun, parse_once
from yellowtui.cli import main as cli

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timed]

PLATFORM = "YellowLive"
SLUG = platform_slug(PLATFORM)


def _parse(tmp_path: Path, db_url: str, **extra: str) -> ParseRun:
    """One parse; its AIRFLOW_HOME is the session's (tests/conftest.py), the warm parent's."""
    env = {
        "YELLOW_SNAPSHOT_DIR": str(tmp_path / "snapshots"),
        "YELLOW_DB_URL": db_url,
        **extra,
    }
    run = parse_once(tmp_path / "dags" / factory_file_name(PLATFORM), env=env, timeout=30.0)
    assert run.forked
    assert run.import_errors == {}, run.import_errors
    assert not run.timed_out
    return run


def test_one_bad_row_among_thousands(db_url, tmp_path):
    streams = 3000
    eco = generate_ecosystem(1, streams, seed=11)
    seeded = seed_database(db_url, eco, bad=1, seed=5, dags_folder=tmp_path / "dags")
    (bad_key,) = seeded["platforms"][SLUG]["bad"]

    run = _parse(tmp_path, db_url)

    assert run.dags == streams, "every healthy stream must keep its DAG"
    assert dag_id_for(SLUG, bad_key) not in run.dag_ids
    result = run.load_result
    assert result["rows_read"] == streams + 1
    assert result["errors"] == 1
    assert [o["stream_key"] for o in result["outcomes"]] == [bad_key]

    cli_run = CliRunner().invoke(cli, ["errors", "--db", db_url, "--platform", PLATFORM, "--json"])
    assert cli_run.exit_code == 0, cli_run.output
    errors = json.loads(cli_run.output)
    assert errors, "the bad row's error must be visible"
    assert {e["stream_key"] for e in errors} == {bad_key}
    expected = dict(bad_rows(PLATFORM, 1, seed=5))[bad_key]
    with pytest.raises(ValueError) as problem:
        parse_config(expected, bad_key)
    assert errors[0]["message"] in str(problem.value)


@pytest.fixture
def small_platform(db_url, tmp_path):
    eco = generate_ecosystem(1, 30, seed=2)
    seed_database(db_url, eco, dags_folder=tmp_path / "dags")
    return eco


def _parse_count(db_url: str) -> int:
    with get_engine(db_url).connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {SLUG}_airflow_dsg_parse")).scalar_one()


def test_worker_path_builds_only_the_named_dag(small_platform, db_url, tmp_path):
    with get_engine(db_url).connect() as conn:
        keys = [r.stream_key for r in store.read_rows(conn, SLUG, status=RowStatus.ACTIVE)]
    wanted = dag_id_for(SLUG, keys[len(keys) // 2])

    run = _parse(tmp_path, db_url, _AIRFLOW_PARSING_CONTEXT_DAG_ID=wanted)

    assert run.dag_ids == [wanted]
    assert run.load_result["mode"] == "single"
    assert run.load_result["rows_read"] == 1
    assert _parse_count(db_url) == 0, "a worker start is not a parse: it records no report"

    other = _parse(tmp_path, db_url, _AIRFLOW_PARSING_CONTEXT_DAG_ID="yellowforensic__Store1_ingestion")
    assert other.dags == 0, "a dag_id of another platform builds nothing here"


def test_worker_path_falls_back_like_a_full_parse(small_platform, db_url, tmp_path, pg):
    """A worker reads the snapshot only when it needs it, and then it does need it."""
    snapshots = tmp_path / "snapshots"
    full = load_platform(PLATFORM, url=db_url, snapshot_dir=snapshots, dag_id=None)
    key = sorted(full.dags)[0].removeprefix(f"{SLUG}__").removesuffix("_ingestion")
    wanted = dag_id_for(SLUG, key)

    with get_engine(db_url).begin() as conn:
        store.write_row(conn, SLUG, key, '{"stream_key": "cut short', RowStatus.ACTIVE)
    stale = load_platform(PLATFORM, url=db_url, snapshot_dir=snapshots, dag_id=wanted)
    assert list(stale.dags) == [wanted], "an invalid row still builds its last good config"
    assert [o.outcome for o in stale.outcomes] == ["stale"]

    with FaultProxy(pg.socket_path) as proxy:
        proxy.refuse()
        down = load_platform(PLATFORM, url=proxy.url(make_url(db_url).database), snapshot_dir=snapshots, dag_id=wanted)
    assert list(down.dags) == [wanted]
    assert down.source == "snapshot"


def test_change_detection_skips_unchanged_rows(small_platform, db_url, tmp_path):
    first = _parse(tmp_path, db_url)
    assert first.load_result["source"] == "database"
    assert first.load_result["rows_read"] == 30

    second = _parse(tmp_path, db_url)
    assert second.dag_ids == first.dag_ids
    assert second.load_result["source"] == "database-unchanged"
    assert second.load_result["rows_read"] == 0, "nothing changed: no row is read or validated again"
    assert second.load_result["reused"] == 30

    # A real change: one row's schedule. The next parse reads and validates again.
    with get_engine(db_url).begin() as conn:
        row = store.read_rows(conn, SLUG, status=RowStatus.ACTIVE)[0]
        config = parse_config(row.config_json, row.stream_key)
        new_schedule = "@weekly" if config.schedule != "@weekly" else "@monthly"
        store.write_row(conn, SLUG, row.stream_key, config.model_copy(update={"schedule": new_schedule}).to_json())
    third = _parse(tmp_path, db_url)
    assert third.load_result["source"] == "database"
    assert third.load_result["rows_read"] == 30
    assert third.load_result["reused"] == 29, "only the changed row is validated again"

    # The snapshot now holds the change: an unchanged parse builds the new schedule.
    after = load_platform(PLATFORM, url=db_url, snapshot_dir=tmp_path / "snapshots")
    assert after.source == "database-unchanged"
    assert after.dags[dag_id_for(SLUG, row.stream_key)].schedule == new_schedule

    # An edit that keeps updated_at (a hand-written UPDATE) is still noticed.
    with get_engine(db_url).begin() as conn:
        conn.execute(
            text(f"UPDATE {SLUG}_airflow_dsg SET config_json = :j WHERE stream_key = :k"),
            {"j": config.model_copy(update={"schedule": "@yearly"}).to_json(), "k": row.stream_key},
        )
    edited = load_platform(PLATFORM, url=db_url, snapshot_dir=tmp_path / "snapshots")
    assert edited.source == "database"
    assert edited.dags[dag_id_for(SLUG, row.stream_key)].schedule == "@yearly"
