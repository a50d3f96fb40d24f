"""StreamsScreen: every config row of every platform. ``/`` filters as you type, ``s`` sorts,
``f`` cycles the status filter, ``p`` the platform, Enter opens the stream."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Input, Static

from yellowtui.rows import AIRFLOW_COLUMN, COLUMNS, StatusFilter
from yellowtui.screens.base import DashboardScreen
from yellowtui.widgets.config_table import ConfigTable

if TYPE_CHECKING:
    from yellowtui.airflow_state import AirflowView
    from yellowtui.state import RowSet

FILTER_HELP = "words match any column · status:paused type:kafka platform:live build:error · Esc clears"


class StreamsScreen(DashboardScreen):
    """Every config row of every platform, in one table.

    The user sees the counts (shown, invalid, failing, by status; DAGs no row explains) above the
    table. ``/`` filters as you type, ``f`` cycles the status filter, ``s``/``S`` sort, ``p``
    cycles the platform, Enter opens the stream; ``e`` edits the highlighted stream, ``n`` starts
    a new one as a copy of it, ``P``/``R``/``X``/``D`` stage pause, resume, retire or delete.
    """

    CSS_PATH = "streams.tcss"
    AUTO_FOCUS = "ConfigTable"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("f", "cycle_status", "Status"),
        Binding("s", "sort_next", "Sort"),
        Binding("S", "sort_reverse", "Reverse sort", show=False),
        Binding("p", "app.cycle_platform", "Platform"),
        Binding("e", "edit", "Edit"),
        Binding("n", "new_stream", "New"),
        Binding("P", "stage('pause')", "Stage pause", show=False),
        Binding("R", "stage('resume')", "Stage resume", show=False),
        Binding("X", "stage('retire')", "Stage retire", show=False),
        Binding("D", "stage('delete')", "Stage delete", show=False),
        Binding("r", "app.reload", "Reload", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield from self.furniture_top()
        yield Static(id="streams-counts")
        with Horizontal(id="streams-filter-row"):
            yield Input(placeholder=f"/ filter: {FILTER_HELP}", id="streams-filter", compact=True)
            yield Static(id="streams-view")
        yield ConfigTable(id="config-table")
        yield from self.furniture_bottom()

    @property
    def table(self) -> ConfigTable:
        """The table of config rows."""
        return self.query_one(ConfigTable)

    def on_mount(self) -> None:
        self.watch(self.app, "rows", self._rows_changed)
        self.watch(self.app, "platform", self._platform_changed)
        self.watch(self.app, "airflow_view", self._airflow_changed)

    def _rows_changed(self, rows: RowSet) -> None:
        table = self.table
        held = table.row_count if rows.generation == table.generation else 0
        table.sync(rows.rows_from(held), rows.generation)
        self._update_counts()

    def _platform_changed(self, platform: str | None) -> None:
        self.table.set_platform(platform)

    def _airflow_changed(self, view: AirflowView) -> None:
        self.table.set_airflow(view.cells, shown=view.configured, live=view.live_cells)
        self._update_counts()

    @on(ConfigTable.ViewChanged)
    def _update_counts(self, *_: object) -> None:
        app, table = self.yellow, self.table
        c = table.counts
        platform = app.platform or "all platforms"
        parts = [
            Content.styled(f" {platform} ", "bold reverse $primary"),
            Content.assemble(
                " showing ", (f"{table.shown_count:,}", "bold"), " of ", (f"{c.total:,}", "bold"), " rows"
            ),
            Content.assemble(
                " · ",
                (f"{c.invalid:,} invalid", "$text-error bold" if c.invalid else "$text-muted"),
                " · ",
                (f"{c.failing:,} failing", "$text-error" if c.failing else "$text-muted"),
            ),
            Content(f" · {c.active:,} active · {c.paused:,} paused · {c.retired:,} retired"),
        ]
        unexplained = app.airflow_view.unexplained_count(app.platform)
        if unexplained:  # before the status counts: they matter less than DAGs nobody explains
            parts.insert(3, Content.styled(f" · {unexplained:,} DAG(s) without a row (4)", "$text-warning bold"))
        if app.rows.loading:
            parts.append(Content.styled("  loading…", "$text-warning italic"))
        elif not c.total and app.health.online and not app.platforms:
            parts = [
                parts[0],
                Content.styled(
                    " no platform tables (*_airflow_dsg) here: yellowtui bootstrap ECOSYSTEM.yaml --db URL",
                    "$text-warning",
                ),
            ]
        self.query_one("#streams-counts", Static).update(Content.assemble(*parts))
        status_style = "bold $text-warning" if table.status_filter != StatusFilter.ALL else "bold"
        self.query_one("#streams-view", Static).update(
            Content.assemble(
                ("status ", "$text-muted"),
                (table.status_filter.value, status_style),
                ("  sort ", "$text-muted"),
                (table.sort_label, "bold"),
            )
        )

    # ---- filter ---------------------------------------------------------------------------------

    @on(Input.Changed, "#streams-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)

    @on(Input.Submitted, "#streams-filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_focus_filter(self) -> None:
        """Type into the filter box."""
        self.query_one("#streams-filter", Input).focus()

    def action_clear_filter(self) -> None:
        """Clear the filter and go back to the table."""
        box = self.query_one("#streams-filter", Input)
        if box.value:
            box.value = ""
            self.table.set_filter("")
        self.table.focus()

    # ---- changes (staged; the plan screen applies them) ------------------------------------------

    def action_edit(self) -> None:
        """Open the highlighted stream in the editor."""
        row = self.table.current_row
        if row is not None:
            self.yellow.open_editor(row.platform, row.stream_key)

    def action_new_stream(self) -> None:
        """Start a new stream as a copy of the highlighted one (asks for its key first)."""
        row = self.table.current_row
        if row is None:
            self.notify("Highlight the stream to copy first.", severity="warning")
            return
        self.yellow.new_stream(row.platform, row.stream_key)

    def action_stage(self, op: str) -> None:
        """Stage a status change of the highlighted stream, based on the row as last read.

        Args:
            op: ``pause``, ``resume``, ``retire`` or ``delete``.
        """
        row = self.table.current_row
        view = self.yellow.find_view(row.platform, row.stream_key) if row is not None else None
        if view is not None:
            self.yellow.stage_status(view, op)

    # ---- status and sort ------------------------------------------------------------------------

    def action_cycle_status(self) -> None:
        """Show the next status: all, active, paused, retired, invalid, failing."""
        self.table.cycle_status_filter()

    def set_status_filter(self, status: str) -> None:
        """Show only the rows of one status (the command palette's status filter).

        Args:
            status: A :class:`StatusFilter` value.

        Raises:
            ValueError: ``status`` is not one.
        """
        self.table.set_status_filter(status)

    def action_sort_next(self) -> None:
        """Sort by the next column, ascending (the Airflow column is skipped while hidden)."""
        table = self.table
        column = (table.sort_column + 1) % len(COLUMNS)
        if column == AIRFLOW_COLUMN and not table.show_airflow:  # hidden without Airflow
            column = (column + 1) % len(COLUMNS)
        table.sort_by(column, reverse=False)

    def action_sort_reverse(self) -> None:
        """Reverse the sort."""
        self.table.sort_by(self.table.sort_column, reverse=not self.table.sort_reverse)

    def sort_by(self, column: str) -> None:
        """Sort by a column, or reverse the sort when it is the column sorted by (the command palette's sort).

        Args:
            column: The column's key.
        """
        self.table.sort_by(column)
