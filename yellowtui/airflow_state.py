"""What the dashboard knows about Airflow, as one immutable value (``YellowApp.airflow_view``).

One refresh of every platform's :class:`PlatformRunState`, whether Airflow answered the last
time it was asked (and if not, since when and why), and the streams table's Airflow column
computed once per refresh. The app replaces the value whole; screens and widgets watch
``airflow_view`` and read typed fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from yellowtui.presenters.runs import NOT_IN_AIRFLOW_CELL, STALE_CELL, AirflowCell, airflow_cell
from yellowtui.services.live_state import StreamLive, live_cell
from yellowtui.services.run_state import STALE_IN_AIRFLOW, PlatformRunState

_EMPTY: Mapping[tuple[str, str], AirflowCell] = MappingProxyType({})


@dataclass(frozen=True, slots=True, eq=False)
class AirflowView:
    """Airflow as the dashboard last saw it.

    ``configured`` is False when the dashboard was started without an Airflow (no ``--airflow``
    and no ``AIRFLOW_API_URL``): every Airflow cell is then blank and the runs screen says how
    to connect. ``platforms`` keeps the last refresh while Airflow is down.
    """

    configured: bool = False
    url: str = ""
    read_only: bool = False
    online: bool = True
    reason: str = ""
    down_since: datetime | None = None
    refreshed_at: datetime | None = None
    platforms: tuple[PlatformRunState, ...] = ()
    cells: Mapping[tuple[str, str], AirflowCell] = field(default_factory=lambda: _EMPTY)
    #: The Live column: each row's live status (does Airflow serve its current config?).
    live_cells: Mapping[tuple[str, str], AirflowCell] = field(default_factory=lambda: _EMPTY)

    def for_platform(self, platform: str | None) -> PlatformRunState | None:
        for state in self.platforms:
            if state.platform == platform:
                return state
        return None

    def unexplained_count(self, platform: str | None) -> int:
        """DAGs Airflow lists that no active row explains (every platform when None)."""
        return sum(len(s.unexplained) for s in self.platforms if platform is None or s.platform == platform)

    def refreshed(self, states: tuple[PlatformRunState, ...], at: datetime) -> AirflowView:
        return replace(
            self,
            online=True,
            reason="",
            down_since=None,
            refreshed_at=at,
            platforms=states,
            cells=airflow_cells(states),
            live_cells=live_cells(states),
        )

    def live_of(self, platform: str, stream_key: str) -> StreamLive | None:
        """One stream's live status as of the last refresh (None: Airflow never answered)."""
        state = self.for_platform(platform)
        if state is None:
            return None
        return next((s for s in state.live if s.stream_key == stream_key), None)

    def went_down(self, reason: str, at: datetime) -> AirflowView:
        return replace(self, online=False, reason=reason, down_since=self.down_since if not self.online else at)


def airflow_cells(states: tuple[PlatformRunState, ...]) -> Mapping[tuple[str, str], AirflowCell]:
    """The streams table's Airflow column: each row's last run, or why it has no DAG there."""
    cells: dict[tuple[str, str], AirflowCell] = {}
    for state in states:
        for dag in state.dags:
            if dag.stream_key is None:
                continue
            last = dag.last_run
            cells[(state.platform, dag.stream_key)] = airflow_cell(
                last.state if last else None, last is not None, dag.is_paused
            )
        for missing in state.not_in_airflow:
            cells[(state.platform, missing.stream_key)] = (
                STALE_CELL if missing.note == STALE_IN_AIRFLOW else NOT_IN_AIRFLOW_CELL
            )
    return MappingProxyType(cells)


def live_cells(states: tuple[PlatformRunState, ...]) -> Mapping[tuple[str, str], AirflowCell]:
    """The streams table's Live column: each row's live status."""
    return MappingProxyType({(state.platform, s.stream_key): live_cell(s) for state in states for s in state.live})


NOT_CONFIGURED = AirflowView()
