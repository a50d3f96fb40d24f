"""RunsScreen (`4`): what Airflow is doing with a platform's factory DAGs.

Top: each DAG (active / paused / stale, Airflow's last parse and its duration, the next run,
the recent runs as a strip of state glyphs, newest first), and what does not add up (DAGs no
active row explains, valid active rows with no DAG in Airflow). Below: the highlighted DAG's
runs, the highlighted run's task instances, and the highlighted task instance's log, which
follows the task while it runs (`f`). Writes, each behind a confirmation and refused when
read-only: `t` trigger (optional conf), `u` pause / unpause, `c` clear the run's failed tasks.

The platform's run state comes from the app's ``airflow_view`` (one poll for every screen);
runs, task instances and logs of the selection are read here, in thread workers that post
messages. Text from Airflow is shown literally (Rich ``Text``, control characters written out).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import DataTable, Static

from factory import shape
from factory.errors import AirflowAuthError, AirflowError, AirflowUnavailable
from yellowtui.messages import (
    AirflowActionFinished,
    AirflowReadFailed,
    AirflowWentDown,
    ClearPreviewed,
    DagRunsLoaded,
    TaskInstancesLoaded,
    TaskLogLoaded,
)
from yellowtui.presenters.runs import (
    clock_time,
    duration,
    is_finished,
    relative,
    run_strip,
    short_run_id,
    state_glyph,
    visible,
)
from yellowtui.screens.base import DashboardScreen
from yellowtui.screens.confirm_action import ConfirmActionScreen
from yellowtui.screens.trigger_dialog import TriggerDialog
from yellowtui.services.airflow_service import AirflowService, DagState, RunState, TaskInstanceState
from yellowtui.services.run_state import PlatformRunState
from yellowtui.widgets.task_log import TaskLog

#: DataTable cells are Rich text: the presenters' style roles as plain Rich styles.
ROLE_STYLE: dict[str, str] = {
    "success": "green",
    "error": "bold red",
    "accent": "bold cyan",
    "warning": "yellow",
    "muted": "dim",
}
RUNS_SHOWN = 25
#: Task instances in the order the DAG runs them (others after, by name).
TASK_ORDER = {
    task_id: i
    for i, task_id in enumerate((shape.JOB_TASK_ID, shape.CHECK_TASK_ID, shape.RESCHEDULE_TASK_ID, shape.WAIT_TASK_ID))
}
FOLLOW_INTERVAL_S = 2.0
CONNECT_HINT = (
    "Airflow is not connected. Start the dashboard with `yellowtui --airflow http://HOST:8080` "
    "(or set AIRFLOW_API_URL, with AIRFLOW_API_USERNAME and AIRFLOW_API_PASSWORD, or AIRFLOW_API_TOKEN), "
    "or try `yellowtui demo --airflow` for a local Airflow on the demo database."
)


def _state_text(state: str | None) -> Text:
    glyph, role = state_glyph(state)
    return Text(f"{glyph} {state or 'none'}", style=ROLE_STYLE.get(role, ""))


def _strip_text(dag: DagState) -> Text:
    text = Text()
    for cell in run_strip(r.state for r in dag.recent_runs):
        text.append(cell.glyph + " ", style=ROLE_STYLE.get(cell.role, ""))
    return text if text.plain else Text("—", style="dim")


class RunsScreen(DashboardScreen):
    """What Airflow is doing with a platform's factory DAGs, down to one task's log.

    The user sees the platform's DAGs (state, last parse, next run, recent runs) and what does not
    add up; below, the highlighted DAG's runs, the highlighted run's task instances and the
    highlighted task's log, which follows a running task (``f``). Enter goes from the DAGs to
    their runs, to the tasks, to the log. Writes ask first and are refused when read-only: ``t``
    trigger, ``u`` pause or unpause, ``c`` clear the run's failed tasks. ``p`` cycles the platform.
    """

    CSS_PATH = "runs.tcss"
    AUTO_FOCUS = "#runs-dags"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "drill", "Runs → tasks → log", show=False),
        Binding("t", "trigger", "Trigger"),
        # Short labels: with the screens' keys, the footer must fit in 120 columns.
        Binding("u", "toggle_pause", "(Un)pause"),
        Binding("c", "clear_failed", "Clear"),
        Binding("f", "toggle_follow", "Follow"),
        Binding("p", "next_platform", "Platform"),
        Binding("r", "refresh", "Refresh", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.dag_id: str | None = None
        self.runs: list[RunState] = []
        self.run_id: str | None = None
        self.tasks: list[TaskInstanceState] = []
        self.task_key: tuple[str, int] | None = None
        self.follow = True
        self._dag_rows: tuple[Any, ...] = ()
        self._runs_for: str | None = None

    def compose(self) -> ComposeResult:
        yield from self.furniture_top()
        yield Static(id="runs-summary")
        yield Static(CONNECT_HINT, id="runs-hint")
        yield DataTable(id="runs-dags", cursor_type="row", zebra_stripes=True)
        yield Static(id="runs-notices")
        with Horizontal(id="runs-detail"):
            with Vertical(id="runs-left"):
                yield Static("Runs", id="runs-runs-title", classes="box-title")
                yield DataTable(id="runs-runs", cursor_type="row", zebra_stripes=True)
                yield Static("Task instances", id="runs-tasks-title", classes="box-title")
                yield DataTable(id="runs-tasks", cursor_type="row", zebra_stripes=True)
            with Vertical(id="runs-log-box"):
                yield Static("Log", id="runs-log-title", classes="box-title")
                yield TaskLog(id="runs-log")
        yield from self.furniture_bottom()

    def on_mount(self) -> None:
        dags = self.query_one("#runs-dags", DataTable)
        for label, width in (
            ("Stream", 24),
            ("State", 8),
            ("Parsed", 8),
            ("Parse", 6),
            ("Next run", 9),
            ("Recent runs", 11),
            ("Last run", 20),
        ):
            dags.add_column(label, width=width)
        runs = self.query_one("#runs-runs", DataTable)
        for label, width in (("Run after", 14), ("State", 10), ("Type", 8), ("", 8), ("Took", 6)):
            runs.add_column(label, width=width)
        tasks = self.query_one("#runs-tasks", DataTable)
        for label, width in (("Task", 22), ("State", 17), ("Try", 3), ("Start", 8), ("Took", 6)):
            tasks.add_column(label, width=width)
        self.query_one(TaskLog).show_note("Highlight a task instance to see its log.")
        self.watch(self.app, "airflow_view", self._view_changed)
        self.watch(self.app, "platform", self._platform_changed, init=False)
        self.watch(self.app, "platforms", self._view_changed, init=False)
        self.set_interval(FOLLOW_INTERVAL_S, self._follow_tick)

    # ---- which platform and what Airflow said about it ----------------------------------------

    @property
    def platform(self) -> str | None:
        """The platform shown: the app's, or the first platform while the app shows them all."""
        app = self.yellow
        if app.platform:
            return app.platform
        return app.platforms[0] if app.platforms else None

    @property
    def state(self) -> PlatformRunState | None:
        """What the app's last Airflow poll read about the platform shown, or None."""
        return self.yellow.airflow_view.for_platform(self.platform)

    def airflow(self) -> AirflowService:
        """The app's Airflow service, for the workers.

        Returns:
            The service.

        Raises:
            AirflowError: Airflow is not configured.
        """
        service = self.yellow.airflow
        if service is None:
            raise AirflowError("Airflow is not configured")
        return service

    def dag(self, dag_id: str | None) -> DagState | None:
        """One DAG as last polled, whether a row explains it or not.

        Args:
            dag_id: The DAG, or None.

        Returns:
            Its state, or None when the last poll did not list it.
        """
        state = self.state
        if state is None or dag_id is None:
            return None
        for dag in state.dags:
            if dag.dag_id == dag_id:
                return dag
        for item in state.unexplained:
            if item.dag.dag_id == dag_id:
                return item.dag
        return None

    def action_next_platform(self) -> None:
        """Show the next platform (never all of them: this screen shows one at a time); every screen follows."""
        app = self.yellow
        if not app.platforms:
            return
        current = self.platform
        index = app.platforms.index(current) if current in app.platforms else -1
        app.platform = app.platforms[(index + 1) % len(app.platforms)]

    def _platform_changed(self, *_: object) -> None:
        self._select_dag(None)
        self._dag_rows = ()
        self._view_changed()

    def action_refresh(self) -> None:
        """Read Airflow again now, and the highlighted DAG's runs."""
        self.yellow.refresh_airflow(force=True)
        self._load_runs()

    # ---- the DAG table --------------------------------------------------------------------------

    def _view_changed(self, *_: object) -> None:
        view = self.yellow.airflow_view
        self.set_class(not view.configured, "-unconfigured")
        self._update_summary()
        if not view.configured:
            return
        self._fill_dags()
        if view.online and self.dag_id is not None:
            self._load_runs()  # the selection's runs, as fresh as the poll

    def _dag_list(self) -> list[tuple[DagState, str | None]]:
        state = self.state
        if state is None:
            return []
        listed: list[tuple[DagState, str | None]] = [(d, None) for d in state.dags]
        listed += [(u.dag, u.reason) for u in state.unexplained]
        return sorted(listed, key=lambda item: (item[0].stream_key or item[0].dag_id).lower())

    def _fill_dags(self) -> None:
        table = self.query_one("#runs-dags", DataTable)
        now = self.now()
        rows = []
        for dag, unexplained in self._dag_list():
            if dag.is_stale:
                flag = Text("stale", style="yellow")
            elif unexplained:
                flag = Text("no row", style="yellow")
            else:
                flag = Text("paused", style="dim") if dag.is_paused else Text("active", style="green")
            last = dag.last_run
            last_text = _state_text(last.state) if last else Text("—", style="dim")
            if last is not None:
                last_text.append(f" {relative(last.run_after, now)}", style="dim")
            rows.append(
                (
                    dag.dag_id,
                    (
                        Text(visible(dag.stream_key or dag.dag_id)),
                        flag,
                        Text(relative(dag.last_parsed, now), style="dim"),
                        Text(f"{dag.last_parse_duration_s:.2f}s" if dag.last_parse_duration_s is not None else "—"),
                        Text(relative(dag.next_run, now) if dag.next_run else "manual", style="dim"),
                        _strip_text(dag),
                        last_text,
                    ),
                )
            )
        signature = tuple((key, tuple(c.plain for c in cells)) for key, cells in rows)
        if signature == self._dag_rows:
            return
        same_keys = [key for key, _ in signature] == [key for key, _ in self._dag_rows]
        self._dag_rows = signature
        self._update_notices()
        if same_keys:  # the same DAGs: new figures in place (the cursor and the selection stay)
            for key, cells in rows:
                for column, cell in zip(table.columns, cells, strict=True):
                    table.update_cell(key, column, cell)
            return
        keep = self.dag_id
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if keep is not None and any(key == keep for key, _ in rows):
            table.move_cursor(row=table.get_row_index(keep), scroll=True)
        elif rows and keep is None:
            self._select_dag(rows[0][0])

    def _update_summary(self) -> None:
        app = self.yellow
        view = app.airflow_view
        platform = self.platform or "no platform"
        parts: list[Content | str | tuple[str, str]] = [(f" {platform} ", "bold reverse $primary"), " "]
        if not view.configured:
            parts.append(("Airflow not connected", "$text-warning"))
            self.query_one("#runs-summary", Static).update(Content.assemble(*parts))
            return
        state = self.state
        parts.append(Content(f"Airflow {view.url}"))
        if view.read_only:
            parts += ["  ", ("READ-ONLY", "bold $text-warning")]
        if state is not None:
            active = sum(1 for d in state.dags if not d.is_paused and not d.is_stale)
            paused = sum(1 for d in state.dags if d.is_paused and not d.is_stale)
            stale = sum(1 for d in state.dags if d.is_stale)
            parts += [
                " · ",
                (f"{len(state.dags) + len(state.unexplained)} DAGs", "bold"),
                f" ({active} active, {paused} paused, {stale} stale)",
            ]
            if state.import_errors:
                parts += [" · ", (f"{len(state.import_errors)} import error(s) (2)", "bold $text-error")]
        if view.refreshed_at is not None:
            parts += [" · ", (f"read {view.refreshed_at:%H:%M:%S}", "$text-muted")]
        elif view.online:
            parts += [" · ", ("reading…", "$text-muted italic")]
        self.query_one("#runs-summary", Static).update(Content.assemble(*parts))

    def _update_notices(self) -> None:
        state = self.state
        notices = self.query_one("#runs-notices", Static)
        lines: list[Content] = []
        if state is not None:
            if state.unexplained:
                names = ", ".join(f"{u.dag.stream_key or u.dag.dag_id} ({u.reason})" for u in state.unexplained[:6])
                more = f" and {len(state.unexplained) - 6} more" if len(state.unexplained) > 6 else ""
                lines.append(
                    Content.assemble(
                        (f"{len(state.unexplained)} DAG(s) no active row explains: ", "bold $text-warning"),
                        visible(names + more),
                    )
                )
            if state.not_in_airflow:
                names = ", ".join(f"{m.stream_key}" for m in state.not_in_airflow[:8])
                more = f" and {len(state.not_in_airflow) - 8} more" if len(state.not_in_airflow) > 8 else ""
                lines.append(
                    Content.assemble(
                        (f"{len(state.not_in_airflow)} valid active row(s) not in Airflow: ", "bold $text-warning"),
                        visible(names + more),
                    )
                )
            if not state.rows_known:
                lines.append(Content.styled("Rows still loading: rows and DAGs not compared yet.", "$text-muted"))
        notices.update(Content("\n").join(lines))
        notices.display = bool(lines)

    @staticmethod
    def _cursor_key(table: DataTable[Any]) -> str | None:
        """The key of the row under the cursor now. Highlight events are handled after a table
        is refilled and its cursor put back on the selection: their own row is stale by then."""
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @on(DataTable.RowHighlighted, "#runs-dags")
    def _dag_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = self._cursor_key(event.data_table)
        if key is not None:
            self._select_dag(key)

    def _select_dag(self, dag_id: str | None) -> None:
        if dag_id == self.dag_id:
            return
        self.dag_id = dag_id
        self.runs, self.run_id, self.tasks, self.task_key = [], None, [], None
        self._runs_for = None
        self.query_one("#runs-runs", DataTable).clear()
        self.query_one("#runs-tasks", DataTable).clear()
        self.query_one(TaskLog).show_note("Highlight a task instance to see its log.")
        self._update_titles()
        if dag_id is not None:
            self._load_runs()

    # ---- runs -----------------------------------------------------------------------------------

    def _load_runs(self) -> None:
        if self.dag_id is not None and self.yellow.airflow is not None:
            self.read_runs(self.dag_id)

    @work(thread=True, exclusive=True, group="airflow-runs", exit_on_error=False)
    def read_runs(self, dag_id: str) -> None:
        """Read the newest runs of a DAG.

        Runs in a worker and posts :class:`DagRunsLoaded`, or says why the read failed.

        Args:
            dag_id: The DAG.
        """
        self._read(f"runs of {dag_id}", lambda s: DagRunsLoaded(dag_id, s.dag_runs(dag_id, RUNS_SHOWN)))

    def _read(self, what: str, fetch: Callable[[AirflowService], Any]) -> None:
        """Run one read in a worker: post its message, or say why it failed."""
        try:
            message = fetch(self.airflow())
        except (AirflowUnavailable, AirflowAuthError) as exc:
            self.app.post_message(AirflowWentDown(str(exc), self.now()))
            return
        except AirflowError as exc:
            self.post_message(AirflowReadFailed(what, str(exc)))
            return
        self.post_message(message)

    @on(DagRunsLoaded)
    def _runs_loaded(self, message: DagRunsLoaded) -> None:
        if message.dag_id != self.dag_id:
            return
        same = [(r.run_id, r.state, r.end_date) for r in message.runs] == [
            (r.run_id, r.state, r.end_date) for r in self.runs
        ]
        self.runs = message.runs
        if same and self._runs_for == message.dag_id:
            if self.run_id is not None and not self._run_finished():
                self.read_tasks(message.dag_id, self.run_id)
            return
        self._runs_for = message.dag_id
        table = self.query_one("#runs-runs", DataTable)
        keep = self.run_id
        table.clear()
        now = self.now()
        for run in message.runs:
            table.add_row(
                Text(clock_time(run.run_after, self.yellow.display_tz, "%m-%d %H:%M:%S")),
                _state_text(run.state),
                Text(run.run_type.replace("_triggered", "").replace("_", " "), style="dim"),
                Text(relative(run.run_after, now), style="dim"),
                Text(duration(run.duration_s)),
                key=run.run_id,
            )
        if keep is not None and any(r.run_id == keep for r in message.runs):
            table.move_cursor(row=table.get_row_index(keep))
            # The runs changed: the selected run may just have finished, so read its task
            # instances once more (a finished run's tasks are not read again after that).
            self.read_tasks(message.dag_id, keep)
        elif message.runs:
            self._select_run(message.runs[0].run_id)
        self._update_titles()

    def _run_finished(self) -> bool:
        run = next((r for r in self.runs if r.run_id == self.run_id), None)
        return run is not None and run.finished

    @on(DataTable.RowHighlighted, "#runs-runs")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = self._cursor_key(event.data_table)
        if key is not None:
            self._select_run(key)

    def _select_run(self, run_id: str) -> None:
        if run_id == self.run_id or self.dag_id is None:
            return
        self.run_id, self.tasks, self.task_key = run_id, [], None
        self.query_one("#runs-tasks", DataTable).clear()
        self.query_one(TaskLog).show_note("Highlight a task instance to see its log.")
        self._update_titles()
        self.read_tasks(self.dag_id, run_id)

    # ---- task instances and their logs ----------------------------------------------------------

    @work(thread=True, exclusive=True, group="airflow-tasks", exit_on_error=False)
    def read_tasks(self, dag_id: str, run_id: str) -> None:
        """Read the task instances of a run.

        Runs in a worker and posts :class:`TaskInstancesLoaded`, or says why the read failed.

        Args:
            dag_id: The DAG.
            run_id: The run.
        """
        self._read(
            f"task instances of {run_id}",
            lambda s: TaskInstancesLoaded(dag_id, run_id, s.task_instances(dag_id, run_id)),
        )

    @on(TaskInstancesLoaded)
    def _tasks_loaded(self, message: TaskInstancesLoaded) -> None:
        if (message.dag_id, message.run_id) != (self.dag_id, self.run_id):
            return
        tasks = sorted(message.tasks, key=lambda t: (TASK_ORDER.get(t.task_id, len(TASK_ORDER)), t.task_id))
        if [(t.task_id, t.state, t.try_number, t.end_date) for t in tasks] == [
            (t.task_id, t.state, t.try_number, t.end_date) for t in self.tasks
        ]:
            return
        self.tasks = tasks
        table = self.query_one("#runs-tasks", DataTable)
        keep = self.task_key
        table.clear()
        for t in tasks:
            table.add_row(
                Text(visible(t.task_id)),
                _state_text(t.state),
                Text(str(t.try_number), justify="right"),
                Text(clock_time(t.start_date, self.yellow.display_tz, "%H:%M:%S"), style="dim"),
                Text(duration(t.duration_s)),
                key=t.task_id,
            )
        if keep is not None and any(t.task_id == keep[0] for t in tasks):
            table.move_cursor(row=table.get_row_index(keep[0]))
            self._load_log()
        elif tasks:
            self._select_task(tasks[0].task_id)
        self._update_titles()

    @on(DataTable.RowHighlighted, "#runs-tasks")
    def _task_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = self._cursor_key(event.data_table)
        if key is not None:
            self._select_task(key)

    def _selected_task(self) -> TaskInstanceState | None:
        if self.task_key is None:
            return None
        return next((t for t in self.tasks if t.task_id == self.task_key[0]), None)

    def _select_task(self, task_id: str) -> None:
        task = next((t for t in self.tasks if t.task_id == task_id), None)
        if task is None:
            return
        key = (task.task_id, max(1, task.try_number))
        if key == self.task_key:
            return
        self.task_key = key
        if task.state is None or task.try_number == 0:
            self.query_one(TaskLog).show_note(f"{task_id} has not run yet: no log.")
        else:
            self._load_log()
        self._update_titles()

    def _load_log(self) -> None:
        task = self._selected_task()
        if self.dag_id is None or self.run_id is None or task is None or task.state is None:
            return
        self.read_log(self.dag_id, self.run_id, task.task_id, max(1, task.try_number))

    @work(thread=True, exclusive=True, group="airflow-log", exit_on_error=False)
    def read_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> None:
        """Read the log of one try of a task instance.

        Runs in a worker and posts :class:`TaskLogLoaded`, or says why the read failed.

        Args:
            dag_id: The DAG.
            run_id: The run.
            task_id: The task.
            try_number: The try, from 1.
        """
        self._read(
            f"log of {task_id}",
            lambda s: TaskLogLoaded(
                dag_id, run_id, task_id, try_number, s.task_log(dag_id, run_id, task_id, try_number)
            ),
        )

    @on(TaskLogLoaded)
    def _log_loaded(self, message: TaskLogLoaded) -> None:
        if (message.dag_id, message.run_id) != (self.dag_id, self.run_id) or self.task_key != (
            message.task_id,
            message.try_number,
        ):
            return
        log = self.query_one(TaskLog)
        log.show((message.dag_id, message.run_id, message.task_id, message.try_number), message.text)
        if not log.shown_lines:
            log.show_note("The log is empty so far.")

    def _follow_tick(self) -> None:
        """While the selected task instance runs (and follow is on), read its log and the run's
        task instances again."""
        if not self.follow or self.dag_id is None or self.run_id is None or not self.is_current:
            return
        task = self._selected_task()
        if task is not None and not is_finished(task.state):
            self.read_tasks(self.dag_id, self.run_id)
            self._load_log()

    def action_toggle_follow(self) -> None:
        """Turn following on or off.

        While on, a running task's log and its run's task instances are read every 2 s, and the
        log keeps to its end.
        """
        self.follow = not self.follow
        self.query_one(TaskLog).auto_scroll = self.follow
        self._update_titles()
        self.notify(f"Follow {'on: the log of a running task is read every 2 s' if self.follow else 'off'}.", timeout=3)

    def _update_titles(self) -> None:
        dag = self.dag(self.dag_id)
        name = (dag.stream_key or dag.dag_id) if dag else "—"
        self.query_one("#runs-runs-title", Static).update(
            Content.assemble("Runs of ", (visible(name), "bold"), (f"  ({len(self.runs)})", "$text-muted"))
        )
        run = short_run_id(self.run_id, 40) if self.run_id else "—"
        self.query_one("#runs-tasks-title", Static).update(
            Content.assemble("Task instances of ", (visible(run), "bold"))
        )
        task = self._selected_task()
        parts: list[Content | str | tuple[str, str]] = ["Log"]
        if task is not None:
            glyph, _ = state_glyph(task.state)
            parts += [
                " of ",
                (visible(task.task_id), "bold"),
                f" · try {max(1, task.try_number)} · {glyph} {task.state}",
            ]
            if not is_finished(task.state):
                parts.append((" · following" if self.follow else " · follow off (f)", "$text-accent"))
        self.query_one("#runs-log-title", Static).update(Content.assemble(*parts))

    def action_drill(self) -> None:
        """Enter: from the DAGs to their runs, to the run's tasks, to the log."""
        order = ["#runs-dags", "#runs-runs", "#runs-tasks", "#runs-log"]
        focused = self.focused
        for i, selector in enumerate(order[:-1]):
            if focused is self.query_one(selector):
                self.query_one(order[i + 1]).focus()
                return

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_drill()

    # ---- writes ---------------------------------------------------------------------------------

    def _writable(self, what: str) -> bool:
        app = self.yellow
        if app.airflow is None:
            self.notify(CONNECT_HINT, title=f"Cannot {what}", severity="warning", timeout=6)
            return False
        if app.read_only:
            self.notify(
                f"read-only: refused to {what} (started with --read-only); nothing was sent to Airflow.",
                title="Read-only",
                severity="warning",
                timeout=5,
            )
            return False
        return True

    def action_trigger(self) -> None:
        """Ask for an optional conf, then trigger a run of the highlighted DAG."""
        dag_id = self.dag_id
        if not self._writable(f"trigger {dag_id or 'a DAG'}") or dag_id is None:
            return

        def chosen(conf: dict[str, Any] | None) -> None:
            if conf is not None:
                self.write_airflow(f"trigger {dag_id}", lambda s: f"triggered {s.trigger(dag_id, conf).run_id}")

        self.app.push_screen(TriggerDialog(dag_id), chosen)

    def action_toggle_pause(self) -> None:
        """Pause the highlighted DAG, or unpause it when paused, after asking."""
        dag = self.dag(self.dag_id)
        verb = "unpause" if dag is not None and dag.is_paused else "pause"
        if not self._writable(f"{verb} {self.dag_id or 'a DAG'}") or dag is None:
            return
        dag_id, paused = dag.dag_id, not dag.is_paused
        body = Content.assemble(
            (dag_id, "bold"),
            " is ",
            ("paused" if dag.is_paused else "active"),
            ". ",
            "The scheduler stops creating its runs; running tasks finish."
            if paused
            else "The scheduler starts creating its runs (a scheduled DAG may run at once).",
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.write_airflow(
                    f"{verb} {dag_id}",
                    lambda s: f"{dag_id} is now {'paused' if s.set_paused(dag_id, paused).is_paused else 'active'}",
                )

        self.app.push_screen(ConfirmActionScreen(f"{verb.capitalize()} {dag_id}?", body, verb.capitalize()), confirmed)

    def action_clear_failed(self) -> None:
        """Clear the highlighted run's failed tasks so they run again, after listing them and asking."""
        dag_id, run_id = self.dag_id, self.run_id
        if not self._writable(f"clear {run_id or 'a run'}") or dag_id is None:
            return
        if run_id is None:
            self.notify("Highlight a run first.", severity="warning", timeout=3)
            return
        self.preview_clear(dag_id, run_id)

    @work(thread=True, exclusive=True, group="airflow-write", exit_on_error=False)
    def preview_clear(self, dag_id: str, run_id: str) -> None:
        """Ask Airflow which task instances clearing a run would clear (a dry run).

        Runs in a worker and posts :class:`ClearPreviewed`, or says why the read failed.

        Args:
            dag_id: The DAG.
            run_id: The run.
        """
        self._read(
            f"what clearing {run_id} would clear",
            lambda s: ClearPreviewed(dag_id, run_id, s.clear_failed(dag_id, run_id, dry_run=True)),
        )

    @on(ClearPreviewed)
    def _clear_previewed(self, message: ClearPreviewed) -> None:
        dag_id, run_id, tasks = message.dag_id, message.run_id, message.tasks
        if not tasks:
            self.notify(f"{run_id} of {dag_id} has no failed task to clear.", timeout=4)
            return
        body = Content.assemble(
            "These task instances of ",
            (visible(run_id), "bold"),
            " will be cleared and run again:\n",
            *[Content.assemble("  • ", (visible(t), "bold $text-warning"), "\n") for t in tasks],
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.write_airflow(
                    f"clear {run_id}",
                    lambda s: f"cleared {', '.join(s.clear_failed(dag_id, run_id)) or 'nothing'} in {run_id}",
                )

        self.app.push_screen(ConfirmActionScreen(f"Clear the failed tasks of {dag_id}?", body, "Clear"), confirmed)

    @work(thread=True, exclusive=True, group="airflow-write", exit_on_error=False)
    def write_airflow(self, what: str, write: Callable[[AirflowService], str]) -> None:
        """Make one write to Airflow.

        Runs in a worker and posts :class:`AirflowActionFinished` with the result or the error.

        Args:
            what: The write, for the notification (``pause DAG_ID``).
            write: Makes the write with the service and says what happened.
        """
        try:
            result = write(self.airflow())
        except AirflowError as exc:
            self.post_message(AirflowActionFinished(what, "", str(exc)))
            return
        self.post_message(AirflowActionFinished(what, result))

    @on(AirflowActionFinished)
    def _action_finished(self, message: AirflowActionFinished) -> None:
        if message.error is not None:
            self.notify(visible(message.error), title=f"Could not {message.what}", severity="error", timeout=8)
        else:
            self.notify(visible(message.result), title="Airflow", timeout=4)
        self.yellow.refresh_airflow(force=True)
        self._load_runs()

    @on(AirflowReadFailed)
    def _read_failed(self, message: AirflowReadFailed) -> None:
        self.notify(visible(message.error), title=f"Could not read the {message.what}", severity="error", timeout=6)
