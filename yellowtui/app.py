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
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from factory.errors import DatabaseUnavailable
from yellowtui.commands import YellowCommands
from yellowtui.messages import (
    DatabaseCameBack,
    DatabaseWentDown,
    RevisionChecked,
    RowsLoaded,
    StreamSelected,
)
from yellowtui.presenters.safe_text import visible
from yellowtui.rows import prepare_rows
from yellowtui.screens.errors import ErrorsScreen
from yellowtui.screens.help import HelpScreen
from yellowtui.screens.stream_detail import StreamDetailScreen
from yellowtui.screens.streams import StreamsScreen
from yellowtui.screens.timing import TimingScreen
from yellowtui.services.config_service import ConfigService, Revision
from yellowtui.services.parse_loop_service import ParseLoopService
from yellowtui.state import ONLINE, DatabaseHealth, RowBatch, RowSet

if TYPE_CHECKING:
    from factory.views import StreamView
    from yellowtui.rows import TableRow

POLL_INTERVAL_S = 2.0


class YellowApp(App[None]):
    """Observe the Yellow DAG factory: config rows, errors, parse timing.

    Shared state is two immutable values, each in one reactive: ``rows`` (a :class:`RowSet`)
    and ``health`` (a :class:`DatabaseHealth`). Screens and widgets reach them through
    ``self.yellow`` (:class:`yellowtui.access.YellowAccess`) and watch them by those names.
    """

    TITLE = "yellowtui"
    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "streams": StreamsScreen,
        "errors": ErrorsScreen,
        "timing": TimingScreen,
    }
    DEFAULT_MODE = "streams"
    COMMANDS = App.COMMANDS | {YellowCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('streams')", "Streams"),
        Binding("2", "switch_mode('errors')", "Errors"),
        Binding("3", "switch_mode('timing')", "Timing"),
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+t", "change_theme", "Theme", show=False),
        Binding("q", "quit", "Quit"),
    ]

    rows: reactive[RowSet] = reactive(RowSet)
    health: reactive[DatabaseHealth] = reactive(ONLINE)
    platform: reactive[str | None] = reactive(None)
    platforms: reactive[tuple[str, ...]] = reactive(())

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
    ) -> None:
        super().__init__()
        self.service = ConfigService(db_url)
        self.parse_loop = parse_loop or ParseLoopService(self.service.db_url)
        self.display_label = display_label or self.service.short_url
        self.poll_interval = poll_interval
        self.parse_interval = parse_interval
        self._clock = clock or datetime.now
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
        self.reload_rows(stream=True)
        self.set_interval(self.poll_interval, self.check_now)

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
                prepared = prepare_rows(batch)
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
            self.notify(f"Database is back (down since {message.down_since:%H:%M:%S}); reloading.", timeout=4)

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


def run_dashboard(db_url: str | None, theme: str | None, reset_demo: bool = False) -> None:
    """``yellowtui`` / ``yellowtui demo``: open the dashboard on ``db_url``, or on the embedded
    demo database (started, seeded once, and stopped cleanly on exit) when it is None."""
    import sys

    if theme is not None:
        known = set(YellowApp("postgresql://x@localhost/x").available_themes)
        if theme not in known:
            print(f"error: unknown theme {theme!r}; choose one of: {', '.join(sorted(known))}", file=sys.stderr)
            raise SystemExit(2)
    if db_url:
        app = make_app(db_url, theme=theme)
        try:
            app.run()
        finally:
            app.stop_background()
        return
    from yellowtui.demo import open_demo

    with open_demo(reset=reset_demo, log=lambda line: print(line, file=sys.stderr, flush=True)) as demo:
        app = make_app(
            demo.url, theme=theme, dags_folder=demo.dags_folder, parse_env=demo.parse_env, display_label=demo.label
        )
        try:
            app.run()
        finally:
            app.stop_background()
