"""``yellowtui platform drop``: confirmation, export of rows and history, then every table gone."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import inspect

from factory import store
from factory.db import get_engine
from factory.loader import load_platform
from factory.operations.provisioning.bootstrap import bootstrap
from yellowtui.cli import main

PLATFORM = "yellowlive"


def _tables(db_url: str) -> set[str]:
    with get_engine(db_url).connect() as conn:
        return {t for t in inspect(conn).get_table_names() if t.startswith(PLATFORM)}


def test_drop_exports_then_removes_every_table_and_the_rows_can_be_restored(
    db_url, example_ecosystem, snapshot_dir, tmp_path
):
    bootstrap(example_ecosystem, db_url, None)
    load_platform(PLATFORM, url=db_url)
    with get_engine(db_url).begin() as conn:
        store.write_row(
            conn, PLATFORM, "Store1", store.read_row(conn, PLATFORM, "Store1").config_json, "paused", actor="bob"
        )
    assert _tables(db_url) == {
        "yellowlive_airflow_dsg",
        "yellowlive_airflow_dsg_history",
        "yellowlive_airflow_dsg_parse",
        "yellowlive_airflow_dsg_build",
        "yellowlive_airflow_dsg_policy",
    }
    export = tmp_path / "out.json"
    result = CliRunner().invoke(main, ["platform", "drop", PLATFORM, "--db", db_url, "-o", str(export), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"exported 5 row(s) and 6 history entr(y/ies) to {export}" in result.output
    assert _tables(db_url) == set()
    with get_engine(db_url).connect() as conn:
        assert PLATFORM not in store.list_platforms(conn) and "yellowforensic" in store.list_platforms(conn)
    data = json.loads(export.read_text())
    assert data["kind"] == "yellow-platform-export" and len(data["rows"]) == 5
    assert [h["changed_by"] for h in data["history"]][-1] == "bob"
    assert data["policy"]["namespaces"] == ["yellow-live"]

    restored = CliRunner().invoke(main, ["config", "import", str(export), "--platform", PLATFORM, "--db", db_url])
    assert restored.exit_code == 0, restored.output
    with get_engine(db_url).connect() as conn:
        rows = {r.stream_key: r.status for r in store.read_rows(conn, PLATFORM)}
    assert len(rows) == 5 and rows["Store1"] == "paused"


def test_drop_refuses_without_confirmation_or_export(db_url, example_ecosystem, tmp_path):
    bootstrap(example_ecosystem, db_url, None)
    before = _tables(db_url)
    no = CliRunner().invoke(main, ["platform", "drop", PLATFORM, "--db", db_url, "-o", str(tmp_path / "a.json")])
    assert no.exit_code == 2 and "pass --yes" in no.output  # no terminal to ask on
    (tmp_path / "taken.json").write_text("{}")
    taken = CliRunner().invoke(
        main, ["platform", "drop", PLATFORM, "--db", db_url, "-o", str(tmp_path / "taken.json"), "--yes"]
    )
    assert taken.exit_code == 1 and "already exists" in taken.output
    unwritable = CliRunner().invoke(
        main, ["platform", "drop", PLATFORM, "--db", db_url, "-o", str(tmp_path / "taken.json" / "x.json"), "--yes"]
    )
    assert unwritable.exit_code == 1 and "nothing was dropped" in unwritable.output
    assert _tables(db_url) == before  # nothing dropped
    unknown = CliRunner().invoke(
        main, ["platform", "drop", "nosuch", "--db", db_url, "--yes", "-o", str(tmp_path / "n.json")]
    )
    assert unknown.exit_code == 1 and "nothing to drop" in unknown.output
