"""The yellowtui dashboard: composes the screens and owns the state they share.

Every database call runs in a thread worker that posts a past-tense message; the handlers here
own the shared state (rows, connection health) and the screens watch it. The database is polled
with one cheap revision query: rows are re-read only when something changed, and the same poll
notices an outage (banner, last data kept) and the database's return (reload).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from factory.errors import AirflowError, DatabaseUnavailable
from yellowtui.airflow_state import NOT_CONFIGURED, AirflowView
from yellowtui.change_messages import ConflictRowsRead
from yellowtui.commands import YellowCommands
from yellowtui.messages import (
    AirflowRefreshed,
    AirflowWentDown,
    DatabaseCameBack,
    DatabaseWentDown,
    RevisionChecked,
    RowsLoaded,
    StreamSelected,
)
from yellowtui.pending import NOTHING_STAGED, Change, PendingChanges, rebased, status_change
from yellowtui.presenters.safe_text import visible
from yellowtui.presenters.times import Times
from yellowtui.rows import prepare_rows
from yellowtui.screens.errors import ErrorsScreen
from yellowtui.screens.help import HelpScreen
from yellowtui.screens.runs import RunsScreen
from yellowtui.screens.stream_detail import StreamDetailScreen
from yellowtui.screens.streams import StreamsScreen
from yellowtui.screens.timing import TimingScreen
from yellowtui.services.change_service import ChangeService
from yellowtui.services.config_service import ConfigService, Revision
from yellowtui.services.parse_loop_service import ParseLoopService
from yellowtui.services.run_state import PlatformRunState, platform_run_state
from yellowtui.state import ONLINE, DatabaseHealth, RowBatch, RowSet

if TYPE_CHECKING:
    from factory.operations.inspection.views import StreamView
    from yellowtui.profiles import Profile
    from yellowtui.rows import TableRow
    from yellowtui.services.airflow.service import AirflowService

POLL_INTERVAL_S = 2.0
AIRFLOW_POLL_INTERVAL_S = 5.0


class YellowApp(App[None]):
    """Observe the Yellow DAG factory: config rows, errors, parse timing, Airflow's runs.

    Shared state is immutable values, each in one reactive: ``rows`` (a :class:`RowSet`),
    ``health`` (a :class:`DatabaseHealth`) and ``airflow_view`` (an :class:`AirflowView`). Screens and widgets reach them through
    ``self.yellow`` (:class:`yellowtui.access.YellowAccess`) and watch them by those names.
    """

    TITLE = "yellowtui"
    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "streams": StreamsScreen,
        "errors": ErrorsScreen,
        "timing": TimingScreen,
        "runs": RunsScreen,
    }
    DEFAULT_MODE = "streams"
    COMMANDS = App.COMMANDS | {YellowCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('streams')", "Streams"),
        Binding("2", "switch_mode('errors')", "Errors"),
        Binding("3", "switch_mode('timing')", "Timing"),
        Binding("4", "switch_mode('runs')", "Runs"),
        Binding("5,ctrl+l", "plan", "Plan"),
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+t", "change_theme", "Theme", show=False),
        Binding("q", "quit", "Quit"),
    ]

    rows: reactive[RowSet] = reactive(RowSet)
    health: reactive[DatabaseHealth] = reactive(ONLINE)
    platform: reactive[str | None] = reactive(None)
    platforms: reactive[tuple[str, ...]] = reactive(())
    airflow_view: reactive[AirflowView] = reactive(NOT_CONFIGURED)
    #: Changes staged in the editor and on the streams, one changeset per platform (yellowtui.pending).
    pending: reactive[PendingChanges] = reactive(NOTHING_STAGED)

    def __init__(
        self,
        db_url: str,
        *,
        theme: str | None = None,
        parse_loop: ParseLoopService | None = None,
        display_label: str | None = None,
        clock: Callable[[], datetime] | None = None,
        poll_interval: float = POLL_INTERVAL_S,
        parse_interval: float = 2.0,
        airflow: AirflowService | None = None,
        read_only: bool = False,
        airflow_interval: float = AIRFLOW_POLL_INTERVAL_S,
        display_tz: tzinfo | None = None,
        actor: str | None = None,
        show_timings: bool = True,
        profile: Profile | None = None,
    ) -> None:
        super().__init__()
        #: The profile the dashboard was opened with (its name and colour are always on screen).
        self.profile = profile
        if profile is not None:
            self.title = f"yellowtui · {profile.name}"
            read_only = read_only or profile.read_only
            display_tz = display_tz or profile.zone
        if airflow is not None and read_only and not airflow.settings.read_only:
            airflow = airflow.with_settings(read_only=True)
        #: The one door to Airflow (None: not configured). Read-only refuses every write.
        self.airflow = airflow
        self.read_only = read_only or (airflow is not None and airflow.settings.read_only)
        self.airflow_interval = airflow_interval
        #: Every time shown, in the display time zone (None: the machine's).
        self.times = Times(display_tz)
        self._airflow_poller: Worker[None] | None = None
        self.service = ConfigService(db_url)
        self.changes = ChangeService(db_url, actor=actor, read_only=self.read_only)
        #: False in screenshots and snapshots: build times vary from run to run, so they are hidden.
        self.show_timings = show_timings
        self.parse_loop = parse_loop or ParseLoopService(self.service.db_url)
        self.display_label = display_label or self.service.short_url
        self.poll_interval = poll_interval
        self.parse_interval = parse_interval
        #: Reads UTC: a naive time from a given clock is taken as UTC too (yellowtui.presenters.times).
        self._clock = clock or (lambda: datetime.now(UTC))
        self._initial_theme = theme
        self._load_id = 0
        self._revision: Revision | None = None
        self._checker: Worker[None] | None = None
        self._stop_events: list[threading.Event] = []

    # ---- lifecycle ------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock()

    def on_mount(self) -> None:
        # Everything allocated so far (Textual, SQLAlchemy, pydantic: hundreds of thousands of
        # objects) lives as long as the app. Moving it out of the collector's reach keeps full
        # collections, which stop every thread, from scanning it while 10,000 rows arrive:
        # they took 40-50 ms each before, now a few.
        gc.freeze()
        if self._initial_theme:
            self.theme = self._initial_theme
        if self.profile is not None and self.profile.platform:
            self.platform = self.profile.platform.lower()
        self.reload_rows(stream=True)
        self.set_interval(self.poll_interval, self.check_now)
        if self.airflow is not None:
            self.airflow_view = AirflowView(configured=True, url=self.airflow.display_url, read_only=self.read_only)
            self.set_interval(self.airflow_interval, self.refresh_airflow)

    def on_unmount(self) -> None:
        self.stop_background()

    def register_stop_event(self, event: threading.Event) -> None:
        """Long-running workers (the parse loop) register here so quitting stops them."""
        self._stop_events.append(event)

    def stop_background(self) -> None:
        for event in self._stop_events:
            event.set()

    # ---- loading rows ---------------------------------------------------------------------------

    def reload_rows(self, stream: bool = False) -> None:
        """Start reading every row; a load still running is superseded (its batches are ignored)."""
        self._load_id += 1
        self.load_rows(self._load_id, stream)

    @work(thread=True, exclusive=True, group="rows", exit_on_error=False)
    def load_rows(self, load_id: int, stream: bool = False) -> None:
        """Read every row. ``stream``: post batches as they arrive (first screen fills at once);
        otherwise post the whole new set once, so the last data stays until the new is ready."""
        worker = get_current_worker()
        started = time.perf_counter()
        views: list[StreamView] = []
        rows: list[TableRow] = []
        first = True
        try:
            revision = self.service.revision()
            for batch in self.service.iter_streams():
                if worker.is_cancelled:
                    return
                prepared = prepare_rows(batch, self.times)
                if stream:
                    self.post_message(
                        RowsLoaded(
                            RowBatch(tuple(batch), prepared),
                            replace=first,
                            done=False,
                            elapsed_ms=(time.perf_counter() - started) * 1000,
                            loaded_at=self.now(),
                            load_id=load_id,
                        )
                    )
                    first = False
                else:
                    views.extend(batch)
                    rows.extend(prepared)
        except DatabaseUnavailable as exc:
            self.post_message(DatabaseWentDown(exc.reason, self.now()))
            return
        if worker.is_cancelled:
            return
        self.post_message(RevisionChecked(revision))
        self.post_message(
            RowsLoaded(
                RowBatch(tuple(views), tuple(rows)),
                replace=first,
                done=True,
                elapsed_ms=(time.perf_counter() - started) * 1000,
                loaded_at=self.now(),
                load_id=load_id,
            )
        )

    @on(RowsLoaded)
    def _rows_loaded(self, message: RowsLoaded) -> None:
        if message.load_id != self._load_id:
            return
        rows = self.rows.with_batch(message.batch, replace_rows=message.replace, load_id=message.load_id)
        if message.done:
            rows = rows.finished(message.loaded_at, message.elapsed_ms)
            found = tuple(sorted(rows.platforms | set(self.platforms)))
            if found != self.platforms:
                self.platforms = found
        self.rows = rows
        if not self.health.online:
            self._came_back()
        if message.done:
            self.refresh_airflow()

    def action_reload(self) -> None:
        self.reload_rows(stream=not self.rows)

    # ---- health and change detection ------------------------------------------------------------

    def check_now(self) -> None:
        """Ask the database whether anything changed (and whether it is there at all)."""
        if self._checker is not None and self._checker.is_running:
            return
        self._checker = self.check_revision()

    @work(thread=True, exclusive=True, group="health", exit_on_error=False)
    def check_revision(self) -> None:
        try:
            revision = self.service.revision()
        except DatabaseUnavailable as exc:
            self.post_message(DatabaseWentDown(exc.reason, self.now()))
            return
        self.post_message(RevisionChecked(revision))

    @on(RevisionChecked)
    def _revision_checked(self, message: RevisionChecked) -> None:
        platforms = tuple(part[0] for part in message.revision)
        if platforms and platforms != self.platforms:
            self.platforms = tuple(sorted(set(platforms) | self.rows.platforms))
        if not self.health.online:
            self._came_back()
            self._revision = message.revision
            self.reload_rows(stream=not self.rows)
            return
        if self._revision is not None and message.revision != self._revision and not self.rows.loading:
            self.reload_rows(stream=False)
        self._revision = message.revision

    @on(DatabaseWentDown)
    def _database_went_down(self, message: DatabaseWentDown) -> None:
        self.health = self.health.went_down(message.reason, message.at)
        if not self.rows:
            self.rows = self.rows.stopped()

    def _came_back(self) -> None:
        since = self.health.down_since
        self.health = ONLINE
        self.post_message(DatabaseCameBack(self.now(), since))

    @on(DatabaseCameBack)
    def _database_came_back(self, message: DatabaseCameBack) -> None:
        if message.down_since is not None:
            self.notify(f"Database is back (down since {self.times.clock(message.down_since)}); reloading.", timeout=4)

    # ---- Airflow ------------------------------------------------------------------------------

    def refresh_airflow(self, force: bool = False) -> None:
        """Read every platform's run state from Airflow (skipped while a refresh is running,
        unless ``force``; before the platforms are known there is nothing to ask for)."""
        if self.airflow is None or not self.platforms:
            return
        if not force and self._airflow_poller is not None and self._airflow_poller.is_running:
            return
        rows = None if self.rows.loading else self.rows
        self._airflow_poller = self.read_airflow(self.airflow, self.platforms, rows)

    @work(thread=True, exclusive=True, group="airflow", exit_on_error=False)
    def read_airflow(self, service: AirflowService, platforms: tuple[str, ...], rows: RowSet | None) -> None:
        states: list[PlatformRunState] = []
        try:
            for platform in platforms:
                views = None if rows is None else [v for v in rows.views if v.platform == platform]
                states.append(platform_run_state(service, platform, views))
        except AirflowError as exc:
            self.post_message(AirflowWentDown(str(exc), self.now()))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(AirflowRefreshed(tuple(states), self.now()))

    @on(AirflowRefreshed)
    def _airflow_refreshed(self, message: AirflowRefreshed) -> None:
        was = self.airflow_view
        self.airflow_view = was.refreshed(message.states, message.at)
        if not was.online and was.down_since is not None:
            self.notify(f"Airflow is back (unreachable since {self.times.clock(was.down_since)}).", timeout=4)

    @on(AirflowWentDown)
    def _airflow_went_down(self, message: AirflowWentDown) -> None:
        self.airflow_view = self.airflow_view.went_down(message.reason, message.at)

    # ---- navigation -----------------------------------------------------------------------------

    @on(StreamSelected)
    def _stream_selected(self, message: StreamSelected) -> None:
        self.open_stream(message.platform, message.stream_key)

    def open_stream(self, platform: str, stream_key: str) -> None:
        self.push_screen(StreamDetailScreen(platform, stream_key))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def set_platform(self, platform: str | None) -> None:
        self.platform = platform

    def action_cycle_platform(self) -> None:
        choices: list[str | None] = [None, *self.platforms]
        index = choices.index(self.platform) if self.platform in choices else 0
        self.platform = choices[(index + 1) % len(choices)]

    # ---- staged changes (yellowtui.pending; the editor and the plan screen) -------------------

    def format_ms(self, ms: float | None) -> str:
        """A build or plan time, or a placeholder where timings are hidden (screenshots)."""
        if ms is None:
            return "—"
        if not self.show_timings:
            return "‹ms›"
        return f"{ms:.2f} ms" if ms < 100 else f"{ms / 1000:.2f} s"

    def stage(self, platform: str, change: Change, *, keep_base: bool = True) -> None:
        self.pending = self.pending.with_change(platform, change, keep_base=keep_base)

    def unstage(self, platform: str, stream_key: str) -> None:
        self.pending = self.pending.without(platform, stream_key)

    def discard_staged(self, platform: str) -> None:
        n = len(self.pending.of(platform))
        self.pending = self.pending.cleared(platform)
        self.notify(f"Discarded {n} staged change(s) of {platform}.")

    def pending_hint(self) -> str:
        """``3 staged changes (yellowlive) · 5 or ctrl+l: plan``."""
        return f"{self.pending.summary()} · 5 or ctrl+l: plan"

    def changes_applied(self, platform: str) -> None:
        """An apply wrote the platform's changeset: nothing is staged there now; read the rows again."""
        self.pending = self.pending.cleared(platform)
        self.reload_rows(stream=False)

    def rebase(self, platform: str, stream_keys: list[str]) -> None:
        """Base the staged changes of ``stream_keys`` on their rows as they are now (after a conflict)."""
        self.read_conflict_rows(platform, stream_keys)

    @work(thread=True, exclusive=True, group="rebase", exit_on_error=False)
    def read_conflict_rows(self, platform: str, stream_keys: list[str]) -> None:
        try:
            rows = {key: self.changes.row(platform, key) for key in stream_keys}
        except DatabaseUnavailable as exc:
            self.post_message(DatabaseWentDown(exc.reason, self.now()))
            return
        self.post_message(ConflictRowsRead(platform, rows))

    @on(ConflictRowsRead)
    def _conflict_rows_read(self, message: ConflictRowsRead) -> None:
        pending, dropped = rebased(self.pending, message.platform, message.rows)
        self.pending = pending
        note = f"; dropped {', '.join(dropped)} (no row to change any more)" if dropped else ""
        self.notify(f"Rebased onto the rows as they are now{note}. Review the plan again, then apply.")

    def plan_platform(self) -> str | None:
        """The platform the plan key means: the one shown, else the first with staged changes."""
        if self.platform is not None:
            return self.platform
        staged = self.pending.platforms
        if staged:
            return staged[0]
        return self.platforms[0] if self.platforms else None

    def action_plan(self, platform: str | None = None) -> None:
        from yellowtui.screens.plan import PlanScreen

        platform = platform or self.plan_platform()
        if platform is None:
            self.notify("No platform to plan.", severity="warning")
            return
        if isinstance(self.screen, PlanScreen) and self.screen.platform == platform:
            return
        self.push_screen(PlanScreen(platform))

    def apply_staged(self, platform: str) -> None:
        """The palette's apply: the plan screen, then its apply (which asks first)."""
        self._on_plan(platform, "action_apply")

    def save_staged(self, platform: str) -> None:
        self._on_plan(platform, "action_save")

    def _on_plan(self, platform: str, action: str) -> None:
        from yellowtui.screens.plan import PlanScreen

        self.action_plan(platform)
        screen = self.screen
        if isinstance(screen, PlanScreen):
            self.call_after_refresh(getattr(screen, action))

    def open_editor(self, platform: str, stream_key: str) -> None:
        from yellowtui.screens.edit_stream import EditStreamScreen

        self.push_screen(EditStreamScreen(platform, stream_key))

    def new_stream(self, platform: str, copy_of: str) -> None:
        """Ask for the new stream's key, then open the editor on a copy of ``copy_of``."""
        from factory.errors import InvalidNameError
        from factory.names import check_stream_key
        from yellowtui.screens.edit_stream import EditStreamScreen
        from yellowtui.screens.prompt import PromptScreen

        taken = {v.stream_key for v in self.rows.views if v.platform == platform}
        taken |= {c.stream_key for c in self.pending.of(platform)}

        def check(key: str) -> str | None:
            try:
                check_stream_key(key)
            except InvalidNameError as exc:
                return str(exc)
            return f"{key} exists on {platform} (or is staged) already" if key in taken else None

        def chosen(key: str | None) -> None:
            if key:
                self.push_screen(EditStreamScreen(platform, key, copy_of=copy_of))

        self.push_screen(
            PromptScreen(f"New stream on {platform}, a copy of {copy_of}: its stream key", check=check), chosen
        )

    def stage_status(self, view: StreamView, op: str) -> None:
        """Stage ``pause``, ``resume``, ``retire`` or ``delete`` of the stream as the dashboard read it."""
        change = status_change(view, op)
        self.stage(view.platform, change)
        self.notify(f"Staged: {op} {view.stream_key}. {self.pending_hint()}", title="Staged")

    def find_view(self, platform: str, stream_key: str) -> StreamView | None:
        return next((v for v in self.rows.views if (v.platform, v.stream_key) == (platform, stream_key)), None)

    # ---- failures -------------------------------------------------------------------------------

    def report_worker_error(self, worker: Worker[Any]) -> None:
        error = worker.error
        self.notify(
            visible(f"{type(error).__name__}: {error}"),
            markup=False,
            title=f"{worker.name or worker.group} failed",
            severity="error",
            timeout=8,
        )

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            if event.worker.group == "rows":
                self.rows = self.rows.stopped()
            self.report_worker_error(event.worker)


