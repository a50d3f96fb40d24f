"""``yellowtui health``: each state and its exit code, on a real PostgreSQL."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from factory import store
from factory.db import get_engine
from factory.loader import load_platform
from factory.operations.inspection.health import Level, airflow_findings, check_platform
from factory.operations.provisioning.bootstrap import bootstrap
from factory.settings import reset_settings
from yellowtui.cli import main

PLATFORM = "yellowlive"


@pytest.fixture
def platform_db(db_url, example_ecosystem, snapshot_dir, monkeypatch):
    bootstrap(example_ecosystem, db_url, None)
    monkeypatch.delenv("AIRFLOW_API_URL", raising=False)
    return db_url


def _health(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["health", "-p", PLATFORM, "--json", *args])
    return result.exit_code, json.loads(result.stdout)


def _checks(data: dict) -> dict[str, str]:
    return {r["check"]: r["level"] for r in data["reasons"]}


def test_healthy_after_a_parse(platform_db):
    load_platform(PLATFORM, url=platform_db)
    code, data = _health("--db", platform_db)
    assert (code, data["status"], data["reasons"]) == (0, "ok", [])
    assert data["facts"]["dags_built"] == 5 and data["facts"]["streams"] == {"ok": 5}
    text = CliRunner().invoke(main, ["health", "-p", PLATFORM, "--db", platform_db])
    assert text.exit_code == 0 and "yellowlive: OK" in text.output


def test_never_parsed_is_critical(platform_db):
    code, data = _health("--db", platform_db)
    assert code == 2 and _checks(data) == {"never-parsed": "critical"}


def test_a_parse_older_than_the_threshold_is_critical(platform_db):
    load_platform(PLATFORM, url=platform_db)
    time.sleep(1.2)
    code, data = _health("--db", platform_db, "--max-age", "1")
    assert code == 2 and _checks(data) == {"parse-too-old": "critical"}
    later = check_platform(platform_db, PLATFORM, max_age_s=600, now=datetime.now(UTC) + timedelta(hours=1))
    assert later.status is Level.CRITICAL and "older than the 600 s threshold" in later.reasons[0].message


def test_stream_errors_and_stale_builds_are_warnings(platform_db):
    load_platform(PLATFORM, url=platform_db)
    with get_engine(platform_db).begin() as conn:
        store.write_row(conn, PLATFORM, "Garbage", "{not json", actor="test")
        row = store.read_row(conn, PLATFORM, "Store1")
        store.write_row(conn, PLATFORM, "Store1", row.config_json.replace('"@hourly"', '"@sometimes"'), actor="test")
    load_platform(PLATFORM, url=platform_db)
    code, data = _health("--db", platform_db)
    assert code == 1 and _checks(data) == {"stream-errors": "warning", "stale-builds": "warning"}
    assert "Garbage" in data["reasons"][0]["message"] and "Store1" in data["reasons"][1]["message"]


def test_built_from_the_snapshot_is_a_warning(platform_db, snapshot_dir):
    load_platform(PLATFORM, url=platform_db)  # writes the snapshot
    reset_settings()
    down = load_platform(PLATFORM, url="postgresql://yellow:pw@127.0.0.1:9/nowhere")
    assert down.used_snapshot
    code, data = _health("--db", platform_db)  # the spool on this host says so
    assert code == 1 and _checks(data) == {"built-from-snapshot": "warning"}
    assert "wait in" in data["reasons"][0]["message"]
    load_platform(PLATFORM, url=platform_db)  # back: the spooled report lands in the table
    code, data = _health("--db", platform_db)
    assert code == 1 and _checks(data) == {"built-from-snapshot": "warning"}  # within --max-age
    time.sleep(1.2)
    code, data = _health("--db", platform_db, "--max-age", "1")  # outside the window: only the age counts
    assert code == 2 and _checks(data) == {"parse-too-old": "critical"}


def test_unreachable_database_is_critical():
    code, data = _health("--db", "postgresql://yellow:s3cret@127.0.0.1:9/nowhere")
    assert code == 2 and _checks(data) == {"database-unreachable": "critical"}
    assert "s3cret" not in json.dumps(data)


def test_unknown_platform_is_critical_and_a_usage_error_is_unknown(platform_db):
    result = CliRunner().invoke(main, ["health", "-p", "nosuch", "--db", platform_db, "--json"])
    assert result.exit_code == 2 and "unknown-platform" in result.stdout
    result = CliRunner().invoke(main, ["health", "-p", PLATFORM], env={"YELLOW_DB_URL": ""})
    assert result.exit_code == 3 and "no config database" in result.output


def test_skipped_streams_are_a_warning(platform_db, tmp_path):
    from factory.operations.provisioning.render import render_factory_file, static_file_name

    (tmp_path / "yellowlive_factory_dag.py").write_text(render_factory_file(PLATFORM))
    (tmp_path / static_file_name(PLATFORM, "Payments")).write_text("# still here\n")
    from factory.loader import register_platform_dags

    module: dict = {"__file__": str(tmp_path / "yellowlive_factory_dag.py")}
    result = register_platform_dags(module, PLATFORM, url=platform_db)
    assert [o.stream_key for o in result.skipped] == ["Payments"] and result.errors == []
    assert "yellowlive__Payments_ingestion" not in module
    code, data = _health("--db", platform_db)
    assert code == 1 and _checks(data) == {"migration-unfinished": "warning"}


def test_what_airflow_shows_is_judged_too(platform_db):
    load_platform(PLATFORM, url=platform_db)
    everything = {
        f"yellowlive__{k}_ingestion"
        for k in ("Payments", "Store1", "Store2_orders", "Store2_order_lines", "Store2_returns")
    }
    health = check_platform(platform_db, PLATFORM)
    airflow_findings(health, factory_file="yellowlive_factory_dag.py", import_errors=[], listed_dag_ids=everything)
    assert health.status is Level.OK
    health = check_platform(platform_db, PLATFORM)
    airflow_findings(health, factory_file="f.py", listed_dag_ids=everything - {"yellowlive__Store1_ingestion"})
    assert health.status is Level.WARNING and "Store1" in health.reasons[0].message
    health = check_platform(platform_db, PLATFORM)
    airflow_findings(
        health, factory_file="f.py", import_errors=[("f.py", "ConfigSourceError: ...")], listed_dag_ids=set()
    )
    assert health.status is Level.CRITICAL
    assert {r.check for r in health.reasons} == {"airflow-import-error", "airflow-missing-dags"}
    health = check_platform(platform_db, PLATFORM)
    airflow_findings(health, factory_file="f.py", error="Airflow at http://127.0.0.1:9 cannot be reached")
    assert health.status is Level.WARNING and health.reasons[0].check == "airflow-unreachable"


def test_an_unreachable_airflow_is_a_warning_from_the_command(platform_db):
    load_platform(PLATFORM, url=platform_db)
    code, data = _health("--db", platform_db, "--airflow", "http://127.0.0.1:9")
    assert code == 1 and _checks(data) == {"airflow-unreachable": "warning"}
