"""A platform split over several factory files (factory.split), parsed by Airflow's DagBag
against a real PostgreSQL.

The hand-over test plays Airflow's DAG processor: it parses the files one at a time, in a
random order, while the file count goes up and down, and after every single parse checks what
Airflow would hold. Airflow keeps one file per dag_id (the last parse that defined it) and
makes a DAG stale when that file parses without it. So, after every parse: no DAG is stale
(strictly: even for a moment), each DAG's file changes at most once per change of the count
(no flapping between files), and once the change has settled every dag_id is defined by exactly
one file, its home.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from factory.errors import FactoryError
from factory.operations.provisioning.bootstrap import Split, bootstrap
from factory.operations.provisioning.ecosystem import platform_streams
from factory.settings import reset_settings
from factory.split import Layout, file_of, files_for, read_layout, split_file_name
from factory.tables import platform_tables
from simulators.ecosystem import generate_ecosystem
from tests.airflow_helpers import parse_folder, serialized

pytestmark = pytest.mark.airflow

P = "yellowlive"
STREAMS = 40


def _parse(path: Path) -> dict[str, str]:
    """dag_id -> fileloc for one file, as the DAG processor parses it (its own DagBag)."""
    bag = parse_folder(path)
    assert bag.import_errors == {}, bag.import_errors
    return {dag_id: dag.fileloc for dag_id, dag in bag.dags.items()}


@pytest.fixture
def eco():
    return generate_ecosystem(1, STREAMS, seed=5)


@pytest.fixture
def env(db_url, snapshot_dir, monkeypatch):
    monkeypatch.setenv("YELLOW_DB_URL", db_url)
    reset_settings()
    return db_url


def _expected(eco) -> set[str]:
    return {f"{P}__{s.stream_key}_ingestion" for s in platform_streams(eco.platforms[0])[0]}


def _split_files(folder: Path) -> dict[int, Path]:
    return {i: folder / split_file_name(P, i) for i in range(64) if (folder / split_file_name(P, i)).exists()}


def _layout(db_url: str) -> Layout:
    with create_engine(db_url).connect() as conn:
        return read_layout(conn, P)


def test_assignment_is_stable_balanced_and_moves_little():
    keys = [f"Stream{i}" for i in range(4000)]
    assert [file_of(k, 4) for k in keys] == [file_of(k, 4) for k in keys]
    counts = [sum(1 for k in keys if file_of(k, 4) == i) for i in range(4)]
    assert min(counts) > 900 and max(counts) < 1100
    # Growing from 4 to 5 files moves about a fifth of the streams, and only into the new file.
    moved = [k for k in keys if file_of(k, 5) != file_of(k, 4)]
    assert {file_of(k, 5) for k in moved} == {4}
    assert 0.15 < len(moved) / len(keys) < 0.25
    assert files_for(500) == 1 and files_for(501) == 2 and files_for(20000) == 40


def test_a_small_platform_keeps_its_single_file_unchanged(env, eco, tmp_path):
    folder = tmp_path / "dags"
    (result,) = bootstrap(eco, env, folder)
    assert result.files == [f"{P}_factory_dag.py"] and result.layout == Layout()
    with create_engine(env).connect() as conn:
        assert read_layout(conn, P) == Layout()
        assert not conn.dialect.has_table(conn, f"{P}_airflow_dsg_layout")


def test_split_files_parse_to_the_same_dags_as_one_file(env, eco, tmp_path):
    one = tmp_path / "one"
    bootstrap(eco, env, one)
    single = _parse(one / split_file_name(P, 0))
    assert set(single) == _expected(eco)
    reference = {dag_id: serialized(dag) for dag_id, dag in parse_folder(one).dags.items()}

    split = tmp_path / "split"
    (result,) = bootstrap(eco, env, split, split=Split(files=3))
    assert result.files == [split_file_name(P, i) for i in range(3)]
    assert result.layout.files == 3 and result.layout.moving
    for _ in range(2):  # the first round hands over, the second is settled
        parsed = {i: _parse(path) for i, path in _split_files(split).items()}
    assert _layout(env).settled
    shares = [set(parsed[i]) for i in range(3)]
    assert all(shares), "every file builds a share"
    assert sum(len(s) for s in shares) == len(_expected(eco)), "no dag_id in two files"
    assert set().union(*shares) == _expected(eco)
    for i, share in enumerate(shares):
        assert all(file_of(dag_id.split("__", 1)[1].removesuffix("_ingestion"), 3) == i for dag_id in share)
        assert {parsed[i][d] for d in share} == {str(split / split_file_name(P, i))}
    # One DagBag over the folder (as `airflow dags list` would) sees the same DAGs as one file.
    bag = parse_folder(split)
    assert bag.import_errors == {}
    assert {dag_id: serialized(dag) for dag_id, dag in bag.dags.items()} == reference


class Processor:
    """Airflow's view: each file's latest parse, and each DAG's file (the last parse that defined it)."""

    def __init__(self, folder: Path, expected: set[str]):
        self.folder = folder
        self.expected = expected
        self.latest: dict[Path, dict[str, str]] = {}
        self.fileloc: dict[str, str] = {}
        self.moves: dict[str, int] = {}
        self.parses = 0

    def parse(self, path: Path) -> None:
        found = _parse(path)
        self.latest[path] = found
        self.parses += 1
        when = f"after parse {self.parses} ({path.name})"
        for dag_id, fileloc in found.items():
            if dag_id in self.fileloc and self.fileloc[dag_id] != fileloc:
                self.moves[dag_id] = self.moves.get(dag_id, 0) + 1
            self.fileloc[dag_id] = fileloc
        stale = sorted(d for d, f in self.fileloc.items() if f == str(path) and d not in found)
        assert not stale, f"{when}: stale in Airflow (their file no longer defines them): {stale}"
        self.check(when)

    def forget(self, path: Path) -> None:
        """The file was removed: Airflow deactivates the DAGs whose file it was."""
        self.latest.pop(path, None)
        orphans = sorted(d for d, f in self.fileloc.items() if f == str(path))
        assert orphans == [], f"{path.name} removed while it still was the file of {orphans}"

    def check(self, when: str) -> None:
        assert set(self.fileloc) == self.expected, f"{when}: Airflow would not hold exactly the platform's DAGs"
        flapping = {d: n for d, n in self.moves.items() if n > 1}
        assert not flapping, f"{when}: DAGs whose file changed more than once: {flapping}"


