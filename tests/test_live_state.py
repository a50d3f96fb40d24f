"""The live status rules, the parse request's choice of files, wait's exit codes and the DAG
versions beside the history: plain functions over rows and Airflow's listed DAGs (the real
Airflow side is tests/test_airflow_live.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from factory.fingerprint import fingerprint_in
from factory.models import parse_config
from factory.names import dag_id_for
from factory.operations.inspection.views import StreamView
from factory.records import HistoryEntry
from factory.spec import dag_spec
from factory.split import Layout, file_of, split_file_name
from factory.validation import config_hash
from tests.samples import SAMPLE_CONFIG
from yellowtui.presenters.dag_versions import RowChange, version_lines
from yellowtui.services.airflow.models import DagState, dag_from_json
from yellowtui.services.live_state import LiveStatus, PlatformLive, StreamLive, live_statuses, stream_live
from yellowtui.services.live_wait import ParseAgain, stale_dag_threshold_s, wait_live
from yellowtui.services.parse_request import file_of_dag, files_of

P = "yellowlive"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _config(**changes) -> str:
    return json.dumps({**SAMPLE_CONFIG, **changes}, sort_keys=True)


def _view(config_json: str, status: str = "active", **fields) -> StreamView:
    view = StreamView(P, "Store1", status, config_json, None, None, **fields)
    try:
        view.fingerprint = fingerprint_in(dag_spec(parse_config(config_json), P).description)
    except ValueError:
        view.valid = False
        view.problems = [{"path": "$.datasets", "message": "field is missing"}]
    return view


def _dag(config_json: str | None, *, stale: bool = False, file: str = "yellowlive_factory_dag.py") -> DagState:
    description = dag_spec(parse_config(config_json), P).description if config_json else "Ingestion of Store1"
    return DagState(
        "yellowlive__Store1_ingestion", "Store1", False, stale, last_parsed=T0, description=description, file=file
    )


def test_airflow_serving_the_rows_config_is_live_and_an_older_one_pending():
    now, before = _config(), _config(schedule="@daily")
    assert stream_live(P, "Store1", _view(now), _dag(now)).status is LiveStatus.LIVE
    pending = stream_live(P, "Store1", _view(now), _dag(before))
    assert pending.status is LiveStatus.PENDING
    assert pending.served != pending.wanted and pending.served in pending.detail
    # A DAG from before fingerprints is not taken for live.
    assert stream_live(P, "Store1", _view(now), _dag(None)).status is LiveStatus.PENDING


def test_a_row_that_does_not_build_is_failed_and_names_the_last_good_config():
    good = _config()
    broken = json.dumps({k: v for k, v in SAMPLE_CONFIG.items() if k != "datasets"})
    later = T0.replace(tzinfo=None) + timedelta(minutes=5)
    history = [HistoryEntry(2, "Store1", "update", good, broken, "active", "active", "ops", later)]
    history.append(HistoryEntry(1, "Store1", "insert", None, good, None, "active", "ops", T0.replace(tzinfo=None)))
    failed = stream_live(P, "Store1", _view(broken), _dag(good), history)
    assert failed.status is LiveStatus.FAILED and failed.settled
    assert "$.datasets" in (failed.problem or "")
    assert failed.served in failed.detail and failed.served_since == T0
    # Valid offline but refused by the factory's last parse of this very config: failed too.
    recorded = _view(good, last_outcome="error", last_error="boom", last_config_hash=config_hash(good))
    assert stream_live(P, "Store1", recorded, _dag(good)).status is LiveStatus.FAILED
    # An error recorded for an older config says nothing about this one.
    older = _view(good, last_outcome="error", last_error="boom", last_config_hash="0" * 16)
    assert stream_live(P, "Store1", older, _dag(good)).status is LiveStatus.LIVE


@pytest.mark.parametrize("status", ["paused", "retired", None])
def test_a_removed_stream_is_still_in_airflow_until_its_dag_goes(status):
    view = _view(_config(), status) if status else None
    still = stream_live(P, "Store1", view, _dag(_config()))
    assert still.status is LiveStatus.STILL_IN_AIRFLOW and not still.settled
    assert (status or "deleted") in still.detail
    for gone in (None, _dag(_config(), stale=True)):
        done = stream_live(P, "Store1", view, gone)
        assert done.status is LiveStatus.NOT_IN_AIRFLOW and done.settled


def test_an_active_row_not_listed_yet_is_not_settled():
    missing = stream_live(P, "Store1", _view(_config()), None)
    assert missing.status is LiveStatus.NOT_IN_AIRFLOW and not missing.settled


def test_statuses_for_asked_keys_include_deleted_streams():
    found = live_statuses(P, [_view(_config())], [_dag(_config())], keys=["Store1", "Gone"])
    assert {s.stream_key: s.status for s in found.streams} == {
        "Store1": LiveStatus.LIVE,
        "Gone": LiveStatus.NOT_IN_AIRFLOW,
    }


def test_a_split_platform_names_each_streams_home_file_and_the_file_that_holds_it_now():
    keys = [f"S{i}" for i in range(40)]
    wanted = files_of(P, keys, [], Layout(files=4, previous=4))
    for key in keys:
        assert key in wanted[split_file_name(P, file_of(key, 4))]
    assert len(wanted) == 4 and "yellowlive_factory_dag_3.py" in wanted
    # A stream whose DAG another file still defines (the layout changed): that file parses too.
    home = split_file_name(P, file_of("S1", 4))
    other = next(name for name in wanted if name != home)
    moved = DagState("yellowlive__S1_ingestion", None, False, False, file=f"dags/{other}")
    both = files_of(P, ["S1"], [moved], Layout(files=4, previous=4))
    assert both == {home: {"S1"}, other: {"S1"}}


def _key_in_file(index: int, files: int) -> str:
    return next(key for key in (f"Store{i}" for i in range(1000)) if file_of(key, files) == index)


def _dag_in(key: str, file: str, bundle: str | None) -> DagState:
    return DagState(dag_id_for(P, key), key, is_paused=False, is_stale=False, file=file, bundle=bundle)


def test_a_stream_in_a_second_bundle_names_its_file_there():
    key = _key_in_file(3, 4)
    wanted = files_of(P, [key], [], Layout(files=4, previous=4, bundles=2, previous_bundles=2))
    assert wanted == {"yellow-1/yellowlive_factory_dag_3.py": {key}}


def test_mid_move_between_bundles_both_copies_of_the_same_file_are_named():
    """B 1 -> 2: file 3 moves to yellow-1, and its copy in the dags folder still defines the DAG
    (it must parse to drop it once the new copy has confirmed)."""
    key = _key_in_file(3, 4)
    layout = Layout(files=4, previous=4, bundles=2, previous_bundles=1)
    now = _dag_in(key, "yellowlive_factory_dag_3.py", "dags-folder")
    wanted = files_of(P, [key], [now], layout)
    assert wanted == {"yellow-1/yellowlive_factory_dag_3.py": {key}, "yellowlive_factory_dag_3.py": {key}}


def test_one_file_platform_is_named_as_before_bundles():
    key = "Store1"
    assert files_of(P, [key], [_dag_in(key, "yellowlive_factory_dag.py", "dags-folder")]) == {
        "yellowlive_factory_dag.py": {key}
    }


def test_airflow_json_carries_the_bundle_to_the_file_name():
    """``bundle_name`` and ``relative_fileloc`` as GET /api/v2/dags lists them (DAGResponse)."""
    dag = dag_from_json(
        {
            "dag_id": "yellowlive__s_ingestion",
            "bundle_name": "yellow-2",
            "relative_fileloc": "yellowlive_factory_dag_5.py",
        }
    )
    assert dag.bundle == "yellow-2"
    assert file_of_dag(dag) == "yellow-2/yellowlive_factory_dag_5.py"


def _state(*statuses: LiveStatus, reason: str = "") -> PlatformLive:
    from yellowtui.services.live_state import StreamLive

    streams = tuple(StreamLive(P, f"K{i}", s, "", row_status="active") for i, s in enumerate(statuses))
    return PlatformLive(P, T0, streams, reason=reason)


def test_wait_returns_once_settled_times_out_or_stops_when_airflow_goes():
    looks = iter([_state(LiveStatus.PENDING), _state(LiveStatus.LIVE)])
    clock = iter(range(100))
    done = wait_live(lambda: next(looks), timeout_s=10, clock=lambda: float(next(clock)), sleep=lambda _: None)
    assert not done.timed_out and done.looks == 2 and not done.pending

    clock = iter(range(100))
    late = wait_live(
        lambda: _state(LiveStatus.PENDING), timeout_s=3, clock=lambda: float(next(clock)), sleep=lambda _: None
    )
    assert late.timed_out and late.pending == ["K0"]

    down = wait_live(lambda: _state(LiveStatus.UNKNOWN, reason="cannot reach Airflow"), timeout_s=60)
    assert down.unreachable and down.looks == 1


def test_wait_exit_codes():
    from yellowtui.cli.live import _outcome
    from yellowtui.services.live_wait import WaitResult

    assert _outcome(WaitResult(_state(LiveStatus.LIVE), False, 1.0, 2))[0] == 0
    assert _outcome(WaitResult(_state(LiveStatus.FAILED, LiveStatus.LIVE), False, 1.0, 2))[0] == 1
    assert _outcome(WaitResult(_state(LiveStatus.PENDING), True, 60.0, 9))[0] == 5
    code, lines = _outcome(WaitResult(_state(LiveStatus.UNKNOWN, reason="cannot reach Airflow"), False, 1.0, 1))
    assert code == 2 and "cannot reach Airflow" in lines[0]


def test_versions_say_plainly_when_several_changes_share_one():
    def change(minutes: int, fingerprint: str) -> RowChange:
        return RowChange(T0 + timedelta(minutes=minutes), "alice", "update", fingerprint)

    # v1 made by the first change; three more changes with no run between them rewrote v2 in place.
    changes = [change(0, "aaa"), change(10, "bbb"), change(11, "ccc"), change(12, "ddd")]
    versions = [(1, T0 + timedelta(seconds=30)), (2, T0 + timedelta(minutes=10, seconds=20))]
    lines = version_lines(versions, changes, served="ddd")
    assert [len(v.changes) for v in lines] == [1, 3]
    assert "rewritten in place" in lines[1].note and lines[1].current
    pending = version_lines(versions, changes, served="ccc")
    assert "not parsed yet" in pending[1].note


def test_the_streams_table_filters_and_sorts_by_the_live_column():
    from yellowtui.rows import RowQuery, prepare_rows
    from yellowtui.services.live_state import live_cell

    views = [StreamView(P, k, "active", _config(), None, None) for k in ("A", "B", "C")]
    statuses = {"A": LiveStatus.LIVE, "B": LiveStatus.PENDING, "C": LiveStatus.FAILED}
    from yellowtui.services.live_state import StreamLive

    cells = {(P, k): live_cell(StreamLive(P, k, s, "", row_status="active")) for k, s in statuses.items()}
    query = RowQuery()
    query.replace(prepare_rows(views))
    query.set_airflow({}, cells)
    query.set_filter("live:pending")
    assert [r.stream_key for r in query.visible] == ["B"]
    query.set_filter("")
    query.sort_by("live")
    assert [r.stream_key for r in query.visible] == ["C", "B", "A"]  # failures first


def _parsed_state(*streams: StreamLive) -> PlatformLive:
    return PlatformLive(P, T0, tuple(streams))


def _parsed(key: str, status: LiveStatus, parsed_ago_s: float) -> StreamLive:
    return StreamLive(P, key, status, "", parsed_at=T0 - timedelta(seconds=parsed_ago_s))


def test_a_retired_dag_past_the_stale_threshold_gets_one_more_parse_request():
    """Airflow deactivates a dropped DAG only at a parse ending ``stale_dag_threshold`` after the
    DAG's last parse: once that long has passed, wait asks for one parse, and only one."""
    again = ParseAgain(None, P, stale_after_s=5, clock=lambda: T0)  # type: ignore[arg-type]
    state = _parsed_state(
        _parsed("Old", LiveStatus.STILL_IN_AIRFLOW, 6),
        _parsed("Fresh", LiveStatus.STILL_IN_AIRFLOW, 2),
        _parsed("Changed", LiveStatus.PENDING, 60),
    )
    assert again._dropped_now_stale(state) == ["Old"]
    assert again._dropped_now_stale(state) == [], "asked once per parse of the DAG"
    later = ParseAgain(None, P, stale_after_s=5, clock=lambda: T0 + timedelta(seconds=4))  # type: ignore[arg-type]
    assert later._dropped_now_stale(state) == ["Old", "Fresh"]


def test_the_stale_threshold_is_read_where_airflow_reads_it():
    assert stale_dag_threshold_s({}) == 50.0
    assert stale_dag_threshold_s({"AIRFLOW__DAG_PROCESSOR__STALE_DAG_THRESHOLD": "5"}) == 5.0
    assert stale_dag_threshold_s({"AIRFLOW__DAG_PROCESSOR__STALE_DAG_THRESHOLD": "soon"}) == 50.0
