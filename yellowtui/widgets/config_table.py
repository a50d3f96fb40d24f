"""ConfigTable: every config row of every platform in one virtual table, smooth at 10,000 rows.

Textual's DataTable measures and stores every cell of every row as it is added, which here
costs about 2 s for 10,000 rows and about 0.9 s per re-filter (see docs/benchmarks.md). This
widget draws only the lines on screen (the Line API). What to draw (the rows, filtered, scoped
and sorted) is :class:`yellowtui.rows.RowQuery`, plain data with no Textual in it; the widget
adds the cursor, the scroll position and the styles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from factory.enums import Outcome, RowStatus
from yellowtui.messages import StreamSelected
from yellowtui.presenters.runs import AirflowCell
from yellowtui.rows import (
    AIRFLOW_COLUMNS,
    COLUMNS,
    MAX_KEY_WIDTH,
    MAX_PLATFORM_WIDTH,
    Counts,
    RowQuery,
    StatusFilter,
    TableRow,
)

GAP = 2
#: Which component class colours a status or a build outcome.
STATUS_STYLE: dict[str, str] = {RowStatus.PAUSED: "paused", RowStatus.RETIRED: "retired"}
OUTCOME_STYLE: dict[str, str] = {Outcome.OK: "ok", Outcome.STALE: "stale", Outcome.ERROR: "error"}
#: Which component class colours an Airflow cell's style role.
AIRFLOW_ROLE_STYLE: dict[str, str] = {
    "success": "ok",
    "error": "error",
    "warning": "stale",
    "accent": "running",
    "muted": "muted",
}


class ConfigTable(ScrollView, can_focus=True):
    """Config rows: ``/`` filters, ``s`` sorts, Enter opens. The Stream column stays put when
    the others scroll sideways."""

    HELP = """
## Config rows

