"""A platform's factory files spread over DAG bundles (factory.bundles), parsed by Airflow's DagBag
against a real PostgreSQL.

The hand-over test plays several DAG processors, one per bundle: each parses only its bundle's
files, and the bundle parsed next is picked at random, as independent processors would. It keeps
what Airflow keeps (airflow/dag_processing/collection.py, ``update_dags``): per dag_id the
bundle and file of the last parse that defined it; a DAG goes stale when that bundle's processor
parses that file without it, or the file is removed from that bundle. After every parse: no DAG
stale, each DAG's place changes at most once per change of B, and once settled every dag_id is
defined by exactly one copy, in its home bundle.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine

from factory.bundles import bundle_folder, bundle_name, placed_files
from factory.errors import FactoryError
from factory.operations.provisioning.bootstrap import Split, bootstrap
from factory.operations.provisioning.ecosystem import platform_streams
from factory.settings import reset_settings
from factory.split import Layout, bundle_of, file_of, read_layout, split_file_name
from simulators.ecosystem import generate_ecosystem
from tests.airflow_helpers import parse_folder

pytestmark = pytest.mark.airflow

P = "yellowlive"
STREAMS = 40
FILES = 4


@pytest.fixture
def eco():
    return generate_ecosystem(1, STREAMS, seed=7)


@pytest.fixture
def env(db_url, snapshot_dir, monkeypatch):
    monkeypatch.setenv("YELLOW_DB_URL", db_url)
    reset_settings()
    return db_url


def _expected(eco) -> set[str]:
    return {f"{P}__{s.stream_key}_ingestion" for s in platform_streams(eco.platforms[0])[0]}


def _layout(db_url: str) -> Layout:
    with create_engine(db_url).connect() as conn:
        return read_layout(conn, P)


def _parse(path: Path) -> set[str]:
    bag = parse_folder(path)
    assert bag.import_errors == {}, bag.import_errors
    return set(bag.dags)


def _home(dag_id: str, bundles: int) -> tuple[int, int]:
    index = file_of(dag_id[len(P) + 2 : -len("_ingestion")], FILES)
    return index, bundle_of(index, bundles)


class Processors:
    """Airflow's view across one DAG processor per bundle: each dag_id's (bundle, file)."""

    def __init__(self, folder: Path, expected: set[str]):
        self.folder = folder
        self.expected = expected
        self.owner: dict[str, tuple[int, int]] = {}
        self.latest: dict[tuple[int, int], set[str]] = {}
        self.moves: dict[str, int] = {}
        self.parses = 0

    def parse(self, place: tuple[int, int], path: Path, *, check: bool = True) -> None:
        found = _parse(path)
        self.parses += 1
        self.latest[place] = found
        when = f"after parse {self.parses} ({bundle_name(place[1])}/{path.name})"
        for dag_id in found:
            if dag_id in self.owner and self.owner[dag_id] != place:
                self.moves[dag_id] = self.moves.get(dag_id, 0) + 1
            self.owner[dag_id] = place
        stale = sorted(d for d, p in self.owner.items() if p == place and d not in found)
        assert not stale, f"{when}: stale in Airflow (their bundle's file no longer defines them): {stale}"
        if check:
            self.check(when)

    def check(self, when: str) -> None:
        assert set(self.owner) == self.expected, f"{when}: Airflow would not hold exactly the platform's DAGs"
        flapping = {d: n for d, n in self.moves.items() if n > 1}
        assert not flapping, f"{when}: DAGs whose bundle or file changed more than once: {flapping}"

    def forget(self, place: tuple[int, int]) -> None:
        """The copy was removed from its bundle: Airflow deactivates the DAGs it still owns."""
        self.latest.pop(place, None)
        orphans = sorted(d for d, p in self.owner.items() if p == place)
        assert orphans == [], f"{bundle_name(place[1])} file {place[0]} removed while it still owned {orphans}"

    def parse_one_bundle_at_random(self, rng: random.Random) -> None:
        copies = placed_files(self.folder, P)
        bundle = rng.choice(sorted({b for _, b in copies}))
        index = rng.choice(sorted(i for i, b in copies if b == bundle))
        self.parse((index, bundle), copies[(index, bundle)])


def _remove_gone(processors: Processors, before: set[tuple[int, int]]) -> None:
    for place in before - set(placed_files(processors.folder, P)):
        processors.forget(place)


def test_bundles_change_1_2_3_1_without_a_stale_or_doubly_defined_dag(env, eco, tmp_path):
    folder = tmp_path / "dags"
    expected = _expected(eco)
    bootstrap(eco, env, folder, split=Split(files=FILES))
    processors = Processors(folder, expected)
    for place, path in sorted(placed_files(folder, P).items()):
        processors.parse(place, path, check=False)  # the first round: each file's first DAGs
    processors.check("after the first round")
    rng = random.Random(20)
    for bundles in (2, 3, 1):
        before_owner = dict(processors.owner)
        before = set(placed_files(folder, P))
        (result,) = bootstrap(eco, env, folder, split=Split(files=FILES, bundles=bundles))
        assert result.removed_files == [] and result.layout.moving
        _remove_gone(processors, before)
        processors.moves.clear()
        for _ in range(200):
            processors.parse_one_bundle_at_random(rng)
            if _layout(env).settled:
                break
        else:
            raise AssertionError(f"the move to {bundles} bundle(s) never settled: {_layout(env)}")
        # Settled: the old copies build nothing any more; bootstrap removes them, nothing points at them.
        for place, path in sorted(placed_files(folder, P).items()):
            processors.parse(place, path)
        before = set(placed_files(folder, P))
        (settled,) = bootstrap(eco, env, folder, split=Split(files=FILES, bundles=bundles))
        assert settled.kept_files == [] and settled.layout.settled
        _remove_gone(processors, before)
        homes = {(i, bundle_of(i, bundles)) for i in range(FILES)}
        assert set(placed_files(folder, P)) == homes
        # Every DAG in its home bundle, moved at most once, and only if its bundle changed.
        assert processors.owner == {d: _home(d, bundles) for d in expected}
        assert set(processors.moves) == {d for d in expected if before_owner[d] != _home(d, bundles)}
        # Steady state: each dag_id defined by exactly one copy.
        for place, path in sorted(placed_files(folder, P).items()):
            processors.parse(place, path)
        counts: dict[str, int] = {}
        for place in homes:
            for dag_id in processors.latest[place]:
                counts[dag_id] = counts.get(dag_id, 0) + 1
        assert counts == dict.fromkeys(expected, 1)


def test_each_file_goes_to_a_stable_bundle_and_bootstrap_says_how_to_run_them(env, eco, tmp_path):
    from yellowtui.cli import main

    folder = tmp_path / "dags"
    out = CliRunner().invoke(
        main,
        ["bootstrap", "yellowtui/examples/ecosystem.yaml", "--db", env, "--dags-folder", str(folder), "--bundles", "2"],
    )
    assert out.exit_code == 0, out.output
    assert "airflow dag-processor -B dags-folder" in out.output
    assert "airflow dag-processor -B yellow-1" in out.output
    (config_line,) = [line for line in out.output.splitlines() if "dag_bundle_config_list =" in line]
    entries = json.loads(config_line.split("=", 1)[1])
    assert [e["name"] for e in entries] == ["dags-folder", "yellow-1"]
    assert entries[1]["kwargs"]["path"] == str(bundle_folder(folder, 1).resolve())
    # Same again with --json: the same list, for a configuration tool.
    again = CliRunner().invoke(
        main,
        ["bootstrap", "yellowtui/examples/ecosystem.yaml", "--db", env, "--dags-folder", str(folder), "--json"],
    )
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)[0]["airflow_bundles"]["dag_bundle_config_list"] == entries

    (result,) = bootstrap(eco, env, tmp_path / "eco", split=Split(files=5, bundles=3))
    placed = placed_files(tmp_path / "eco", P)
    assert set(placed) == {(0, 0), (1, 1), (2, 2), (3, 0), (4, 1)}
    assert placed[(4, 1)] == bundle_folder(tmp_path / "eco", 1) / split_file_name(P, 4)
    assert result.bundle_config is not None and result.bundle_config.bundles == 3


def test_a_new_bundle_count_waits_for_the_last_move_unless_forced(env, eco, tmp_path):
    folder = tmp_path / "dags"
    bootstrap(eco, env, folder, split=Split(files=FILES))
    for path in placed_files(folder, P).values():
        _parse(path)
    bootstrap(eco, env, folder, split=Split(files=FILES, bundles=2))
    with pytest.raises(FactoryError, match=r"move from 1 to 2 bundle\(s\).*still being handed over"):
        bootstrap(eco, env, folder, split=Split(files=FILES, bundles=3))
    assert _layout(env).bundles == 2  # nothing written
    # A plain bootstrap meanwhile keeps B and the move going.
    (plain,) = bootstrap(eco, env, folder, split=Split(files=FILES))
    assert plain.layout.bundles == 2 and plain.layout.moving
    assert plain.kept_files == [f"{split_file_name(P, 1)}", f"{split_file_name(P, 3)}"]
    (forced,) = bootstrap(eco, env, folder, split=Split(files=FILES, bundles=3, force=True))
    assert (forced.layout.bundles, forced.layout.previous_bundles) == (3, 2)


def test_parses_health_and_rollback_know_each_files_bundle(env, eco, tmp_path, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from factory.operations.inspection.health import check_platform
    from factory.operations.migration.cutover import rollback
    from factory.tables import platform_tables
    from yellowtui.cli import main

    folder = tmp_path / "dags"
    bootstrap(eco, env, folder, split=Split(files=FILES, bundles=2))  # never parsed: nothing to hand over
    for path in placed_files(folder, P).values():
        _parse(path)
    out = CliRunner().invoke(main, ["parses", "--db", env, "-p", P])
    assert out.exit_code == 0, out.output
    assert f"{FILES} files in 2 bundles: {STREAMS} DAGs" in out.output
    as_json = CliRunner().invoke(main, ["parses", "--db", env, "-p", P, "--json"])
    assert sorted((r["file_index"], r["bundle"]) for r in json.loads(as_json.output)) == [
        (0, 0),
        (1, 1),
        (2, 0),
        (3, 1),
    ]

    # Only the dags-folder processor parses on: health names bundle yellow-1's files and its processor.
    later = datetime.now(UTC) + timedelta(hours=1)
    parses = platform_tables(P).parses
    with create_engine(env).begin() as conn:
        conn.execute(parses.update().where(parses.c.bundle == 0).values(parsed_at=later.replace(tzinfo=None)))
    health = check_platform(env, P, max_age_s=900, now=later + timedelta(seconds=10))
    too_old = sorted(r.message for r in health.reasons if r.check == "parse-too-old")
    assert len(too_old) == 2 and health.facts["bundles"] == 2
    assert all("in bundle yellow-1 (is `airflow dag-processor -B yellow-1` running?)" in m for m in too_old)

    # A stream given back to its static file (in Airflow's dags folder) is skipped by its file's
    # copy in bundle yellow-1 too: one dag_id, one file.
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(folder))
    in_bundle_1 = next(d for d in _expected(eco) if _home(d, 2)[1] == 1)
    key = in_bundle_1[len(P) + 2 : -len("_ingestion")]
    index = _home(in_bundle_1, 2)[0]
    rollback(env, P, folder, streams=[key])
    assert in_bundle_1 not in _parse(placed_files(folder, P)[(index, 1)])
    assert set(parse_folder(folder / f"{P}__{key}_ingestion.py").dags) == {in_bundle_1}
    # Rolling back every stream moves every copy of every file, in every bundle, to the backup.
    rollback(env, P, folder)
    assert placed_files(folder, P) == {}
