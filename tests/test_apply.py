"""Applying changesets on a real PostgreSQL: all or nothing, conflicts, racing writers, history."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from factory import store
from factory.errors import ChangesetConflict, ChangesetRejected, UnknownPlatformError
from factory.operations.changes.apply import apply_changeset, write_changeset
from factory.operations.changes.changeset import ChangeBase, Delete, SetStatus, Upsert, edit_of, new_changeset
from factory.operations.changes.plan import RowOp
from factory.operations.provisioning.bootstrap import bootstrap

P = "yellowlive"


@pytest.fixture
def seeded(db_url, example_ecosystem):
    bootstrap(example_ecosystem, db_url, None)
    return db_url


def _rows(db_url: str) -> dict[str, store.ConfigRow]:
    with create_engine(db_url).connect() as conn:
        return {r.stream_key: r for r in store.read_rows(conn, P)}


def _history(db_url: str, key: str | None = None) -> list[dict]:
    with create_engine(db_url).connect() as conn:
        return store.read_history(conn, P, key)


def _edit(row: store.ConfigRow, **changes) -> Upsert:
    return edit_of(row, row.stream_key, {**json.loads(row.config_json), **changes})


def test_apply_writes_every_change_with_the_actor(seeded, sample_config):
    rows = _rows(seeded)
    before = len(_history(seeded))
    changeset = new_changeset(
        P,
        [
            _edit(rows["Store1"], schedule="@daily"),
            Upsert(stream_key="NewStore", config={**sample_config, "stream_key": "NewStore"}, base=ChangeBase.of(None)),
            SetStatus(stream_key="Payments", status="paused", base=ChangeBase.of(rows["Payments"])),
            Delete(stream_key="Store2_returns", base=ChangeBase.of(rows["Store2_returns"])),
        ],
    )
    result = apply_changeset(seeded, changeset, actor="alice")
    assert result.written == {
        "NewStore": RowOp.INSERT,
        "Payments": RowOp.STATUS,
        "Store1": RowOp.UPDATE,
        "Store2_returns": RowOp.DELETE,
    }
    after = _rows(seeded)
    assert json.loads(after["Store1"].config_json)["schedule"] == "@daily"
    assert after["Payments"].status == "paused" and after["Payments"].config_json == rows["Payments"].config_json
    assert "Store2_returns" not in after and after["NewStore"].status == "active"
    history = _history(seeded)[: len(_history(seeded)) - before]
    assert sorted((h["stream_key"], h["action"], h["changed_by"]) for h in history) == [
        ("NewStore", "insert", "alice"),
        ("Payments", "status", "alice"),
        ("Store1", "update", "alice"),
        ("Store2_returns", "delete", "alice"),
    ]
    deleted = next(h for h in history if h["action"] == "delete")
    assert deleted["old_config_json"] == rows["Store2_returns"].config_json  # history keeps what it held


def test_dry_run_reports_and_writes_nothing(seeded):
    rows = _rows(seeded)
    result = apply_changeset(seeded, new_changeset(P, [_edit(rows["Store1"], schedule="@daily")]), dry_run=True)
    assert result.dry_run and result.written == {"Store1": RowOp.UPDATE}
    assert _rows(seeded) == rows


def test_conflict_lists_every_stale_row_and_writes_nothing(seeded):
    rows = _rows(seeded)
    history = len(_history(seeded))
    changeset = new_changeset(
        P,
        [
            _edit(rows["Store1"], schedule="@daily"),
            _edit(rows["Payments"], schedule="@weekly"),
            _edit(rows["Store2_orders"], schedule="@monthly"),  # still current: would apply alone
            Upsert(stream_key="Store2_returns", config="{}", base=ChangeBase(exists=False)),
        ],
    )
    with create_engine(seeded).begin() as conn:  # someone else, after the changeset was made
        store.write_row(conn, P, "Store1", rows["Store1"].config_json, "paused", actor="bob")
        store.delete_row(conn, P, "Payments", actor="bob")
    theirs = _rows(seeded)
    with pytest.raises(ChangesetConflict) as caught:
        apply_changeset(seeded, changeset, actor="alice")
    conflicts = {c.stream_key: c for c in caught.value.conflicts}
    assert set(conflicts) == {"Store1", "Payments", "Store2_returns"}
    assert conflicts["Store1"].theirs["status"] == "paused" and "changed since" in conflicts["Store1"].reason
    assert conflicts["Store1"].yours["config"]["schedule"] == "@daily"
    assert conflicts["Payments"].theirs is None and conflicts["Payments"].reason == "deleted since it was read"
    assert "created by someone else" in conflicts["Store2_returns"].reason
    assert "nothing was written" in str(caught.value)
    assert _rows(seeded) == theirs
    assert len(_history(seeded)) == history + 2  # only bob's two changes


def test_force_writes_over_a_stale_base(seeded):
    rows = _rows(seeded)
    changeset = new_changeset(P, [_edit(rows["Store1"], schedule="@daily")])
    with create_engine(seeded).begin() as conn:
        store.write_row(conn, P, "Store1", rows["Store1"].config_json, "paused", actor="bob")
    result = apply_changeset(seeded, changeset, actor="alice", force=True)
    assert result.forced == ["Store1"]
    after = _rows(seeded)["Store1"]
    assert json.loads(after.config_json)["schedule"] == "@daily" and after.status == "paused"  # status kept
    assert _history(seeded, "Store1")[0]["changed_by"] == "alice"


def test_invalid_changes_are_rejected_and_nothing_is_written(seeded):
    rows = _rows(seeded)
    changeset = new_changeset(
        P,
        [
            _edit(rows["Store1"], schedule="@daily"),  # valid, but must not land alone
            _edit(rows["Payments"], schedule="every tuesday"),
            SetStatus(stream_key="Ghost", status="paused"),
        ],
    )
    with pytest.raises(ChangesetRejected) as caught:
        apply_changeset(seeded, changeset)
    assert set(caught.value.problems) == {"Payments", "Ghost"}
    assert "$.schedule" in str(caught.value) and "'Ghost' does not exist" in str(caught.value)
    assert _rows(seeded) == rows
    with pytest.raises(UnknownPlatformError, match="nowhere"):
        apply_changeset(seeded, new_changeset("nowhere"))


def test_a_paused_row_with_a_broken_config_can_still_be_retired_or_deleted(seeded):
    with create_engine(seeded).begin() as conn:
        store.write_row(conn, P, "Junk", "{not json", "paused", actor="test")
    junk = _rows(seeded)["Junk"]
    apply_changeset(
        seeded, new_changeset(P, [SetStatus(stream_key="Junk", status="retired", base=ChangeBase.of(junk))])
    )
    assert _rows(seeded)["Junk"].config_json == "{not json"
    with pytest.raises(ChangesetRejected, match="not valid JSON"):  # resuming it would not build
        apply_changeset(seeded, new_changeset(P, [SetStatus(stream_key="Junk", status="active")]))
    apply_changeset(seeded, new_changeset(P, [Delete(stream_key="Junk")]))
    assert "Junk" not in _rows(seeded)


# ---- two writers at the same time ------------------------------------------------------------


def _race(db_url: str, changesets: list) -> tuple[list, list, bool]:
    """Apply each changeset in its own thread, connection and transaction, at the same moment.

    Whoever writes first holds its transaction open until it sees the other one waiting on a
    lock (so the two really overlap), then commits. Returns (results, errors, overlapped).
    """
    barrier = threading.Barrier(len(changesets))
    results: list = []
    errors: list = []
    overlapped = threading.Event()
    engine = create_engine(db_url)
    watcher = create_engine(db_url)

    def someone_waits() -> bool:
        with watcher.connect() as conn:
            return bool(conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar())

    def writer(changeset, actor: str) -> None:
        with engine.connect() as conn:
            transaction = conn.begin()
            barrier.wait()
            try:
                result = write_changeset(conn, changeset, actor=actor)
            except Exception as exc:
                transaction.rollback()
                errors.append(exc)
                return
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not someone_waits():
                time.sleep(0.02)
            if someone_waits():
                overlapped.set()
            transaction.commit()
            results.append(result)

    threads = [threading.Thread(target=writer, args=(cs, f"writer{i}")) for i, cs in enumerate(changesets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    engine.dispose()
    watcher.dispose()
    return results, errors, overlapped.is_set()


def test_two_writers_of_the_same_row_exactly_one_wins(seeded):
    rows = _rows(seeded)
    history = {k: len(_history(seeded, k)) for k in rows}
    # Both based on the same Store1; each also changes a row of its own (all or nothing).
    first = new_changeset(P, [_edit(rows["Store1"], schedule="@daily"), _edit(rows["Payments"], schedule="@weekly")])
    second = new_changeset(
        P, [_edit(rows["Store1"], schedule="@monthly"), _edit(rows["Store2_orders"], schedule="@yearly")]
    )
    results, errors, overlapped = _race(seeded, [first, second])
    assert overlapped, ("the two writers never overlapped", results, errors)
    assert len(results) == 1 and len(errors) == 1, (results, errors)
    (conflict,) = errors
    assert isinstance(conflict, ChangesetConflict) and [c.stream_key for c in conflict.conflicts] == ["Store1"]
    winner = results[0]
    won_first = winner.actor == "writer0"
    after = _rows(seeded)
    assert json.loads(after["Store1"].config_json)["schedule"] == ("@daily" if won_first else "@monthly")
    own, other = ("Payments", "Store2_orders") if won_first else ("Store2_orders", "Payments")
    assert after[other] == rows[other]  # the loser's second row: not half-written
    assert after[own] != rows[own]
    grew = {k: len(_history(seeded, k)) - history[k] for k in rows}
    assert grew == {**dict.fromkeys(rows, 0), "Store1": 1, own: 1}
    assert _history(seeded, "Store1")[0]["changed_by"] == winner.actor


def test_two_writers_creating_the_same_new_stream_exactly_one_wins(seeded, sample_config):
    rows = _rows(seeded)
    changesets = [
        new_changeset(
            P,
            [
                Upsert(
                    stream_key="Twin",
                    config={**sample_config, "stream_key": "Twin", "schedule": schedule},
                    base=ChangeBase.of(None),
                ),
                _edit(rows[key], schedule=schedule),
            ],
        )
        for key, schedule in (("Payments", "@daily"), ("Store2_orders", "@weekly"))
    ]
    results, errors, overlapped = _race(seeded, changesets)
    assert overlapped, ("the two writers never overlapped", results, errors)
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], ChangesetConflict) and errors[0].conflicts[0].stream_key == "Twin"
    assert "created by someone else" in errors[0].conflicts[0].reason
    assert [h["action"] for h in _history(seeded, "Twin")] == ["insert"]
    after = _rows(seeded)
    changed = {k for k in ("Payments", "Store2_orders") if after[k] != rows[k]}
    assert len(changed) == 1


def test_a_unique_violation_from_a_writer_outside_our_locks_is_a_conflict(seeded, sample_config):
    """Someone inserts the same new stream by hand (no advisory lock): our insert waits on the
    unique index, then fails; that is reported as a conflict, not a traceback."""
    config = json.dumps({**sample_config, "stream_key": "Manual"})
    changeset = new_changeset(P, [Upsert(stream_key="Manual", config=config, base=ChangeBase.of(None))])
    outcome: list = []
    with create_engine(seeded).connect() as by_hand:
        transaction = by_hand.begin()
        by_hand.execute(
            text(f"INSERT INTO {P}_airflow_dsg (stream_key, config_json, status) VALUES ('Manual', :c, 'active')"),
            {"c": config},
        )

        def ours() -> None:
            try:
                outcome.append(apply_changeset(seeded, changeset, actor="alice"))
            except Exception as exc:
                outcome.append(exc)

        thread = threading.Thread(target=ours)
        thread.start()
        deadline = time.monotonic() + 20
        with create_engine(seeded).connect() as watch:
            while time.monotonic() < deadline:
                if watch.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar():
                    break
                time.sleep(0.02)
            else:
                pytest.fail("our insert never waited on the hand-made row")
        transaction.commit()
        thread.join(30)
    (error,) = outcome
    assert isinstance(error, ChangesetConflict) and [c.stream_key for c in error.conflicts] == ["Manual"]
    assert [h["changed_by"] for h in _history(seeded, "Manual")] != ["alice"]
