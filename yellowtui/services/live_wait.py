"""Read a platform's live statuses, and wait until the changed streams have settled.

:func:`read_live` is one look: the rows (config database) and one list of the platform's DAGs
(Airflow, its pages only), set against each other by :mod:`yellowtui.services.live_state`; the
history of a failed row is read only for that row, to say when its last good config was written.

:func:`wait_live` looks again every ``interval_s`` until every stream asked for is settled (live,
failed to build, or gone from Airflow as asked) or ``timeout_s`` has passed, like
``argocd app wait``. Airflow that stops answering ends the wait at once with the reason: a wait
must not hang a pipeline, and the caller maps it to its exit code.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from factory.errors import AirflowError
from factory.names import platform_slug
from factory.split import Layout
from yellowtui.services.airflow.service import AirflowService
from yellowtui.services.config_service import ConfigService
from yellowtui.services.live_state import LiveStatus, PlatformLive, live_statuses, unknown_statuses


def read_live(
    config: ConfigService,
    airflow: AirflowService | None,
    platform: str,
    keys: Iterable[str] | None = None,
    *,
    runs: bool = True,
) -> PlatformLive:
    """The live status of the platform's streams (or of ``keys``) now. Airflow not configured or
    not answering gives every stream ``unknown`` with the reason (never raises for Airflow);
    database errors are raised. ``runs`` also reads the recent runs (the health axis)."""
    slug = platform_slug(platform)
    views = config.streams(slug)
    keys = None if keys is None else sorted(set(keys))
    if airflow is None:
        return unknown_statuses(
            slug, views, "no Airflow configured: pass --airflow URL or set AIRFLOW_API_URL", keys=keys
        )
    before = airflow.requests
    try:
        dags = airflow.list_dags(slug) if runs else airflow.dags(f"{slug}__")
    except AirflowError as exc:
        return unknown_statuses(slug, views, str(exc), keys=keys, airflow_url=airflow.display_url)
    if not runs:
        from dataclasses import replace

        from factory.names import stream_key_from_dag_id

        dags = [replace(d, stream_key=stream_key_from_dag_id(slug, d.dag_id)) for d in dags]
    found = live_statuses(slug, views, dags, keys=keys, airflow_url=airflow.display_url)
    failed = [s.stream_key for s in found.streams if s.status is LiveStatus.FAILED and s.served]
    if failed:
        history = {k: config.history(slug, k, limit=50) for k in failed}
        found = live_statuses(slug, views, dags, keys=keys, history=history, airflow_url=airflow.display_url)
    return PlatformLive(
        found.platform, found.checked_at, found.streams, found.airflow_url, requests=airflow.requests - before
    )


#: Airflow's ``[dag_processor] stale_dag_threshold`` default (airflow/config_templates/config.yml).
DEFAULT_STALE_DAG_THRESHOLD_S = 50.0
STALE_DAG_THRESHOLD_ENV = "AIRFLOW__DAG_PROCESSOR__STALE_DAG_THRESHOLD"


def stale_dag_threshold_s(environ: dict[str, str] | None = None) -> float:
    """The Airflow setting that says when a dropped DAG is deactivated, from the variable Airflow
    itself reads (set it where ``yellowtui`` runs if your Airflow changes it), else its default."""
    raw = (os.environ if environ is None else environ).get(STALE_DAG_THRESHOLD_ENV, "")
    try:
        return float(raw) if raw.strip() else DEFAULT_STALE_DAG_THRESHOLD_S
    except ValueError:
        return DEFAULT_STALE_DAG_THRESHOLD_S


class ParseAgain:
    """Ask again for a parse of a file whose parse ended without the change.

    Airflow's DAG processor drops a requested file that is being parsed at that moment
    (``DagFileProcessorManager._start_new_processes`` skips a file already in ``_processors``,
    airflow/dag_processing/manager.py), and a parse that started before the commit read the old
    row: either way the change would wait for the next scheduled parse. So when a pending
    stream's DAG shows a parse newer than the last one seen and is still pending, the request is
    sent again (once per such parse).

    A retired or deleted stream's DAG is deactivated only by a parse of its file that ends more
    than ``stale_dag_threshold`` after the DAG's own last parse
    (``DagFileProcessorManager.deactivate_stale_dags``, same file): the parse that first left it
    out is usually too soon. So once a stream still in Airflow has not been parsed for that long,
    one more parse is asked for; otherwise it would wait for the next scheduled parse, which at
    scale is minutes away (``min_file_process_interval``)."""

    def __init__(
        self,
        service: AirflowService,
        platform: str,
        layout: Layout | None = None,
        *,
        stale_after_s: float | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.service, self.platform, self.layout = service, platform, layout
        self.stale_after_s = stale_dag_threshold_s() if stale_after_s is None else stale_after_s
        self.clock = clock
        self.seen: dict[str, datetime] = {}
        self.dropped: set[tuple[str, datetime]] = set()
        self.sent = 0

    def __call__(self, state: PlatformLive) -> None:
        again = [*self._pending_again(state), *self._dropped_now_stale(state)]
        if again:
            from yellowtui.services.parse_request import request_parses

            self.sent += sum(
                1 for f in request_parses(self.service, self.platform, again, layout=self.layout).files if f.sent
            )

    def _pending_again(self, state: PlatformLive) -> list[str]:
        again = []
        for s in state.streams:
            if s.status is not LiveStatus.PENDING or s.parsed_at is None:
                continue
            before = self.seen.setdefault(s.stream_key, s.parsed_at)
            if s.parsed_at > before:
                self.seen[s.stream_key] = s.parsed_at
                again.append(s.stream_key)
        return again

    def _dropped_now_stale(self, state: PlatformLive) -> list[str]:
        """Streams still in Airflow whose DAG's last parse is past the threshold: once each."""
        now = self.clock()
        again = []
        for s in state.streams:
            if s.status is not LiveStatus.STILL_IN_AIRFLOW or s.parsed_at is None:
                continue
            if (now - s.parsed_at).total_seconds() > self.stale_after_s and (
                s.stream_key,
                s.parsed_at,
            ) not in self.dropped:
                self.dropped.add((s.stream_key, s.parsed_at))
                again.append(s.stream_key)
        return again


@dataclass(frozen=True)
class WaitResult:
    """How a wait ended: the last look, whether time ran out, and how long it took."""

    state: PlatformLive
    timed_out: bool
    elapsed_s: float
    looks: int

    @property
    def unreachable(self) -> bool:
        return bool(self.state.reason)

    @property
    def failed(self) -> list[str]:
        return [s.stream_key for s in self.state.streams if s.status is LiveStatus.FAILED]

    @property
    def pending(self) -> list[str]:
        return [s.stream_key for s in self.state.streams if not s.settled]


def wait_live(
    look: Callable[[], PlatformLive],
    *,
    timeout_s: float,
    interval_s: float = 0.5,
    progress: Callable[[PlatformLive, float], None] | None = None,
    after_look: Callable[[PlatformLive], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WaitResult:
    """Call ``look`` until its streams are all settled, it reports Airflow unreachable (a
    ``reason``), or ``timeout_s`` has passed; ``progress`` sees every look."""
    started = clock()
    looks = 0
    while True:
        state = look()
        looks += 1
        elapsed = clock() - started
        if progress is not None:
            progress(state, elapsed)
        if state.reason or state.settled:
            return WaitResult(state, False, elapsed, looks)
        if after_look is not None:
            after_look(state)
        if elapsed >= timeout_s:
            return WaitResult(state, True, elapsed, looks)
        sleep(min(interval_s, max(0.0, timeout_s - elapsed)))
