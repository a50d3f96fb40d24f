"""ErrorsScreen: why streams do not build, grouped by cause, newest first; Enter opens the stream.

Errors come from validation (the row as it is now) and from the factory's latest parse (the
outcome it recorded), computed from the rows the app already holds: no extra query. With Airflow
connected, its import errors of the factory files and its DAG warnings form their own group.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Static, Tree

from yellowtui.messages import StreamSelected
from yellowtui.presenters.airflow_problems import AirflowProblem, airflow_problems
from yellowtui.presenters.safe_text import visible
from yellowtui.presenters.stream_errors import StreamError, errors_of, group_errors
from yellowtui.screens.base import DashboardScreen
from yellowtui.state import RowSet
from yellowtui.widgets.content_tree import ContentTree


class ErrorsTree(ContentTree):
    """The tree of errors, its own class so that the screen's CSS and ``AUTO_FOCUS`` can name it."""

    DEFAULT_CSS = """
    ErrorsTree { height: 1fr; padding: 0 1; background: $surface; }
    """


class ErrorsScreen(DashboardScreen):
    """Why streams do not build, grouped by cause, newest first.

    The user sees a summary and a tree: one group per cause, one line per stream with the JSON
    path, the message and when it was recorded; with Airflow connected, a group of its import
    errors and DAG warnings for the factory's files. Enter opens the stream under the cursor, or
    expands or collapses a group; ``x`` expands or collapses them all, ``p`` cycles the platform.
    """

    CSS_PATH = "errors.tcss"
    AUTO_FOCUS = "ErrorsTree"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open stream", show=True),
        Binding("p", "app.cycle_platform", "Platform"),
        Binding("x", "toggle_all", "Expand/collapse"),
        Binding("r", "app.reload", "Reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[StreamError] = []
        self.airflow_problems: list[AirflowProblem] = []
        self._shown_for: tuple[RowSet, str | None] | None = None

    def compose(self) -> ComposeResult:
        yield from self.furniture_top()
        yield Static(id="errors-summary")
        tree = ErrorsTree("errors", id="errors-tree")
        tree.show_root = False
        yield tree
        yield from self.furniture_bottom()

    def on_mount(self) -> None:
        self.watch(self.app, "rows", self._refresh, init=False)
        self.watch(self.app, "platform", self._refresh, init=False)
        self.watch(self.app, "theme", self._theme_changed, init=False)
        self.watch(self.app, "airflow_view", self._airflow_changed, init=False)
        self._refresh()

    def _airflow_changed(self, *_: object) -> None:
        problems = self._airflow_problems()
        if problems != self.airflow_problems:
            self.airflow_problems = problems
            if self._shown_for is not None:
                self._fill()

    def _airflow_problems(self) -> list[AirflowProblem]:
        platform = self.yellow.platform
        found: list[AirflowProblem] = []
        for state in self.yellow.airflow_view.platforms:
            if platform is None or state.platform == platform:
                found += airflow_problems(state.platform, state.import_errors, state.dag_warnings)
        return found

    def _theme_changed(self, *_: object) -> None:
        """Tree labels are styled when added: redraw them in the new theme's colours."""
        if self._shown_for is not None:
            self._fill()

    def _refresh(self, *_: object) -> None:
        app = self.yellow
        rows, platform = app.rows, app.platform
        if rows.loading:
            return
        key = (rows, platform)  # a RowSet equals only itself: any new rows count as a change
        if key == self._shown_for:
            return
        self._shown_for = key
        self.errors = errors_of(v for v in rows.views if platform is None or v.platform == platform)
        self.airflow_problems = self._airflow_problems()
        self._fill()

    def _fill(self) -> None:
        tree = self.query_one(ErrorsTree)
        cursor = tree.cursor_node.data if tree.cursor_node is not None else None
        tree.clear()
        groups = group_errors(self.errors)
        streams = {(e.platform, e.stream_key) for e in self.errors}
        platform = self.yellow.platform or "all platforms"
        summary = Content.assemble(
            (f" {platform} ", "bold reverse $primary"),
            " ",
            (f"{len(self.errors)} error(s)", "bold $text-error" if self.errors else "bold $text-success"),
            f" in {len(streams)} stream(s), {len(groups)} cause(s) · newest first · Enter opens the stream",
        )
        if self.airflow_problems:
            summary = Content.assemble(
                summary, " · ", (f"Airflow: {len(self.airflow_problems)} problem(s)", "bold $text-warning")
            )
        self.query_one("#errors-summary", Static).update(summary)
        if self.airflow_problems:
            self._add_airflow_group(tree)
        if not self.errors:
            tree.root.add_leaf(
                tree.content_label(
                    Content.styled(
                        "No errors: every active row validates and built in the last parse.", "$text-success"
                    )
                )
            )
            return
        width = max(len(f"{e.platform}/{e.stream_key}") for e in self.errors)
        target = first = None
        for cause, items in groups.items():
            newest = items[0].recorded_at
            label = Content.assemble(
                (f"{len(items):>3} × ", "bold"),
                (visible(cause), "$text-error bold"),
                (f"   newest {newest:%Y-%m-%d %H:%M:%S}" if newest else "", "$text-muted"),
            )
            group = tree.root.add(tree.content_label(label), data=None, expand=True)
            for e in items:
                name = f"{e.platform}/{e.stream_key}"
                leaf = group.add_leaf(
                    tree.content_label(
                        Content.assemble(
                            (f"{name:<{width}}", "bold"),
                            "  ",
                            (f"{e.source:<10}", "$text-muted"),
                            " ",
                            (e.path, "$text-warning"),
                            "  ",
                            e.message,
                            (f"   {e.recorded_at:%m-%d %H:%M:%S}" if e.recorded_at else "", "$text-muted"),
                        )
                    ),
                    data=(e.platform, e.stream_key),
                )
                first = first or leaf
                if cursor == (e.platform, e.stream_key):
                    target = leaf
        tree.root.expand()
        # Start on the newest error's stream, or stay on the one the operator was on.
        self.call_after_refresh(tree.move_cursor, target or first)

    def _add_airflow_group(self, tree: ErrorsTree) -> None:
        """Airflow's import errors and DAG warnings for the factory files, beside the factory's own."""
        problems = self.airflow_problems
        label = Content.assemble(
            (f"{len(problems):>3} × ", "bold"),
            ("Airflow: import errors and DAG warnings of the factory's DAGs", "$text-warning bold"),
        )
        group = tree.root.add(tree.content_label(label), data=None, expand=True)
        for p in problems:
            node = group.add(
                tree.content_label(
                    Content.assemble(
                        (f"{p.platform}/{p.stream_key or p.subject}", "bold"),
                        "  ",
                        (f"{p.kind:<12}", "$text-muted"),
                        " ",
                        p.summary,
                        (f"   {p.at:%m-%d %H:%M:%S}" if p.at else "", "$text-muted"),
                    )
                ),
                data=(p.platform, p.stream_key) if p.stream_key else None,
                expand=False,
            )
            for line in p.detail:
                node.add_leaf(tree.content_label(Content.styled(line, "$text-muted")), data=None)

    def action_open(self) -> None:
        """Open the stream under the cursor; on a group, expand or collapse it instead."""
        tree = self.query_one(ErrorsTree)
        node = tree.cursor_node
        if node is None:
            return
        if node.data is None:
            node.toggle()
            return
        platform, key = node.data
        self.post_message(StreamSelected(platform, key))

    @on(Tree.NodeSelected)
    def _node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        if event.node.data is not None:
            platform, key = event.node.data
            self.post_message(StreamSelected(platform, key))

    def action_toggle_all(self) -> None:
        """Collapse every group when any is expanded, else expand them all."""
        tree = self.query_one(ErrorsTree)
        groups = list(tree.root.children)
        if any(g.is_expanded for g in groups):
            for g in groups:
                g.collapse()
        else:
            for g in groups:
                g.expand()

    @property
    def listed_streams(self) -> set[tuple[str, str]]:
        """The ``(platform, stream_key)`` of every stream listed with a factory error (Airflow's problems aside)."""
        return {(e.platform, e.stream_key) for e in self.errors}
