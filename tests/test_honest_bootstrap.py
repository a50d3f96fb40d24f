"""An honest bootstrap (issue 17, item 3), through `yellowtui bootstrap` on a real PostgreSQL.

Whatever it fails on, at whatever step, factory or --static, split or not, it says exactly what
was committed and which files were written; it writes all of its files or none; a row already in
the table that the run cannot handle is named and left untouched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from factory.db import get_engine
from simulators.ecosystem import ecosystem_yaml, generate_ecosystem
from yellowtui.cli import main

P = "yellowlive"
DSG = f"{P}_airflow_dsg"
BAD_KEY = "hand made/../key"


def run(*args: Any) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def eco_file(tmp_path: Path) -> Path:
    path = tmp_path / "eco.yaml"
    path.write_text(ecosystem_yaml(generate_ecosystem(1, 4, 11)), encoding="utf-8")
    return path


def _rows(url: str) -> dict[str, Any]:
    with get_engine(url).connect() as conn:
        return {r.stream_key: r for r in conn.execute(text(f"SELECT * FROM {DSG}"))}


def _files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (staging folders included) with its text."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("layout", [["--static"], []], ids=["static", "factory"])
def test_a_row_the_run_cannot_handle_is_named_and_left_untouched(
    db_url: str, eco_file: Path, tmp_path: Path, layout: list[str]
) -> None:
    """A hand-made row whose key cannot be a file or dag_id name: the run used to retire it,
    commit, write files, then fail on the key and say "nothing was written"."""
    dags = tmp_path / "dags"
    first = run("bootstrap", eco_file, "--db", db_url, "--dags-folder", dags, *layout)
    assert first.exit_code == 0, first.output
    with get_engine(db_url).begin() as conn:
        conn.execute(
            text(f"INSERT INTO {DSG} (stream_key, config_json, status) VALUES (:k, '{{}}', 'active')"), {"k": BAD_KEY}
        )
    before = _rows(db_url)[BAD_KEY]
    again = run("bootstrap", eco_file, "--db", db_url, "--dags-folder", dags, *layout)
    assert "nothing was written" not in again.output and "Traceback" not in again.output
    assert again.exit_code == 0, again.output
    assert BAD_KEY in again.output and "left untouched" in again.output
    after = _rows(db_url)[BAD_KEY]
    assert (after.status, after.config_json, after.updated_at) == (before.status, before.config_json, before.updated_at)
    assert not list(dags.glob(".yellow-staging-*"))
    as_json = run("bootstrap", eco_file, "--db", db_url, "--json", *layout)
    assert as_json.exit_code == 0, as_json.output
    assert '"left_untouched"' in as_json.output and BAD_KEY in as_json.output


@pytest.mark.parametrize(
    ("layout", "blocked"),
    [
        (["--static"], "last static file"),
        (["--files", "3"], f"{P}_factory_dag_2.py"),
    ],
    ids=["static", "split"],
)
def test_files_are_all_or_none_and_the_message_says_what_was_committed(
    db_url: str, eco_file: Path, tmp_path: Path, layout: list[str], blocked: str
) -> None:
    """One file cannot be put in place after the rows committed (a folder holds its name): no
    other file appears or changes, and the message names the committed rows and says no file
    was written."""
    dags = tmp_path / "dags"
    dags.mkdir()
    if blocked == "last static file":
        planned = run("bootstrap", eco_file, "--db", db_url, "--dags-folder", tmp_path / "probe", *layout)
        assert planned.exit_code == 0, planned.output
        blocked = sorted(p.name for p in (tmp_path / "probe").glob("*.py"))[-1]
        with get_engine(db_url).begin() as conn:
            conn.execute(text(f"DROP TABLE {DSG} CASCADE"))
            conn.execute(text(f"DROP TABLE IF EXISTS {DSG}_history, {DSG}_parse, {DSG}_build CASCADE"))
    (dags / "keep.py").write_text("# someone else's file\n", encoding="utf-8")
    (dags / blocked).mkdir()
    (dags / blocked / "x").write_text("a folder where a DAG file should go\n", encoding="utf-8")
    before = _files(dags)
    result = run("bootstrap", eco_file, "--db", db_url, "--dags-folder", dags, *layout)
    assert result.exit_code == 1, result.output
    assert "nothing was written" not in result.output and "Traceback" not in result.output
    assert "committed" in result.output and "4 inserted" in result.output
    assert "no DAG file was written" in result.output and blocked in result.output
    assert _files(dags) == before  # all or none: no file appeared, changed or was left staged
    assert len(_rows(db_url)) == 4  # what the message says was committed, was
