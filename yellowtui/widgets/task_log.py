"""TaskLog: one task instance's log, shown literally (escape sequences and other control
characters written out, never interpreted), growing in place while the task runs."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from yellowtui.presenters.runs import visible_lines


class TaskLog(RichLog):
    DEFAULT_CSS = """
    TaskLog {
        background: $surface;
        scrollbar-gutter: stable;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(highlight=False, markup=False, wrap=True, auto_scroll=True, max_lines=20_000, id=id)
        #: Which log is shown (dag_id, run_id, task_id, try) and its lines so far.
        self.shown_key: tuple[str, str, str, int] | None = None
        self.shown_lines: list[str] = []

    def show(self, key: tuple[str, str, str, int], text: str) -> int:
        """Show the whole log text of ``key``; when it is the log already shown and it only
        grew, append the new lines (the view stays where the operator put it unless it
        follows the end). Returns how many lines were added."""
        lines = visible_lines(text)
        if key == self.shown_key and lines[: len(self.shown_lines)] == self.shown_lines:
            added = lines[len(self.shown_lines) :]
        else:
            self.clear()
            added = lines
        self.shown_key, self.shown_lines = key, lines
        for line in added:
            self.write(Text(line, no_wrap=False), scroll_end=None)
        return len(added)

    def show_note(self, note: str) -> None:
        """A line that is not from the log (nothing selected yet, no log yet)."""
        self.clear()
        self.shown_key, self.shown_lines = None, []
        self.write(Text(note, style="dim italic"))

    @property
    def text(self) -> str:
        return "\n".join(self.shown_lines)
