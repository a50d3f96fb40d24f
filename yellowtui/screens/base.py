"""What every dashboard screen shares: the database banner, the status bar, the footer, and
turning a failed worker into a notification a person can act on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import on
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from factory.errors import DatabaseUnavailable
from yellowtui.messages import DatabaseWentDown
from yellowtui.widgets.db_banner import DatabaseBanner
from yellowtui.widgets.status_bar import StatusBar


class DashboardScreen(Screen[Any]):
    """Base class: compose ``self.furniture_top()`` first and ``self.furniture_bottom()`` last."""

    def furniture_top(self):  # type: ignore[no-untyped-def]
        yield DatabaseBanner()

    def furniture_bottom(self):  # type: ignore[no-untyped-def]
        yield StatusBar()
        yield Footer(compact=True)

    @property
    def service(self) -> Any:
        return self.app.service  # type: ignore[attr-defined]

    def now(self) -> datetime:
        return self.app.now()  # type: ignore[attr-defined]

    def database_unavailable(self, exc: DatabaseUnavailable) -> None:
        """Call from a worker thread: tell the app the database is gone (it shows the banner)."""
        self.app.post_message(DatabaseWentDown(exc.reason, self.now()))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.app.report_worker_error(event.worker)  # type: ignore[attr-defined]
