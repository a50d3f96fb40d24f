"""The runs screen's pure pieces: state glyphs and the strip of recent runs, durations, relative
times, conf parsing, the Airflow column's cells, Airflow's problems for the errors screen, and
text from Airflow made safe to show (also drawn in a real TaskLog, through the pilot)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from textual.app import App, ComposeResult

from factory.operations.inspection.views import StreamView
from yellowtui.airflow_state import NOT_CONFIGURED, AirflowView, airflow_cells
from yellowtui.presenters.airflow_problems import airflow_problems
from yellowtui.presenters.runs import (
    airflow_cell,
    duration,
    parse_conf,
    relative,
    run_strip,
    state_glyph,
    state_label,
    visible,
    visible_lines,
)
from yellowtui.rows import AIRFLOW_COLUMN, RowQuery, parse_filter, prepare_rows, row_matches
from yellowtui.services.airflow_service import DagState, DagWarningState, ImportErrorState, RunState
from yellowtui.services.run_state import (
    NOT_IN_AIRFLOW,
    STALE_IN_AIRFLOW,
    MissingDag,
    PlatformRunState,
    UnexplainedDag,
)
from yellowtui.widgets.task_log import TaskLog

NOW = datetime(2025, 6, 2, 12, 0, 0, tzinfo=UTC)


def test_states_have_glyphs_and_unknown_states_do_not_pass_for_known_ones() -> None:
    assert state_glyph("success") == ("✔", "success")
    assert state_glyph("failed") == ("✘", "error")
    assert state_glyph("running") == ("▶", "accent")
    assert state_glyph(None) == ("·", "muted")
    assert state_glyph("brand_new_state") == ("?", "muted")
    assert state_label("up_for_retry") == "↻ up_for_retry"


def test_the_strip_keeps_the_newest_runs_in_order_and_stops_at_its_width() -> None:
    strip = run_strip(["running", "failed", "success", "success", "queued", "success"], width=5)
    assert "".join(c.glyph for c in strip) == "▶✘✔✔…"
    assert [c.role for c in strip[:2]] == ["accent", "error"]
    assert run_strip([]) == ()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (-1, "—"), (0.42, "0.4s"), (59.94, "59.9s"), (65, "1m05s"), (3600 + 180, "1h03m")],
)
def test_durations(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def test_relative_times_both_ways_and_naive_taken_as_utc() -> None:
    assert relative(NOW - timedelta(seconds=12), NOW) == "12s ago"
    assert relative(NOW + timedelta(minutes=4, seconds=5), NOW) == "in 4m"
    assert relative(NOW - timedelta(days=3), NOW) == "3d ago"
    assert relative(datetime(2025, 6, 2, 11, 0, 0), NOW) == "1h ago"
    assert relative(None, NOW) == "—"


def test_conf_must_be_a_json_object() -> None:
    assert parse_conf("") == ({}, None)
    assert parse_conf(' {"full": true} ') == ({"full": True}, None)
    assert parse_conf("[1]")[1] == 'conf must be a JSON object, such as {"full": true}'
    assert (parse_conf('{"full": ')[1] or "").startswith("not JSON")


def test_control_characters_are_written_out_never_sent() -> None:
    line = "\x1b[31mred\x1b[0m\tdone\r\nnext\x07"
    assert visible(line) == "\\x1b[31mred\\x1b[0m    done\nnext\\x07"
    assert visible_lines("a\r\nb") == ["a", "b"]
    assert visible_lines("") == []
    assert "\x1b" not in visible("\x1b\x9b") and "\\x9b" in visible("\x9b")


async def test_a_task_log_shows_an_escape_sequence_literally_and_appends_as_it_grows() -> None:
    class LogApp(App[None]):
        def compose(self) -> ComposeResult:
            yield TaskLog(id="log")

    app = LogApp()
    async with app.run_test(size=(80, 10)) as pilot:
        log = app.query_one(TaskLog)
        key = ("d", "r", "t", 1)
        assert log.show(key, "start\n\x1b[31mALERT\x1b[0m") == 2
        await pilot.pause()
        svg = app.export_screenshot()
        assert "\\x1b[31mALERT\\x1b[0m" in svg.replace("&#160;", " ")
        assert log.show(key, "start\n\x1b[31mALERT\x1b[0m\nend") == 1  # only the new line
        assert log.show(("d", "r", "t", 2), "another try") == 1  # another log starts over
        assert log.shown_lines == ["another try"]


def _run(state: str) -> RunState:
    return RunState("d", f"run_{state}", state, "manual", run_after=NOW)


def _dag(key: str, runs: tuple[str, ...] = (), paused: bool = False, stale: bool = False) -> DagState:
    return DagState(f"yellowlive__{key}_ingestion", key, paused, stale, recent_runs=tuple(_run(s) for s in runs))


def _state() -> PlatformRunState:
    return PlatformRunState(
        platform="yellowlive",
        airflow_url="http://127.0.0.1:8080",
        fetched_at=NOW,
        dags=(_dag("Ok", ("success", "failed")), _dag("Bad", ("failed",)), _dag("Idle", paused=True)),
        not_in_airflow=(
            MissingDag("Ghost", "yellowlive__Ghost_ingestion", NOT_IN_AIRFLOW),
            MissingDag("Gone", "yellowlive__Gone_ingestion", STALE_IN_AIRFLOW),
        ),
    )


def test_the_airflow_column_says_last_run_or_why_there_is_no_dag() -> None:
    cells = airflow_cells((_state(),))
    assert {k[1]: c.text for k, c in cells.items()} == {
        "Ok": "✔ success",
        "Bad": "✘ failed",
        "Idle": "⏸ paused",
        "Ghost": "not in Airflow",
        "Gone": "stale in Airflow",
    }
    assert airflow_cell("running", True, False).role == "accent"


def test_rows_filter_and_sort_by_the_airflow_column() -> None:
    views = [StreamView("yellowlive", k, "active", "{}", None, None, valid=True) for k in ("Ok", "Bad", "Ghost", "Zed")]
    query = RowQuery()
    query.replace(prepare_rows(views))
    assert query.set_airflow(airflow_cells((_state(),))) is False  # neither sorted nor filtered by it
    query.sort_by("airflow")
    assert [r.stream_key for r in query.visible] == ["Ghost", "Bad", "Ok", "Zed"]  # trouble first, unknown last
    terms = parse_filter("airflow:failed")
    assert terms[0].column == AIRFLOW_COLUMN
    assert [r.stream_key for r in query.rows if row_matches(r, terms, query.airflow)] == ["Bad"]
    assert not row_matches(query.rows[0], terms, None)  # without Airflow nothing matches an Airflow term


def test_the_view_keeps_the_last_refresh_while_airflow_is_down() -> None:
    view = AirflowView(configured=True, url="http://x").refreshed((_state(),), datetime(2025, 6, 2, 12))
    down = view.went_down("cannot reach Airflow", datetime(2025, 6, 2, 12, 1))
    again = down.went_down("cannot reach Airflow", datetime(2025, 6, 2, 12, 2))
    assert not again.online and again.down_since == datetime(2025, 6, 2, 12, 1)
    assert again.platforms == view.platforms and again.cells == view.cells
    assert NOT_CONFIGURED.cells == {} and not NOT_CONFIGURED.configured
    assert view.unexplained_count(None) == 0
    other = replace(
        _state(), platform="yellowforensic", unexplained=(UnexplainedDag(_dag("Old"), "its row is retired"),)
    )
    both = view.refreshed((_state(), other), datetime(2025, 6, 2, 12, 3))
    assert both.unexplained_count(None) == 1 and both.unexplained_count("yellowlive") == 0
    assert both.for_platform("yellowforensic") is other and both.for_platform("nope") is None


def test_airflow_problems_keep_the_trace_end_and_name_the_stream() -> None:
    trace = "Traceback (most recent call last):\n" + "".join(f'  File "x{i}.py"\n' for i in range(20))
    trace += "ValueError: boom \x1b[31m"
    problems = airflow_problems(
        "yellowlive",
        [ImportErrorState("/dags/yellowlive_factory_dag.py", NOW, trace)],
        [DagWarningState("yellowlive__Store1_ingestion", "non-existent pool", "pool 'p' missing", NOW)],
    )
    error, warning = problems
    assert error.kind == "import error" and error.summary == "ValueError: boom \\x1b[31m"
    assert len(error.detail) == 12 and error.detail[-1] == error.summary
    assert warning.stream_key == "Store1" and warning.summary == "non-existent pool: pool 'p' missing"


def test_a_bad_airflow_url_for_the_dashboard_is_one_line_and_exit_code_2() -> None:
    from click.testing import CliRunner

    from yellowtui.cli import main

    result = CliRunner().invoke(main, ["--db", "postgresql://x@localhost/x", "--airflow", "ftp://airflow"])
    assert result.exit_code == 2
    assert "is not an http(s) URL" in result.output and "Traceback" not in result.output
