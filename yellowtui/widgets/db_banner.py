"""DatabaseBanner: says plainly that the database is gone, that the data shown is the last read,
and that the dashboard keeps retrying. Hidden while the database answers."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from yellowtui.access import YellowAccess
from yellowtui.presenters.safe_text import visible


class DatabaseBanner(YellowAccess, Static):
    """A banner at the top of every screen while the database does not answer: since when, and why.

    It says when the data shown was read and how often the dashboard retries. Hidden while the
    database answers.
    """

    DEFAULT_CSS = """
    DatabaseBanner {
        dock: top;
        display: none;
        height: auto;
        max-height: 3;
        background: $error-muted;
        color: $text;
        padding: 0 1;
        border-left: thick $error;
        &.-down { display: block; }
    }
    """

    def on_mount(self) -> None:
        for name in ("health", "rows"):
            self.watch(self.app, name, self._changed, init=False)
        self._changed()

    def _changed(self, *_: object) -> None:
        app = self.yellow
        health = app.health
        self.set_class(not health.online, "-down")
        if health.online:
            return
        since, loaded_at = health.down_since, app.rows.loaded_at
        text = Content.assemble(
            ("Database unreachable", "bold"),
            f" since {since:%H:%M:%S}" if since else "",
            ": ",
            (visible(health.reason or "no answer"), "italic"),
            "\n",
            f"Showing the last data read at {loaded_at:%H:%M:%S}" if loaded_at else "No data read yet",
            f"; retrying every {app.poll_interval:g} s.",
        )
        self.update(text)
