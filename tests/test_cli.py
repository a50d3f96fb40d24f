"""The command line against a real PostgreSQL: what scripts and people see."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine

from factory import store
from tests.conftest import EXAMPLE_ECOSYSTEM
from yellowtui.cli import main


def run(*args, ok=True, env=None):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    if ok is not None:
        assert (result.exit_code == 0) is ok, result.output
    return result


@pytest.fixture
def seeded(db_url, tmp_path):
    run("bootstrap", EXAMPLE_ECOSYSTEM, "--db", db_url, "--dags-folder", tmp_path / "dags")
    return db_url


def test_schema_prints_the_json_schema():
    schema = json.loads(run("schema").output)
    assert "stream_key" in schema["properties"] and schema["additionalProperties"] is False


def test_help_teaches():
    text = run("--help").output
    assert "bootstrap" in text and "Examples" in text
    assert "--json" in run("config", "list", "--help").output


def test_bootstrap_reports_what_it_did(db_url, tmp_path):
    out = json.loads(run("bootstrap", EXAMPLE_ECOSYSTEM, "--db", db_url, "--dags-folder", tmp_path, "--json").output)
    assert [p["platform"] for p in out] == ["yellowlive", "yellowforensic"]
    assert len(out[0]["rows"]["inserted"]) == 5
    again = run("bootstrap", EXAMPLE_ECOSYSTEM, "--db", db_url, "--dags-folder", tmp_path).output
    assert "0 inserted, 0 updated, 5 unchanged, 0 retired" in again


def test_bootstrap_refuses_a_bad_ecosystem_and_writes_nothing(db_url, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        EXAMPLE_ECOSYSTEM.read_text()
        .replace('schedule: "*/5 * * * *"', 'schedule: "0 25 * * *"')
        .replace("namespace: yellow-forensic", "namespace: Yellow_Forensic")
    )
    result = run("bootstrap", bad, "--db", db_url, "--dags-folder", tmp_path / "dags", ok=False)
    assert result.exit_code == 1
    assert "4 problem(s)" in result.output  # one schedule, three forensic streams
    assert "stream Payments: $.schedule" in result.output and "namespace" in result.output
    assert not (tmp_path / "dags").exists()
    with create_engine(db_url).connect() as conn:
        assert store.list_platforms(conn) == []


def test_config_list_and_show(seeded):
    rows = json.loads(run("config", "list", "--db", seeded, "--json").output)
    assert len(rows) == 8 and all(r["valid"] for r in rows)
    shown = json.loads(run("config", "show", "Store1", "--db", seeded, "-p", "YellowLive", "--json").output)
    assert shown["dag"]["dag_id"] == "yellowlive__Store1_ingestion"
    assert shown["history"][0]["action"] == "insert"
    assert "postgres-demo-creds" in json.dumps(shown["dag"]["secrets"])


def test_validate_exits_1_and_prints_every_problem(seeded, sample_config):
    assert "0 invalid" in run("config", "validate", "--db", seeded).output
    with create_engine(seeded).begin() as conn:
        bad = dict(sample_config, stream_key="Bad1", postgres_port=0, schedul="x")
        store.write_row(conn, "yellowlive", "Bad1", json.dumps(bad))
    result = run("config", "validate", "--db", seeded, "--json", ok=False)
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["invalid"] == 1
    paths = {p["path"] for p in report["problems"][0]["problems"]}
    assert paths == {"$.postgres_port", "$.schedul"}


def test_export_import_round_trip_is_all_or_nothing(seeded, tmp_path):
    exported = tmp_path / "rows.json"
    run("config", "export", "--db", seeded, "-p", "yellowlive", "-o", exported)
    data = json.loads(exported.read_text())
    assert len(data["rows"]) == 5
    assert "unchanged" in run("config", "import", exported, "--db", seeded, "-p", "yellowlive").output
    # One bad row: nothing is written, not even the good change beside it.
    config = json.loads(data["rows"][0]["config_json"])
    data["rows"][0]["config_json"] = json.dumps({**config, "schedule": "@daily"})
    data["rows"][1]["config_json"] = json.dumps({**json.loads(data["rows"][1]["config_json"]), "postgres_port": 99999})
    exported.write_text(json.dumps(data))
    result = run("config", "import", exported, "--db", seeded, "-p", "yellowlive", ok=False)
    assert "postgres_port" in result.output and "nothing was written" in result.output
    with create_engine(seeded).connect() as conn:
        assert (
            json.loads(store.read_row(conn, "yellowlive", data["rows"][0]["stream_key"]).config_json)["schedule"]
            != "@daily"
        )


def test_unknown_platform_and_missing_db_are_clear(seeded):
    result = run("config", "list", "--db", seeded, "-p", "Nope", ok=False)
    assert "platform 'Nope' has no table" in result.output and "yellowlive" in result.output
    result = run("config", "list", ok=False, env={"YELLOW_DB_URL": ""})
    assert "pass --db URL or set YELLOW_DB_URL" in result.output


def test_password_is_never_printed(seeded):
    url = seeded.replace("postgres:@", "postgres:hunter2@").replace("/t", "/missing_t")
    result = run("config", "list", "--db", url, ok=False)
    assert "hunter2" not in result.output and "***" in result.output
