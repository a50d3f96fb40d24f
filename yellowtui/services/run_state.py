"""A platform's run state: what Airflow reports for its DAGs, set against the config rows.

This is what the runs screen and ``yellowtui runs`` show: for each factory DAG its pause and
stale flags, Airflow's last parse time and duration, the next run and the recent runs; Airflow's
import errors for the platform's factory file and its DAG warnings; the DAGs Airflow lists that
no active row explains; and the valid active rows that have no DAG in Airflow.

:func:`platform_run_state` joins one :meth:`AirflowService.list_dags` refresh with stream views
the caller already has (so the dashboard does not read the database twice); without rows it
reports Airflow's side only.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from factory.names import dag_id_for, platform_slug
from factory.operations.inspection.views import StreamView
from factory.operations.provisioning.render import factory_file_name
from yellowtui.services.airflow_service import AirflowService, DagState, DagWarningState, ImportErrorState
from yellowtui.services.live_state import StreamLive, live_statuses

NOT_IN_AIRFLOW = "not in Airflow"
STALE_IN_AIRFLOW = "stale in Airflow: its last parse did not build this DAG"


@dataclass(frozen=True)
class UnexplainedDag:
    """A DAG of the platform that Airflow lists but no active row explains, and why."""

    dag: DagState
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "dag": self.dag.to_dict()}


@dataclass(frozen=True)
class MissingDag:
    """A valid active row whose DAG Airflow does not list (not parsed yet, or lost)."""

    stream_key: str
    dag_id: str
    note: str = NOT_IN_AIRFLOW

    def to_dict(self) -> dict[str, Any]:
        return {"stream_key": self.stream_key, "dag_id": self.dag_id, "note": self.note}


@dataclass(frozen=True)
class PlatformRunState:
    """One refresh of a platform's run state (see the module docstring).

    ``rows_known`` is False when no config rows were given: ``unexplained`` and
    ``not_in_airflow`` are then empty because they could not be computed, not because all is well.
    """

    platform: str
    airflow_url: str
    fetched_at: datetime
    dags: tuple[DagState, ...]
    unexplained: tuple[UnexplainedDag, ...] = ()
    not_in_airflow: tuple[MissingDag, ...] = ()
    import_errors: tuple[ImportErrorState, ...] = ()
    dag_warnings: tuple[DagWarningState, ...] = ()
    rows_known: bool = True
    requests: int = 0
    elapsed_ms: float = 0.0
    factory_file: str = field(default="")
    #: Each row's live status (the sync axis), when rows were given.
    live: tuple[StreamLive, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "airflow": self.airflow_url,
            "fetched_at": self.fetched_at.isoformat(),
            "factory_file": self.factory_file,
            "rows_known": self.rows_known,
            "requests": self.requests,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "dags": [d.to_dict() for d in self.dags],
            "unexplained": [u.to_dict() for u in self.unexplained],
            "not_in_airflow": [m.to_dict() for m in self.not_in_airflow],
            "import_errors": [e.to_dict() for e in self.import_errors],
            "dag_warnings": [w.to_dict() for w in self.dag_warnings],
            "live": [s.to_dict() for s in self.live],
        }


def platform_run_state(
    service: AirflowService, platform: str, streams: Iterable[StreamView] | None = None
) -> PlatformRunState:
    """Refresh ``platform``'s run state from Airflow and set it against ``streams`` (its config
    rows, any status), if given. Costs the pages of :meth:`AirflowService.list_dags` plus one
    page each for import errors and DAG warnings (more only if there are more than a page); the
    errors and warnings are read while the DAGs are, as nothing in one depends on the other."""
    slug = platform_slug(platform)
    started = time.perf_counter()
    before = service.requests
    file_name = factory_file_name(slug)
    with ThreadPoolExecutor(2, thread_name_prefix="airflow-refresh") as pool:
        errors_read = pool.submit(service.import_errors, factory_of=slug)
        warnings_read = pool.submit(service.dag_warnings, f"{slug}__")
        listed = service.list_dags(slug)
        import_errors = errors_read.result()  # every factory file: a split platform has several
        warnings = warnings_read.result()

    rows = None if streams is None else {s.stream_key: s for s in streams}
    dags: list[DagState] = []
    unexplained: list[UnexplainedDag] = []
    missing: list[MissingDag] = []
    if rows is None:
        dags = listed
    else:
        for dag in listed:
            row = rows.get(dag.stream_key) if dag.stream_key else None
            if row is not None and row.status == "active":
                dags.append(dag)
            elif row is None:
                unexplained.append(UnexplainedDag(dag, "no config row has this stream key"))
            else:
                unexplained.append(UnexplainedDag(dag, f"its row is {row.status}"))
        live = {d.stream_key for d in listed if not d.is_stale}
        stale = {d.stream_key for d in listed if d.is_stale}
        for key, row in sorted(rows.items()):
            if row.status == "active" and row.valid and key not in live:
                note = STALE_IN_AIRFLOW if key in stale else NOT_IN_AIRFLOW
                missing.append(MissingDag(key, dag_id_for(slug, key), note))
    return PlatformRunState(
        platform=slug,
        airflow_url=service.display_url,
        fetched_at=datetime.now(UTC),
        dags=tuple(dags),
        unexplained=tuple(unexplained),
        not_in_airflow=tuple(missing),
        import_errors=tuple(import_errors),
        dag_warnings=tuple(warnings),
        rows_known=rows is not None,
        requests=service.requests - before,
        elapsed_ms=(time.perf_counter() - started) * 1000.0,
        factory_file=file_name,
        live=live_statuses(slug, rows.values(), listed).streams if rows is not None else (),
    )
