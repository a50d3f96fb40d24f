"""The parse-time path: read the source -> validate -> build -> record.

Each row is validated and built inside its own guard, so one bad row becomes a recorded
per-stream error and never removes another stream's DAG. When the database cannot be read in
time, the last-known-good snapshot stands in, and the result says so.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Collection, Mapping, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factory.builder import _airflow as import_operators
from factory.builder import build_dag
from factory.db import DEFAULT_CONN_ID
from factory.enums import LoadMode, Outcome, Source
from factory.job_contract import DEFAULT_JOB_SETTINGS, JobSettings
from factory.models import StreamConfig
from factory.names import dag_id_for
from factory.outcome import LoadResult, StreamOutcome
from factory.snapshot import LastGood, Snapshot, write_snapshot
from factory.source import ParseTarget, RowsRead, SourceRead, read_source
from factory.validation import Validated, validate_rows, validate_source

log = logging.getLogger("yellow.factory")

PARSING_CONTEXT_ENV = "_AIRFLOW_PARSING_CONTEXT_DAG_ID"


def parsing_dag_id() -> str | None:
    """The dag_id Airflow is parsing for (a task start on a worker), or None for a full parse."""
    try:
        from airflow.sdk import get_parsing_context

        return get_parsing_context().dag_id
    except Exception:  # pragma: no cover - older Airflow or no Airflow
        return os.environ.get(PARSING_CONTEXT_ENV) or None


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


def load_platform(
    platform: str,
    *,
    conn_id: str | None = DEFAULT_CONN_ID,
    url: str | None = None,
    dag_id: str | None = None,
    snapshot_dir: Path | None = None,
    fileloc: str | None = None,
    record: bool = True,
    taken: Collection[str] = (),
    static_files: Mapping[str, str] | None = None,
    file_index: int = 0,
    bundle: int = 0,
) -> LoadResult:
    """Read, validate and build a platform's DAGs: all of them, or only the one ``dag_id`` names
    (a worker starting a task; :func:`register_platform_dags` passes Airflow's parsing context).
    A platform split over several files builds file ``file_index``'s share (:mod:`factory.split`),
    as the copy of that file in DAG bundle ``bundle`` (:mod:`factory.bundles`).

    ``taken`` holds names already defined where the DAGs go (the factory file's globals): a row
    whose dag_id is among them is an ERROR outcome, never a replacement. ``static_files`` maps
    stream keys to legacy static files still in the dags folder: those streams are SKIPPED, so
    one dag_id is never defined by two files (see :mod:`factory.layout`).

    Never raises for a bad row; raises :class:`factory.errors.ConfigSourceError` only when
    neither the database nor a snapshot can be read. A full parse also refreshes the snapshot
    and, with ``record``, writes its parse report.
    """
    started = time.perf_counter()
    target = ParseTarget.of(platform, dag_id, file_index, bundle)
    result = LoadResult(
        platform=target.platform,
        mode=target.mode,
        source=Source.DATABASE,
        started_at=datetime.now(UTC),
        file_index=file_index,
        bundle=bundle,
    )
    if target.foreign:
        result.total_ms = _ms(started)
        return result  # a dag_id of another platform's file: build nothing here
    last_good = LastGood(target.platform, snapshot_dir, file_index, bundle)
    read = read_source(target, last_good, conn_id=conn_id, url=url)
    result.source, result.source_detail = read.source, read.detail
    result.layout = read.layout if isinstance(read, RowsRead) else read.snapshot.layout
    result.load_ms = _ms(started)

    phase = time.perf_counter()
    checked = validate_source(read, target, last_good)
    result.rows_read, result.reused = checked.rows_read, checked.reused
    result.validate_ms = _ms(phase)

    phase = time.perf_counter()
    job = job_settings_of(read)
    result.dags, builds = build_configs(
        checked.configs,
        target.platform,
        fileloc,
        taken=taken,
        static_files=static_files or {},
        job=job,
    )
    result.build_ms = _ms(phase)
    result.outcomes = merge_outcomes(checked, builds)
    result.total_ms = _ms(started)
    if target.mode is LoadMode.FULL:
        _record(read, checked, result, snapshot_dir, report=record)
        from factory.metrics import emit_parse_metrics

        emit_parse_metrics(result)
    return result


def build_configs(
    configs: dict[str, StreamConfig],
    platform: str,
    fileloc: str | None = None,
    *,
    taken: Collection[str] = (),
    static_files: Mapping[str, str] | None = None,
    job: JobSettings | None = None,
) -> tuple[dict[str, Any], dict[str, StreamOutcome]]:
    """Build one DAG per config, each in its own guard, in sorted order.

    First come by sorted key wins a dag_id: a later row giving the same dag_id (or one already in
    ``taken``) is an ERROR outcome naming the collision, never a replacement. A stream whose
    static file is in ``static_files`` is SKIPPED: that file defines its dag_id.
    """
    dags: dict[str, Any] = {}
    owners: dict[str, str] = {}
    outcomes: dict[str, StreamOutcome] = {}
    static_files = static_files or {}
    if configs:
        # The one-time import of Airflow and the operators (about 0.6 s in a fresh process) is
        # not the first stream's build: pay it before any stream's clock starts.
        import_operators()
    for key in sorted(configs):
        started = time.perf_counter()
        try:
            dag_id = dag_id_for(platform, configs[key].stream_key)
            if key in static_files:
                outcomes[key] = StreamOutcome(key, Outcome.SKIPPED, skipped_message(key, static_files[key], dag_id))
                continue
            if dag_id in owners or dag_id in taken:
                owner = f"stream {owners[dag_id]!r}" if dag_id in owners else "a name already defined in the file"
                error = f"stream {key!r}: dag_id {dag_id} is already taken by {owner}; this row builds nothing"
                outcomes[key] = StreamOutcome(key, Outcome.ERROR, error, build_ms=_ms(started))
                continue
            dag = build_dag(configs[key], platform, job=job)
            if fileloc:
                dag.fileloc = fileloc
            dags[dag.dag_id] = dag
            owners[dag.dag_id] = key
            outcomes[key] = StreamOutcome(key, Outcome.OK, build_ms=_ms(started))
        except Exception as exc:
            error = f"stream {key!r}: building the DAG failed: {type(exc).__name__}: {exc}"
            outcomes[key] = StreamOutcome(key, Outcome.ERROR, error, build_ms=_ms(started))
    return dags, outcomes


def skipped_message(stream_key: str, file_name: str, dag_id: str) -> str:
    return (
        f"stream {stream_key!r}: the static file {file_name} beside the factory file still defines "
        f"dag_id {dag_id}; the factory builds it once that file is gone (migration not finished)"
    )


def merge_outcomes(checked: Validated, builds: dict[str, StreamOutcome]) -> list[StreamOutcome]:
    """One outcome per stream, sorted: a validation problem wins over its OK build (keeping the
    build time), a build error or a skip wins over a STALE validation."""
    merged: dict[str, StreamOutcome] = dict(builds)
    for outcome in checked.problems:
        built = builds.get(outcome.stream_key)
        if built is not None and built.outcome in (Outcome.ERROR, Outcome.SKIPPED):
            continue  # a stale config that also failed to build (or was not built): report that
        if built is not None:
            outcome.build_ms = built.build_ms
        merged[outcome.stream_key] = outcome
    for key, outcome in merged.items():
        outcome.config_hash = outcome.config_hash or checked.hashes.get(key)
    return [merged[k] for k in sorted(merged)]


def _record(
    read: SourceRead, checked: Validated, result: LoadResult, snapshot_dir: Path | None, *, report: bool
) -> None:
    """After a full parse: rows read fresh become the new snapshot; the report is written (or
    spooled) best-effort."""
    from factory import reports

    if isinstance(read, RowsRead):
        _save_snapshot(read.fingerprint, checked, result, snapshot_dir, job_settings_of(read))
    if report and read.db_url is not None:
        reports.record_parse(read.db_url, result, snapshot_dir)


def job_settings_of(read: SourceRead) -> JobSettings:
    """The platform's job settings: its stored policy's, or the snapshot's during an outage."""
    if isinstance(read, RowsRead):
        return read.policy.job if read.policy is not None else DEFAULT_JOB_SETTINGS
    return read.snapshot.job_settings()


def _save_snapshot(
    fingerprint: str | None,
    checked: Validated,
    result: LoadResult,
    snapshot_dir: Path | None,
    job: JobSettings = DEFAULT_JOB_SETTINGS,
) -> None:
    """Keep every config that built; note every stream that is not OK and every row's hash."""
    failed = {o.stream_key for o in result.outcomes if o.outcome == Outcome.ERROR}
    snapshot = Snapshot(
        platform=result.platform,
        fingerprint=fingerprint,
        written_at="",
        configs={k: c.to_data() for k, c in checked.configs.items() if k not in failed},
        # A skipped stream's config is good: the skip is decided again at every parse.
        errors={o.stream_key: o.error or "" for o in result.outcomes if o.outcome in (Outcome.ERROR, Outcome.STALE)},
        hashes={o.stream_key: o.config_hash or "" for o in result.outcomes},
        file_index=result.file_index,
        bundle=result.bundle,
        layout=result.layout,
        job={} if job == DEFAULT_JOB_SETTINGS else job.to_dict(),
    )
    try:
        write_snapshot(snapshot, snapshot_dir)
    except OSError as exc:
        log.warning("platform %s: could not write snapshot: %s", result.platform, exc)


def register_platform_dags(
    module_globals: MutableMapping[str, Any],
    platform: str,
    conn_id: str | None = DEFAULT_CONN_ID,
    *,
    url: str | None = None,
    snapshot_dir: Path | None = None,
    record: bool = True,
    file_index: int = 0,
    bundle: int = 0,
) -> LoadResult:
    """Called by the generated factory file: put each built DAG into the module's globals.

    Airflow's DagBag collects DAG objects from module globals, whatever their names. On a worker
    starting a task, Airflow's parsing context names one dag_id, and only that DAG is built.
    A stream whose legacy static file is beside this file is left to that file (SKIPPED); a copy
    in another DAG bundle also looks in Airflow's dags folder, where static files live.
    """
    from factory.layout import static_keys_beside, static_keys_in_dags_folder

    fileloc = module_globals.get("__file__")
    static_files = static_keys_beside(fileloc, platform)
    if bundle:
        static_files = {**static_keys_in_dags_folder(platform), **static_files}
    result = load_platform(
        platform,
        conn_id=conn_id,
        url=url,
        dag_id=parsing_dag_id(),
        snapshot_dir=snapshot_dir,
        fileloc=fileloc,
        record=record,
        taken=frozenset(module_globals),
        static_files=static_files,
        file_index=file_index,
        bundle=bundle,
    )
    for dag_id in sorted(result.dags):
        module_globals[dag_id] = result.dags[dag_id]  # never one already there: see ``taken``
    for outcome in result.errors:
        log.error("platform %s: %s", result.platform, outcome.error)
    for outcome in result.skipped:
        log.info("platform %s: %s", result.platform, outcome.error)
    return result


__all__ = ["build_configs", "dag_id_for", "load_platform", "register_platform_dags", "validate_rows"]
