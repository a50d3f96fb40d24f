"""StreamDetailScreen: one row's config with its problems at their JSON paths, the DAG the
factory builds from it, and the row's change history."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from factory.enums import Outcome, RowStatus
from factory.errors import AirflowError, DatabaseUnavailable
from factory.names import dag_id_for
from yellowtui.messages import StreamLoaded
from yellowtui.presenters.dag_preview import preview_dag
from yellowtui.presenters.dag_versions import row_changes, version_lines
from yellowtui.presenters.json_paths import changed_fields
from yellowtui.presenters.safe_text import visible
from yellowtui.screens.base import DashboardScreen
from yellowtui.services.live_state import live_cell
from yellowtui.state import DatabaseHealth
from yellowtui.widgets.config_view import ConfigView
from yellowtui.widgets.dag_tree import DagTree

if TYPE_CHECKING:
    from factory.operations.inspection.views import StreamView

_LIVE_STYLE = {
    "success": "$text-success bold",
    "error": "$text-error bold",
    "warning": "$text-warning bold",
    "accent": "$text-accent bold",
}

OUTCOME_STYLE: dict[str, str] = {
    Outcome.OK: "$text-success",
    Outcome.STALE: "$text-warning",
    Outcome.ERROR: "$text-error",
}


class StreamDetailScreen(DashboardScreen):
    """One stream: its config with the problems marked, its DAG, its history, its life in Airflow.

    Four tabs: Config (``c``), DAG (``d``: what the factory builds), History (``h``: each change
    to the row, who made it, the fields changed) and Live (``l``: whether Airflow serves the row's
    DAG, and the DAG's versions). ``e`` edits the stream, ``P``/``R``/``X``/``D`` stage pause,
    resume, retire or delete, esc goes back. Shown again (back from the editor or the plan), the
    screen reads the row again.
    """

    CSS_PATH = "stream_detail.tcss"
    AUTO_FOCUS = "#config-scroll"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("c", "show_tab('config')", "Config"),
        Binding("d", "show_tab('dag')", "DAG"),
        Binding("h", "show_tab('history')", "History"),
        Binding("l", "show_tab('live')", "Live"),
        Binding("e", "edit", "Edit"),
        Binding("P", "stage('pause')", "Stage pause", show=False),
        Binding("R", "stage('resume')", "Stage resume", show=False),
        Binding("X", "stage('retire')", "Stage retire", show=False),
        Binding("D", "stage('delete')", "Stage delete", show=False),
        Binding("r", "reload", "Reload", show=False),
    ]

    def __init__(self, platform: str, stream_key: str, tab: str = "config") -> None:
        """Show one stream.

        Args:
            platform: The stream's platform.
            stream_key: The stream.
            tab: The tab shown first: ``config``, ``dag``, ``history`` or ``live``.
        """
        super().__init__()
        self.platform = platform
        self.stream_key = stream_key
        self.initial_tab = tab
        self.loaded: StreamLoaded | None = None
        self._failed = False

    def compose(self) -> ComposeResult:
        yield from self.furniture_top()
        yield Static(
            Content.assemble((f" {self.platform} / {self.stream_key} ", "bold reverse $primary"), "  loading…"),
            id="detail-title",
        )
        with TabbedContent(id="detail-tabs", initial=self.initial_tab):
            with TabPane("Config", id="config"):
                yield Static(id="detail-problems")
                with VerticalScroll(id="config-scroll"):
                    yield ConfigView(id="config-view")
            with TabPane("DAG", id="dag"):
                yield DagTree(id="dag-tree")
            with TabPane("History", id="history"):
                yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Live", id="live"):
                yield Static(id="live-status")
                yield DataTable(id="versions-table", cursor_type="row", zebra_stripes=True)
        yield from self.furniture_bottom()

    def on_mount(self) -> None:
        table = self.query_one("#history-table", DataTable)
        table.add_columns("When", "Action", "By", "DB user", "Status", "Fields changed")
        versions = self.query_one("#versions-table", DataTable)
        versions.add_columns("DAG version", "Created", "Row changes in it", "Fingerprint", "Note")
        self.watch(self.app, "airflow_view", self._show_live, init=False)
        self.watch(self.app, "health", self._health_changed, init=False)
        self.watch(self.app, "theme", self._theme_changed, init=False)
        self.load()

    def _theme_changed(self, *_: object) -> None:
        """Tree labels are styled when added: redraw them in the new theme's colours."""
        loaded = self.loaded
        if loaded is not None and loaded.view is not None and loaded.preview is not None:
            view = loaded.view
            self.query_one(DagTree).show(loaded.preview, view.last_outcome, view.last_error)

    def _health_changed(self, health: DatabaseHealth) -> None:
        if health.online and (self._failed or self.loaded is None):
            self.load()

    def action_reload(self) -> None:
        """Read the row, its history and its DAG versions again."""
        self.load()

    def on_screen_resume(self) -> None:
        """Back from the editor or the plan: an apply may have written this row (and its history)."""
        if self.loaded is not None:
            self.load()

    def action_edit(self) -> None:
        """Open this stream in the editor."""
        self.yellow.open_editor(self.platform, self.stream_key)

    def action_stage(self, op: str) -> None:
        """Stage pause/resume/retire/delete of this stream, based on the row as shown.

        Args:
            op: ``pause``, ``resume``, ``retire`` or ``delete``.
        """
        view = self.loaded.view if self.loaded is not None else None
        if view is None:
            self.notify("The row is not loaded (or no longer exists).", severity="warning")
            return
        self.yellow.stage_status(view, op)

    def action_show_tab(self, tab: str) -> None:
        """Show a tab and focus what is in it.

        Args:
            tab: ``config``, ``dag``, ``history`` or ``live``.
        """
        self.query_one(TabbedContent).active = tab
        target = {
            "config": "#config-scroll",
            "dag": "#dag-tree",
            "history": "#history-table",
            "live": "#versions-table",
        }[tab]
        self.query_one(target).focus()

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load(self) -> None:
        """Read the row and its history, build its DAG, and ask Airflow for the DAG's versions.

        Runs in a worker and posts :class:`StreamLoaded`.
        """
        try:
            view = self.service.stream(self.platform, self.stream_key)
            history = self.service.history(self.platform, self.stream_key) if view is not None else []
        except DatabaseUnavailable as exc:
            self._failed = True
            self.database_unavailable(exc)
            return
        self._failed = False
        preview = preview_dag(self.platform, self.stream_key, view.config_json) if view is not None else None
        versions, note = self._versions()
        self.post_message(StreamLoaded(self.platform, self.stream_key, view, preview, history, versions, note))

    def _versions(self) -> tuple[list[tuple[int, datetime | None]] | None, str]:
        """Airflow's versions of this stream's DAG (in the worker), or why there are none."""
        airflow = self.yellow.airflow
        if airflow is None:
            return None, "no Airflow configured: DAG versions are Airflow's"
        try:
            found = airflow.dag_versions(dag_id_for(self.platform, self.stream_key))
        except AirflowError as exc:
            return None, str(exc)
        return [(v.version_number, v.created_at) for v in found], ""

    @on(StreamLoaded)
    def _loaded(self, message: StreamLoaded) -> None:
        self.loaded = message
        title = self.query_one("#detail-title", Static)
        view, preview = message.view, message.preview
        if view is None or preview is None:
            title.update(
                Content.assemble(
                    (f" {self.platform} / {self.stream_key} ", "bold reverse $primary"),
                    ("  no such row (deleted?)", "$text-error"),
                )
            )
            return
        title.update(self._title(view))
        problems = view.problems
        self.query_one(ConfigView).show(view.config_json, problems)
        self.query_one("#detail-problems", Static).update(self._problem_summary())
        self.query_one("#detail-problems").set_class(bool(problems), "-problems")
        self.query_one(DagTree).show(preview, view.last_outcome, view.last_error)
        table = self.query_one("#history-table", DataTable)
        table.clear()
        for h in message.history:
            old, new = h.get("old_status"), h.get("new_status")
            status = new if old in (None, new) else f"{old} → {new}"
            fields = (
                ", ".join(changed_fields(h.get("old_config_json"), h.get("new_config_json")))
                if h["action"] == "update"
                else ""
            )
            cells = (
                f"{h['changed_at']:%Y-%m-%d %H:%M:%S}",
                h["action"],
                h["changed_by"],
                h.get("db_user") or "—",  # the login that made it; "—" before it was recorded
                status or "",
                fields or "—",
            )
            table.add_row(*(Text(visible(c)) for c in cells))  # literal: a str cell would be read as markup
        self._show_versions(message)
        self._show_live()

    def _show_live(self, *_: object) -> None:
        """The stream's live status (sync) and last run (health), as of Airflow's last refresh."""
        view = self.yellow.airflow_view
        live = view.live_of(self.platform, self.stream_key)
        status = self.query_one("#live-status", Static)
        if not view.configured:
            status.update(
                Content.styled("Live: unknown (no Airflow configured: start with --airflow URL)", "$text-muted")
            )
            return
        if live is None:
            status.update(Content.styled("Live: unknown (Airflow has not answered yet)", "$text-muted"))
            return
        cell = live_cell(live)
        lines = [
            Content.assemble(
                ("Live: ", "bold"),
                (cell.text, _LIVE_STYLE.get(cell.role, "")),
                "   last run: ",
                visible(live.last_run or "none"),
            ),
            Content(visible(f"{live.problem}; {live.detail}" if live.problem else live.detail)),
            Content.styled(
                visible(f"row builds {live.wanted or '—'}   Airflow serves {live.served or '—'}"), "$text-muted"
            ),
        ]
        status.update(Content("\n").join(lines))

    def _show_versions(self, message: StreamLoaded) -> None:
        table = self.query_one("#versions-table", DataTable)
        table.clear()
        if message.versions is None:
            table.add_row(Text("—"), Text(""), Text(""), Text(""), Text(visible(message.versions_note)))
            return
        live = self.yellow.airflow_view.live_of(self.platform, self.stream_key)
        lines = version_lines(
            message.versions, row_changes(self.platform, message.history), live.served if live else None
        )
        for line in reversed(lines):  # newest first, like the history
            changes = ", ".join(f"{c.changed_at:%m-%d %H:%M:%S} {c.changed_by}" for c in line.changes) or "—"
            fingerprint = line.changes[-1].fingerprint if line.changes else "—"
            created = f"{line.created_at:%Y-%m-%d %H:%M:%S}" if line.created_at else "—"
            number = f"v{line.version}" + (" (latest)" if line.current else "")
            cells = (number, created, changes, fingerprint or "—", line.note)
            table.add_row(*(Text(visible(c)) for c in cells))

    def _title(self, view: StreamView) -> Content:
        if view.valid:
            valid = Content.styled("✓ valid", "$text-success bold")
        else:
            valid = Content.styled(f"✗ invalid: {len(view.problems)} problem(s)", "$text-error bold")
        outcome = view.last_outcome or "not built yet"
        outcome_style = OUTCOME_STYLE.get(view.last_outcome or "", "$text-muted")
        when = f" at {view.last_recorded_at:%Y-%m-%d %H:%M:%S}" if view.last_recorded_at else ""
        ms = (
            f" in {view.last_build_ms:.2f} ms"
            if view.last_build_ms is not None and view.last_outcome != Outcome.ERROR
            else ""
        )
        return Content.assemble(
            (f" {self.platform} / {self.stream_key} ", "bold reverse $primary"),
            "  ",
            (visible(view.status), "$text-warning" if view.status != RowStatus.ACTIVE else "bold"),
            "  ",
            valid,
            "  last build ",
            (outcome, outcome_style),
            ms,
            when,
        )

    def _problem_summary(self) -> Content:
        marked = self.query_one(ConfigView).marked
        if not marked:
            return Content.styled("No problems: the factory builds this row's DAG.", "$text-success")
        lines = [Content.styled(f"{len(marked)} problem(s), marked ▶ in the config below:", "bold $text-error")]
        for m in marked:
            where = m.path if m.exact else f"{m.path} (absent; marked on its parent)"
            lines.append(
                Content.assemble(
                    ("  line ", "$text-muted"),
                    (f"{m.line + 1:<4}", "$text-muted"),
                    (visible(where), "$text-error bold"),
                    ": ",
                    visible(m.message),
                )
            )
        return Content("\n").join(lines)