Every row of every platform. Type `/` to filter (every word must match a column;
`status:paused`, `type:kafka`, `build:error` match one column), `f` cycles the status filter,
`s` / `S` sort, Enter opens the stream. The Stream column stays put when the others scroll.
"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", priority=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("left,h", "scroll_cols(-8)", "Left", show=False),
        Binding("right,l", "scroll_cols(8)", "Right", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "config-table--header",
        "config-table--header-sorted",
        "config-table--cursor",
        "config-table--fixed",
        "config-table--paused",
        "config-table--retired",
        "config-table--invalid",
        "config-table--ok",
        "config-table--stale",
        "config-table--error",
        "config-table--muted",
        "config-table--running",
    }

    DEFAULT_CSS = """
    ConfigTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        scrollbar-gutter: stable;
        & > .config-table--header { background: $panel; color: $text; text-style: bold; }
        & > .config-table--header-sorted { background: $panel; color: $text-accent; text-style: bold; }
        & > .config-table--cursor { background: $block-cursor-blurred-background; }
        &:focus > .config-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
        & > .config-table--fixed { color: $text; }
        & > .config-table--paused { color: $text-warning; }
        & > .config-table--retired { color: $text-disabled; }
        & > .config-table--invalid { color: $text-error; text-style: bold; }
        & > .config-table--ok { color: $text-success; }
        & > .config-table--stale { color: $text-warning; }
        & > .config-table--error { color: $text-error; text-style: bold; }
        & > .config-table--muted { color: $text-muted; }
        & > .config-table--running { color: $text-accent; text-style: bold; }
    }
    """

    class ViewChanged(Message):
        """Posted when the rows shown change.

        New rows, another filter, status, sort or platform, or Airflow cells that re-sort or
        re-filter them. Carries the table, whose counts and sort the screen shows.
        """

        def __init__(self, table: ConfigTable) -> None:
            """Say that the table's view changed.

            Args:
                table: The table that changed.
            """
            super().__init__()
            self.table = table

        @property
        def control(self) -> ConfigTable:
            """The table that sent the message."""
            return self.table

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        """Create an empty table; rows come with :meth:`sync`.

        Args:
            name: The name of the widget.
            id: The ID of the widget in the DOM.
            classes: The CSS classes of the widget.
        """
        super().__init__(name=name, id=id, classes=classes)
        self.model = RowQuery()
        self._generation = -1
        self.cursor = 0
        #: Until the operator moves the cursor, it stays on the first row while rows stream in.
        self.cursor_moved = False
        self._widths = [c.width for c in COLUMNS]
        #: The Airflow column is drawn only with Airflow configured (blank cells would only
        #: push the other columns off screen).
        self.show_airflow = False
        self._styles: dict[str, Style] = {}

    # ---- data ---------------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        """The :attr:`RowSet.generation` of the rows held (-1: none yet)."""
        return self._generation

    @property
    def row_count(self) -> int:
        """How many rows the table holds, shown or not."""
        return len(self.model.rows)

    @property
    def shown_count(self) -> int:
        """How many rows are shown (through the filters, on the platform)."""
        return len(self.model.visible)

    @property
    def visible_rows(self) -> list[TableRow]:
        """The rows shown, in their order."""
        return self.model.visible

    @property
    def counts(self) -> Counts:
        """The rows held on the platform shown, counted (total, by status, invalid, failing); filters aside."""
        return self.model.counts

    @property
    def filter_text(self) -> str:
        """The filter as typed."""
        return self.model.filter_text

    @property
    def status_filter(self) -> StatusFilter:
        """The status filter in force."""
        return self.model.status_filter

    @property
    def sort_column(self) -> int:
        """The index of the column sorted by."""
        return self.model.sort_column

    @property
    def sort_reverse(self) -> bool:
        """True when the sort is descending."""
        return self.model.sort_reverse

    @property
    def sort_label(self) -> str:
        """The sort as the screen says it: the column's label and ▲ or ▼."""
        return self.model.sort_label

    def _anchor(self) -> TableRow | None:
        """The row the cursor should stay on through a change: the current one, once moved."""
        return self.current_row if self.cursor_moved else None

    @property
    def current_row(self) -> TableRow | None:
        """The row under the cursor, or None when no row is shown."""
        visible = self.model.visible
        return visible[self.cursor] if 0 <= self.cursor < len(visible) else None

    def sync(self, new_rows: Sequence[TableRow], generation: int) -> None:
        """Show more rows.

        Same generation as last time: ``new_rows`` are the ones past those already held (a load
        still streaming in); another generation replaces everything. The cursor stays on its row
        once the operator has moved it.

        Args:
            new_rows: The rows to add, or every row for a new generation.
            generation: The :attr:`RowSet.generation` they belong to.
        """
        current = self._anchor()
        if generation != self._generation:
            self._generation = generation
            self.model.replace(new_rows)
        elif new_rows:
            self.model.extend(new_rows)
        else:
            return
        self._update_widths()
        self._shown(keep=current)

    def _update_widths(self) -> None:
        rows = self.model.rows
        longest = max((len(r.stream_key) for r in rows), default=0)
        self._widths[0] = max(COLUMNS[0].width, min(MAX_KEY_WIDTH, longest))
        longest_platform = max((len(r.platform) for r in rows), default=0)
        self._widths[1] = max(len(COLUMNS[1].label), min(MAX_PLATFORM_WIDTH, longest_platform))

    def _shown(self, keep: TableRow | None = None) -> None:
        """The visible rows changed: put the cursor back on ``keep`` if still shown, redraw, tell."""
        visible = self.model.visible
        if keep is not None:
            try:
                self.cursor = visible.index(keep)
            except ValueError:
                self.cursor = min(self.cursor, max(0, len(visible) - 1))
        else:
            self.cursor = min(self.cursor, max(0, len(visible) - 1))
        self._resize()
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.ViewChanged(self))

    def _resize(self) -> None:
        shown = [self._widths[i] for i in self._shown_columns()]
        width = sum(shown) + GAP * (len(shown) - 1) + 1
        self.virtual_size = Size(width, len(self.model.visible) + 1)

    # ---- filter, sort, scope -------------------------------------------------------------------

    def set_filter(self, text: str) -> None:
        """Filter the rows: every word must match a column, ``name:value`` matches one column.

        Args:
            text: The filter as typed.
        """
        keep = self._anchor()
        if self.model.set_filter(text):
            self._shown(keep=keep)

    def set_status_filter(self, status: str) -> None:
        """Show only the rows of one status.

        Args:
            status: A :class:`StatusFilter` value.

        Raises:
            ValueError: ``status`` is not one.
        """
        keep = self._anchor()
        self.model.set_status_filter(status)
        self._shown(keep=keep)

    def cycle_status_filter(self) -> StatusFilter:
        """Show the next status filter.

        Returns:
            The status filter now in force.
        """
        self.set_status_filter(self.model.next_status_filter())
        return self.model.status_filter

    def set_platform(self, platform: str | None) -> None:
        """Show only one platform's rows.

        Args:
            platform: The platform, or None for every platform.
        """
        keep = self._anchor()
        self.model.set_platform(platform)
        self._shown(keep=keep)

    def sort_by(self, column: int | str, reverse: bool | None = None) -> None:
        """Sort by a column.

        Args:
            column: The column's index or key.
            reverse: True for descending; None reverses the column sorted by already and sorts any
                other ascending.
        """
        keep = self._anchor()
        self.model.sort_by(column, reverse)
        self._shown(keep=keep)

    def _shown_columns(self) -> list[int]:
        return [i for i in range(len(COLUMNS)) if self.show_airflow or i not in AIRFLOW_COLUMNS]

    def set_airflow(
        self,
        cells: Mapping[tuple[str, str], AirflowCell],
        *,
        shown: bool = True,
        live: Mapping[tuple[str, str], AirflowCell] | None = None,
    ) -> None:
        """New Airflow column cells (last run state, not in Airflow, ...): redraw.

        Args:
            cells: The Airflow column's cells by ``(platform, stream_key)``.
            shown: False hides the column (Airflow not configured).
            live: The Live column's cells by ``(platform, stream_key)``; None keeps those held.
        """
        if shown != self.show_airflow:
            self.show_airflow = shown
            self._resize()
        keep = self._anchor()
        if self.model.set_airflow(cells, live):
            self._shown(keep=keep)
        else:
            self.refresh()

    # ---- actions ------------------------------------------------------------------------------

    def _move(self, to: int) -> None:
        if not self.model.visible:
            return
        self.cursor_moved = True
        self.cursor = max(0, min(len(self.model.visible) - 1, to))
        self._scroll_cursor_into_view()
        self.refresh()

    def action_cursor_up(self) -> None:
        """Move the cursor up a row."""
        self._move(self.cursor - 1)

    def action_cursor_down(self) -> None:
        """Move the cursor down a row."""
        self._move(self.cursor + 1)

    def action_page_up(self) -> None:
        """Move the cursor up a screenful."""
        self._move(self.cursor - max(1, self.size.height - 2))

    def action_page_down(self) -> None:
        """Move the cursor down a screenful."""
        self._move(self.cursor + max(1, self.size.height - 2))

    def action_first(self) -> None:
        """Move the cursor to the first row."""
        self._move(0)

    def action_last(self) -> None:
        """Move the cursor to the last row."""
        self._move(len(self.model.visible) - 1)

    def action_scroll_cols(self, delta: int) -> None:
        """Scroll the columns sideways; the Stream column stays put.

        Args:
            delta: Columns to scroll, negative to the left.
        """
        self.scroll_to(x=max(0, self.scroll_x + delta), animate=False)

    def action_select(self) -> None:
        """Open the stream under the cursor (posts :class:`StreamSelected`)."""
        row = self.current_row
        if row is not None:
            self.post_message(StreamSelected(row.platform, row.stream_key))

    def _scroll_cursor_into_view(self) -> None:
        rows_on_screen = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + rows_on_screen:
            self.scroll_to(y=self.cursor - rows_on_screen + 1, animate=False, immediate=True)

    # ---- mouse --------------------------------------------------------------------------------

    def _column_at(self, x: int) -> int | None:
        fixed = self._widths[0] + GAP
        if x < fixed:
            return 0
        position = fixed - int(self.scroll_x)
        for i in self._shown_columns()[1:]:
            if position <= x < position + self._widths[i] + GAP:
                return i
            position += self._widths[i] + GAP
        return None

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x)
            if column is not None:
                self.sort_by(column)
            return
        self._move(int(self.scroll_y) + offset.y - 1)
        if event.chain >= 2:
            self.action_select()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # ---- drawing ------------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self._styles = {
            name.removeprefix("config-table--"): self.get_component_rich_style(name, partial=True)
            for name in self.COMPONENT_CLASSES
        }
        return super().render_lines(crop)

    def _cell(self, index: int, text: str) -> str:
        width = self._widths[index]
        if len(text) > width:
            text = text[: width - 1] + "…"
        return text.rjust(width) if COLUMNS[index].align == "right" else text.ljust(width)

    def _cell_style(self, row: TableRow, index: int) -> str | None:
        key = COLUMNS[index].key
        if key == "status":
            return STATUS_STYLE.get(row.status)
        if key == "valid":
            return None if row.valid else "invalid"
        if key == "build":
            return OUTCOME_STYLE.get(row.outcome or "", "muted")
        if key in ("built", "updated", "build_ms", "platform"):
            return "muted"
        if index in AIRFLOW_COLUMNS:
            cell = self.model.airflow_cell(row, index)
            return AIRFLOW_ROLE_STYLE.get(cell.role, "muted") if cell else None
        return None

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        base = self.rich_style
        if y == 0:
            return self._header_strip(width, base)
        index = int(self.scroll_y) + y - 1
        if index >= len(self.model.visible):
            return Strip.blank(width, base)
        return self._row_strip(self.model.visible[index], index == self.cursor, width, base)

    def _strip(self, cells: list[tuple[str, Style]], width: int, base: Style, fill: Style) -> Strip:
        gap = " " * GAP
        fixed = Strip([Segment(cells[0][0] + gap, cells[0][1])])
        rest = Strip([Segment(text + gap, style) for text, style in cells[1:]])
        scroll_x = int(self.scroll_x)
        room = max(0, width - fixed.cell_length)
        rest = rest.crop_extend(scroll_x, scroll_x + room, fill)
        return Strip.join([fixed, rest]).adjust_cell_length(width, fill)

    def _header_strip(self, width: int, base: Style) -> Strip:
        header = base + self._styles.get("header", Style())
        sorted_style = base + self._styles.get("header-sorted", Style())
        cells = []
        for i in self._shown_columns():
            column = COLUMNS[i]
            label = column.label + ((" ▼" if self.sort_reverse else " ▲") if i == self.sort_column else "")
            text = label.rjust(self._widths[i]) if column.align == "right" else label.ljust(self._widths[i])
            cells.append((text[: max(self._widths[i], len(label))], sorted_style if i == self.sort_column else header))
        return self._strip(cells, width, base, header)

    def _row_strip(self, row: TableRow, is_cursor: bool, width: int, base: Style) -> Strip:
        styles = self._styles
        row_style = base
        if row.status == RowStatus.RETIRED:
            row_style = base + styles.get("retired", Style())
        cursor = styles.get("cursor", Style()) if is_cursor else None
        cells = []
        for i in self._shown_columns():
            text = row.cells[i]
            if i in AIRFLOW_COLUMNS:
                cell = self.model.airflow_cell(row, i)
                text = cell.text if cell else ""
            name = self._cell_style(row, i)
            style = row_style + styles[name] if name else row_style
            if i == 0:
                style = style + styles.get("fixed", Style())
            if cursor is not None:
                style = style + (cursor if name in (None, "muted") else Style(bgcolor=cursor.bgcolor, bold=True))
            cells.append((self._cell(i, text), style))
        fill = (row_style + cursor) if cursor is not None else row_style
        return self._strip(cells, width, base, fill)
