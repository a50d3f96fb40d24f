"""The rendered factory file, parsed by Airflow's DagBag against a real PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, select

from factory import store
from factory.operations.provisioning.bootstrap import bootstrap
from factory.settings import reset_settings
from factory.tables import platform_tables
from tests.airflow_helpers import parse_folder

pytestmark = pytest.mark.airflow

EXPECTED = {
    "yellowlive__Store1_ingestion",
    "yellowlive__Store2_orders_ingestion",
    "yellowlive__Store2_order_lines_ingestion",
    "yellowlive__Store2_returns_ingestion",
    "yellowlive__Payments_ingestion",
    "yellowforensic__Store1_customers_ingestion",
    "yellowforensic__Store1_addresses_ingestion",
    "yellowforensic__AuditLog_ingestion",
}


@pytest.fixture
def dags(db_url, example_ecosystem, tmp_path, snapshot_dir, monkeypatch):
    folder = tmp_path / "dags"
    bootstrap(example_ecosystem, db_url, folder)
    monkeypatch.setenv("YELLOW_DB_URL", db_url)
    reset_settings()
    return folder


def test_factory_file_yields_one_dag_per_active_row(dags):
    bag = parse_folder(dags)
    assert bag.import_errors == {}
    assert set(bag.dags) == EXPECTED
    dag = bag.dags["yellowlive__Store1_ingestion"]
    assert dag.fileloc.endswith("yellowlive_factory_dag.py")
    assert set(dag.task_ids) == {"snapshot_merge_job", "check_result", "reschedule_immediately", "wait_for_trigger"}
    assert dag.get_task("check_result").downstream_task_ids == {"reschedule_immediately", "wait_for_trigger"}
    assert dag.get_task("reschedule_immediately").trigger_dag_id == dag.dag_id


def test_factory_file_holds_no_credentials(dags, db_url):
    text = (dags / "yellowlive_factory_dag.py").read_text()
    assert "postgresql" not in text and db_url not in text
    assert "airflow" in text.lower() and "dag" in text.lower()  # Airflow's safe-mode discovery needs both


def test_garbage_row_is_reported_and_every_other_dag_survives(dags, db_url):
    with create_engine(db_url).begin() as conn:
        store.write_row(conn, "yellowlive", "Garbage", "{this is not json", actor="test")
        store.write_row(conn, "yellowlive", "Typo", json.dumps({"stream_key": "Typo", "schedul": "x"}), actor="test")
        store.write_row(
            conn, "yellowlive", "Store1", store.read_row(conn, "yellowlive", "Store1").config_json, "paused"
        )
    bag = parse_folder(dags)
    assert bag.import_errors == {}
    assert set(bag.dags) == EXPECTED - {"yellowlive__Store1_ingestion"}
    builds = platform_tables("yellowlive").builds
    with create_engine(db_url).connect() as conn:
        outcomes = {r.stream_key: r for r in conn.execute(select(builds))}
    assert outcomes["Garbage"].outcome == "error" and "not valid JSON" in outcomes["Garbage"].error
    assert outcomes["Typo"].outcome == "error" and "did you mean 'schedule'" in outcomes["Typo"].error
    assert outcomes["Store2_orders"].outcome == "ok"
    assert "Store1" not in outcomes  # paused rows build nothing


def test_a_row_update_changes_the_dag_without_touching_the_file(dags, db_url):
    before = (dags / "yellowlive_factory_dag.py").read_text()
    assert parse_folder(dags).dags["yellowlive__Payments_ingestion"].timetable.expression == "*/5 * * * *"
    with create_engine(db_url).begin() as conn:
        row = store.read_row(conn, "yellowlive", "Payments")
        store.write_row(
            conn, "yellowlive", "Payments", json.dumps({**json.loads(row.config_json), "schedule": "0 4 * * *"})
        )
    assert parse_folder(dags).dags["yellowlive__Payments_ingestion"].timetable.expression == "0 4 * * *"
    assert (dags / "yellowlive_factory_dag.py").read_text() == before


def test_database_named_by_an_airflow_env_connection(db_url, example_ecosystem, tmp_path, snapshot_dir, monkeypatch):
    bootstrap(example_ecosystem, db_url, tmp_path, conn_id="yellow_config_db")
    monkeypatch.delenv("YELLOW_DB_URL", raising=False)
    reset_settings()
    monkeypatch.setenv("AIRFLOW_CONN_YELLOW_CONFIG_DB", db_url.replace("postgresql+psycopg2://", "postgres://"))
    bag = parse_folder(tmp_path)
    assert bag.import_errors == {}
    assert set(bag.dags) == EXPECTED


def test_no_database_and_no_snapshot_is_one_clear_import_error(
    tmp_path, snapshot_dir, monkeypatch, example_ecosystem, db_url
):
    bootstrap(example_ecosystem, db_url, tmp_path)
    monkeypatch.setenv("YELLOW_DB_URL", "postgresql://yellow:s3cret@127.0.0.1:9/nowhere")
    monkeypatch.setenv("YELLOW_DB_CONNECT_TIMEOUT", "1")
    reset_settings()
    bag = parse_folder(tmp_path)
    assert bag.dags == {}
    errors = "\n".join(bag.import_errors.values())
    assert "ConfigSourceError" in errors and "127.0.0.1:9/nowhere" in errors and "no snapshot" in errors
    assert "s3cret" not in errors
