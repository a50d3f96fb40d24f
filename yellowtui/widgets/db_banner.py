"""DatabaseBanner: says plainly that the database is gone, that the data shown is the last read,
and that the dashboard keeps retrying. Hidden while the database answers."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class DatabaseBanner(Static):
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
        for name in ("db_online", "db_reason", "loaded_at"):
            self.watch(self.app, name, self._changed, init=False)
        self._changed()

    def _changed(self, *_: object) -> None:
        app = self.app
        down = not getattr(app, "db_online", True)
        self.set_class(down, "-down")
        if not down:
            return
        since = getattr(app, "db_down_since", None)
        loaded_at = getattr(app, "loaded_at", None)
        interval = getattr(app, "poll_interval", 2.0)
        text = Content.assemble(
            ("Database unreachable", "bold"),
            f" since {since:%H:%M:%S}" if since else "",
            ": ",
            (getattr(app, "db_reason", "") or "no answer", "italic"),
            "\n",
            f"Showing the last data read at {loaded_at:%H:%M:%S}" if loaded_at else "No data read yet",
            f"; retrying every {interval:g} s.",
        )
        self.update(text)
