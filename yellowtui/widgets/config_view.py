"""ConfigView: a row's config_json, syntax-highlighted, with each problem marked on the line of
its JSON path (or of the nearest enclosing value when the field is missing)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.highlight import highlight
from textual.widgets import Static

from yellowtui.presenters.json_paths import ConfigText, config_lines, locate
from yellowtui.presenters.safe_text import visible

MARK = "▶"


@dataclass(frozen=True)
class MarkedProblem:
    """One problem of a config, on the line it is marked on.

    ``exact`` is False when the path does not exist in the config (a missing field): the problem
    is marked on the nearest enclosing value instead.
    """

    path: str
    message: str
    line: int  # 0-based index into the shown lines
    exact: bool


def mark_problems(text: ConfigText, problems: list[dict[str, str]]) -> list[MarkedProblem]:
    """Place each problem on the line of its JSON path.

    Args:
        text: The config as shown, line by line.
        problems: The problems, each with a ``path`` and a ``message``.

    Returns:
        The problems in the same order, each with its line.
    """
    marked = []
    for p in problems:
        line, exact = locate(text, p["path"])
        marked.append(MarkedProblem(p["path"], p["message"], line, exact))
    return marked


class ConfigView(Static):
    """Give it ``show(config_json, problems)``; it renders the annotated JSON."""

    HELP = """
## Config

The row's config_json. `▶` marks each problem on the line of its JSON path; a missing field
is marked on the object that lacks it.
"""

    DEFAULT_CSS = """
    ConfigView {
        width: auto;
        min-width: 100%;
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        """Create the view; it is empty until :meth:`show`.

        Args:
            id: The ID of the widget in the DOM.
            classes: The CSS classes of the widget.
        """
        super().__init__(id=id, classes=classes)
        self.text: ConfigText | None = None
        self.marked: list[MarkedProblem] = []

    def show(self, config_json: str, problems: list[dict[str, str]]) -> None:
        """Show a config with its problems marked.

        Args:
            config_json: The row's config, as stored.
            problems: The problems, each with a ``path`` and a ``message``.
        """
        self.text = config_lines(config_json)
        self.marked = mark_problems(self.text, problems)
        self.update(self.render_config())

    def render_config(self) -> Content:
        """The config as shown: line numbers, the JSON highlighted, each problem marked on its line.

        Call after :meth:`show`. Text that is not JSON is shown as it is.

        Returns:
            The lines, joined.
        """
        assert self.text is not None
        lines = self.text.lines
        code = "\n".join(visible(line.text, keep_tabs=True) for line in lines)
        highlighted = highlight(code, language="json") if self.text.is_json else Content(code)
        code_lines = highlighted.split("\n", allow_blank=True)
        by_line: dict[int, list[MarkedProblem]] = {}
        for m in self.marked:
            by_line.setdefault(m.line, []).append(m)
        gutter = len(str(len(lines)))
        out: list[Content] = []
        for i, line in enumerate(code_lines):
            flagged = by_line.get(i)
            number = Content.styled(f"{i + 1:>{gutter}} ", "$text-error bold" if flagged else "$text-muted")
            marker = Content.styled(f"{MARK} ", "$text-error bold") if flagged else Content("  ")
            body = line
            if flagged:
                body = body.stylize("on $error 20%")
                column = lines[i].error_column
                if column is not None and column < len(line.plain):
                    body = body.stylize("reverse $text-error", column, column + 1)
            row = Content.assemble(number, marker, body)
            if flagged:
                for m in flagged:
                    where = m.path if m.exact else f"{m.path} (absent)"
                    if not self.text.is_json:
                        where = m.path
                    row = Content.assemble(row, Content.styled(visible(f"  ◀ {where}: {m.message}"), "$text-error"))
            out.append(row)
        return Content("\n").join(out)
