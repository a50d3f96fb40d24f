"""What every dashboard screen shares: the database and Airflow banners, the status bar, the footer, the typed
way to the app, and turning a failed worker into a notification a person can act on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from textual import on
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from factory.errors import DatabaseUnavailable
from yellowtui.access import YellowAccess
from yellowtui.messages import DatabaseWentDown
from yellowtui.services.config_service import ConfigService
from yellowtui.widgets.airflow_banner import AirflowBanner
from yellowtui.widgets.db_banner import DatabaseBanner
from yellowtui.widgets.profile_bar import ProfileBar
from yellowtui.widgets.status_bar import StatusBar


class DashboardScreen(YellowAccess, Screen[Any]):
    """Base class: compose ``self.furniture_top()`` first and ``self.furniture_bottom()`` last."""

    def furniture_top(self) -> Iterator[Widget]:
        yield ProfileBar()
        yield DatabaseBanner()
        yield AirflowBanner()

    def furniture_bottom(self) -> Iterator[Widget]:
        yield StatusBar()
        yield Footer(compact=True)

    @property
    def service(self) -> ConfigService:
        return self.yellow.service

    def now(self) -> datetime:
        return self.yellow.now()

    def database_unavailable(self, exc: DatabaseUnavailable) -> None:
        """Call from a worker thread: tell the app the database is gone (it shows the banner)."""
        self.app.post_message(DatabaseWentDown(exc.reason, self.now()))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.yellow.report_worker_error(event.worker)
