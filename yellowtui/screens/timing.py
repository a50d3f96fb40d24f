"""TimingScreen (live): parse durations over time split into load / validate / build, snapshot
parses marked, the slowest streams, refreshed as reports arrive. ``l`` runs the simulated DAG
processor against this database when no Airflow is parsing the factory."""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import DataTable, Static
from textual.worker import Worker, get_current_worker

from factory.enums import Outcome, Source
from factory.errors import DatabaseUnavailable
from yellowtui.messages import ParseLoopStarted, ParseLoopStopped, ParseRecorded, ParsesLoaded
from yellowtui.presenters.safe_text import visible
from yellowtui.presenters.timing import ago, file_label, is_split, slowest_streams, split_summary, summarize
from yellowtui.screens.base import DashboardScreen
from yellowtui.widgets.timing_chart import TimingChart

if TYPE_CHECKING:
    from yellowtui.services.config_service import ParseReport

REPORTS = 120
#: DataTable cells are Rich text: plain Rich styles (mapped onto the theme's ANSI colours).
SOURCE_STYLE: dict[str, str] = {Source.SNAPSHOT: "bold red", Source.UNCHANGED: "dim", Source.DATABASE: ""}
SOURCE_LABEL: dict[str, str] = {Source.UNCHANGED: "unchanged"}
OUTCOME_STYLE: dict[str, str] = {Outcome.OK: "green", Outcome.STALE: "yellow", Outcome.ERROR: "bold red"}


