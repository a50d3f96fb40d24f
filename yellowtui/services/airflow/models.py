"""What Airflow answers, as the dashboard and the command line read it: small frozen dataclasses,
and the functions that read them from the API's plain JSON (the REST client's pydantic models
cost more to build than the JSON costs to parse)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from factory.fingerprint import fingerprint_in

#: The components ``/api/v2/monitor/health`` reports on.
HEALTH_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, datetime):
            out[key] = _iso(value)
        elif isinstance(value, dict) and key != "conf":
            out[key] = _jsonable(value)
        elif isinstance(value, list | tuple):
            out[key] = [_jsonable(v) if isinstance(v, dict) else v for v in value]
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class RunState:
    """One DAG run as Airflow reports it."""

    dag_id: str
    run_id: str
    state: str
    run_type: str
    run_after: datetime | None = None
    logical_date: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    duration_s: float | None = None
    triggered_by: str | None = None
    conf: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.state in ("success", "failed")

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class DagState:
    """One DAG as Airflow reports it, with the stream it belongs to and its recent runs (newest first).

    ``last_parsed`` and ``last_parse_duration_s`` are Airflow's own figures for the file that
    defines the DAG; ``next_run`` is when the scheduler will next create a run (None if manual only).
    """

    dag_id: str
    stream_key: str | None
    is_paused: bool
    is_stale: bool
    has_import_errors: bool = False
    last_parsed: datetime | None = None
    last_parse_duration_s: float | None = None
    next_run: datetime | None = None
    schedule: str | None = None
    file: str | None = None
    recent_runs: tuple[RunState, ...] = ()
    #: The DAG's description: the factory ends it with the fingerprint of what it built.
    description: str | None = None
    #: The DAG bundle its file is in (``DAGResponse.bundle_name``): ``dags-folder`` unless the
    #: platform is spread over bundles (factory/bundles.py).
    bundle: str | None = None
    #: Airflow's signed name of the DAG's file (``DAGResponse.file_token``, listed with every
    #: DAG): what ``PUT /api/v2/parseDagFile/{file_token}`` takes. A secret-free handle, but
    #: not shown: it is only useful to send back.
    file_token: str | None = field(default=None, repr=False)

    @property
    def last_run(self) -> RunState | None:
        return self.recent_runs[0] if self.recent_runs else None

    @property
    def fingerprint(self) -> str | None:
        """The fingerprint of the config Airflow serves this DAG from (None: not a factory DAG
        of this version, see :mod:`factory.fingerprint`)."""
        return fingerprint_in(self.description)

    def to_dict(self) -> dict[str, Any]:
        data = _jsonable({k: v for k, v in asdict(self).items() if k not in ("recent_runs", "file_token")})
        data["recent_runs"] = [r.to_dict() for r in self.recent_runs]
        data["fingerprint"] = self.fingerprint
        return data


@dataclass(frozen=True)
class TaskInstanceState:
    """One task instance of a run."""

    task_id: str
    state: str | None
    try_number: int
    operator: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    duration_s: float | None = None
    map_index: int = -1

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class ImportErrorState:
    """A DAG file Airflow could not import; ``summary`` is the last line of its traceback."""

    filename: str
    timestamp: datetime | None
    stack_trace: str
    bundle_name: str | None = None

    @property
    def summary(self) -> str:
        lines = [line.strip() for line in self.stack_trace.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def to_dict(self) -> dict[str, Any]:
        return {**_jsonable(asdict(self)), "summary": self.summary}


@dataclass(frozen=True)
class DagWarningState:
    """A warning Airflow holds against a DAG (e.g. a missing pool)."""

    dag_id: str
    warning_type: str
    message: str
    timestamp: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class DagVersionState:
    """One of Airflow's versions of a DAG (``GET /api/v2/dags/{dag_id}/dagVersions``,
    ``DagVersionResponse`` in ``airflow/api_fastapi/core_api/datamodels/dag_versions.py``).

    Airflow writes a new version only when the serialized DAG's hash changed *and* the latest
    version already has task instances (a run used it); otherwise it rewrites the latest version
    in place (``SerializedDagModel.write_dag`` in ``airflow/models/serialized_dag.py``). So one version
    may stand for several config changes, and ``created_at`` is when it was first written."""

    dag_id: str
    version_number: int
    created_at: datetime | None
    bundle_name: str | None = None
    bundle_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class Health:
    """Airflow's ``/monitor/health``: each component's status (``healthy`` or ``unhealthy``)."""

    components: dict[str, str]

    @property
    def healthy(self) -> bool:
        return bool(self.components) and all(s == "healthy" for s in self.components.values())


# ---- from the API's JSON ----------------------------------------------------------------------


def when(value: Any) -> datetime | None:
    """A time from Airflow's JSON (ISO 8601, ``Z`` or an offset), or None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _seconds(value: Any) -> float | None:
    return float(value) if value is not None else None