def make_app(
    db_url: str,
    *,
    dags_folder: Path | None = None,
    parse_env: dict[str, str] | None = None,
    airflow_home: Path | None = None,
    **kwargs: Any,
) -> YellowApp:
    """The dashboard on ``db_url``: what ``yellowtui``, the tests and the screenshots all run.

    The parse loop parses the factory file in ``dags_folder`` (a temporary one when None) with
    ``parse_env``; its children's AIRFLOW_HOME, unless given, is the one under the demo's home,
    so a user's ~/airflow is never touched.
    """
    if airflow_home is None:
        from yellowtui.demo import demo_home

        airflow_home = demo_home() / "airflow"
    parse_loop = ParseLoopService(db_url, dags_folder, parse_env, airflow_home=airflow_home)
    return YellowApp(db_url, parse_loop=parse_loop, **kwargs)


def run_dashboard(
    db_url: str | None,
    theme: str | None,
    reset_demo: bool = False,
    *,
    demo_streams: int | None = None,
    airflow: AirflowService | None = None,
    read_only: bool = False,
    actor: str | None = None,
    profile: Profile | None = None,
) -> None:
    """``yellowtui`` / ``yellowtui demo``: open the dashboard on ``db_url``, or on the embedded
    demo database (started, seeded once with ``demo_streams`` streams per platform, and stopped
    cleanly on exit) when it is None; with
    ``airflow``, the runs screen and the streams' Airflow column read it."""
    import sys

    if theme is not None:
        known = set(YellowApp("postgresql://x@localhost/x").available_themes)
        if theme not in known:
            print(f"error: unknown theme {theme!r}; choose one of: {', '.join(sorted(known))}", file=sys.stderr)
            raise SystemExit(2)
    if db_url:
        app = make_app(db_url, theme=theme, airflow=airflow, read_only=read_only, actor=actor, profile=profile)
        try:
            app.run()
        finally:
            app.stop_background()
        return
    from yellowtui.demo import open_demo

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    with open_demo(reset=reset_demo, log=log, streams_per_platform=demo_streams) as demo:
        app = make_app(
            demo.url,
            theme=theme,
            dags_folder=demo.dags_folder,
            parse_env=demo.parse_env,
            display_label=demo.label,
            airflow=airflow,
            read_only=read_only,
            actor=actor,
            profile=profile,
        )
        try:
            app.run()
        finally:
            app.stop_background()