def _parse_until_settled(processor: Processor, db_url: str, rng: random.Random, *, steps: int) -> None:
    """Parse files in a random order (as a DAG processor with several files would) until the
    layout has settled, then a few more."""
    extra = 0
    for _ in range(steps):
        files = sorted(_split_files(processor.folder).values())
        processor.parse(rng.choice(files))
        if _layout(db_url).settled:
            extra += 1
            if extra > len(files):
                return
    raise AssertionError(f"the layout never settled: {_layout(db_url)}")


def test_changing_the_file_count_up_and_down_never_duplicates_or_loses_a_dag(env, eco, tmp_path):
    folder = tmp_path / "dags"
    expected = _expected(eco)
    bootstrap(eco, env, folder)
    processor = Processor(folder, expected)
    processor.parse(folder / split_file_name(P, 0))
    rng = random.Random(12)
    for files in (3, 5, 2, 4, 1):
        before = dict(processor.fileloc)
        (result,) = bootstrap(eco, env, folder, split=Split(files=files))
        for name in result.removed_files:  # none while the hand-over runs
            processor.forget(folder / name)
        processor.moves.clear()
        _parse_until_settled(processor, env, rng, steps=60)
        # Settled: a bootstrap now removes the files beyond the count, which nothing points at.
        (settled,) = bootstrap(eco, env, folder, split=Split(files=files))
        assert settled.kept_files == []
        for name in settled.removed_files:
            processor.forget(folder / name)
        assert sorted(_split_files(folder)) == list(range(files))
        # Each DAG moved at most once, and only if its file changed; every DAG is in its home file.
        assert all(n == 1 for n in processor.moves.values()), processor.moves
        home = {
            d: str(folder / split_file_name(P, file_of(d[len(P) + 2 : -len("_ingestion")], files))) for d in expected
        }
        assert processor.fileloc == home
        assert set(processor.moves) == {d for d in expected if before[d] != home[d]}
        # Steady state: each dag_id in exactly one file's latest parse.
        for path in _split_files(folder).values():
            processor.parse(path)
        counts: dict[str, int] = {}
        for found in processor.latest.values():
            for dag_id in found:
                counts[dag_id] = counts.get(dag_id, 0) + 1
        assert set(counts.values()) == {1}


