"""What one load did: per-stream outcomes and per-phase timings. Plain data, shown by yellowtui."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from factory.enums import LoadMode, Outcome, Source
from factory.split import Layout

if TYPE_CHECKING:
    from airflow.sdk import DAG


@dataclass
class StreamOutcome:
    stream_key: str
    outcome: Outcome
    error: str | None = None
    problems: list[dict[str, str]] = field(default_factory=list)
    build_ms: float = 0.0
    config_hash: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream_key": self.stream_key,
            "outcome": str(self.outcome),
            "error": self.error,
            "problems": self.problems,
            "build_ms": round(self.build_ms, 3),
            "config_hash": self.config_hash,
        }


@dataclass
class LoadResult:
    """The outcome of one parse of a platform's factory file."""

    platform: str
    mode: LoadMode
    source: Source
    source_detail: str | None = None
    started_at: datetime | None = None
    rows_read: int = 0
    reused: int = 0
    load_ms: float = 0.0
    validate_ms: float = 0.0
    build_ms: float = 0.0
    total_ms: float = 0.0
    dags: dict[str, DAG] = field(default_factory=dict)
    outcomes: list[StreamOutcome] = field(default_factory=list)
    #: Which of the platform's split files was parsed, under which layout (see factory.split).
    file_index: int = 0
    layout: Layout = field(default_factory=Layout)
    #: Which DAG bundle the parsed copy of the file is in (factory.bundles).
    bundle: int = 0

    @property
    def split(self) -> bool:
        """Part of a platform split over several files (or being split, or joined back)."""
        return bool(self.file_index or self.bundle or self.layout.digest())

    @property
    def errors(self) -> list[StreamOutcome]:
        """Streams that are not OK: errors and stale builds (a skipped stream is not an error)."""
        return [o for o in self.outcomes if o.outcome not in (Outcome.OK, Outcome.SKIPPED)]

    @property
    def skipped(self) -> list[StreamOutcome]:
        """Streams left to their static file (see :mod:`factory.layout`)."""
        return [o for o in self.outcomes if o.outcome == Outcome.SKIPPED]

    @property
    def used_snapshot(self) -> bool:
        return self.source is Source.SNAPSHOT

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "mode": str(self.mode),
            "source": str(self.source),
            "source_detail": self.source_detail,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "rows_read": self.rows_read,
            "reused": self.reused,
            "dags_built": len(self.dags),
            "errors": len(self.errors),
            "skipped": len(self.skipped),
            "load_ms": round(self.load_ms, 3),
            "validate_ms": round(self.validate_ms, 3),
            "build_ms": round(self.build_ms, 3),
            "total_ms": round(self.total_ms, 3),
            "file_index": self.file_index,
            "files": self.layout.files,
            "bundle": self.bundle,
            "bundles": self.layout.bundles,
            "outcomes": [o.to_dict() for o in self.outcomes],
        }
