"""The loader's pieces on a real PostgreSQL: the parse target, the three kinds of source result,
and the recorded-outcomes file that lives beside the snapshot, not in it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from factory.db import get_engine
from factory.enums import LoadMode, Outcome, Source
from factory.errors import ConfigSourceError
from factory.loader import load_platform
from factory.names import dag_id_for, platform_slug
from factory.reports import read_recorded, record_parse, recorded_path
from factory.snapshot import LastGood, snapshot_path
from factory.source import FromSnapshot, ParseTarget, RowsRead, Unchanged, read_source
from factory.tables import platform_tables
from factory.validation import validate_source
from simulators.ecosystem import generate_ecosystem, seed_database

PLATFORM = "YellowLive"
SLUG = platform_slug(PLATFORM)
STREAMS = 5


@pytest.fixture
def seeded(db_url):
    seed_database(db_url, generate_ecosystem(1, STREAMS, seed=4))
    return db_url


def test_parse_target():
    assert ParseTarget.of(PLATFORM) == ParseTarget(SLUG)
    assert ParseTarget.of(PLATFORM).mode is LoadMode.FULL
    single = ParseTarget.of(PLATFORM, dag_id_for(SLUG, "Store1"))
    assert (single.stream_key, single.foreign, single.mode) == ("Store1", False, LoadMode.SINGLE)
    foreign = ParseTarget.of(PLATFORM, "yellowforensic__Store1_ingestion")
    assert (foreign.stream_key, foreign.foreign, foreign.mode) == (None, True, LoadMode.SINGLE)
    result = load_platform(PLATFORM, url="postgresql://never-used/", dag_id="yellowforensic__Store1_ingestion")
    assert result.dags == {} and result.outcomes == []


def test_source_kinds_on_a_full_parse(seeded, tmp_path, unreachable_url):
    target = ParseTarget.of(PLATFORM)
    first = read_source(target, LastGood(SLUG, tmp_path), conn_id=None, url=seeded)
    assert isinstance(first, RowsRead)
    assert first.source is Source.DATABASE and first.detail is None
    assert len(first.rows) == STREAMS and first.fingerprint

    load_platform(PLATFORM, url=seeded, conn_id=None, snapshot_dir=tmp_path, record=False)  # writes the snapshot
    again = read_source(target, LastGood(SLUG, tmp_path), conn_id=None, url=seeded)
    assert isinstance(again, Unchanged)
    assert again.source is Source.UNCHANGED
    assert again.snapshot.fingerprint == first.fingerprint
    assert len(validate_source(again, target, LastGood(SLUG, tmp_path)).configs) == STREAMS

    down = read_source(target, LastGood(SLUG, tmp_path), conn_id=None, url=unreachable_url)
    assert isinstance(down, FromSnapshot)
    assert down.source is Source.SNAPSHOT
    assert "Connection refused" in down.detail and "pw@" not in down.detail
    assert down.db_url is not None

    with pytest.raises(ConfigSourceError, match="no snapshot"):
        read_source(target, LastGood(SLUG, tmp_path / "empty"), conn_id=None, url=unreachable_url)


def test_the_worker_path_reads_one_row_and_no_snapshot(seeded, tmp_path):
    full = sorted(load_platform(PLATFORM, url=seeded, conn_id=None, snapshot_dir=tmp_path, record=False).dags)
    key = full[0].removeprefix(f"{SLUG}__").removesuffix("_ingestion")
    target = ParseTarget.of(PLATFORM, full[0])
    last_good = LastGood(SLUG, tmp_path)

    read = read_source(target, last_good, conn_id=None, url=seeded)

    assert isinstance(read, RowsRead)
    assert [k for k, _ in read.rows] == [key] and read.fingerprint is None
    checked = validate_source(read, target, last_good)
    assert list(checked.configs) == [key]
    assert "snapshot" not in vars(last_good), "a healthy worker start never reads the snapshot"


def test_writing_a_report_leaves_the_snapshot_untouched(seeded, tmp_path):
    first = load_platform(PLATFORM, url=seeded, conn_id=None, snapshot_dir=tmp_path)
    snap = snapshot_path(SLUG, tmp_path)
    before = (snap.read_bytes(), snap.stat().st_mtime_ns)
    recorded = read_recorded(SLUG, tmp_path)
    assert set(recorded) == {o.stream_key for o in first.outcomes}
    assert "recorded" not in json.loads(snap.read_text()), "report bookkeeping is not the snapshot's"

    # The next report has one outcome that changed: the build table and the recorded file follow.
    changed = first.outcomes[0]
    changed.outcome, changed.error = Outcome.ERROR, "stream: building the DAG failed: boom"
    assert record_parse(seeded, first, tmp_path) is True

    assert (snap.read_bytes(), snap.stat().st_mtime_ns) == before
    assert read_recorded(SLUG, tmp_path)[changed.stream_key].startswith("error|")
    builds = platform_tables(SLUG).builds
    with get_engine(seeded).connect() as conn:
        row = conn.execute(select(builds).where(builds.c.stream_key == changed.stream_key)).one()
    assert (row.outcome, row.error) == ("error", changed.error)


def test_recorded_file_is_best_effort(tmp_path):
    assert read_recorded(SLUG, tmp_path) == {}
    recorded_path(SLUG, tmp_path).parent.mkdir(parents=True, exist_ok=True)
    recorded_path(SLUG, tmp_path).write_text("{not json", encoding="utf-8")
    assert read_recorded(SLUG, tmp_path) == {}