def run_from_json(r: Mapping[str, Any]) -> RunState:
    """A run from Airflow's ``DAGRunResponse``."""
    return RunState(
        dag_id=r["dag_id"],
        run_id=r["dag_run_id"],
        state=r.get("state") or "unknown",
        run_type=r.get("run_type") or "unknown",
        run_after=when(r.get("run_after")),
        logical_date=when(r.get("logical_date")),
        start_date=when(r.get("start_date")),
        end_date=when(r.get("end_date")),
        duration_s=_seconds(r.get("duration")),
        triggered_by=r.get("triggered_by"),
        conf=dict(r.get("conf") or {}),
    )


def dag_from_json(d: Mapping[str, Any]) -> DagState:
    """A DAG from Airflow's ``DAGResponse``; ``stream_key`` is left None."""
    return DagState(
        dag_id=d["dag_id"],
        stream_key=None,
        is_paused=bool(d.get("is_paused")),
        is_stale=bool(d.get("is_stale")),
        has_import_errors=bool(d.get("has_import_errors")),
        last_parsed=when(d.get("last_parsed_time")),
        last_parse_duration_s=_seconds(d.get("last_parse_duration")),
        next_run=when(d.get("next_dagrun_run_after")),
        schedule=d.get("timetable_summary"),
        file=d.get("relative_fileloc") or d.get("fileloc"),
        description=d.get("description"),
        bundle=d.get("bundle_name"),
        file_token=d.get("file_token"),
    )


def task_instance_from_json(t: Mapping[str, Any]) -> TaskInstanceState:
    """A task instance from Airflow's ``TaskInstanceResponse``."""
    return TaskInstanceState(
        task_id=t["task_id"],
        state=t.get("state"),
        try_number=int(t.get("try_number") or 0),
        operator=t.get("operator_name") or t.get("operator"),
        start_date=when(t.get("start_date")),
        end_date=when(t.get("end_date")),
        duration_s=_seconds(t.get("duration")),
        map_index=int(t.get("map_index", -1)),
    )


def import_error_from_json(e: Mapping[str, Any]) -> ImportErrorState:
    """An import error from Airflow's ``ImportErrorResponse``."""
    return ImportErrorState(e["filename"], when(e.get("timestamp")), e.get("stack_trace") or "", e.get("bundle_name"))


def dag_warning_from_json(w: Mapping[str, Any]) -> DagWarningState:
    """A warning from Airflow's ``DAGWarningResponse``."""
    return DagWarningState(w["dag_id"], w.get("warning_type") or "", w.get("message") or "", when(w.get("timestamp")))


def dag_version_from_json(v: Mapping[str, Any]) -> DagVersionState:
    """A version from Airflow's ``DagVersionResponse``."""
    return DagVersionState(
        v["dag_id"],
        int(v["version_number"]),
        when(v.get("created_at")),
        v.get("bundle_name"),
        v.get("bundle_version"),
    )


def log_text_from_json(response: Mapping[str, Any] | None) -> str:
    """A task log (``TaskInstancesLogResponse``) as text: structured lines flattened to
    ``timestamp event``, and the exception an error line carries kept under it."""
    content = (response or {}).get("content")
    if isinstance(content, str):
        return content
    lines = []
    for item in content or []:
        if isinstance(item, dict):
            stamp = item.get("timestamp") or ""
            lines.append(f"{stamp} {item.get('event', '')}".strip())
            # "Task failed with exception" says why only in its error_detail: keep the why.
            for error in item.get("error_detail") or []:
                if isinstance(error, dict) and error.get("exc_type"):
                    lines.append(f"{stamp} {error['exc_type']}: {error.get('exc_value') or ''}".strip())
        else:
            lines.append(str(item))
    return "\n".join(lines)


def health_from_json(data: Mapping[str, Any] | None) -> Health:
    """Each component's status from Airflow's ``HealthInfoResponse``; a component without one is left out."""
    components = {}
    for name in HEALTH_COMPONENTS:
        part = (data or {}).get(name)
        if isinstance(part, Mapping) and part.get("status"):
            components[name] = str(part["status"])
    return Health(components)
