"""Is each stream's change live? The sync axis of a platform's streams, beside the health axis.

For every stream of a platform, set the row (its intent and the fingerprint of the DAG its
config builds, :mod:`factory.fingerprint`) against the DAG Airflow serves (the fingerprint at the
end of its description, read from the pages of ``GET /api/v2/dags`` a refresh already makes:
never a request per DAG) and the factory's last recorded outcome for that row:

- ``live``: Airflow serves the DAG built from the row's current config;
- ``pending parse``: the row changed and Airflow still serves the DAG from an older config
  (or has not listed the new stream yet);
- ``failed to build``: the row does not build (offline, or at the factory's last parse of this
  very config); Airflow keeps the last good one, named by its fingerprint;
- ``not in Airflow``: no DAG, and none is wanted (paused, retired, deleted), or an active row
  whose DAG Airflow has not listed yet;
- ``still in Airflow``: paused, retired or deleted, but Airflow still has the DAG;
- ``unknown``: Airflow is not configured or did not answer, and why.

The health axis is the DAG's last run state, which the same page of runs already holds.
Comparing content rather than clocks means an unchanged row is ``live`` after any number of
parses, and a row edited back to an earlier config is ``live`` again at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from factory.enums import Outcome, RowStatus
from factory.fingerprint import config_fingerprint
from factory.names import dag_id_for, platform_slug
from factory.operations.inspection.views import StreamView
from factory.validation import config_hash
from yellowtui.presenters.runs import AirflowCell
from yellowtui.services.airflow_service import DagState


class LiveStatus(StrEnum):
    LIVE = "live"
    PENDING = "pending parse"
    FAILED = "failed to build"
    NOT_IN_AIRFLOW = "not in Airflow"
    STILL_IN_AIRFLOW = "still in Airflow"
    UNKNOWN = "unknown"


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "never"


@dataclass(frozen=True)
class StreamLive:
    """One stream's sync status, why, and its health (the last run's state)."""

    platform: str
    stream_key: str
    status: LiveStatus
    detail: str
    #: The row's status, or None when there is no row (deleted).
    row_status: str | None = None
    #: The fingerprint of the DAG the row's current config builds (None: it does not build).
    wanted: str | None = None
    #: The fingerprint of the DAG Airflow serves (None: no DAG, or one without a fingerprint).
    served: str | None = None
    #: When Airflow last parsed the file that defines the DAG (its ``last_parsed_time``).
    parsed_at: datetime | None = None
    #: When the config Airflow serves was written to the row (from the row's history), if known.
    served_since: datetime | None = None
    problem: str | None = None
    last_run: str | None = None
    file: str | None = None

    @property
    def dag_id(self) -> str:
        return dag_id_for(self.platform, self.stream_key)

    @property
    def wants_dag(self) -> bool:
        return self.row_status == RowStatus.ACTIVE

    @property
    def settled(self) -> bool:
        """Nothing more will happen without another change: live, failed, or gone as asked."""
        if self.status in (LiveStatus.LIVE, LiveStatus.FAILED):
            return True
        return self.status is LiveStatus.NOT_IN_AIRFLOW and not self.wants_dag

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "stream_key": self.stream_key,
            "dag_id": self.dag_id,
            "live": str(self.status),
            "detail": self.detail,
            "row_status": self.row_status,
            "wanted_fingerprint": self.wanted,
            "served_fingerprint": self.served,
            "airflow_parsed_at": self.parsed_at.isoformat() if self.parsed_at else None,
            "served_since": self.served_since.isoformat() if self.served_since else None,
            "problem": self.problem,
            "last_run": self.last_run,
            "settled": self.settled,
        }


@dataclass(frozen=True)
class PlatformLive:
    """Every asked-for stream's :class:`StreamLive` at one moment; ``reason`` says why all are
    ``unknown`` when Airflow could not be asked."""

    platform: str
    checked_at: datetime
    streams: tuple[StreamLive, ...]
    airflow_url: str = ""
    reason: str = ""
    requests: int = 0

    @property
    def by_key(self) -> dict[str, StreamLive]:
        return {s.stream_key: s for s in self.streams}

    @property
    def settled(self) -> bool:
        return all(s.settled for s in self.streams)

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "airflow": self.airflow_url,
            "checked_at": self.checked_at.isoformat(),
            "reason": self.reason or None,
            "requests": self.requests,
            "streams": [s.to_dict() for s in self.streams],
        }


def _failure(view: StreamView) -> str | None:
    """Why the row does not build: offline problems, or the factory's recorded error for this
    very config (a recorded error for an older config says nothing about this one)."""
    if not view.valid:
        first = view.problems[0] if view.problems else {}
        more = f" (+{len(view.problems) - 1} more)" if len(view.problems) > 1 else ""
        return f"{first.get('path', '$')}: {first.get('message', 'does not validate')}{more}"
    recorded_for_this = view.last_config_hash is not None and view.last_config_hash == config_hash(view.config_json)
    if recorded_for_this and view.last_outcome in (Outcome.ERROR, Outcome.STALE):
        return view.last_error or f"the factory's last parse recorded {view.last_outcome}"
    return None


def _since(platform: str, served: str | None, history: Sequence[Mapping[str, Any]]) -> datetime | None:
    """When the row last took the config whose fingerprint is ``served`` (history is newest first)."""
    if served is None:
        return None
    for entry in history:
        if config_fingerprint(entry.get("new_config_json"), platform) == served:
            changed = entry.get("changed_at")
            return changed.replace(tzinfo=UTC) if isinstance(changed, datetime) and changed.tzinfo is None else changed
    return None


def stream_live(
    platform: str,
    stream_key: str,
    view: StreamView | None,
    dag: DagState | None,
    history: Sequence[Mapping[str, Any]] = (),
    file_parsed_at: datetime | None = None,
) -> StreamLive:
    """One stream's status from its row (None: deleted) and its DAG in Airflow (None: not listed).
    ``file_parsed_at`` is the newest parse of the DAG's file (from its other DAGs)."""
    present = dag is not None and not dag.is_stale
    served = dag.fingerprint if present and dag is not None else None
    base: dict[str, Any] = {
        "platform": platform,
        "stream_key": stream_key,
        "row_status": view.status if view is not None else None,
        "wanted": view.fingerprint if view is not None and view.status == RowStatus.ACTIVE else None,
        "served": served,
        "parsed_at": dag.last_parsed if dag is not None else None,
        "last_run": dag.last_run.state if dag is not None and dag.last_run else None,
        "file": dag.file if dag is not None else None,
    }
    parsed = _when(dag.last_parsed if dag is not None else None)
    if view is None or view.status != RowStatus.ACTIVE:
        why = "its row was deleted" if view is None else f"its row is {view.status}"
        if present:
            # Airflow drops a DAG its file no longer defines only ``stale_dag_threshold`` (50 s by
            # default) after that parse, checked every ``parsing_cleanup_interval`` (60 s):
            # ``DagFileProcessorManager.deactivate_stale_dags`` in airflow/dag_processing/manager.py.
            last = dag.last_parsed if dag is not None else None
            dropped = file_parsed_at is not None and last is not None and (file_parsed_at - last).total_seconds() > 1
            detail = (
                f"{why}; its file no longer defined it at the parse of {_when(file_parsed_at)}: Airflow "
                "deactivates it after its stale_dag_threshold (50 s by default)"
                if dropped
                else f"{why}; Airflow still has the DAG (parsed {parsed})"
            )
            return StreamLive(status=LiveStatus.STILL_IN_AIRFLOW, detail=detail, **base)
        return StreamLive(status=LiveStatus.NOT_IN_AIRFLOW, detail=f"{why}: no DAG in Airflow, as asked", **base)
    problem = _failure(view)
    if problem is not None:
        since = _since(platform, served, history)
        keeps = (
            f"Airflow still runs the last good config {served}"
            + (f" (written {_when(since)})" if since else "")
            + f", parsed {parsed}"
            if present
            else "Airflow has no DAG for it"
        )
        return StreamLive(status=LiveStatus.FAILED, detail=f"{keeps}", problem=problem, served_since=since, **base)
    if not present:
        why = "Airflow marked its DAG stale" if dag is not None else "Airflow does not list its DAG yet"
        return StreamLive(status=LiveStatus.NOT_IN_AIRFLOW, detail=f"{why} (last parsed {parsed})", **base)
    if served == view.fingerprint:
        return StreamLive(status=LiveStatus.LIVE, detail=f"Airflow serves {served} (parsed {parsed})", **base)
    old = served or "a DAG without a fingerprint"
    return StreamLive(
        status=LiveStatus.PENDING,
        detail=f"Airflow still serves {old} from its parse at {parsed}; the row builds {view.fingerprint}",
        **base,
    )


