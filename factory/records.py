"""What a platform's side tables say, as read back: change history entries and parse reports.

Built once where the rows are read (:func:`factory.store.read_history`,
:func:`factory.views.parse_reports`, :mod:`factory.health`), so the screens and the command line
read named, typed fields instead of string keys. Plain data, no SQLAlchemy: cheap to import.
``to_dict`` gives the row exactly as it was read (datetimes left as they are), the form the
``--json`` output has always written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class HistoryEntry:
    """One change of one row, as the history trigger wrote it (times in UTC, without a zone)."""

    id: int
    stream_key: str
    #: ``insert``, ``update`` (the config changed), ``status``, ``delete`` or ``truncate``.
    action: str
    old_config_json: str | None
    new_config_json: str | None
    old_status: str | None
    new_status: str | None
    #: The actor: a trusted writer's claim (``yellow.actor``), else the database user.
    changed_by: str
    changed_at: datetime
    #: The session's database user; None in entries written before the column existed.
    db_user: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> HistoryEntry:
        return cls(
            id=row["id"],
            stream_key=row["stream_key"],
            action=row["action"],
            old_config_json=row["old_config_json"],
            new_config_json=row["new_config_json"],
            old_status=row["old_status"],
            new_status=row["new_status"],
            changed_by=row["changed_by"],
            changed_at=row["changed_at"],
            db_user=row.get("db_user"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The entry as the table holds it, in its column order."""
        return {
            "id": self.id,
            "stream_key": self.stream_key,
            "action": self.action,
            "old_config_json": self.old_config_json,
            "new_config_json": self.new_config_json,
            "old_status": self.old_status,
            "new_status": self.new_status,
            "changed_by": self.changed_by,
            "changed_at": self.changed_at,
            "db_user": self.db_user,
        }


@dataclass(frozen=True)
class ParseReport:
    """One full parse of one factory file, as :mod:`factory.reports` recorded it (``parsed_at`` in
    UTC, without a zone)."""

    id: int
    parsed_at: datetime
    host: str
    pid: int
    mode: str
    #: ``database``, ``unchanged`` or ``snapshot`` (:class:`factory.enums.Source`).
    source: str
    source_detail: str | None
    rows_read: int
    dags_built: int
    errors: int
    reused: int
    load_ms: float
    validate_ms: float
    build_ms: float
    total_ms: float
    #: Which of the platform's split files parsed, under which layout generation (factory.split);
    #: 0 in a table made before split files, until ``bootstrap`` adds the columns.
    file_index: int = 0
    generation: int = 0
    #: The DAG bundle the file's copy was in (factory.bundles); 0 is Airflow's dags-folder.
    bundle: int = 0

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> ParseReport:
        return cls(
            id=row["id"],
            parsed_at=row["parsed_at"],
            host=row["host"],
            pid=row["pid"],
            mode=row["mode"],
            source=row["source"],
            source_detail=row["source_detail"],
            rows_read=row["rows_read"],
            dags_built=row["dags_built"],
            errors=row["errors"],
            reused=row["reused"],
            load_ms=row["load_ms"],
            validate_ms=row["validate_ms"],
            build_ms=row["build_ms"],
            total_ms=row["total_ms"],
            file_index=row.get("file_index", 0),
            generation=row.get("generation", 0),
            bundle=row.get("bundle", 0),
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as ``yellowtui parses --json`` has always written it: the place first, then
        the table's columns in their order."""
        return {
            "file_index": self.file_index,
            "generation": self.generation,
            "bundle": self.bundle,
            "id": self.id,
            "parsed_at": self.parsed_at,
            "host": self.host,
            "pid": self.pid,
            "mode": self.mode,
            "source": self.source,
            "source_detail": self.source_detail,
            "rows_read": self.rows_read,
            "dags_built": self.dags_built,
            "errors": self.errors,
            "reused": self.reused,
            "load_ms": self.load_ms,
            "validate_ms": self.validate_ms,
            "build_ms": self.build_ms,
            "total_ms": self.total_ms,
        }
