"""ConfigEditor: a JSON code editor that marks the lines where the factory found problems."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import TextArea


class ConfigEditor(TextArea):
    """``TextArea.code_editor`` for a stream's config; ``mark(lines)`` tints those lines
    (0-based) the theme's error colour, so a problem is seen where it is while typing."""

    HELP = """
## Config editor

The stream's config_json. Every edit is validated and built by the factory a moment after you
stop typing; lines with a problem are tinted, and the Problems tab says why.
"""

    DEFAULT_CSS = """
    ConfigEditor {
        height: 1fr;
        border: none;
        padding: 0;
        &:focus {
            border: none;
        }
    }
    """

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        """Create the editor.

        Args:
            text: The text to start with.
            id: The ID of the widget in the DOM.
        """
        super().__init__(
            text,
            language="json",
            theme="css",
            soft_wrap=False,
            tab_behavior="indent",
            show_line_numbers=True,
            # The cursor line's highlight would paint over a problem's tint on that line.
            highlight_cursor_line=False,
            id=id,
        )
        self.indent_width = 2
        self.marked: frozenset[int] = frozenset()

    def mark(self, lines: set[int] | frozenset[int]) -> None:
        """Tint these lines in the theme's error colour; the lines marked before lose their tint.

        Args:
            lines: The lines with a problem, 0-based.
        """
        if frozenset(lines) != self.marked:
            self.marked = frozenset(lines)
            self.notify_style_update()
            self.refresh()

    def get_line(self, line_index: int) -> Text:
        """One line of the text, tinted when it is marked (the text area draws each line through here).

        Args:
            line_index: The line, 0-based.

        Returns:
            The line's text, styled.
        """
        line = super().get_line(line_index)
        if line_index in self.marked:
            line.stylize(Style(bgcolor=self._mark_colour()))
        return line

    def _mark_colour(self) -> str:
        """The theme's error colour blended a third of the way into the editor's background."""
        from textual.color import Color

        error = Color.parse(self.app.current_theme.error or "red")
        background = self.background_colors[1]
        return background.blend(error, 0.35).hex
