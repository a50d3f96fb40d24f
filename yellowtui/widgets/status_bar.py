"""StatusBar: which database the dashboard reads (never its password), and how fresh the data is."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from yellowtui.access import YellowAccess
from yellowtui.presenters.safe_text import visible


class StatusBar(YellowAccess, Static):
    """One line at the bottom of every screen. Watches the app's connection and data state."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text-muted;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def on_mount(self) -> None:
        for name in ("health", "rows", "platform", "platforms", "pending"):
            self.watch(self.app, name, self._changed, init=False)
        self._changed()

    def _changed(self, *_: object) -> None:
        self.update(self.describe())

    def describe(self) -> Content:
        """What the bar says, from the app's state.

        Connected or since when not, the staged changes, the database, how many platforms, how
        fresh the rows are, and the platform shown.

        Returns:
            The bar's text.
        """
        app = self.yellow
        health, rows = app.health, app.rows
        if health.online:
            state = Content.styled("● connected", "$text-success")
        else:
            since = health.down_since
            state = Content.styled(
                f"○ unreachable since {since:%H:%M:%S}" if since else "○ unreachable", "$text-error bold"
            )
        if rows.loading:
            fresh = f"loading… {len(rows):,} rows so far"
        elif rows.loaded_at is not None:
            fresh = f"{len(rows):,} rows read {rows.loaded_at:%H:%M:%S}"
        else:
            fresh = "no data yet"
        parts = [
            state,
            Content(visible(app.display_label)),
            Content(f"{len(app.platforms)} platform(s)"),
            Content(fresh),
            Content(app.platform or "all platforms"),
        ]
        if app.pending:
            parts.insert(1, Content.styled(app.pending_hint(), "bold $text-warning"))
        return Content("  ·  ").join(parts)