class TimingScreen(DashboardScreen):
    """How long the factory's parses take, live: a chart, the recent parses, the slowest streams.

    The user sees parse durations over time split into load / validate / build, with snapshot
    parses marked, a table of the recent parses and the streams slowest to build; the reports are
    read again every poll. ``l`` starts or stops a parse loop that parses the factory file as
    Airflow's DAG processor does, for a database no Airflow parses; ``p`` cycles the platform.
    """

    CSS_PATH = "timing.tcss"
    AUTO_FOCUS = "#parses-table"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "toggle_loop", "Parse loop"),
        Binding("p", "next_platform", "Platform"),
        Binding("r", "refresh", "Refresh", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[ParseReport] = []
        self.reports_platform: str | None = None
        self._poller: Worker[None] | None = None
        self._loop_stop: threading.Event | None = None
        self._loop_platform: str | None = None
        self.loop_parses = 0

    def compose(self) -> ComposeResult:
        yield from self.furniture_top()
        yield Static(id="timing-summary")
        yield TimingChart(id="timing-chart")
        with Horizontal(id="timing-tables"):
            with Vertical(id="parses-box"):
                yield Static("Recent parses (newest first)", classes="box-title")
                yield DataTable(id="parses-table", cursor_type="row", zebra_stripes=True)
            with Vertical(id="slowest-box"):
                yield Static("Slowest streams (last build)", classes="box-title")
                yield DataTable(id="slowest-table", cursor_type="row", zebra_stripes=True)
        yield from self.furniture_bottom()

    def on_mount(self) -> None:
        parses = self.query_one("#parses-table", DataTable)
        for label, width in (
            ("When", 8),
            ("Source", 9),
            ("Rows", 5),
            ("DAGs", 5),
            ("Err", 3),
            ("Load", 6),
            ("Valid.", 6),
            ("Build", 6),
            ("Total ms", 8),
        ):
            parses.add_column(label, width=width)
        slowest = self.query_one("#slowest-table", DataTable)
        for label, width in (("Stream", 20), ("ms", 5), ("Build", 5)):
            slowest.add_column(label, width=width)
        self.watch(self.app, "platform", self._platform_changed, init=False)
        self.watch(self.app, "rows", self._fill_slowest, init=False)
        self.watch(self.app, "platforms", self._platform_changed, init=False)
        self.set_interval(self.yellow.poll_interval, self.poll)
        self.poll()
        self._fill_slowest()
        self._update_summary()

    def on_unmount(self) -> None:
        self.stop_loop()

    # ---- which platform -------------------------------------------------------------------------

    @property
    def platform(self) -> str | None:
        """The platform shown: the app's, or the first platform while the app shows them all."""
        app = self.yellow
        if app.platform:
            return app.platform
        return app.platforms[0] if app.platforms else None

    def action_next_platform(self) -> None:
        """Show the next platform (never all of them: this screen shows one at a time); every screen follows."""
        app = self.yellow
        if not app.platforms:
            return
        current = self.platform
        index = app.platforms.index(current) if current in app.platforms else -1
        app.platform = app.platforms[(index + 1) % len(app.platforms)]

    def _platform_changed(self, *_: object) -> None:
        self.poll(force=True)
        self._fill_slowest()

    # ---- polling --------------------------------------------------------------------------------

    def poll(self, force: bool = False) -> None:
        """Read the platform's recent parse reports, unless a read is under way.

        Args:
            force: Read even then (the read under way is superseded).
        """
        if not force and self._poller is not None and self._poller.is_running:
            return
        platform = self.platform
        if platform is not None:
            self._poller = self.load_parses(platform)

    def action_refresh(self) -> None:
        """Read the parse reports again now."""
        self.poll(force=True)

    @work(thread=True, exclusive=True, group="parses", exit_on_error=False)
    def load_parses(self, platform: str) -> None:
        """Read the platform's newest parse reports.

        Runs in a worker and posts :class:`ParsesLoaded`.

        Args:
            platform: The platform.
        """
        try:
            reports = self.service.parses(platform, limit=REPORTS)
        except DatabaseUnavailable as exc:
            self.database_unavailable(exc)
            return
        if not get_current_worker().is_cancelled:
            self.post_message(ParsesLoaded(platform, reports))

    @on(ParsesLoaded)
    def _parses_loaded(self, message: ParsesLoaded) -> None:
        if message.platform != self.platform:
            return
        same = (
            message.platform == self.reports_platform
            and len(message.reports) == len(self.reports)
            and (not message.reports or message.reports[0].get("id") == self.reports[0].get("id"))
        )
        self.reports, self.reports_platform = message.reports, message.platform
        self._update_summary()
        if same:
            return
        self.query_one(TimingChart).set_reports(self.reports)
        table = self.query_one("#parses-table", DataTable)
        table.clear()
        split = is_split(self.reports)
        if split and "file" not in table.columns:  # a split platform: which of its files parsed (and bundle)
            table.add_column("File", width=4 if not any(r.get("bundle") for r in self.reports) else 14, key="file")
        for r in self.reports:
            source = r["source"]
            label = SOURCE_LABEL.get(source) or str(source)
            file_cell = [Text(file_label(r) if split else "", justify="right")]
            table.add_row(
                f"{r['parsed_at']:%H:%M:%S}",
                Text(visible(label), style=SOURCE_STYLE.get(source, "")),
                Text(str(r["rows_read"]), justify="right"),
                Text(str(r["dags_built"]), justify="right"),
                Text(str(r["errors"]), style="red" if r["errors"] else "", justify="right"),
                Text(f"{r['load_ms']:.1f}", justify="right"),
                Text(f"{r['validate_ms']:.1f}", justify="right"),
                Text(f"{r['build_ms']:.1f}", justify="right"),
                Text(f"{r['total_ms']:.1f}", style="bold", justify="right"),
                *(file_cell if "file" in table.columns else []),
            )

    def _fill_slowest(self, *_: object) -> None:
        table = self.query_one("#slowest-table", DataTable)
        table.clear()
        for v in slowest_streams(self.yellow.rows.views, self.platform, limit=25):
            table.add_row(
                Text(visible(v.stream_key)),
                Text(f"{v.last_build_ms:.2f}", justify="right"),
                Text(v.last_outcome or "—", style=OUTCOME_STYLE.get(v.last_outcome or "", "")),
            )

    def _update_summary(self) -> None:
        s = summarize(self.reports)
        platform = self.platform or "no platform"
        parts: list[Content | str | tuple[str, str]] = [(f" {platform} ", "bold reverse $primary"), " "]
        if (files := split_summary(self.reports)) is not None:
            parts += [(files, "bold"), " │ "]
        if self._loop_stop is not None:
            parts += [(f"● parse loop on ({self.loop_parses})", "bold $text-success"), " │ "]
        else:
            parts += [("parse loop off (l)", "$text-muted"), " │ "]
        if s.count:
            parts += [
                (f"{s.count} parses", "bold"),
                f" · last {s.last_at:%H:%M:%S} ({ago(s.last_at, self.now())}) ",
                (f"{s.last_total_ms:,.0f} ms", "bold"),
                f" · median {s.median_total_ms:,.0f} ms · ",
                (f"{s.from_snapshot} from snapshot", "$text-error bold" if s.from_snapshot else "$text-muted"),
                f" · {s.unchanged} reused",
            ]
        else:
            parts.append(("no parse reports yet", "$text-muted italic"))
        self.query_one("#timing-summary", Static).update(Content.assemble(*parts))

    # ---- the parse loop -------------------------------------------------------------------------

    @property
    def loop_running(self) -> bool:
        """True from the start of the parse loop until it is asked to stop."""
        return self._loop_stop is not None

    def action_toggle_loop(self) -> None:
        """Start the parse loop, or stop it after the parse under way."""
        if self._loop_stop is not None:
            self.stop_loop()
            self.notify("Parse loop stopping after the current parse.", timeout=3)
        else:
            self.start_loop()

    def start_loop(self, interval: float | None = None) -> None:
        """Parse the platform's factory file again and again, as Airflow's DAG processor does.

        Does nothing while a loop runs. Quitting the app stops the loop.

        Args:
            interval: Seconds between parses; None takes the app's ``parse_interval``.
        """
        platform = self.platform
        if platform is None or self._loop_stop is not None:
            return
        stop = threading.Event()
        self._loop_stop, self._loop_platform, self.loop_parses = stop, platform, 0
        self.yellow.register_stop_event(stop)
        self.run_loop(platform, stop, interval if interval is not None else self.yellow.parse_interval)
        self._update_summary()

    def stop_loop(self) -> None:
        """Ask the parse loop to stop; it ends after the parse under way."""
        if self._loop_stop is not None:
            self._loop_stop.set()
            self._loop_stop = None
            with contextlib.suppress(Exception):  # unmounting
                self._update_summary()

    @work(thread=True, exclusive=True, group="parse-loop", exit_on_error=False)
    def run_loop(self, platform: str, stop: threading.Event, interval: float) -> None:
        """Run the parse loop until ``stop`` is set.

        Runs in a worker and posts :class:`ParseLoopStarted`, a :class:`ParseRecorded` per parse, and
        :class:`ParseLoopStopped` (with the error when the loop failed).

        Args:
            platform: The platform whose factory file is parsed.
            stop: Set to end the loop.
            interval: Seconds between parses.
        """
        self.post_message(ParseLoopStarted(platform))
        try:
            self.yellow.parse_loop.run(
                platform, stop, lambda info: self.post_message(ParseRecorded(platform, info)), interval=interval
            )
        except Exception as exc:
            self.post_message(ParseLoopStopped(platform, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(ParseLoopStopped(platform))

    @on(ParseLoopStarted)
    def _loop_started(self, message: ParseLoopStarted) -> None:
        self.notify(
            f"Parse loop started for {message.platform}: a fresh process parses the factory file "
            "every few seconds, as Airflow's DAG processor does.",
            timeout=4,
        )

    @on(ParseRecorded)
    def _parse_recorded(self, message: ParseRecorded) -> None:
        self.loop_parses += 1
        if not message.info.ok:
            self.notify(
                message.info.summary or "parse failed", title="Parse had problems", severity="warning", timeout=4
            )
        self._update_summary()
        self.poll(force=True)
        self.yellow.check_now()

    @on(ParseLoopStopped)
    def _loop_stopped(self, message: ParseLoopStopped) -> None:
        if message.error:
            self.notify(message.error, title="Parse loop stopped", severity="error", timeout=6)
        if self._loop_stop is not None and self._loop_platform == message.platform:
            self._loop_stop = None
        self._update_summary()
