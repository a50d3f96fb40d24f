"""Parse reports: best-effort records of each full parse, never failing the parse.

A report goes to the platform's ``_parse`` side table, and each stream's latest outcome to its
``_build`` table (only the streams whose outcome changed, so a quiet parse writes one row).
Which outcomes the table last got is noted in ``{platform}.recorded.json`` beside the snapshot,
never in the snapshot itself. When the database is what failed, the report waits in a small
local spool file (``{platform}.reports.jsonl``) and is written by the next parse that reaches
the database.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factory.files import write_atomic
from factory.models import canonical_json
from factory.outcome import LoadResult, StreamOutcome
from factory.snapshot import snapshot_dir
from factory.split import part_suffix

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

log = logging.getLogger("yellow.factory")

KEEP_REPORTS = 2000
SPOOL_LIMIT = 500
RECORDED_FORMAT = 1


def _spool_path(platform: str, directory: Path | None, file_index: int = 0, bundle: int = 0) -> Path:
    return snapshot_dir(directory) / f"{platform}{part_suffix(file_index, bundle)}.reports.jsonl"


def spooled_places(platform: str, directory: Path | None = None) -> list[tuple[int, int]]:
    """(file index, bundle) of each copy of the platform's factory files with a spool file on this host."""
    import re

    pattern = re.compile(rf"{re.escape(platform)}(?:\.part(\d+))?(?:\.bundle(\d+))?\.reports\.jsonl")
    found = (pattern.fullmatch(p.name) for p in snapshot_dir(directory).glob(f"{platform}*.reports.jsonl"))
    return sorted((int(m.group(1) or 0), int(m.group(2) or 0)) for m in found if m is not None)


def spooled_files(platform: str, directory: Path | None = None) -> list[int]:
    """The index of each of the platform's factory files with a spool file on this host, by index."""
    return sorted({index for index, _ in spooled_places(platform, directory)})


def storable(text: str | None, limit: int | None = None) -> str | None:
    """Text PostgreSQL (and a UTF-8 file) can hold, with credentials hidden.

    NUL characters become the visible ``\\x00`` and lone surrogates their ``\\udXXX`` escape,
    so a hostile row never stops a report or a build outcome from being written.
    """
    if text is None:
        return None
    from factory.redact import redact_text

    text = redact_text(text)
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def report_row(result: LoadResult) -> dict[str, Any]:
    started = result.started_at or datetime.now(UTC)
    row = {
        "parsed_at": started.astimezone(UTC).replace(tzinfo=None),
        "host": socket.gethostname()[:255],
        "pid": os.getpid(),
        "mode": str(result.mode),
        "source": str(result.source),
        "source_detail": storable(result.source_detail),
        "rows_read": result.rows_read,
        "dags_built": len(result.dags),
        "errors": len(result.errors),
        "reused": result.reused,
        "load_ms": result.load_ms,
        "validate_ms": result.validate_ms,
        "build_ms": result.build_ms,
        "total_ms": result.total_ms,
    }
    if result.split:  # only then: tables of an unsplit platform may predate these columns
        row.update(file_index=result.file_index, generation=result.layout.generation)
    if result.bundle or result.layout.bundles > 1 or result.layout.previous_bundles > 1:
        row.update(bundle=result.bundle)  # bootstrap --bundles added the column
    return row


def _spool(platform: str, row: dict[str, Any], directory: Path | None) -> None:
    path = _spool_path(platform, directory, row.get("file_index", 0), row.get("bundle", 0))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()[-(SPOOL_LIMIT - 1) :] if path.exists() else []
        lines.append(json.dumps({**row, "parsed_at": row["parsed_at"].isoformat()}))
        write_atomic(path, "\n".join(lines) + "\n")  # readable by its owner only
    except (OSError, ValueError) as exc:
        log.warning("platform %s: could not spool parse report: %s", platform, exc)


def _spooled(
    platform: str, directory: Path | None, file_index: int = 0, bundle: int = 0
) -> tuple[Path, list[dict[str, Any]]]:
    path = _spool_path(platform, directory, file_index, bundle)
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


def spooled_reports(
    platform: str, directory: Path | None = None, file_index: int = 0, bundle: int = 0
) -> tuple[Path, list[dict[str, Any]]]:
    """The spool file's path and the reports waiting in it for the database (oldest first)."""
    return _spooled(platform, directory, file_index, bundle)


def _outcome_key(outcome: StreamOutcome) -> str:
    return f"{outcome.outcome}|{outcome.config_hash}|{outcome.error or ''}"


def recorded_path(platform: str, directory: Path | None = None, file_index: int = 0, bundle: int = 0) -> Path:
    """``{platform}.recorded.json`` beside the snapshot: what the ``_build`` table last got from
    this file (split file ``i``: ``{platform}.part{i}.recorded.json``; in bundle ``j`` > 0,
    ``{platform}.part{i}.bundle{j}.recorded.json``)."""
    return snapshot_dir(directory) / f"{platform}{part_suffix(file_index, bundle)}.recorded.json"


