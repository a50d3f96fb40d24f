"""Migration from static files to the factory and back, on the example ecosystem, with a real
PostgreSQL and Airflow's own DagBag over the dags folder after every step."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from factory import store
from factory.db import get_engine
from factory.operations.migration.cutover import cutover, default_backup_dir, rollback
from factory.operations.migration.migrate import Verdict, compare, extract
from factory.operations.migration.migrate_given import given_from
from factory.operations.provisioning.bootstrap import bootstrap
from factory.operations.provisioning.ecosystem import platform_policy, platform_streams
from factory.policy import write_policy
from factory.settings import reset_settings
from factory.tables import platform_tables
from tests.airflow_helpers import parse_folder
from tests.conftest import EXAMPLE_ECOSYSTEM
from yellowtui.cli import main

pytestmark = pytest.mark.airflow

PLATFORM = "yellowlive"


class Crash(Exception):
    """Stands for the process dying between two steps."""


@pytest.fixture
def legacy(pg, db_url, example_ecosystem, tmp_path, snapshot_dir, monkeypatch):
    """A dags folder in the legacy layout (as `bootstrap --static` renders it, from another
    database), and an empty config database: where a platform starts its migration."""
    dags = tmp_path / "dags"
    bootstrap(example_ecosystem, pg.create_database(f"legacy_{tmp_path.name[-20:]}"), dags, static=True)
    with get_engine(db_url).begin() as conn:
        for p in example_ecosystem.platforms:
            store.ensure_tables(conn, p.name)
            write_policy(conn, platform_policy(p))
    monkeypatch.setenv("YELLOW_DB_URL", db_url)
    reset_settings()
    originals = {p.name: p.read_bytes() for p in dags.glob("*.py")}
    expected = {
        f"{p.name.lower()}__{c.stream_key}_ingestion"
        for p in example_ecosystem.platforms
        for c in platform_streams(p)[0]
    }
    return dags, originals, expected


def _cli(*args: str) -> tuple[int, str]:
    """Exit code and everything printed (stdout and stderr); with --json, stdout only."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout if "--json" in args else result.output


def _one_file_per_dag_id(dags: Path, expected: set[str]) -> dict[str, str]:
    """Airflow's DagBag over the whole folder: every expected DAG, no import error (two files
    defining one dag_id are an import error), and which file defines each."""
    bag = parse_folder(dags)
    assert bag.import_errors == {}, bag.import_errors
    assert set(bag.dags) == expected
    return {dag_id: Path(dag.fileloc).name for dag_id, dag in bag.dags.items()}


def _statuses(db_url: str) -> dict[str, str]:
    with get_engine(db_url).connect() as conn:
        return {r.stream_key: r.status for r in store.read_rows(conn, PLATFORM)}


def _extract_and_import(dags: Path, tmp_path: Path, db_url: str) -> Path:
    rows_file = tmp_path / "rows.json"
    # The merge database is in no static file (the job reads it from its model): the ecosystem gives it.
    code, out = _cli(
        "migrate",
        "extract",
        str(dags),
        "-p",
        PLATFORM,
        "--db",
        db_url,
        "--ecosystem",
        str(EXAMPLE_ECOSYSTEM),
        "-o",
        str(rows_file),
    )
    assert code == 0, out
    code, out = _cli("apply", str(rows_file), "--db", db_url, "--actor", "migration")
    assert code == 0, out
    return rows_file


def test_duplicate_dag_ids_are_what_the_folder_check_catches(legacy):
    """The check used after every step is real: a second file defining a dag_id is an import error."""
    dags, _, _ = legacy
    shutil.copy(dags / "yellowlive__Store1_ingestion.py", dags / "copy_of_store1.py")
    bag = parse_folder(dags)
    assert any("yellowlive__Store1_ingestion" in str(e) for e in bag.import_errors.values())


