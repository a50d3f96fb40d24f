"""DiffView: lines from :mod:`yellowtui.presenters.plan_view` (a plan entry, a JSON diff, a DAG
diff, a conflict) shown literally, each role in the theme's colours."""

from __future__ import annotations

from collections.abc import Iterable

from textual.content import Content
from textual.widgets import Static

from yellowtui.presenters.plan_view import Line, Role

#: How the dashboard styles each role (the command line has its own map, in yellowtui.cli.changes).
ROLE_STYLE: dict[Role, str] = {
    Role.PLAIN: "",
    Role.STRONG: "bold",
    Role.MUTED: "$text-muted",
    Role.CREATE: "$text-success bold",
    Role.CHANGE: "$text-warning bold",
    Role.REMOVE: "$text-error bold",
    Role.FAILS: "$text-error bold",
    Role.ADDED: "$text-success",
    Role.REMOVED: "$text-error",
    Role.CHANGED: "$text-warning",
    Role.PROBLEM: "$text-error bold",
    Role.WARNING: "$text-warning",
}


def line_content(line: Line) -> Content:
    """One presenter line as Content: the text as it is (never markup), styled by role.

    Args:
        line: A line from :mod:`yellowtui.presenters.plan_view`.

    Returns:
        The line, styled.
    """
    return Content.assemble(*((span.text, ROLE_STYLE[span.role]) for span in line))


def lines_content(lines: Iterable[Line]) -> Content:
    """Presenter lines as one Content, a line each.

    Args:
        lines: Lines from :mod:`yellowtui.presenters.plan_view`.

    Returns:
        The lines, styled and joined.
    """
    return Content("\n").join(line_content(line) for line in lines)


class DiffView(Static):
    """``show(lines, empty=...)``: the lines, or ``empty`` (muted) when there are none."""

    DEFAULT_CSS = """
    DiffView {
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
        self.lines: list[Line] = []

    def show(self, lines: Iterable[Line], *, empty: str | Content = "", intro: Content | None = None) -> None:
        """Show ``lines`` after ``intro``; with no lines, ``empty`` instead.

        Args:
            lines: The lines to show.
            empty: What to say when there are no lines (a ``str`` is shown muted).
            intro: A line above the others, or None.
        """
        self.lines = list(lines)
        parts: list[Content] = [intro] if intro is not None else []
        if self.lines:
            parts.append(lines_content(self.lines))
        elif empty:
            parts.append(empty if isinstance(empty, Content) else Content.styled(empty, "$text-muted italic"))
        self.update(Content("\n").join(parts))
