"""Concurrent operators (issue 10, item 5), on a real PostgreSQL.

Imports go through the conflict-checked apply; bootstraps, imports and single-row changes at the
same moment give a result or a clear retryable message, never a raw database error, and the
history stays complete. A connection lost during COMMIT is "unknown outcome: check with ...";
bootstrap writes its files all or none and never says "nothing was written" once it committed.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event, text

from factory.db import get_engine, normalize_url
from simulators.ecosystem import ecosystem_yaml, generate_ecosystem
from yellowtui.cli import main

P = "yellowlive"
DSG = f"{P}_airflow_dsg"


def run(*args: Any) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def eco_file(tmp_path: Path) -> Path:
    path = tmp_path / "eco.yaml"
    path.write_text(ecosystem_yaml(generate_ecosystem(1, 4, 11)), encoding="utf-8")
    return path


@pytest.fixture
def seeded(db_url: str, eco_file: Path) -> str:
    result = run("bootstrap", eco_file, "--db", db_url)
    assert result.exit_code == 0, result.output
    return db_url


def _rows(url: str) -> dict[str, Any]:
    with get_engine(url).connect() as conn:
        return {r.stream_key: r for r in conn.execute(text(f"SELECT * FROM {DSG}"))}


def _history_consistent(url: str) -> None:
    """Every row's newest history entry holds what the row holds: no write escaped the history."""
    with get_engine(url).connect() as conn:
        for row in conn.execute(text(f"SELECT stream_key, config_json, status FROM {DSG}")):
            last = conn.execute(
                text(
                    f"SELECT new_config_json, new_status FROM {DSG}_history WHERE stream_key = :k ORDER BY id DESC LIMIT 1"
                ),
                {"k": row.stream_key},
            ).one()
            assert (last.new_config_json, last.new_status) == (row.config_json, row.status), row.stream_key


def test_import_of_an_old_export_is_a_conflict(seeded: str, tmp_path: Path) -> None:
    exported = tmp_path / "rows.json"
    assert run("config", "export", "--db", seeded, "-p", P, "-o", exported).exit_code == 0
    data = json.loads(exported.read_text())
    key = data["rows"][0]["stream_key"]
    # someone else changes the row after the export
    assert run("config", "set", key, "-p", P, "--db", seeded, "--field", "schedule=@weekly").exit_code == 0
    mine = json.loads(data["rows"][0]["config_json"])
    data["rows"][0]["config_json"] = json.dumps({**mine, "schedule": "@daily"})
    exported.write_text(json.dumps(data))
    before = _rows(seeded)
    result = run("config", "import", exported, "--db", seeded, "-p", P)
    assert result.exit_code == 3, result.output
    assert key in result.output and "Traceback" not in result.output
    assert _rows(seeded) == before  # nothing written
    forced = run("config", "import", exported, "--db", seeded, "-p", P, "--force", "--json")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.output)["forced"] == [key]
    assert json.loads(_rows(seeded)[key].config_json)["schedule"] == "@daily"
    _history_consistent(seeded)


def test_import_applies_the_platform_policy(seeded: str, tmp_path: Path) -> None:
    data = json.loads(run("config", "export", "--db", seeded, "-p", P).output)
    row = data["rows"][0]
    row["config_json"] = json.dumps({**json.loads(row["config_json"]), "namespace_name": "kube-system"})
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(data))
    result = run("config", "import", path, "--db", seeded, "-p", P)
    assert result.exit_code == 1 and "kube-system" in result.output and "nothing was written" in result.output


def _terminate_at_commit(url: str) -> Any:
    """Kill our own backend from another connection right when COMMIT is about to be sent."""
    engine = get_engine(url)
    admin = get_engine(url).pool  # noqa: F841 - the same server; a fresh connection below

    def at_commit(conn: Any) -> None:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        from sqlalchemy import create_engine

        killer = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
        with killer.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()

    event.listen(engine, "commit", at_commit)
    return lambda: event.remove(engine, "commit", at_commit)


def test_connection_lost_during_commit_is_an_unknown_outcome(seeded: str) -> None:
    key = sorted(_rows(seeded))[0]
    stop = _terminate_at_commit(seeded)
    try:
        result = run("config", "set", key, "-p", P, "--db", seeded, "--field", "schedule=@daily")
        as_json = run("config", "pause", key, "-p", P, "--db", seeded, "--json")
    finally:
        stop()
    assert result.exit_code == 4, result.output
    assert "unknown outcome" in result.output and f"yellowtui config show {key} --platform {P}" in result.output
    assert "nothing was written" not in result.output and "Traceback" not in result.output
    assert as_json.exit_code == 4 and json.loads(as_json.stdout)["error"] == "unknown-outcome"