def test_a_platform_split_before_its_first_parse_has_nothing_to_hand_over(env, eco, tmp_path):
    folder = tmp_path / "dags"
    (result,) = bootstrap(eco, env, folder, split=Split(files=3))
    assert result.layout.settled and not result.layout.moving
    parsed = {i: _parse(path) for i, path in _split_files(folder).items()}
    assert sum(len(p) for p in parsed.values()) == STREAMS  # no stream in two files, from the start
    assert parse_folder(folder).import_errors == {}


def test_a_new_count_waits_for_the_last_hand_over(env, eco, tmp_path):
    folder = tmp_path / "dags"
    bootstrap(eco, env, folder)
    _parse(folder / split_file_name(P, 0))
    bootstrap(eco, env, folder, split=Split(files=2))
    with pytest.raises(FactoryError, match=r"still being handed over \(file\(s\) 0, 1 have not parsed since\)"):
        bootstrap(eco, env, folder, split=Split(files=3))
    assert _layout(env).files == 2  # nothing written
    (forced,) = bootstrap(eco, env, folder, split=Split(files=3, force=True))
    assert forced.layout.files == 3 and forced.layout.previous == 2


def test_shrinking_keeps_the_surplus_files_until_their_streams_moved(env, eco, tmp_path):
    folder = tmp_path / "dags"
    bootstrap(eco, env, folder, split=Split(files=3))
    for path in _split_files(folder).values():
        _parse(path)
    assert _layout(env).settled
    (shrunk,) = bootstrap(eco, env, folder, split=Split(files=1))
    assert shrunk.kept_files == [split_file_name(P, 1), split_file_name(P, 2)]
    assert sorted(_split_files(folder)) == [0, 1, 2]
    # File 2 still builds its streams until their home, file 0, has parsed under the new count.
    from_2 = _parse(folder / split_file_name(P, 2))
    assert from_2 and all(file_of(d[len(P) + 2 : -len("_ingestion")], 3) == 2 for d in from_2)
    assert set(_parse(folder / split_file_name(P, 0))) == _expected(eco)
    assert _parse(folder / split_file_name(P, 2)) == {}
    (done,) = bootstrap(eco, env, folder, split=Split(files=1))
    assert done.removed_files == [split_file_name(P, 1), split_file_name(P, 2)]


def test_every_split_file_builds_from_its_own_snapshot_while_the_database_is_down(
    env, eco, tmp_path, monkeypatch, unreachable_url
):
    folder = tmp_path / "dags"
    bootstrap(eco, env, folder, split=Split(files=3))
    for _ in range(2):
        healthy = {i: _parse(path) for i, path in _split_files(folder).items()}
    monkeypatch.setenv("YELLOW_DB_URL", unreachable_url)
    reset_settings()
    down = {i: _parse(path) for i, path in _split_files(folder).items()}
    assert down == healthy
    assert set().union(*(set(d) for d in down.values())) == _expected(eco)


def test_a_task_start_builds_its_dag_whichever_split_file_airflow_loads(env, eco, tmp_path, monkeypatch):
    folder = tmp_path / "dags"
    bootstrap(eco, env, folder, split=Split(files=3))
    key = next(s.stream_key for s in platform_streams(eco.platforms[0])[0] if file_of(s.stream_key, 3) == 2)
    dag_id = f"{P}__{key}_ingestion"
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", dag_id)
    assert set(_parse(folder / split_file_name(P, 0))) == {dag_id}
    assert set(_parse(folder / split_file_name(P, 2))) == {dag_id}


def test_parse_reports_name_their_file(env, eco, tmp_path):
    folder = tmp_path / "dags"
    bootstrap(eco, env, folder, split=Split(files=2))
    for path in _split_files(folder).values():
        _parse(path)
    parses = platform_tables(P).parses
    with create_engine(env).connect() as conn:
        rows = conn.execute(select(parses.c.file_index, parses.c.generation, parses.c.dags_built)).all()
    assert sorted((r.file_index, r.generation) for r in rows) == [(0, 1), (1, 1)]
    assert sum(r.dags_built for r in rows) == STREAMS


def test_health_names_a_split_file_that_stopped_parsing(env, eco, tmp_path):
    from datetime import UTC, datetime, timedelta

    from factory.operations.inspection.health import Level, check_platform

    folder = tmp_path / "dags"
    bootstrap(eco, env, folder, split=Split(files=3))
    for path in _split_files(folder).values():
        _parse(path)
    assert not [r for r in check_platform(env, P).reasons if r.level is Level.CRITICAL]
    # File 1 parses again, the others do not: an hour later only files 0 and 2 are too old.
    later = datetime.now(UTC) + timedelta(hours=1)
    with create_engine(env).begin() as conn:
        parses = platform_tables(P).parses
        conn.execute(parses.update().where(parses.c.file_index == 1).values(parsed_at=later.replace(tzinfo=None)))
    health = check_platform(env, P, max_age_s=900, now=later + timedelta(seconds=10))
    too_old = [r.message for r in health.reasons if r.check == "parse-too-old"]
    assert len(too_old) == 2 and all("factory file 0" in m or "factory file 2" in m for m in too_old)
    assert health.facts["files"] == 3


