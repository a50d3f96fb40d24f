"""Parse reports: best-effort records of each full parse, never failing the parse.

A report goes to the platform's ``_parse`` side table, and each stream's latest outcome to its
``_build`` table (only the streams whose outcome changed, so a quiet parse writes one row).
When the database is what failed, the report waits in a small local spool file and is written
by the next parse that reaches the database.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factory.outcome import LoadResult
from factory.snapshot import Snapshot, write_snapshot
from factory.snapshot import snapshot_dir as default_snapshot_dir

log = logging.getLogger("yellow.factory")

KEEP_REPORTS = 2000
SPOOL_LIMIT = 500


def _spool_path(platform: str, directory: Path | None) -> Path:
    return (directory or default_snapshot_dir()) / f"{platform}.reports.jsonl"


def report_row(result: LoadResult) -> dict[str, Any]:
    started = result.started_at or datetime.now(UTC)
    return {
        "parsed_at": started.astimezone(UTC).replace(tzinfo=None),
        "host": socket.gethostname()[:255],
        "pid": os.getpid(),
        "mode": result.mode,
        "source": result.source,
        "source_detail": result.source_detail,
        "rows_read": result.rows_read,
        "dags_built": len(result.dags),
        "errors": len(result.errors),
        "reused": result.reused,
        "load_ms": result.load_ms,
        "validate_ms": result.validate_ms,
        "build_ms": result.build_ms,
        "total_ms": result.total_ms,
    }


def _spool(platform: str, row: dict[str, Any], directory: Path | None) -> None:
    path = _spool_path(platform, directory)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = path.read_text(encoding="utf-8").splitlines()[-(SPOOL_LIMIT - 1) :] if path.exists() else []
        lines.append(json.dumps({**row, "parsed_at": row["parsed_at"].isoformat()}))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        log.warning("platform %s: could not spool parse report: %s", platform, exc)


def _spooled(platform: str, directory: Path | None) -> tuple[Path, list[dict[str, Any]]]:
    path = _spool_path(platform, directory)
    rows = []
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
                data["parsed_at"] = datetime.fromisoformat(data["parsed_at"])
                rows.append(data)
            except (ValueError, KeyError):
                continue
    except OSError:
        pass
    return path, rows


def _outcome_key(outcome: Any) -> str:
    return f"{outcome.outcome}|{outcome.config_hash}|{outcome.error or ''}"


def record_parse(db_url: str, result: LoadResult, snapshot: Snapshot | None, directory: Path | None = None) -> bool:
    """Write the report (and any spooled ones). Returns True if it reached the database."""
    row = report_row(result)
    if result.used_snapshot:
        _spool(result.platform, row, directory)
        return False
    try:
        from sqlalchemy import delete, func, select
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        from factory.db import run_bounded
        from factory.tables import platform_tables

        tables = platform_tables(result.platform)
        recorded = dict(snapshot.recorded) if snapshot else {}
        changed = [o for o in result.outcomes if recorded.get(o.stream_key) != _outcome_key(o)]
        current = {o.stream_key for o in result.outcomes}
        gone = [k for k in recorded if k not in current]
        spool_path, spooled = _spooled(result.platform, directory)

        def write(conn: Any) -> None:
            for old in spooled:
                conn.execute(tables.parses.insert().values(**old))
            parse_id = conn.execute(tables.parses.insert().values(**row).returning(tables.parses.c.id)).scalar_one()
            if changed:
                now = row["parsed_at"]
                stmt = pg_insert(tables.builds)
                values = [
                    {
                        "stream_key": o.stream_key,
                        "outcome": o.outcome,
                        "error": o.error,
                        "build_ms": o.build_ms,
                        "config_hash": o.config_hash,
                        "parse_id": parse_id,
                        "recorded_at": now,
                    }
                    for o in changed
                ]
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["stream_key"],
                        set_={
                            c: stmt.excluded[c]
                            for c in ("outcome", "error", "build_ms", "config_hash", "parse_id", "recorded_at")
                        },
                    ),
                    values,
                )
            if gone:
                conn.execute(delete(tables.builds).where(tables.builds.c.stream_key.in_(gone)))
            if parse_id % 50 == 0:  # prune now and then, not on every parse
                newest = conn.execute(select(func.max(tables.parses.c.id))).scalar_one()
                conn.execute(delete(tables.parses).where(tables.parses.c.id <= newest - KEEP_REPORTS))

        run_bounded(db_url, write, begin=True)  # a hung database must not hang the parse here either
        if spooled:
            spool_path.unlink(missing_ok=True)
        if snapshot is not None and (changed or gone):
            snapshot.recorded = {o.stream_key: _outcome_key(o) for o in result.outcomes}
            write_snapshot(snapshot, directory)
        return True
    except Exception as exc:
        log.warning("platform %s: parse report not written (%s); spooled locally", result.platform, exc)
        _spool(result.platform, row, directory)
        return False
