"""Figures about parse reports and build times, for the timing screen. Pure functions of data."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from factory.enums import Source

if TYPE_CHECKING:
    from factory.operations.inspection.views import StreamView


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
    #: The DAG bundle the file's copy is in (factory.bundles); 0 is Airflow's dags-folder.
    bundle: int = 0

    @property
    def label(self) -> str:
        return file_label({"file_index": self.file_index, "bundle": self.bundle})


def file_label(report: dict[str, Any]) -> str:
    """``2`` for file 2 in the dags folder, ``2 (yellow-1)`` for its copy in bundle yellow-1."""
    from factory.bundles import bundle_name

    index, bundle = int(report.get("file_index") or 0), int(report.get("bundle") or 0)
    return f"{index} ({bundle_name(bundle)})" if bundle else str(index)


def is_split(reports: Iterable[dict[str, Any]]) -> bool:
    """Whether any report comes from a split file or a bundle other than the dags folder."""
    return any(r.get("file_index") or r.get("bundle") for r in reports)


def latest_per_file(reports: Iterable[dict[str, Any]]) -> list[FileTiming]:
    """The newest report of each file's copy (``reports`` newest first), by file index and bundle.
    One entry for a platform that is not split."""
    seen: dict[tuple[int, int], FileTiming] = {}
    for r in reports:
        key = (int(r.get("file_index") or 0), int(r.get("bundle") or 0))
        if key not in seen:
            seen[key] = FileTiming(
                key[0], r["parsed_at"], float(r["total_ms"]), int(r["dags_built"]), str(r["source"]), key[1]
            )
    return [seen[k] for k in sorted(seen)]


def split_summary(reports: Iterable[dict[str, Any]]) -> str | None:
    """``3 files: 1,204 DAGs, slowest file 2 at 8,412 ms`` for a split platform (``3 files in 2
    bundles: ...`` when spread over DAG bundles), else None."""
    files = latest_per_file(reports)
    if len(files) < 2:
        return None
    slowest = max(files, key=lambda f: f.total_ms)
    dags = sum(f.dags_built for f in files)
    bundles = len({f.bundle for f in files})
    spread = f" in {bundles} bundles" if bundles > 1 else ""
    return f"{len(files)} files{spread}: {dags:,} DAGs, slowest file {slowest.label} at {slowest.total_ms:,.0f} ms"


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