def test_bootstrap_commit_lost_never_says_nothing_was_written(db_url: str, eco_file: Path, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    run("bootstrap", eco_file, "--db", db_url)  # the engine exists, so the hook can be set on it
    stop = _terminate_at_commit(db_url)
    try:
        result = run("bootstrap", eco_file, "--db", db_url, "--dags-folder", dags)
    finally:
        stop()
    assert result.exit_code == 4, result.output
    assert "unknown outcome" in result.output and "nothing was written" not in result.output
    assert not any(dags.iterdir()) if dags.exists() else True  # staged files were removed, none published


def test_bootstrap_writes_files_all_or_none(db_url: str, eco_file: Path, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    result = run(
        "bootstrap", eco_file, "--db", "postgresql+psycopg2://nobody@127.0.0.1:1/x", "--dags-folder", dags, "--static"
    )
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert not dags.exists() or not any(p for p in dags.iterdir())  # nothing published, no staging left
    ok = run("bootstrap", eco_file, "--db", db_url, "--dags-folder", dags, "--static")
    assert ok.exit_code == 0, ok.output
    assert len(list(dags.glob("*.py"))) == 4 and not list(dags.glob(".yellow-staging-*"))


CONCURRENT_WRITERS = 6


def test_bootstraps_imports_and_changes_at_once(seeded: str, eco_file: Path, tmp_path: Path) -> None:
    """The library calls the commands make, in threads (the CLI runner is not thread-safe): each
    succeeds or raises a conflict the CLI prints as one line with exit 3; nothing else."""
    from factory.errors import ChangesetConflict, RetryableConflict
    from factory.operations.changes.apply import apply_changeset
    from factory.operations.changes.changeset import ChangeBase, SetStatus, edit_of, load_changeset, new_changeset
    from factory.operations.provisioning.bootstrap import bootstrap
    from factory.operations.provisioning.ecosystem import load_ecosystem
    from factory.store import read_row

    exported = tmp_path / "rows.json"
    run("config", "export", "--db", seeded, "-p", P, "-o", exported)
    keys = sorted(_rows(seeded))
    eco = load_ecosystem(eco_file)
    with get_engine(seeded).connect() as conn:
        row0, row1 = read_row(conn, P, keys[0]), read_row(conn, P, keys[1])
    assert row0 is not None and row1 is not None
    config0 = json.loads(row0.config_json)
    outcomes: list[tuple[str, object]] = []
    barrier = threading.Barrier(CONCURRENT_WRITERS)

    def job(name: str, call: Any) -> None:
        barrier.wait()
        try:
            call()
            outcomes.append((name, "ok"))
        except BaseException as exc:  # judged below
            outcomes.append((name, exc))

    jobs = {
        "boot1": lambda: bootstrap(eco, seeded, None, actor="boot1"),
        "boot2": lambda: bootstrap(eco, seeded, None, actor="boot2"),
        "import": lambda: apply_changeset(seeded, load_changeset(exported, P), actor="importer"),
        "alice": lambda: apply_changeset(
            seeded, new_changeset(P, [edit_of(row0, keys[0], {**config0, "schedule": "@daily"})]), actor="alice"
        ),
        "bob": lambda: apply_changeset(
            seeded,
            new_changeset(P, [SetStatus(stream_key=keys[1], status="paused", base=ChangeBase.of(row1))]),
            actor="bob",
        ),
        "carol": lambda: apply_changeset(
            seeded, new_changeset(P, [edit_of(row0, keys[0], {**config0, "schedule": "@weekly"})]), actor="carol"
        ),
    }
    threads = [threading.Thread(target=job, args=item) for item in jobs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(outcomes) == CONCURRENT_WRITERS
    for name, outcome in outcomes:
        assert outcome == "ok" or isinstance(outcome, (ChangesetConflict, RetryableConflict)), (name, outcome)
    # alice and carol edited the same row from the same base: at most one of them won
    assert sum(1 for name, o in outcomes if name in ("alice", "carol") and o == "ok") <= 1
    _history_consistent(seeded)
