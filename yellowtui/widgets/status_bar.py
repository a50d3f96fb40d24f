"""StatusBar: which database the dashboard reads (never its password), and how fresh the data is."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class StatusBar(Static):
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
        for name in ("db_online", "rows_version", "rows_loading", "platform", "loaded_at"):
            self.watch(self.app, name, self._changed, init=False)
        self._changed()

    def _changed(self, *_: object) -> None:
        self.update(self.describe())

    def describe(self) -> Content:
        app = self.app
        online = getattr(app, "db_online", True)
        url = getattr(app, "display_label", "")
        rows = len(getattr(app, "views", []))
        platforms = getattr(app, "platforms", ())
        loaded_at = getattr(app, "loaded_at", None)
        platform = getattr(app, "platform", None) or "all platforms"
        if online:
            state = Content.styled("● connected", "$text-success")
        else:
            since = getattr(app, "db_down_since", None)
            state = Content.styled(
                f"○ unreachable since {since:%H:%M:%S}" if since else "○ unreachable", "$text-error bold"
            )
        if getattr(app, "rows_loading", False):
            fresh = f"loading… {rows:,} rows so far"
        elif loaded_at is not None:
            fresh = f"{rows:,} rows read {loaded_at:%H:%M:%S}"
        else:
            fresh = "no data yet"
        parts = [state, Content(url), Content(f"{len(platforms)} platform(s)"), Content(fresh), Content(platform)]
        return Content("  ·  ").join(parts)