def read_recorded(platform: str, directory: Path | None = None, file_index: int = 0, bundle: int = 0) -> dict[str, str]:
    """Outcome key per stream as last written to the ``_build`` table; empty when unknown."""
    try:
        data = json.loads(recorded_path(platform, directory, file_index, bundle).read_text(encoding="utf-8"))
        outcomes = data.get("outcomes") if data.get("format") == RECORDED_FORMAT else None
        return {str(k): str(v) for k, v in outcomes.items()} if isinstance(outcomes, dict) else {}
    except (OSError, ValueError, AttributeError):
        return {}


def write_recorded(
    platform: str, outcomes: dict[str, str], directory: Path | None = None, file_index: int = 0, bundle: int = 0
) -> None:
    """Best effort: without the file, the next report rewrites every stream's row, nothing worse."""
    try:
        write_atomic(
            recorded_path(platform, directory, file_index, bundle),
            canonical_json({"format": RECORDED_FORMAT, "outcomes": outcomes}),
        )
    except (OSError, ValueError) as exc:
        log.warning("platform %s: could not note the recorded outcomes: %s", platform, exc)


@dataclass(frozen=True)
class BuildChanges:
    """What the ``_build`` table must be told: streams whose outcome changed, streams now gone."""

    changed: list[StreamOutcome]
    gone: list[str]

    @classmethod
    def since(cls, recorded: dict[str, str], outcomes: list[StreamOutcome]) -> BuildChanges:
        current = {o.stream_key for o in outcomes}
        return cls(
            changed=[o for o in outcomes if recorded.get(o.stream_key) != _outcome_key(o)],
            gone=[k for k in recorded if k not in current],
        )

    def __bool__(self) -> bool:
        return bool(self.changed or self.gone)


def record_parse(db_url: str, result: LoadResult, directory: Path | None = None) -> bool:
    """Write the report (and any spooled ones). Returns True if it reached the database."""
    row = report_row(result)
    if result.used_snapshot:
        _spool(result.platform, row, directory)
        return False
    index, bundle = result.file_index, result.bundle
    changes = BuildChanges.since(read_recorded(result.platform, directory, index, bundle), result.outcomes)
    spool_path, spooled = _spooled(result.platform, directory, index, bundle)
    try:
        from factory.db import run_bounded

        # Bounded: a hung database must not hang the parse here either.
        run_bounded(
            db_url,
            lambda conn: _write_report(conn, result.platform, row, spooled, changes, split=result.split),
            begin=True,
        )
    except Exception as exc:
        log.warning(
            "platform %s: parse report not written (%s); spooled locally", result.platform, storable(str(exc), 500)
        )
        _spool(result.platform, row, directory)
        return False
    if spooled:
        with contextlib.suppress(OSError):
            spool_path.unlink(missing_ok=True)
    if changes:
        write_recorded(
            result.platform, {o.stream_key: _outcome_key(o) for o in result.outcomes}, directory, index, bundle
        )
    return True


def _write_report(
    conn: Connection,
    platform: str,
    row: dict[str, Any],
    spooled: list[dict[str, Any]],
    changes: BuildChanges,
    *,
    split: bool = False,
) -> None:
    """One transaction: spooled reports, this report, the changed build rows, a prune now and then.

    A split file removes only build rows it wrote itself: a stream that moved to another file
    (or to the file's copy in another bundle) keeps the row its new file wrote."""
    from sqlalchemy import delete

    from factory.tables import platform_tables

    tables = platform_tables(platform)
    for old in spooled:
        conn.execute(tables.parses.insert().values(**old))
    parse_id = conn.execute(tables.parses.insert().values(**row).returning(tables.parses.c.id)).scalar_one()
    file_index = row.get("file_index", 0)
    place = {"file_index": file_index, **({"bundle": row["bundle"]} if "bundle" in row else {})} if split else {}
    if changes.changed:
        _upsert_builds(conn, tables.builds, changes.changed, parse_id, row["parsed_at"], place)
    if changes.gone:
        gone = delete(tables.builds).where(tables.builds.c.stream_key.in_(changes.gone))
        for column, value in place.items():
            gone = gone.where(tables.builds.c[column] == value)
        conn.execute(gone)
    if parse_id % 50 == 0:  # prune now and then, not on every parse
        _prune(conn, tables.parses)


def _upsert_builds(
    conn: Connection, builds: Table, changed: list[StreamOutcome], parse_id: int, now: Any, place: dict[str, int]
) -> None:
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    stmt = pg_insert(builds)
    # One value per key (an upsert may not touch a row twice), every text storable.
    by_key = {
        key: {
            "stream_key": key,
            "outcome": str(o.outcome),
            "error": storable(o.error),
            "build_ms": o.build_ms,
            "config_hash": storable(o.config_hash, 64),
            "parse_id": parse_id,
            "recorded_at": now,
            **place,
        }
        for o in changed
        if (key := storable(o.stream_key, 255))
    }
    values = list(by_key.values())
    updated: tuple[str, ...] = ("outcome", "error", "build_ms", "config_hash", "parse_id", "recorded_at")
    updated += tuple(place)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["stream_key"], set_={c: stmt.excluded[c] for c in updated}), values
    )


def _prune(conn: Connection, parses: Table) -> None:
    """Keep the newest ``KEEP_REPORTS`` reports."""
    from sqlalchemy import delete, func, select

    newest = conn.execute(select(func.max(parses.c.id))).scalar_one()
    conn.execute(delete(parses).where(parses.c.id <= newest - KEEP_REPORTS))
