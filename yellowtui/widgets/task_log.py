"""TaskLog: one task instance's log, shown literally (escape sequences and other control
characters written out, never interpreted), growing in place while the task runs."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import RichLog

from yellowtui.presenters.runs import split_log_stamp, visible_lines


class TaskLog(RichLog):
    """One task instance's log, shown literally, that grows in place while the task runs.

    Lines wrap at the pane's width; their timestamps are dimmed.
    """

    DEFAULT_CSS = """
    TaskLog {
        background: $surface;
        scrollbar-gutter: stable;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        """Create the log view.

        Args:
            id: The ID of the widget in the DOM.
        """
        # min_width: lines wrap at the pane's width, not at RichLog's default of 78 columns.
        super().__init__(
            highlight=False, markup=False, wrap=True, auto_scroll=True, max_lines=20_000, min_width=20, id=id
        )
        #: Which log is shown (dag_id, run_id, task_id, try) and its lines so far.
        self.shown_key: tuple[str, str, str, int] | None = None
        self.shown_lines: list[str] = []

    def show(self, key: tuple[str, str, str, int], text: str) -> int:
        """Show the whole log text of ``key``.

        When it is the log shown already and it only grew, the new lines are appended, so the view
        stays where the operator put it unless it follows the end.

        Args:
            key: Which log: ``(dag_id, run_id, task_id, try_number)``.
            text: The whole log as read now.

        Returns:
            How many lines were added.
        """
        lines = visible_lines(text)
        if key == self.shown_key and lines[: len(self.shown_lines)] == self.shown_lines:
            added = lines[len(self.shown_lines) :]
        else:
            self.clear()
            added = lines
        self.shown_key, self.shown_lines = key, lines
        for line in added:
            self._write_line(line)
        return len(added)

    def _write_line(self, line: str) -> None:
        stamp, rest = split_log_stamp(line)
        text = Text.assemble((stamp + " ", "dim"), rest) if stamp else Text(rest)
        self.write(text, scroll_end=None)

    def on_resize(self, event: events.Resize) -> None:
        """Wrap the lines again at the new width (RichLog keeps them as first wrapped)."""
        if self.shown_lines and event.size.width != event.virtual_size.width:
            self.clear()
            for line in self.shown_lines:
                self._write_line(line)

    def show_note(self, note: str) -> None:
        """Show a line that is not from the log (nothing selected yet, no log yet) in place of the log.

        Args:
            note: The line.
        """
        self.clear()
        self.shown_key, self.shown_lines = None, []
        self.write(Text(note, style="dim italic"))

    @property
    def text(self) -> str:
        """The log shown, as one string; empty while a note is shown."""
        return "\n".join(self.shown_lines)
