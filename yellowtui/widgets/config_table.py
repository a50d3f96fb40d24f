"""ConfigTable: every config row of every platform in one virtual table, smooth at 10,000 rows.

Textual's DataTable measures and stores every cell of every row as it is added, which here
costs about 2 s for 10,000 rows and about 0.9 s per re-filter (see docs/benchmarks.md). This
widget draws only the lines on screen (the Line API): rows are plain tuples prepared off the UI
thread by :func:`prepare_rows`, filtering is a substring test over one pre-lowered string per
row (and only over the rows already shown when the filter only grew), and sorting is one
``list.sort`` over pre-computed keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from yellowtui.messages import StreamSelected

GAP = 2
STATUS_FILTERS = ("all", "active", "paused", "retired", "invalid", "failing")
_MIN_DATE = datetime.min


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    align: str = "left"
    #: Other names accepted in ``name:value`` filter terms.
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("stream", "Stream", 24, aliases=("key",)),
    Column("platform", "Platform", 14),
    Column("status", "Status", 7),
    Column("valid", "Valid", 5),
    Column("type", "Type", 13, aliases=("ingestion",)),
    Column("schedule", "Schedule", 13),
    Column("datasets", "DS", 3, "right", aliases=("ds",)),
    Column("build", "Build", 5, aliases=("outcome",)),
    Column("build_ms", "ms", 6, "right", aliases=("ms",)),
    Column("built", "Built", 11),
    Column("updated", "Updated", 11),
)
COLUMN_INDEX = {name: i for i, c in enumerate(COLUMNS) for name in (c.key, *c.aliases)}
MAX_KEY_WIDTH = 40


@dataclass(frozen=True, slots=True)
class TableRow:
    """One config row ready to draw, filter and sort. Built off the UI thread."""

    platform: str
    stream_key: str
    status: str
    valid: bool
    outcome: str | None
    cells: tuple[str, ...]
    lowered: tuple[str, ...]
    haystack: str
    sort_keys: tuple[Any, ...]


def _fmt_time(value: datetime | None, fmt: str) -> str:
    return value.strftime(fmt) if value else "—"


def prepare_row(view: Any) -> TableRow:
    """A :class:`factory.views.StreamView` as a :class:`TableRow`. Pure: safe in a worker thread."""
    problems = len(view.problems)
    cells = (
        view.stream_key,
        view.platform,
        view.status,
        "✓" if view.valid else f"✗ {problems}",
        view.ingestion_type or "?",
        view.schedule if view.schedule else ("manual" if view.valid else "?"),
        str(view.dataset_count) if view.dataset_count is not None else "?",
        view.last_outcome or "—",
        f"{view.last_build_ms:.2f}" if view.last_build_ms is not None and view.last_outcome != "error" else "—",
        _fmt_time(view.last_recorded_at, "%m-%d %H:%M"),
        _fmt_time(view.updated_at, "%m-%d %H:%M"),
    )
    lowered = tuple(c.lower() for c in cells)
    lowered = (*lowered[:3], "valid ✓" if view.valid else f"invalid ✗ {problems}", *lowered[4:])
    sort_keys = (
        lowered[0],
        view.platform,
        view.status,
        (view.valid, -problems),
        lowered[4],
        lowered[5],
        view.dataset_count if view.dataset_count is not None else -1,
        view.last_outcome or "",
        view.last_build_ms if view.last_build_ms is not None else -1.0,
        view.last_recorded_at or _MIN_DATE,
        view.updated_at or _MIN_DATE,
    )
    return TableRow(
        view.platform,
        view.stream_key,
        view.status,
        view.valid,
        view.last_outcome,
        cells,
        lowered,
        "\x1f".join(lowered),
        sort_keys,
    )


def prepare_rows(views: Iterable[Any]) -> list[TableRow]:
    return [prepare_row(v) for v in views]


@dataclass(frozen=True)
class Term:
    needle: str
    column: int | None = None

    def narrows(self, other: Term) -> bool:
        """True when every row matching ``other`` also matches ``self`` (self is weaker)."""
        return self.column == other.column and self.needle in other.needle


def parse_filter(text: str) -> list[Term]:
    """``"cdc orders"`` -> two terms, all must match somewhere; ``"status:paused"`` matches one column."""
    terms = []
    for word in text.lower().split():
        name, sep, value = word.partition(":")
        if sep and name in COLUMN_INDEX:
            if value:
                terms.append(Term(value, COLUMN_INDEX[name]))
            continue  # "status:" alone: still typing, matches everything
        terms.append(Term(word))
    return terms


def row_matches(row: TableRow, terms: list[Term]) -> bool:
    for term in terms:
        if term.column is None:
            if term.needle not in row.haystack:
                return False
        elif term.needle not in row.lowered[term.column]:
            return False
    return True


def status_matches(row: TableRow, status: str) -> bool:
    if status == "all":
        return True
    if status == "invalid":
        return not row.valid
    if status == "failing":
        return not row.valid or (row.outcome not in (None, "ok"))
    return row.status == status


@dataclass(frozen=True)
class Counts:
    total: int = 0
    active: int = 0
    paused: int = 0
    retired: int = 0
    invalid: int = 0
    failing: int = 0


class ConfigTable(ScrollView, can_focus=True):
    """Config rows: ``/`` filters, ``s`` sorts, Enter opens. The Stream column stays put when
    the others scroll sideways."""

    HELP = """
