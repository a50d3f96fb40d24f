"""The staged changes as one immutable value: one change per stream, the first base kept."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from factory.enums import RowStatus
from factory.operations.changes.changeset import ChangeBase, Delete, SetStatus, Upsert
from factory.operations.inspection.views import StreamView
from factory.store import ConfigRow
from yellowtui.pending import NOTHING_STAGED, PendingChanges, combine, rebased, row_of, status_change

T0 = datetime(2025, 6, 1, 8, 0)
T1 = datetime(2025, 6, 1, 9, 0)


def row(key: str = "Store1", at: datetime = T0, status: str = RowStatus.ACTIVE) -> ConfigRow:
    return ConfigRow("yellowlive", key, json.dumps({"stream_key": key}), status, T0, at)


def view(key: str = "Store1", status: str = RowStatus.ACTIVE) -> StreamView:
    return StreamView("yellowlive", key, status, json.dumps({"stream_key": key}), T0, T0)


def edit(key: str = "Store1", at: datetime = T0, schedule: str = "@daily") -> Upsert:
    return Upsert(stream_key=key, config={"stream_key": key, "schedule": schedule}, base=ChangeBase.of(row(key, at)))


def test_staging_replaces_the_streams_change_and_keeps_its_first_base() -> None:
    first = edit(at=T0, schedule="@daily")
    later = edit(at=T1, schedule="@hourly")  # read again after someone changed the row
    pending = NOTHING_STAGED.with_change("yellowlive", first).with_change("yellowlive", later)
    assert len(pending) == 1
    staged = pending.get("yellowlive", "Store1")
    assert isinstance(staged, Upsert)
    assert staged.config == later.config
    assert staged.base == first.base  # apply still notices the change made after the first read


def test_keep_base_false_replaces_the_base_too() -> None:
    pending = NOTHING_STAGED.with_change("yellowlive", edit(at=T0)).with_change(
        "yellowlive", edit(at=T1), keep_base=False
    )
    staged = pending.get("yellowlive", "Store1")
    assert staged is not None and staged.base == ChangeBase.of(row(at=T1))


@pytest.mark.parametrize(
    ("first", "then", "expected_op", "expected_status"),
    [
        (edit(), SetStatus(stream_key="Store1", status=RowStatus.PAUSED), "upsert", RowStatus.PAUSED),
        (SetStatus(stream_key="Store1", status=RowStatus.PAUSED), edit(), "upsert", RowStatus.PAUSED),
        (edit(), Delete(stream_key="Store1"), "delete", None),
        (
            Delete(stream_key="Store1"),
            SetStatus(stream_key="Store1", status=RowStatus.RETIRED),
            "set_status",
            "retired",
        ),
    ],
    ids=["edit-then-pause", "pause-then-edit", "edit-then-delete", "delete-then-retire"],
)
def test_combining_two_changes_of_one_stream(first, then, expected_op, expected_status) -> None:
    first = first.model_copy(update={"base": ChangeBase.of(row(at=T0))})
    then = then.model_copy(update={"base": ChangeBase.of(row(at=T1))})
    combined = combine(first, then)
    assert combined.op == expected_op
    assert getattr(combined, "status", None) == expected_status
    assert combined.base == first.base


def test_platforms_are_separate_and_the_changeset_is_sorted() -> None:
    pending = (
        NOTHING_STAGED.with_change("yellowlive", edit("Zeta"))
        .with_change("yellowforensic", edit("Alpha"))
        .with_change("yellowlive", edit("Alpha"))
    )
    assert pending.platforms == ("yellowlive", "yellowforensic")
    changeset = pending.changeset("yellowlive", created_by="alice")
    assert changeset.platform == "yellowlive" and changeset.created_by == "alice"
    assert [c.stream_key for c in changeset.changes] == ["Alpha", "Zeta"]
    assert pending.summary() == "3 staged changes (yellowlive, yellowforensic)"
    pending = pending.cleared("yellowlive")
    assert [(s.platform, s.stream_key) for s in pending.staged] == [("yellowforensic", "Alpha")]
    assert pending.without("yellowforensic", "Alpha") == PendingChanges()
    assert NOTHING_STAGED.summary() == "no staged changes" and not NOTHING_STAGED


@pytest.mark.parametrize(
    ("op", "kind", "status"),
    [
        ("pause", SetStatus, "paused"),
        ("resume", SetStatus, "active"),
        ("retire", SetStatus, "retired"),
        ("delete", Delete, None),
    ],
)
def test_status_changes_are_based_on_the_row_as_shown(op: str, kind: type, status: str | None) -> None:
    shown = view()
    change = status_change(shown, op)
    assert isinstance(change, kind)
    assert getattr(change, "status", None) == status
    assert change.base == ChangeBase.of(row_of(shown))
    assert change.base is not None and change.base.to_row_base().matches(row_of(shown))


def test_an_unknown_status_operation_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown operation 'archive'"):
        status_change(view(), "archive")


def test_rebase_takes_the_current_rows_and_drops_changes_of_vanished_streams() -> None:
    pending = (
        NOTHING_STAGED.with_change("yellowlive", edit("Store1", at=T0))
        .with_change("yellowlive", status_change(view("Store2"), "pause"))
        .with_change("yellowlive", edit("Store3", at=T0))
    )
    now = {"Store1": row("Store1", at=T1), "Store2": None, "Store3": None}
    rebased_pending, dropped = rebased(pending, "yellowlive", now)
    assert dropped == ["Store2"]
    store1 = rebased_pending.get("yellowlive", "Store1")
    assert store1 is not None and store1.base == ChangeBase.of(row("Store1", at=T1))
    store3 = rebased_pending.get("yellowlive", "Store3")  # an edit of a deleted stream creates it again
    assert store3 is not None and store3.base == ChangeBase(exists=False)
    assert rebased_pending.get("yellowlive", "Store2") is None