def test_parses_command_shows_each_file(env, eco, tmp_path):
    from click.testing import CliRunner

    from yellowtui.cli import main

    folder = tmp_path / "dags"
    bootstrap(eco, env, folder, split=Split(files=2))
    for path in _split_files(folder).values():
        _parse(path)
    out = CliRunner().invoke(main, ["parses", "--db", env, "-p", P])
    assert out.exit_code == 0, out.output
    assert f"{P}, latest parse of each file: 2 files: {STREAMS} DAGs, slowest file" in out.output
    as_json = CliRunner().invoke(main, ["parses", "--db", env, "-p", P, "--json"])
    assert sorted(r["file_index"] for r in json.loads(as_json.output)) == [0, 1]


def test_reports_of_a_table_from_before_split_files_still_read(env, eco, tmp_path):
    from yellowtui.services.config_service import ConfigService

    folder = tmp_path / "dags"
    bootstrap(eco, env, folder)
    _parse(folder / split_file_name(P, 0))
    parses = platform_tables(P).parses.name
    with create_engine(env).begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE {parses} DROP COLUMN file_index, DROP COLUMN generation")
    (report,) = ConfigService(env).parses(P, limit=1)
    assert report.file_index == 0 and report.dags_built == STREAMS
    _parse(folder / split_file_name(P, 0))  # the unsplit factory still writes its report
    assert len(ConfigService(env).parses(P)) == 2
    bootstrap(eco, env, folder, split=Split(files=2))  # bootstrap brings the table up to date
    with create_engine(env).connect() as conn:
        assert {"file_index", "generation"} <= {c["name"] for c in conn.dialect.get_columns(conn, parses)}


def test_which_files_are_a_platforms_factory_files():
    """Import errors and surplus files are matched by name: file 0, file i, never a look-alike."""
    from factory.split import split_index

    assert split_index(P, f"/dags/{P}_factory_dag.py") == 0
    assert split_index(P, f"{P}_factory_dag_7.py") == 7
    for other in (
        f"{P}_factory_dag_07.py",
        f"{P}_factory_dag_x.py",
        f"{P}x_factory_dag.py",
        f"{P}__Store1_ingestion.py",
    ):
        assert split_index(P, other) is None
    assert split_index("yellow", f"{P}_factory_dag.py") is None


def test_the_dashboards_parse_loop_parses_each_file_in_turn(db_url, eco, tmp_path, snapshot_dir):
    from simulators.ecosystem import seed_database
    from simulators.parse_loop import run_parse_loop

    folder = tmp_path / "dags"
    seed_database(db_url, eco, dags_folder=folder, files=2)
    runs = run_parse_loop(db_url, P, folder, interval=0, count=2, env={"YELLOW_SNAPSHOT_DIR": str(snapshot_dir)})
    assert [Path(r.path).name for r in runs] == [split_file_name(P, 0), split_file_name(P, 1)]
    assert all(r.ok for r in runs), [r.summary for r in runs]
    assert all(r.forked for r in runs), "forked from the session's warm parent (tests/conftest.py)"
    assert set(runs[0].dag_ids).isdisjoint(runs[1].dag_ids)
    assert set(runs[0].dag_ids) | set(runs[1].dag_ids) == _expected(eco)


def test_a_count_from_the_stream_total_waits_for_a_running_hand_over(env, eco, tmp_path):
    """Re-running a plain bootstrap mid-change neither fails nor starts a second change."""
    folder = tmp_path / "dags"
    bootstrap(eco, env, folder)
    _parse(folder / split_file_name(P, 0))
    bootstrap(eco, env, folder, split=Split(files=2))
    (again,) = bootstrap(eco, env, folder, split=Split(streams_per_file=10))  # 40 streams would be 4 files
    assert again.layout.files == 2 and again.layout.moving
    for path in _split_files(folder).values():
        _parse(path)
    (later,) = bootstrap(eco, env, folder, split=Split(streams_per_file=10))
    assert later.layout.files == 4
