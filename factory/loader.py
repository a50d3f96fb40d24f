"""The parse-time path: rows -> validated configs -> DAGs in the factory file's globals.

Each row is validated and built inside its own guard, so one bad row becomes a recorded
per-stream error and never removes another stream's DAG. When the database cannot be read in
time, the last-known-good snapshot stands in, and the result says so.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterable, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factory.builder import build_dag
from factory.db import DEFAULT_CONN_ID, redact, resolve_db_url
from factory.errors import ConfigSourceError, StreamConfigError
from factory.models import StreamConfig, parse_config
from factory.names import dag_id_for, platform_slug, stream_key_from_dag_id
from factory.outcome import ERROR, OK, STALE, LoadResult, StreamOutcome
from factory.snapshot import Snapshot, read_snapshot, snapshot_path, write_snapshot

log = logging.getLogger("yellow.factory")

PARSING_CONTEXT_ENV = "_AIRFLOW_PARSING_CONTEXT_DAG_ID"


def config_hash(config_json: str) -> str:
    return hashlib.sha256(config_json.encode("utf-8")).hexdigest()[:16]


def parsing_dag_id() -> str | None:
    """The dag_id Airflow is parsing for (a task start on a worker), or None for a full parse."""
    try:
        from airflow.sdk import get_parsing_context

        return get_parsing_context().dag_id
    except Exception:  # pragma: no cover - older Airflow or no Airflow
        return os.environ.get(PARSING_CONTEXT_ENV) or None


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


def validate_rows(
    rows: Iterable[tuple[str, str]], fallback: Snapshot | None = None
) -> tuple[dict[str, StreamConfig], list[StreamOutcome], dict[str, str]]:
    """Validate each (stream_key, config_json) on its own; a row whose text is unchanged since
    ``fallback`` was written reuses its validated config instead of being validated again.

    Returns the usable configs, the outcomes of rows that are not OK (an invalid row whose last
    good config is in ``fallback`` is STALE and still usable), and the config hash per key.
    """
    configs: dict[str, StreamConfig] = {}
    problems: list[StreamOutcome] = []
    hashes: dict[str, str] = {}
    for key, raw in rows:
        hashes[key] = config_hash(raw or "")
        if _unchanged(fallback, key, hashes[key]):
            configs[key] = fallback.config(key)  # validated when it was written; unchanged since
            continue
        try:
            configs[key] = parse_config(raw, stream_key=key)
        except StreamConfigError as exc:
            outcome = StreamOutcome(key, ERROR, str(exc), [p.to_dict() for p in exc.problems], config_hash=hashes[key])
            good = fallback.config(key) if fallback else None
            if good is not None:
                configs[key] = good
                outcome.outcome = STALE
                outcome.error = f"{exc} (building its last good config from the snapshot)"
            problems.append(outcome)
        except Exception as exc:  # a bug must not cost the other streams their DAGs
            problems.append(
                StreamOutcome(key, ERROR, f"stream {key!r}: {type(exc).__name__}: {exc}", config_hash=hashes[key])
            )
    return configs, problems, hashes


def _unchanged(snapshot: Snapshot | None, key: str, digest: str) -> bool:
    """True when the snapshot holds a good config for ``key`` from exactly this config_json."""
    return (
        snapshot is not None
        and snapshot.hashes.get(key) == digest
        and key in snapshot.configs
        and key not in snapshot.errors
    )


def build_configs(
    configs: dict[str, StreamConfig], platform: str, fileloc: str | None = None
) -> tuple[dict[str, Any], dict[str, StreamOutcome]]:
    """Build one DAG per config, each in its own guard, in sorted order."""
    dags: dict[str, Any] = {}
    outcomes: dict[str, StreamOutcome] = {}
    for key in sorted(configs):
        started = time.perf_counter()
        try:
            dag = build_dag(configs[key], platform)
            if fileloc:
                dag.fileloc = fileloc
            dags[dag.dag_id] = dag
            outcomes[key] = StreamOutcome(key, OK, build_ms=_ms(started))
        except Exception as exc:
            outcomes[key] = StreamOutcome(
                key,
                ERROR,
                f"stream {key!r}: building the DAG failed: {type(exc).__name__}: {exc}",
                build_ms=_ms(started),
            )
    return dags, outcomes


def _merge(
    validation: list[StreamOutcome], builds: dict[str, StreamOutcome], hashes: dict[str, str]
) -> list[StreamOutcome]:
    merged: dict[str, StreamOutcome] = dict(builds)
    for outcome in validation:
        built = builds.get(outcome.stream_key)
        if built is not None and built.outcome == ERROR:
            continue  # a stale config that also failed to build: report the build error
        if built is not None:
            outcome.build_ms = built.build_ms
        merged[outcome.stream_key] = outcome
    for key, outcome in merged.items():
        outcome.config_hash = outcome.config_hash or hashes.get(key)
    return [merged[k] for k in sorted(merged)]


def _cause(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


def load_platform(
    platform: str,
    *,
    conn_id: str | None = DEFAULT_CONN_ID,
    url: str | None = None,
    dag_id: str | bool | None = False,
    snapshot_dir: Path | None = None,
    fileloc: str | None = None,
    record: bool = True,
) -> LoadResult:
    """Read, validate and build a platform's DAGs. Never raises for a bad row; raises
    :class:`ConfigSourceError` only when neither the database nor a snapshot can be read.

    ``dag_id`` defaults to Airflow's parsing context: a worker starting one task builds only
    the DAG it needs.
    """
    from factory import reports, store

    started = time.perf_counter()
    slug = platform_slug(platform)
    wanted = parsing_dag_id() if dag_id is False else dag_id
    single_key = stream_key_from_dag_id(slug, wanted) if wanted else None
    result = LoadResult(
        platform=slug, mode="single" if single_key else "full", source="database", started_at=datetime.now(UTC)
    )
    if wanted and single_key is None:
        result.total_ms = _ms(started)
        return result  # a dag_id from another file: build nothing here
    # A worker needs the snapshot only if the database fails or its row is invalid: reading the
    # whole platform's snapshot on every task start would make the worker path grow with N.
    snapshot = None if single_key else read_snapshot(slug, snapshot_dir)
    db_url: str | None = None
    rows: list[tuple[str, str]] | None = None
    fingerprint: str | None = None
    try:
        db_url = resolve_db_url(conn_id, url)
        from factory.db import run_bounded

        def read(conn: Any) -> tuple[list[tuple[str, str]] | None, str | None]:
            if single_key:
                found = store.read_rows(conn, slug, status=store.ACTIVE, stream_key=single_key)
                return [(r.stream_key, r.config_json) for r in found], None
            digest = store.fingerprint(conn, slug)
            if snapshot is None or digest is None or digest != snapshot.fingerprint:
                return [(r.stream_key, r.config_json) for r in store.read_rows(conn, slug, status=store.ACTIVE)], digest
            return None, digest

        # Bounded on our side too: a database that hangs mid-reply must cost seconds, not the parse.
        rows, fingerprint = run_bounded(db_url, read)
        if rows is None:
            result.source = "database-unchanged"
    except Exception as exc:
        where = redact(db_url) if db_url else f"connection {conn_id!r}"
        if single_key:
            snapshot = read_snapshot(slug, snapshot_dir)
        if snapshot is None:
            raise ConfigSourceError(
                f"platform {slug}: cannot read the config database {where} ({_cause(exc)}) "
                f"and there is no snapshot at {snapshot_path(slug, snapshot_dir)} to fall back on"
            ) from None
        log.warning(
            "platform %s: config database %s unavailable (%s); building from snapshot of %s",
            slug,
            where,
            _cause(exc),
            snapshot.written_at,
        )
        result.source = "snapshot"
        result.source_detail = f"{where}: {_cause(exc)}; snapshot written {snapshot.written_at}"
    result.load_ms = _ms(started)

    phase = time.perf_counter()
    if rows is not None:
        result.rows_read = len(rows)
        configs, problems, hashes = validate_rows(rows, fallback=snapshot)
        if problems and single_key and snapshot is None:  # the row may still have a last good config
            snapshot = read_snapshot(slug, snapshot_dir)
            if snapshot is not None:
                configs, problems, hashes = validate_rows(rows, fallback=snapshot)
        result.reused = sum(_unchanged(snapshot, k, hashes[k]) for k in configs)
    else:  # unchanged or unreachable: the snapshot's validated configs, no re-validation
        assert snapshot is not None
        keys = [single_key] if single_key else sorted(set(snapshot.configs) | set(snapshot.errors))
        configs = {k: c for k in keys if (c := snapshot.config(k)) is not None}
        problems = [
            StreamOutcome(k, STALE if k in configs else ERROR, snapshot.errors[k], config_hash=snapshot.hashes.get(k))
            for k in keys
            if k in snapshot.errors
        ]
        hashes = {k: snapshot.hashes.get(k, "") for k in keys}
        result.reused = len(configs)
    result.validate_ms = _ms(phase)

    phase = time.perf_counter()
    dags, builds = build_configs(configs, slug, fileloc)
    result.build_ms = _ms(phase)
    result.dags = dags
    result.outcomes = _merge(problems, builds, hashes)
    result.total_ms = _ms(started)

    if result.mode == "full":
        if rows is not None and result.source == "database":
            snapshot = _save_snapshot(slug, fingerprint, configs, result, snapshot, snapshot_dir)
        if record and db_url is not None:
            reports.record_parse(db_url, result, snapshot, snapshot_dir)
    return result


def _save_snapshot(
    slug: str,
    fingerprint: str | None,
    configs: dict[str, StreamConfig],
    result: LoadResult,
    previous: Snapshot | None,
    snapshot_dir: Path | None,
) -> Snapshot | None:
    failed = {o.stream_key for o in result.outcomes if o.outcome == ERROR}
    snap = Snapshot(
        platform=slug,
        fingerprint=fingerprint,
        written_at="",
        configs={k: c.to_data() for k, c in configs.items() if k not in failed},
        errors={o.stream_key: o.error or "" for o in result.outcomes if o.outcome != OK},
        hashes={o.stream_key: o.config_hash or "" for o in result.outcomes},
        recorded=previous.recorded if previous else {},
    )
    try:
        write_snapshot(snap, snapshot_dir)
    except OSError as exc:
        log.warning("platform %s: could not write snapshot: %s", slug, exc)
    return snap


def register_platform_dags(
    module_globals: MutableMapping[str, Any],
    platform: str,
    conn_id: str | None = DEFAULT_CONN_ID,
    **kwargs: Any,
) -> LoadResult:
    """Called by the generated factory file: put each built DAG into the module's globals.

    Airflow's DagBag collects DAG objects from module globals, whatever their names.
    """
    fileloc = module_globals.get("__file__")
    result = load_platform(platform, conn_id=conn_id, fileloc=fileloc, **kwargs)
    for dag_id in sorted(result.dags):
        module_globals[dag_id] = result.dags[dag_id]
    for outcome in result.errors:
        log.error("platform %s: %s", result.platform, outcome.error)
    return result


__all__ = ["build_configs", "dag_id_for", "load_platform", "register_platform_dags", "validate_rows"]
