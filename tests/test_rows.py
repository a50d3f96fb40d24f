"""The streams table's row model, filter language and state values, without an app.

Rows are built from :class:`factory.operations.inspection.views.StreamView` values made here (no
database): the widget that draws them is tested through the pilot in tests/test_dashboard.py.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from factory.operations.inspection.views import StreamView
from yellowtui.rows import (
    COLUMN_INDEX,
    COLUMNS,
    Counts,
    RowQuery,
    StatusFilter,
    Term,
    count_rows,
    only_narrows,
    parse_filter,
    prepare_row,
    prepare_rows,
    row_matches,
    status_matches,
)
from yellowtui.state import ONLINE, RowBatch, RowSet


def view(key: str, platform: str = "yellowlive", status: str = "active", **kw: object) -> StreamView:
    v = StreamView(platform, key, status, "{}", datetime(2025, 6, 1, 9, 0), datetime(2025, 6, 1, 9, 0))
    v.ingestion_type = str(kw.get("ingestion_type", "sql_snapshot"))
    v.schedule = kw.get("schedule", "@daily")  # type: ignore[assignment]
    v.dataset_count = kw.get("dataset_count", 2)  # type: ignore[assignment]
    problems = kw.get("problems", [])
    v.problems = problems  # type: ignore[assignment]
    v.valid = not problems
    v.last_outcome = kw.get("outcome", "ok")  # type: ignore[assignment]
    v.last_build_ms = kw.get("build_ms", 0.8)  # type: ignore[assignment]
    return v


BROKEN = [{"path": "$.schedule", "message": "bad cron"}]
VIEWS = [
    view("Store1_orders"),
    view("Store2_orders", "yellowforensic", ingestion_type="cdc", build_ms=3.5),
    view("Store3_items", status="paused", outcome=None, build_ms=None),
    view("Store4_items", status="retired", outcome=None, build_ms=None),
    view("Broken0001_cron", problems=BROKEN, outcome="error", build_ms=0.0),
    view("Store5_stale", "yellowforensic", outcome="stale"),
]


def shown(query: RowQuery) -> list[str]:
    return [r.stream_key for r in query.visible]


# ---- rows --------------------------------------------------------------------------------------


def test_a_row_has_one_cell_per_column_and_marks_validity() -> None:
    good, bad = prepare_row(VIEWS[0]), prepare_row(VIEWS[4])
    assert len(good.cells) == len(good.lowered) == len(good.sort_keys) == len(COLUMNS)
    assert good.cells[3] == "✓" and bad.cells[3] == "✗ 1"
    assert bad.lowered[3] == "invalid ✗ 1" and good.lowered[3] == "valid ✓"
    ms = COLUMN_INDEX["build_ms"]
    assert bad.cells[ms] == "—"  # no build time shown for a failed build
    assert good.cells[ms] == "0.80"
    assert not good.failing and bad.failing and prepare_row(VIEWS[5]).failing


def test_counts_by_status_validity_and_failure() -> None:
    assert count_rows(prepare_rows(VIEWS)) == Counts(total=6, active=4, paused=1, retired=1, invalid=1, failing=2)


# ---- the filter language -----------------------------------------------------------------------


def test_words_match_anywhere_and_name_value_matches_one_column() -> None:
    assert parse_filter("CDC orders") == [Term("cdc"), Term("orders")]
    assert parse_filter("status:paused type:cdc") == [
        Term("paused", COLUMN_INDEX["status"]),
        Term("cdc", COLUMN_INDEX["type"]),
    ]
    assert parse_filter("ingestion:cdc") == [Term("cdc", COLUMN_INDEX["type"])]  # an alias
    assert parse_filter("status:") == []  # still typing: matches everything
    assert parse_filter("nosuchcolumn:x") == [Term("nosuchcolumn:x")]  # not a column: a plain word


def test_row_matches_every_term() -> None:
    rows = prepare_rows(VIEWS)
    hits = [r.stream_key for r in rows if row_matches(r, parse_filter("orders forensic"))]
    assert hits == ["Store2_orders"]
    assert [r.stream_key for r in rows if row_matches(r, parse_filter("valid:invalid"))] == ["Broken0001_cron"]
    # A word in another column does not satisfy a column term.
    assert not any(row_matches(r, parse_filter("platform:orders")) for r in rows)


def test_narrowing_is_detected_only_when_it_is_safe() -> None:
    assert only_narrows(parse_filter("ord"), parse_filter("orde"))
    assert only_narrows(parse_filter("ord"), parse_filter("ord items"))
    assert not only_narrows(parse_filter("orde"), parse_filter("ord"))  # erased: wider
    assert not only_narrows(parse_filter("status:p"), parse_filter("p"))  # column term to free word


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (StatusFilter.ALL, 6),
        (StatusFilter.ACTIVE, 4),
        (StatusFilter.PAUSED, 1),
        (StatusFilter.RETIRED, 1),
        (StatusFilter.INVALID, 1),
        (StatusFilter.FAILING, 2),
    ],
)
def test_status_filter(status: StatusFilter, expected: int) -> None:
    assert sum(status_matches(r, status) for r in prepare_rows(VIEWS)) == expected


# ---- the query: scope, filter, sort ------------------------------------------------------------


def test_query_filters_narrowing_and_widening() -> None:
    query = RowQuery()
    query.replace(prepare_rows(VIEWS))
    assert query.set_filter("store")
    assert len(query.visible) == 5
    assert query.set_filter("store orders")  # narrows: only the rows shown are re-tested
    assert shown(query) == ["Store1_orders", "Store2_orders"]
    assert not query.set_filter("store  orders ")  # same terms: nothing to redraw
    assert query.set_filter("items")  # not a narrowing: every row is tested again
    assert shown(query) == ["Store3_items", "Store4_items"]


def test_query_status_platform_and_counts() -> None:
    query = RowQuery()
    query.replace(prepare_rows(VIEWS))
    query.set_platform("yellowforensic")
    assert shown(query) == ["Store2_orders", "Store5_stale"]
    assert query.counts.total == 2 and query.counts.failing == 1
    query.set_platform(None)
    query.set_status_filter("failing")
    assert shown(query) == ["Broken0001_cron", "Store5_stale"]
    with pytest.raises(ValueError, match="status filter must be one of"):
        query.set_status_filter("nonsense")
    assert query.next_status_filter() == StatusFilter.ALL  # failing is the last: wraps around


def test_query_sorts_by_column_then_platform_then_key() -> None:
    query = RowQuery()
    query.replace(prepare_rows(VIEWS))
    assert shown(query)[0] == "Broken0001_cron"  # stream key, ascending
    query.sort_by("ms", reverse=True)
    assert shown(query)[0] == "Store2_orders" and query.sort_label == "ms ▼"
    query.sort_by("valid")  # invalid rows first (valid False sorts first)
    assert shown(query)[0] == "Broken0001_cron" and query.sort_label == "Valid ▲"
    query.sort_by("valid")  # the same column again: reversed
    assert query.sort_reverse and shown(query)[-1] == "Broken0001_cron"
    query.extend(prepare_rows([view("Aaa_first")]))  # rows streaming in keep the sort
    assert query.sort_reverse and len(query.rows) == 7


# ---- state values ------------------------------------------------------------------------------


def test_rowset_grows_by_batches_and_replaces_by_generation() -> None:
    first = RowBatch(tuple(VIEWS[:2]), prepare_rows(VIEWS[:2]))
    second = RowBatch(tuple(VIEWS[2:]), prepare_rows(VIEWS[2:]))
    empty = RowSet()
    assert empty.loading and not empty and len(empty) == 0
    one = empty.with_batch(first, replace_rows=True, load_id=1)
    two = one.with_batch(second, replace_rows=False, load_id=1)
    assert (len(one), len(two)) == (2, 6)  # the earlier value is unchanged
    assert one.generation == two.generation == 1
    assert two.batches[0] is first  # rows are shared, not copied
    assert [r.stream_key for r in two.rows_from(1)] == [v.stream_key for v in VIEWS[1:]]
    assert two.rows_from(6) == []
    assert [v.stream_key for v in two.views] == [v.stream_key for v in VIEWS]
    assert two.platforms == {"yellowlive", "yellowforensic"}
    done = two.finished(datetime(2025, 6, 2, 12, 0), 12.5)
    assert not done.loading and done.load_ms == 12.5 and two.loading
    again = done.with_batch(first, replace_rows=True, load_id=2)
    assert again.generation == 2 and len(again) == 2 and again.loaded_at == done.loaded_at
    assert done.stopped() is done and RowSet().stopped().loading is False
    assert done != two.finished(done.loaded_at or at_noon(), 12.5)  # a RowSet equals only itself


def test_database_health_remembers_when_it_first_went_down() -> None:
    at, later = datetime(2025, 6, 2, 12, 0), datetime(2025, 6, 2, 12, 5)
    down = ONLINE.went_down("connection refused", at).went_down("timeout", later)
    assert not down.online and down.down_since == at and down.reason == "timeout"


def at_noon() -> datetime:
    return datetime(2025, 6, 2, 12, 0)