def test_round_trip_extract_compare_cutover_rollback(legacy, db_url, tmp_path):
    dags, originals, expected = legacy
    before = _one_file_per_dag_id(dags, expected)

    rows_file = _extract_and_import(dags, tmp_path, db_url)
    extracted = json.loads(rows_file.read_text())
    assert extracted["unmapped"] == [] and len(extracted["rows"]) == 5
    assert set(_statuses(db_url).values()) == {"paused"}  # imported rows change nothing yet

    code, out = _cli("migrate", "compare", str(dags), "-p", PLATFORM, "--db", db_url, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["identical"] and report["counts"] == {"identical": 5}

    checks: list[str] = []

    def after_each_step(step: str) -> None:
        checks.append(step)
        _one_file_per_dag_id(dags, expected)

    result = cutover(db_url, PLATFORM, dags, actor="migration", on_step=after_each_step)
    assert result.ok and result.streams == sorted(k for k in _statuses(db_url))
    assert len(checks) == 1 + 1 + 5  # activate, render the factory file, five moves
    moved = _one_file_per_dag_id(dags, expected)
    for dag_id, file_name in moved.items():
        owner = "yellowlive_factory_dag.py" if dag_id.startswith("yellowlive__") else before[dag_id]
        assert file_name == owner  # same dag_ids: Airflow's run history continues
    assert set(_statuses(db_url).values()) == {"active"}
    backup = default_backup_dir(dags, PLATFORM)
    assert sorted(p.name for p in backup.glob("*.py")) == sorted(n for n in originals if n.startswith("yellowlive__"))

    again = cutover(db_url, PLATFORM, dags, actor="migration", on_step=after_each_step)
    assert again.ok and again.steps == [] and again.streams == []  # idempotent: nothing left to do

    checks.clear()
    code, out = _cli("migrate", "rollback", "-p", PLATFORM, "--dags-folder", str(dags), "--db", db_url)
    assert code == 0, out
    assert {p.name: p.read_bytes() for p in dags.glob("*.py")} == originals  # byte for byte
    assert _one_file_per_dag_id(dags, expected) == before
    assert set(_statuses(db_url).values()) == {"paused"}
    assert (backup / "yellowlive_factory_dag.py").exists()

    code, out = _cli("migrate", "rollback", "-p", PLATFORM, "--dags-folder", str(dags), "--db", db_url, "--json")
    assert code == 0 and json.loads(out)["steps"] == []  # idempotent
    assert {p.name: p.read_bytes() for p in dags.glob("*.py")} == originals

    with get_engine(db_url).connect() as conn:  # every row change is in the history, with its actor
        history = store.read_history(conn, PLATFORM, "Store1")
    assert [(h["action"], h["new_status"]) for h in reversed(history)] == [
        ("insert", "paused"),
        ("status", "active"),
        ("status", "paused"),
    ]


def test_rollback_step_by_step_never_defines_a_dag_id_twice(legacy, db_url, tmp_path):
    dags, originals, expected = legacy
    _extract_and_import(dags, tmp_path, db_url)
    cutover(db_url, PLATFORM, dags)
    steps: list[str] = []

    def check(step: str) -> None:
        steps.append(step)
        _one_file_per_dag_id(dags, expected)

    result = rollback(db_url, PLATFORM, dags, on_step=check)
    assert result.ok
    assert steps[:5] == [f"render yellowlive__{k}_ingestion.py" for k in sorted(_statuses(db_url))]
    assert steps[5:] == ["pause 5 row(s)", "move yellowlive_factory_dag.py to the backup folder"]
    assert {p.name: p.read_bytes() for p in dags.glob("*.py")} == originals


@pytest.mark.parametrize(
    "crash_at",
    [
        "activate 5 row(s)",
        "render yellowlive_factory_dag.py",
        "move yellowlive__Store1_ingestion.py to the backup folder",
    ],
)
def test_cutover_resumes_after_a_crash(legacy, db_url, tmp_path, crash_at):
    dags, _, expected = legacy
    _extract_and_import(dags, tmp_path, db_url)

    def crash(step: str) -> None:
        _one_file_per_dag_id(dags, expected)  # safe at the moment of the crash too
        if step == crash_at:
            raise Crash(step)

    with pytest.raises(Crash):
        cutover(db_url, PLATFORM, dags, on_step=crash)
    backup = default_backup_dir(dags, PLATFORM)
    assert (backup / "migration-journal.json").exists()
    code, out = _cli("migrate", "cutover", "-p", PLATFORM, "--dags-folder", str(dags), "--db", db_url)
    assert code == 0, out
    assert "resuming an unfinished cutover" in out
    assert not (backup / "migration-journal.json").exists()
    files = _one_file_per_dag_id(dags, expected)
    assert {f for d, f in files.items() if d.startswith("yellowlive__")} == {"yellowlive_factory_dag.py"}
    assert set(_statuses(db_url).values()) == {"active"}


def test_rollback_resumes_after_a_crash(legacy, db_url, tmp_path):
    dags, originals, expected = legacy
    _extract_and_import(dags, tmp_path, db_url)
    cutover(db_url, PLATFORM, dags)

    def crash(step: str) -> None:
        _one_file_per_dag_id(dags, expected)
        if step == "render yellowlive__Store1_ingestion.py":
            raise Crash(step)

    with pytest.raises(Crash):
        rollback(db_url, PLATFORM, dags, on_step=crash)
    result = rollback(db_url, PLATFORM, dags, on_step=lambda step: _one_file_per_dag_id(dags, expected))
    assert result.resumed and result.ok
    assert {p.name: p.read_bytes() for p in dags.glob("*.py")} == originals


def test_partial_cutover_of_named_streams(legacy, db_url, tmp_path):
    dags, _, expected = legacy
    _extract_and_import(dags, tmp_path, db_url)
    code, out = _cli("migrate", "cutover", "-p", PLATFORM, "-s", "Payments", "--dags-folder", str(dags), "--db", db_url)
    assert code == 0, out
    files = _one_file_per_dag_id(dags, expected)
    assert files["yellowlive__Payments_ingestion"] == "yellowlive_factory_dag.py"
    assert files["yellowlive__Store1_ingestion"] == "yellowlive__Store1_ingestion.py"
    assert _statuses(db_url)["Payments"] == "active" and _statuses(db_url)["Store1"] == "paused"
    code, out = _cli(
        "migrate", "rollback", "-p", PLATFORM, "-s", "Payments", "--dags-folder", str(dags), "--db", db_url
    )
    assert code == 0, out
    assert _one_file_per_dag_id(dags, expected)["yellowlive__Payments_ingestion"] == "yellowlive__Payments_ingestion.py"


def test_compare_names_each_difference_and_cutover_refuses_it(legacy, db_url, tmp_path):
    dags, _, expected = legacy
    _extract_and_import(dags, tmp_path, db_url)
    code, out = _cli("config", "set", "Store1", "-p", PLATFORM, "--db", db_url, "--field", "schedule=@daily")
    assert code == 0, out
    code, out = _cli("migrate", "compare", str(dags), "-p", PLATFORM, "--db", db_url)
    assert code == 1
    assert "≠ Store1  different" in out and "timetable" in out and "4 identical" in out
    with get_engine(db_url).connect() as conn:
        rows = store.read_rows(conn, PLATFORM)
    verdicts = {v.stream_key: v for v in compare(dags, PLATFORM, rows).verdicts}
    assert verdicts["Store1"].verdict == Verdict.DIFFERENT
    assert verdicts["Store1"].differences["dag"]  # the exact arguments, as Airflow serializes them

    code, out = _cli("migrate", "cutover", "-p", PLATFORM, "--dags-folder", str(dags), "--db", db_url)
    assert code == 1 and "REFUSED Store1: its static DAG differs" in out
    files = _one_file_per_dag_id(dags, expected)
    assert files["yellowlive__Store1_ingestion"] == "yellowlive__Store1_ingestion.py"
    assert files["yellowlive__Payments_ingestion"] == "yellowlive_factory_dag.py"


def test_extract_lists_what_it_cannot_map(legacy, db_url, tmp_path):
    dags, _, _ = legacy
    (dags / "yellowlive__Broken_ingestion.py").write_text(
        "import airflow  # a dag that does not import\nraise RuntimeError('boom')\n"
    )
    text = (dags / "yellowlive__Store1_ingestion.py").read_text()
    (dags / "yellowlive__Store1_ingestion.py").write_text(
        text.replace("'datasurface/datasurface:v1.1.0'", "'other/image:2'")
    )
    text = (dags / "yellowlive__Payments_ingestion.py").read_text()
    (dags / "yellowlive__Payments_ingestion.py").write_text(text.replace("max_active_runs=1", "max_active_runs=3"))
    result = extract(dags, PLATFORM, given=given_from(str(EXAMPLE_ECOSYSTEM), PLATFORM, {}))
    reasons = {u.file: u.reason for u in result.unmapped}
    assert "boom" in reasons["yellowlive__Broken_ingestion.py"]
    assert "max_active_runs" in reasons["yellowlive__Payments_ingestion.py"]  # not what the factory builds
    assert {r["stream_key"] for r in result.rows} == {"Store1", "Store2_orders", "Store2_order_lines", "Store2_returns"}
    code, out = _cli(
        "migrate", "extract", str(dags), "-p", PLATFORM, "--db", db_url, "--ecosystem", str(EXAMPLE_ECOSYSTEM)
    )
    assert code == 1  # the stored policy refuses the foreign image too
    assert "UNMAPPED yellowlive__Store1_ingestion.py" in out and "other/image" in out


def test_the_factory_skips_a_stream_whose_static_file_is_beside_it(legacy, db_url, tmp_path):
    dags, _, expected = legacy
    _extract_and_import(dags, tmp_path, db_url)
    code, out = _cli("config", "resume", "Store1", "-p", PLATFORM, "--db", db_url)
    assert code == 0, out
    from factory.operations.provisioning.render import render_factory_file

    (dags / "yellowlive_factory_dag.py").write_text(render_factory_file(PLATFORM))
    files = _one_file_per_dag_id(dags, expected)
    assert files["yellowlive__Store1_ingestion"] == "yellowlive__Store1_ingestion.py"
    builds = platform_tables(PLATFORM).builds
    with get_engine(db_url).connect() as conn:
        outcome = conn.execute(select(builds).where(builds.c.stream_key == "Store1")).one()
    assert outcome.outcome == "skipped"
    assert "yellowlive__Store1_ingestion.py" in outcome.error and "migration not finished" in outcome.error


def test_backup_folder_inside_the_dags_folder_is_refused(legacy, db_url):
    dags, _, _ = legacy
    code, out = _cli(
        "migrate",
        "cutover",
        "-p",
        PLATFORM,
        "--dags-folder",
        str(dags),
        "--backup-dir",
        str(dags / "old"),
        "--db",
        db_url,
    )
    assert code == 1 and "inside the dags folder" in out


def test_cutover_and_rollback_of_a_platform_split_over_two_files(legacy, db_url, tmp_path):
    from factory.split import split_file_name, write_layout

    dags, originals, expected = legacy
    _extract_and_import(dags, tmp_path, db_url)
    with get_engine(db_url).begin() as conn:
        write_layout(conn, PLATFORM, 2, actor="test")
    result = cutover(db_url, PLATFORM, dags, actor="migration", on_step=lambda _: _one_file_per_dag_id(dags, expected))
    assert result.ok
    files = {split_file_name(PLATFORM, 0), split_file_name(PLATFORM, 1)}
    owners = _one_file_per_dag_id(dags, expected)
    assert {owners[d] for d in expected if d.startswith(f"{PLATFORM}__")} == files  # both files build a share
    code, out = _cli("migrate", "rollback", "-p", PLATFORM, "--dags-folder", str(dags), "--db", db_url)
    assert code == 0, out
    assert {p.name: p.read_bytes() for p in dags.glob("*.py")} == originals
    assert files <= {p.name for p in default_backup_dir(dags, PLATFORM).glob("*.py")}
