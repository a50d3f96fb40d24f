"""Tables, adoption of a seed-shaped table, idempotent upsert and all-or-nothing bootstrap."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, inspect, text

from factory import store
from factory.errors import ConcurrentChangeError, IncompatibleTableError, InvalidNameError
from factory.names import dsg_table_name
from factory.operations.provisioning.bootstrap import bootstrap
from factory.operations.provisioning.ecosystem import parse_ecosystem

SEED_DDL = """
CREATE TABLE yellowlive_airflow_dsg (
    stream_key VARCHAR(255) PRIMARY KEY,
    config_json VARCHAR(2048) NOT NULL,
    status VARCHAR(50) DEFAULT 'active',
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
)
"""


def columns(url, table):
    return {c["name"]: c for c in inspect(create_engine(url)).get_columns(table)}


def test_bootstrap_creates_the_seed_table_and_side_tables(db_url, example_ecosystem, tmp_path):
    results = bootstrap(example_ecosystem, db_url, tmp_path / "dags")
    assert [r.platform for r in results] == ["yellowlive", "yellowforensic"]
    assert all(r.table_created for r in results)
    cols = columns(db_url, "yellowlive_airflow_dsg")
    assert list(cols) == ["stream_key", "config_json", "status", "created_at", "updated_at"]
    assert cols["config_json"]["type"].length == 2048
    assert cols["stream_key"]["type"].length == 255
    assert cols["status"]["type"].length == 50
    names = set(inspect(create_engine(db_url)).get_table_names())
    assert {"yellowlive_airflow_dsg_history", "yellowlive_airflow_dsg_parse", "yellowlive_airflow_dsg_build"} <= names
    assert sorted(p.name for p in (tmp_path / "dags").iterdir()) == [
        "yellowforensic_factory_dag.py",
        "yellowlive_factory_dag.py",
    ]


def test_existing_seed_table_with_rows_is_adopted(db_url, example_ecosystem, sample_config):
    engine = create_engine(db_url)
    legacy = dict(sample_config, stream_key="LegacyStore", store_name="LegacyStore")
    with engine.begin() as conn:
        conn.execute(text(SEED_DDL))
        conn.execute(
            text("INSERT INTO yellowlive_airflow_dsg (stream_key, config_json) VALUES ('LegacyStore', :j)"),
            {"j": json.dumps(legacy)},
        )
    results = bootstrap(example_ecosystem, db_url, None)
    assert results[0].table_created is False
    with engine.connect() as conn:
        rows = {r.stream_key: r for r in store.read_rows(conn, "yellowlive")}
    # The seed's row is kept (marked retired because the ecosystem no longer lists it), not deleted.
    assert rows["LegacyStore"].status == "retired"
    assert json.loads(rows["LegacyStore"].config_json) == legacy
    assert rows["Store1"].status == "active"


def test_incompatible_table_is_refused_and_untouched(db_url, example_ecosystem):
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE yellowforensic_airflow_dsg (id INT PRIMARY KEY)"))
    with pytest.raises(IncompatibleTableError, match="lacks the column"):
        bootstrap(example_ecosystem, db_url, None)


def test_failed_bootstrap_leaves_no_partial_state(db_url, example_ecosystem, tmp_path):
    """The second platform's table is wrong: nothing of the first platform is written either."""
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE yellowforensic_airflow_dsg (id INT PRIMARY KEY)"))
    dags = tmp_path / "dags"
    with pytest.raises(IncompatibleTableError):
        bootstrap(example_ecosystem, db_url, dags)
    names = set(inspect(engine).get_table_names())
    assert names == {"yellowforensic_airflow_dsg"}
    assert not dags.exists() or not any(p.suffix == ".py" for p in dags.iterdir())


