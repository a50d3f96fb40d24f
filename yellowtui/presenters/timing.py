"""Figures about parse reports and build times, for the timing screen. Pure functions of data."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from factory.enums import Source

if TYPE_CHECKING:
    from factory.views import StreamView


@dataclass(frozen=True)
class TimingSummary:
    """What the latest parse reports of one platform say, at a glance."""

    count: int
    last_at: datetime | None
    last_total_ms: float | None
    median_total_ms: float | None
    from_snapshot: int
    unchanged: int


def summarize(reports: Iterable[dict[str, Any]]) -> TimingSummary:
    """``reports`` newest first, as :meth:`ConfigService.parses` returns them."""
    items = list(reports)
    totals = [float(r["total_ms"]) for r in items]
    last = items[0] if items else None
    return TimingSummary(
        count=len(items),
        last_at=last["parsed_at"] if last else None,
        last_total_ms=float(last["total_ms"]) if last else None,
        median_total_ms=statistics.median(totals) if totals else None,
        from_snapshot=sum(r["source"] == Source.SNAPSHOT for r in items),
        unchanged=sum(r["source"] == Source.UNCHANGED for r in items),
    )


@dataclass(frozen=True)
class FileTiming:
    """The latest report of one of a platform's split factory files."""

    file_index: int
    parsed_at: datetime
    total_ms: float
    dags_built: int
    source: str


def latest_per_file(reports: Iterable[dict[str, Any]]) -> list[FileTiming]:
    """The newest report of each file (``reports`` newest first), by file index. One entry for
    a platform that is not split."""
    seen: dict[int, FileTiming] = {}
    for r in reports:
        index = int(r.get("file_index") or 0)
        if index not in seen:
            seen[index] = FileTiming(
                index, r["parsed_at"], float(r["total_ms"]), int(r["dags_built"]), str(r["source"])
            )
    return [seen[i] for i in sorted(seen)]


def split_summary(reports: Iterable[dict[str, Any]]) -> str | None:
    """``3 files: 1,204 DAGs, slowest file 2 at 8,412 ms`` for a split platform, else None."""
    files = latest_per_file(reports)
    if len(files) < 2:
        return None
    slowest = max(files, key=lambda f: f.total_ms)
    dags = sum(f.dags_built for f in files)
    return f"{len(files)} files: {dags:,} DAGs, slowest file {slowest.file_index} at {slowest.total_ms:,.0f} ms"


def slowest_streams(views: Iterable[StreamView], platform: str | None, limit: int = 10) -> list[StreamView]:
    """Streams whose last recorded build took longest, slowest first."""
    timed = [v for v in views if v.last_build_ms is not None and (platform is None or v.platform == platform)]
    timed.sort(key=lambda v: (-(v.last_build_ms or 0.0), v.platform, v.stream_key))
    return timed[:limit]


def ago(then: datetime | None, now: datetime) -> str:
    """``12 s ago``, ``4 min ago``, ``3 h ago``, ``2 d ago`` (naive datetimes compared as given)."""
    if then is None:
        return "never"
    if (then.tzinfo is None) != (now.tzinfo is None):
        then = then.replace(tzinfo=None)
        now = now.replace(tzinfo=None)
    seconds = max(0.0, (now - then).total_seconds())
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} d ago"