def live_statuses(
    platform: str,
    views: Iterable[StreamView],
    dags: Iterable[DagState],
    *,
    keys: Iterable[str] | None = None,
    history: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    airflow_url: str = "",
    requests: int = 0,
) -> PlatformLive:
    """Every row's status (or only ``keys``'s, which may name deleted streams), sorted by key.
    ``history`` (newest first, per key) says when a failed row's last good config was written."""
    slug = platform_slug(platform)
    rows = {v.stream_key: v for v in views}
    listed = list(dags)
    by_key = {d.stream_key or "": d for d in listed}
    newest: dict[str, datetime] = {}
    for d in listed:
        if d.file and d.last_parsed and not d.is_stale and (d.file not in newest or d.last_parsed > newest[d.file]):
            newest[d.file] = d.last_parsed
    wanted = sorted(rows) if keys is None else sorted(set(keys))
    found = tuple(
        stream_live(
            slug,
            k,
            rows.get(k),
            by_key.get(k),
            (history or {}).get(k, ()),
            newest.get(by_key[k].file or "") if k in by_key else None,
        )
        for k in wanted
    )
    return PlatformLive(slug, datetime.now(UTC), found, airflow_url=airflow_url, requests=requests)


def unknown_statuses(
    platform: str, views: Iterable[StreamView], reason: str, *, keys: Iterable[str] | None = None, airflow_url: str = ""
) -> PlatformLive:
    """Every asked-for stream ``unknown``, because of ``reason`` (Airflow down, not configured)."""
    slug = platform_slug(platform)
    rows = {v.stream_key: v for v in views}
    wanted = sorted(rows) if keys is None else sorted(set(keys))
    found = tuple(
        StreamLive(
            slug,
            k,
            LiveStatus.UNKNOWN,
            reason,
            row_status=rows[k].status if k in rows else None,
            wanted=rows[k].fingerprint if k in rows else None,
        )
        for k in wanted
    )
    return PlatformLive(slug, datetime.now(UTC), found, airflow_url=airflow_url, reason=reason)


_CELLS = {
    LiveStatus.LIVE: ("✔ live", "success", 4),
    LiveStatus.PENDING: ("… pending parse", "accent", 2),
    LiveStatus.FAILED: ("✘ failed to build", "error", 0),
    LiveStatus.NOT_IN_AIRFLOW: ("· not in Airflow", "muted", 3),
    LiveStatus.STILL_IN_AIRFLOW: ("! still in Airflow", "warning", 1),
    LiveStatus.UNKNOWN: ("? unknown", "muted", 5),
}


def live_cell(live: StreamLive) -> AirflowCell:
    """The streams table's Live column cell (trouble sorts first); an active row not listed
    yet reads as on its way, not as settled."""
    if live.status is LiveStatus.NOT_IN_AIRFLOW and live.wants_dag:
        return AirflowCell("… not in Airflow", "accent", (2, "not in airflow"))
    text, role, rank = _CELLS[live.status]
    return AirflowCell(text, role, (rank, str(live.status)))
