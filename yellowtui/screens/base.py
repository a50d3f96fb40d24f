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
    """Base of the dashboard's full screens: the same banners and bars around each one.

    Subclasses yield ``self.furniture_top()`` first and ``self.furniture_bottom()`` last in
    ``compose``. A worker that fails shows as an error notification instead of ending the app
    (the screens' workers run with ``exit_on_error=False``).
    """

    def furniture_top(self) -> Iterator[Widget]:
        """The widgets above every screen's own: the profile bar, the database and Airflow banners.

        Each of them hides itself while it has nothing to say.

        Yields:
            The widgets, for ``yield from`` at the start of ``compose``.
        """
        yield ProfileBar()
        yield DatabaseBanner()
        yield AirflowBanner()

    def furniture_bottom(self) -> Iterator[Widget]:
        """The widgets below every screen's own: the status bar and the footer of keys.

        Yields:
            The widgets, for ``yield from`` at the end of ``compose``.
        """
        yield StatusBar()
        yield Footer(compact=True)

    @property
    def service(self) -> ConfigService:
        """The app's :class:`ConfigService`: what the screens' workers read the database with."""
        return self.yellow.service

    def now(self) -> datetime:
        """The time by the app's clock, which snapshots fix so that the times shown stay the same.

        Returns:
            The current time.
        """
        return self.yellow.now()

    def database_unavailable(self, exc: DatabaseUnavailable) -> None:
        """Tell the app the database is gone; call from a worker thread. The app shows the banner.

        Args:
            exc: The failure, whose reason the banner shows.
        """
        self.app.post_message(DatabaseWentDown(exc.reason, self.now()))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.yellow.report_worker_error(event.worker)