## Config rows

Every row of every platform. Type `/` to filter (every word must match a column;
`status:paused`, `type:cdc`, `build:error` match one column), `f` cycles the status filter,
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
    }
    """

    class ViewChanged(Message):
        """The rows shown changed (data, filter, sort or platform)."""

        def __init__(self, table: ConfigTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> ConfigTable:
            return self.table

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._rows: list[TableRow] = []
        self._visible: list[TableRow] = []
        self._generation = -1
        self._terms: list[Term] = []
        self.filter_text = ""
        self.status_filter = "all"
        self.platform_filter: str | None = None
        self.sort_column = 0
        self.sort_reverse = False
        self.cursor = 0
        #: Until the operator moves the cursor, it stays on the first row while rows stream in.
        self.cursor_moved = False
        self.counts = Counts()
        self._widths = [c.width for c in COLUMNS]
        self._styles: dict[str, Style] = {}

    # ---- data ---------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def shown_count(self) -> int:
        return len(self._visible)

    @property
    def visible_rows(self) -> list[TableRow]:
        return self._visible

    def _anchor(self) -> TableRow | None:
        """The row the cursor should stay on through a change: the current one, once moved."""
        return self.current_row if self.cursor_moved else None

    @property
    def current_row(self) -> TableRow | None:
        return self._visible[self.cursor] if 0 <= self.cursor < len(self._visible) else None

    def sync(self, rows: list[TableRow], generation: int) -> None:
        """Show ``rows``. Same generation as last time: only the rows past the ones already
        held are new (a load still streaming in); another generation replaces everything."""
        current = self._anchor()
        if generation != self._generation:
            self._generation = generation
            self._rows = list(rows)
        else:
            new = rows[len(self._rows) :]
            if not new:
                return
            self._rows.extend(new)
        self._update_widths(rows)
        self._resort()
        self._recount()
        self._refilter(keep=current)

    def _update_widths(self, rows: list[TableRow]) -> None:
        longest = max((len(r.stream_key) for r in rows), default=0)
        self._widths[0] = max(COLUMNS[0].width, min(MAX_KEY_WIDTH, longest))
        longest_platform = max((len(r.platform) for r in rows), default=0)
        self._widths[1] = max(len(COLUMNS[1].label), min(24, longest_platform))

    def _sort_key(self, row: TableRow) -> tuple[Any, ...]:
        return (row.sort_keys[self.sort_column], row.platform, row.sort_keys[0])

    def _resort(self) -> None:
        self._rows.sort(key=self._sort_key, reverse=self.sort_reverse)

    def _scoped(self, row: TableRow) -> bool:
        return self.platform_filter is None or row.platform == self.platform_filter

    def _recount(self) -> None:
        active = paused = retired = invalid = failing = total = 0
        for row in self._rows:
            if not self._scoped(row):
                continue
            total += 1
            if row.status == "active":
                active += 1
            elif row.status == "paused":
                paused += 1
            elif row.status == "retired":
                retired += 1
            if not row.valid:
                invalid += 1
            if not row.valid or row.outcome not in (None, "ok"):
                failing += 1
        self.counts = Counts(total, active, paused, retired, invalid, failing)

    def _refilter(self, keep: TableRow | None = None, source: list[TableRow] | None = None) -> None:
        terms, status, platform = self._terms, self.status_filter, self.platform_filter
        rows = self._rows if source is None else source
        if not terms and status == "all" and platform is None:
            visible = list(rows)
        else:
            visible = [
                r
                for r in rows
                if (platform is None or r.platform == platform)
                and (status == "all" or status_matches(r, status))
                and (not terms or row_matches(r, terms))
            ]
        self._visible = visible
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
        width = sum(self._widths) + GAP * (len(self._widths) - 1) + 1
        self.virtual_size = Size(width, len(self._visible) + 1)

    # ---- filter, sort, scope -------------------------------------------------------------------

    def set_filter(self, text: str) -> None:
        terms = parse_filter(text)
        old = self._terms
        self.filter_text = text
        if terms == old:
            return
        self._terms = terms
        # Typing more only ever narrows: re-test only the rows shown now.
        grew = len(terms) >= len(old) and all(a.narrows(b) for a, b in zip(old, terms, strict=False))
        self._refilter(keep=self._anchor(), source=self._visible if grew else None)

    def set_status_filter(self, status: str) -> None:
        if status not in STATUS_FILTERS:
            raise ValueError(f"status filter must be one of {', '.join(STATUS_FILTERS)}")
        self.status_filter = status
        self._refilter(keep=self._anchor())

    def cycle_status_filter(self) -> str:
        index = STATUS_FILTERS.index(self.status_filter)
        self.set_status_filter(STATUS_FILTERS[(index + 1) % len(STATUS_FILTERS)])
        return self.status_filter

    def set_platform(self, platform: str | None) -> None:
        self.platform_filter = platform
        self._recount()
        self._refilter(keep=self._anchor())

    def sort_by(self, column: int | str, reverse: bool | None = None) -> None:
        index = COLUMN_INDEX[column] if isinstance(column, str) else column
        if reverse is None:
            reverse = (not self.sort_reverse) if index == self.sort_column else False
        current = self._anchor()
        self.sort_column, self.sort_reverse = index, reverse
        self._resort()
        self._refilter(keep=current)

    @property
    def sort_label(self) -> str:
        return f"{COLUMNS[self.sort_column].label} {'▼' if self.sort_reverse else '▲'}"

    def select_stream(self, platform: str, stream_key: str) -> bool:
        """Move the cursor to a stream if it is shown."""
        for i, row in enumerate(self._visible):
            if row.platform == platform and row.stream_key == stream_key:
                self.cursor, self.cursor_moved = i, True
                self._scroll_cursor_into_view()
                self.refresh()
                return True
        return False

    # ---- actions ------------------------------------------------------------------------------

    def _move(self, to: int) -> None:
        if not self._visible:
            return
        self.cursor_moved = True
        self.cursor = max(0, min(len(self._visible) - 1, to))
        self._scroll_cursor_into_view()
        self.refresh()

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_page_up(self) -> None:
        self._move(self.cursor - max(1, self.size.height - 2))

    def action_page_down(self) -> None:
        self._move(self.cursor + max(1, self.size.height - 2))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(len(self._visible) - 1)

    def action_scroll_cols(self, delta: int) -> None:
        self.scroll_to(x=max(0, self.scroll_x + delta), animate=False)

    def action_select(self) -> None:
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
        for i in range(1, len(COLUMNS)):
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

    def render_lines(self, crop):  # type: ignore[no-untyped-def]
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
            return {"paused": "paused", "retired": "retired"}.get(row.status)
        if key == "valid":
            return None if row.valid else "invalid"
        if key == "build":
            return {"ok": "ok", "stale": "stale", "error": "error"}.get(row.outcome or "", "muted")
        if key in ("built", "updated", "build_ms", "platform"):
            return "muted"
        return None

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        base = self.rich_style
        if y == 0:
            return self._header_strip(width, base)
        index = int(self.scroll_y) + y - 1
        if index >= len(self._visible):
            return Strip.blank(width, base)
        return self._row_strip(self._visible[index], index == self.cursor, width, base)

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
        for i, column in enumerate(COLUMNS):
            label = column.label + ((" ▼" if self.sort_reverse else " ▲") if i == self.sort_column else "")
            text = label.rjust(self._widths[i]) if column.align == "right" else label.ljust(self._widths[i])
            cells.append((text[: max(self._widths[i], len(label))], sorted_style if i == self.sort_column else header))
        return self._strip(cells, width, base, header)

    def _row_strip(self, row: TableRow, is_cursor: bool, width: int, base: Style) -> Strip:
        styles = self._styles
        row_style = base
        if row.status == "retired":
            row_style = base + styles.get("retired", Style())
        cursor = styles.get("cursor", Style()) if is_cursor else None
        cells = []
        for i, text in enumerate(row.cells):
            name = self._cell_style(row, i)
            style = row_style + styles[name] if name else row_style
            if i == 0:
                style = style + styles.get("fixed", Style())
            if cursor is not None:
                style = style + (cursor if name in (None, "muted") else Style(bgcolor=cursor.bgcolor, bold=True))
            cells.append((self._cell(i, text), style))
        fill = (row_style + cursor) if cursor is not None else row_style
        return self._strip(cells, width, base, fill)
