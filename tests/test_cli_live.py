"""``live``, ``wait`` and an apply's parse request when no Airflow can be asked: said plainly, the
apply never failed by it, and ``--wait-live`` refused before anything is written."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from factory import store
from factory.db import get_engine
from factory.operations.provisioning.bootstrap import bootstrap
from yellowtui.cli import main

P = "yellowlive"


def run(*args, env: dict | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


@pytest.fixture
def seeded(db_url, example_ecosystem, monkeypatch):
    for name in ("AIRFLOW_API_URL", "AIRFLOW_API_TOKEN", "YELLOW_READ_ONLY"):
        monkeypatch.delenv(name, raising=False)
    bootstrap(example_ecosystem, db_url, None)
    return db_url


def _schedule(db_url: str, key: str) -> str:
    with get_engine(db_url).connect() as conn:
        return json.loads(store.read_row(conn, P, key).config_json)["schedule"]


def test_apply_without_airflow_writes_and_says_no_parse_was_requested(seeded):
    result = run("config", "set", "Store1", "-p", P, "--db", seeded, "--field", "schedule=@daily", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert "no Airflow configured" in data["parse_requests"]["note"]
    assert _schedule(seeded, "Store1") == "@daily"


def test_read_only_apply_sends_nothing_and_says_so(seeded):
    result = run(
        "config", "set", "Store1", "-p", P, "--db", seeded, "--field", "schedule=@daily",
        "--airflow", "http://127.0.0.1:9", "--read-only",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "--read-only: no parse request sent" in result.output


def test_an_unreachable_airflow_never_fails_the_apply(seeded):
    result = run(
        "config", "set", "Store1", "-p", P, "--db", seeded, "--field", "schedule=@daily",
        "--airflow", "http://127.0.0.1:9", "--json",
        env={"AIRFLOW_API_USERNAME": "admin", "AIRFLOW_API_PASSWORD": "s3cret-pw"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "cannot reach Airflow" in json.loads(result.output)["parse_requests"]["note"]
    assert "s3cret-pw" not in result.output
    assert _schedule(seeded, "Store1") == "@daily"


def test_wait_live_without_airflow_is_refused_before_writing(seeded):
    before = _schedule(seeded, "Store1")
    result = run("config", "set", "Store1", "-p", P, "--db", seeded, "--field", "schedule=@daily", "--wait-live")
    assert result.exit_code == 2 and "no Airflow server" in result.output
    assert _schedule(seeded, "Store1") == before


def test_live_without_airflow_is_unknown_with_why_and_exit_2(seeded):
    result = run("live", "-p", P, "--db", seeded, "--json")
    assert result.exit_code == 2
    data = json.loads(result.output)
    assert {s["live"] for s in data["streams"]} == {"unknown"}
    assert "no Airflow configured" in data["reason"]
    assert all(s["wanted_fingerprint"] for s in data["streams"] if s["row_status"] == "active")
