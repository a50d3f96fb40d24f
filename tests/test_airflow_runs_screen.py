"""The runs screen (`4`) driven through the pilot against the session's real local Airflow
(tests/airflow_stack.py, platform ``yellowruns``): real runs, real task instances, real logs,
writes behind confirmations, read-only, and Airflow going away mid-session.

Each test opens the dashboard through ``make_app`` (what ``yellowtui --airflow URL`` runs) on
the stack's config database, with the Airflow poll at one second so waits stay short.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.widgets import DataTable

from factory import shape
from tests.airflow_stack import RUNS, service_for
from tests.test_dashboard import SIZE, screen_text, wait_for
from yellowtui.app import YellowApp, make_app
from yellowtui.presenters.runs import is_finished
from yellowtui.screens.confirm_action import ConfirmActionScreen
from yellowtui.screens.runs import RunsScreen
from yellowtui.screens.trigger_dialog import TriggerDialog
from yellowtui.widgets.airflow_banner import AirflowBanner
from yellowtui.widgets.config_table import ConfigTable
from yellowtui.widgets.task_log import TaskLog

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

AGAIN, FAILS, STILL, SLOW = (f"{RUNS}__{k}_ingestion" for k in ("Again", "Fails", "Still", "Slow"))
RUN_TIMEOUT_S = 240.0


def _app(stack: dict[str, Any], **kwargs: Any) -> YellowApp:
    airflow = stack["airflow"]
    return make_app(stack["config_url"], airflow=service_for(airflow), airflow_interval=1.0, **kwargs)


async def _open_runs(pilot: Any) -> RunsScreen:
    app = pilot.app
    await wait_for(pilot, lambda: RUNS in app.platforms, what="the platforms")
    app.platform = RUNS
    await pilot.press("4")
    screen = app.screen
    assert isinstance(screen, RunsScreen)
    await wait_for(pilot, lambda: screen.state is not None and screen.state.rows_known, 60, "Airflow's run state")
    await wait_for(pilot, lambda: screen.query_one("#runs-dags", DataTable).row_count == 4, 30, "the DAG table")
    return screen


async def _highlight_dag(pilot: Any, screen: RunsScreen, dag_id: str) -> None:
    table = screen.query_one("#runs-dags", DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(dag_id))
    await wait_for(pilot, lambda: screen.dag_id == dag_id, what=f"{dag_id} to be highlighted")


async def _confirm(pilot: Any, key: str = "y") -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmActionScreen), what="the confirmation")
    await pilot.press(key)


async def _until(pilot: Any, condition: Callable[[], bool], what: str, timeout: float = RUN_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await pilot.pause(0.5)


def _dag_cells(screen: RunsScreen, dag_id: str) -> list[str]:
    return [cell.plain for cell in screen.query_one("#runs-dags", DataTable).get_row(dag_id)]


async def test_keep_working_reschedules_and_ends_done_an_error_code_fails_and_the_log_shows(airflow_stack) -> None:
    service = service_for(airflow_stack["airflow"])
    app = _app(airflow_stack)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_runs(pilot)
        assert list(screen.query_one("#runs-dags", DataTable).rows) == [AGAIN, FAILS, SLOW, STILL]
        for dag_id in (AGAIN, FAILS):
            await _highlight_dag(pilot, screen, dag_id)
            assert _dag_cells(screen, dag_id)[1] == "paused"
            await pilot.press("u")  # unpause, after confirmation
            await _confirm(pilot)
            await _until(pilot, lambda d=dag_id: not service.dag(d).is_paused, f"{dag_id} unpaused", 30)
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, TriggerDialog), what="the trigger dialog")
            await pilot.press(*'{"source": "pilot"', "enter")  # not JSON yet: refused in the dialog
            await pilot.pause()
            assert isinstance(app.screen, TriggerDialog)
            await pilot.press("}", "enter")
            await _until(pilot, lambda d=dag_id: bool(service.dag_runs(d)), f"a run of {dag_id}", 30)
        assert service.dag_runs(FAILS)[0].conf == {"source": "pilot"}

        # Again: KEEP_WORKING, so the run triggers the DAG again; that run answers DONE.
        await _highlight_dag(pilot, screen, AGAIN)
        await _until(
            pilot,
            lambda: [r.state for r in screen.runs] == ["success", "success"] and screen.dag_id == AGAIN,
            "Again's two runs to succeed",
        )
        await _until(pilot, lambda: _dag_cells(screen, AGAIN)[5].startswith("✔ ✔"), "the strip to show them")
        assert [r.run_type for r in screen.runs] == ["operator_triggered", "manual"]

        # The older run (KEEP_WORKING): its task instances, then the job's log.
        await pilot.press("enter")  # to the runs
        assert app.focused is screen.query_one("#runs-runs")
        await pilot.press("down")
        older = screen.runs[1].run_id
        await wait_for(
            pilot,
            lambda: (
                screen.run_id == older and len(screen.tasks) == 4 and all(is_finished(t.state) for t in screen.tasks)
            ),
            30,
            "the finished run's tasks",
        )
        states = {t.task_id: t.state for t in screen.tasks}
        assert states[shape.RESCHEDULE_TASK_ID] == "success" and states[shape.WAIT_TASK_ID] == "skipped"
        await pilot.press("enter")  # to the task instances: the first is the job
        assert screen.task_key == (shape.JOB_TASK_ID, 1)
        log = screen.query_one(TaskLog)
        await wait_for(pilot, lambda: "DATASURFACE_RESULT_CODE=1" in log.text, 30, "the job's log")
        assert "store=Again" in log.text
        assert "DATASURFACE_RESULT_CODE=1" in screen_text(app)  # drawn, wrapped at the pane's width

        # Fails: the job answers 7, check_result fails the run.
        await _highlight_dag(pilot, screen, FAILS)
        await _until(pilot, lambda: [r.state for r in screen.runs] == ["failed"], "Fails' run to fail")
        await _until(pilot, lambda: _dag_cells(screen, FAILS)[5].startswith("✘"), "the strip to show it")
        await wait_for(pilot, lambda: len(screen.tasks) == 4, 30, "the failed run's tasks")
        assert {t.task_id: t.state for t in screen.tasks}[shape.CHECK_TASK_ID] == "failed"

        # Clear its failed tasks: the confirmation lists what a dry run says would be cleared.
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionScreen), 30, "the clear confirmation")
        assert shape.CHECK_TASK_ID in screen_text(app)
        await pilot.press("n")  # declined: nothing changes
        await pilot.pause(1.0)
        assert service.dag_runs(FAILS)[0].state == "failed"
        await pilot.press("c")
        await _confirm(pilot)
        await _until(
            pilot, lambda: service.dag_runs(FAILS)[0].state != "failed" or _cleared_again(service), "the clear", 60
        )

        # The streams table's Airflow column shows each row's last run.
        await pilot.press("1")
        table = app.screen.query_one(ConfigTable)
        await wait_for(pilot, lambda: table.model.airflow.get((RUNS, "Again")) is not None, 30, "the Airflow column")
        assert table.show_airflow and table.model.airflow[(RUNS, "Again")].text == "✔ success"
        assert table.model.airflow[(RUNS, "Still")].text == "⏸ paused"


def _cleared_again(service: Any) -> bool:
    """The cleared check_result may already have failed again (the job still answers 7): then
    its try number went up."""
    run = service.dag_runs(FAILS)[0]
    tasks = {t.task_id: t for t in service.task_instances(FAILS, run.run_id)}
    return tasks[shape.CHECK_TASK_ID].try_number > 1


async def test_the_log_of_a_running_task_follows_it(airflow_stack) -> None:
    service = service_for(airflow_stack["airflow"])
    service.set_paused(SLOW, False)
    app = _app(airflow_stack)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_runs(pilot)
        await _highlight_dag(pilot, screen, SLOW)
        run_id = service.trigger(SLOW).run_id
        await _until(pilot, lambda: screen.run_id == run_id, "the new run to be shown", 60)
        job = lambda: next((t for t in screen.tasks if t.task_id == shape.JOB_TASK_ID), None)  # noqa: E731
        await _until(pilot, lambda: job() is not None and job().state == "running", "the job to run", 120)
        screen.query_one("#runs-tasks", DataTable).move_cursor(row=0)
        await wait_for(pilot, lambda: screen.task_key == (shape.JOB_TASK_ID, 1), what="the job's row")
        title = screen.query_one("#runs-log-title")
        assert "following" in str(title.render())
        log = screen.query_one(TaskLog)
        # Nothing is pressed from here: the log grows while the job sleeps, then ends.
        await _until(pilot, lambda: "DATASURFACE_RESULT_CODE=0" in log.text, "the log to follow the job", 120)
        assert "store=Slow" in log.text


async def test_read_only_refuses_every_write_and_changes_nothing(airflow_stack) -> None:
    service = service_for(airflow_stack["airflow"])
    runs_before = [r.run_id for r in service.dag_runs(STILL)]
    paused_before = service.dag(STILL).is_paused
    app = _app(airflow_stack, read_only=True)
    assert app.airflow is not None and app.airflow.settings.read_only
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_runs(pilot)
        assert "READ-ONLY" in screen_text(app)
        await _highlight_dag(pilot, screen, STILL)
        for key in ("t", "u", "c"):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause(0.3)
            assert app.screen is screen, key  # no dialog, no confirmation
            assert any("read-only: refused" in n.message for n in app._notifications), key
    assert [r.run_id for r in service.dag_runs(STILL)] == runs_before
    assert service.dag(STILL).is_paused == paused_before


async def test_airflow_stopped_mid_session_shows_a_banner_then_recovers(airflow_stack) -> None:
    airflow = airflow_stack["airflow"]
    app = make_app(
        airflow_stack["config_url"], airflow=service_for(airflow, retries=0, backoff_s=0.1), airflow_interval=1.0
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_runs(pilot)
        banner = screen.query_one(AirflowBanner)
        assert not banner.has_class("-down")
        airflow.stop_component("api-server")
        try:
            await _until(pilot, lambda: banner.has_class("-down"), "the Airflow banner", 60)
            text = screen_text(app)
            assert "Airflow unreachable" in text and "cannot reach Airflow" in text
            assert screen.query_one("#runs-dags", DataTable).row_count == 4  # the last data stays
            await pilot.press("2", "1", "4")  # every screen still works
            assert app.screen is screen
        finally:
            airflow.start_component("api-server")
            airflow.wait_healthy(120)
        await _until(pilot, lambda: not banner.has_class("-down"), "Airflow to be back", 60)
        assert app.airflow_view.online and any("Airflow is back" in n.message for n in app._notifications)
