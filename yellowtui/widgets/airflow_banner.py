"""AirflowBanner: says plainly that Airflow does not answer, that the runs shown are the last
read, and that the dashboard keeps asking. Hidden while Airflow answers (or is not configured)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from yellowtui.access import YellowAccess
from yellowtui.presenters.runs import visible


class AirflowBanner(YellowAccess, Static):
    """A banner at the top of every screen while Airflow does not answer: since when, and why.

    It says when the runs shown were read and how often the dashboard asks again. Hidden while
    Airflow answers, or when it is not configured.
    """

    DEFAULT_CSS = """
    AirflowBanner {
        dock: top;
        display: none;
        height: auto;
        max-height: 3;
        background: $warning-muted;
        color: $text;
        padding: 0 1;
        border-left: thick $warning;
        &.-down { display: block; }
    }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "airflow_view", self._changed)

    def _changed(self, *_: object) -> None:
        app = self.yellow
        view = app.airflow_view
        down = view.configured and not view.online
        self.set_class(down, "-down")
        if not down:
            return
        since, read_at = view.down_since, view.refreshed_at
        self.update(
            Content.assemble(
                ("Airflow unreachable", "bold"),
                f" since {since:%H:%M:%S}" if since else "",
                ": ",
                (visible(view.reason) or "no answer", "italic"),
                "\n",
                f"Showing the runs read at {read_at:%H:%M:%S}" if read_at else "No runs read yet",
                f"; asking again every {app.airflow_interval:g} s.",
            )
        )