def test_upsert_is_idempotent(db_url, example_ecosystem):
    bootstrap(example_ecosystem, db_url, None)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        before = {r.stream_key: r.updated_at for r in store.read_rows(conn, "yellowlive")}
        history_before = len(store.read_history(conn, "yellowlive"))
    again = bootstrap(example_ecosystem, db_url, None)
    assert again[0].summary["inserted"] == [] and again[0].summary["updated"] == []
    assert sorted(again[0].summary["unchanged"]) == sorted(before)
    with engine.connect() as conn:
        after = {r.stream_key: r.updated_at for r in store.read_rows(conn, "yellowlive")}
        assert after == before
        assert len(store.read_history(conn, "yellowlive")) == history_before


def test_changes_and_removals_are_recorded_in_history(db_url, example_ecosystem):
    bootstrap(example_ecosystem, db_url, None)
    data = example_ecosystem.model_dump()
    live = data["platforms"][0]
    live["stores"] = [s for s in live["stores"] if s["name"] != "Payments"]
    live["stores"][0]["schedule"] = "@daily"
    changed = parse_ecosystem(data)
    result = bootstrap(changed, db_url, None, actor="alice")[0]
    assert result.summary["updated"] == ["Store1"]
    assert result.summary["retired"] == ["Payments"]
    with create_engine(db_url).connect() as conn:
        history = store.read_history(conn, "yellowlive", "Store1")
        assert history[0]["action"] == "update" and history[0]["changed_by"] == "alice"
        assert json.loads(history[0]["old_config_json"])["schedule"] == "@hourly"
        assert json.loads(history[0]["new_config_json"])["schedule"] == "@daily"
        retired = store.read_history(conn, "yellowlive", "Payments")[0]
        assert (retired["action"], retired["old_status"], retired["new_status"]) == ("status", "active", "retired")
        assert store.read_row(conn, "yellowlive", "Payments").status == "retired"


def test_conflict_check_refuses_a_stale_write(db_url, example_ecosystem):
    bootstrap(example_ecosystem, db_url, None)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        row = store.read_row(conn, "yellowlive", "Store1")
    with engine.begin() as conn:
        store.write_row(conn, "yellowlive", "Store1", row.config_json, "paused", base=store.RowBase.of(row))
    with pytest.raises(ConcurrentChangeError), engine.begin() as conn:
        store.write_row(conn, "yellowlive", "Store1", row.config_json, "active", base=store.RowBase.of(row))


@pytest.mark.parametrize(
    "name", ["yellow live", "x'; DROP TABLE y; --", "__import__('os')", "Yëllow", "1platform", "a" * 41, "", "a\nb"]
)
def test_hostile_platform_names_never_become_identifiers(name):
    with pytest.raises(InvalidNameError, match="not allowed"):
        dsg_table_name(name)


def test_history_records_changes_made_outside_the_factory(db_url, example_ecosystem):
    """An UPDATE or DELETE typed into psql is in history too, with the database user's name."""
    bootstrap(example_ecosystem, db_url, None)
    with create_engine(db_url).begin() as conn:
        conn.execute(text("UPDATE yellowlive_airflow_dsg SET status = 'paused' WHERE stream_key = 'Store1'"))
        conn.execute(text("DELETE FROM yellowlive_airflow_dsg WHERE stream_key = 'Payments'"))
    with create_engine(db_url).connect() as conn:
        paused = store.read_history(conn, "yellowlive", "Store1")[0]
        deleted = store.read_history(conn, "yellowlive", "Payments")[0]
    assert (paused["action"], paused["new_status"], paused["changed_by"]) == ("status", "paused", "postgres")
    assert deleted["action"] == "delete" and deleted["new_config_json"] is None
    assert json.loads(deleted["old_config_json"])["stream_key"] == "Payments"


def test_locking_many_stream_keys_holds_a_bounded_number_of_locks(db_url):
    """A bootstrap of 20,000 streams once needed one lock per key and overflowed PostgreSQL's
    shared lock table (about 6,400 by default); keys now share ``KEY_LOCKS`` locks."""
    keys = [f"Stream{i:05d}" for i in range(20_000)]
    with create_engine(db_url).connect() as conn, conn.begin():
        store.ensure_tables(conn, "yellowlive")
        store.lock_keys(conn, "yellowlive", keys)
        held = conn.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted")
        ).scalar_one()
    assert 0 < held <= store.KEY_LOCKS
