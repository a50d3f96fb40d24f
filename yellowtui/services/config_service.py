"""Config rows, history, errors and parse reports of every platform in one database."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from factory import store
from factory.db import get_engine, normalize_url, redact
from factory.enums import RowStatus
from factory.errors import DatabaseUnavailable, StreamConfigError
from factory.models import parse_config
from factory.views import StreamView, iter_stream_views, parse_reports, stream_views

_INDEX = re.compile(r"\[\d+\]")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\b\d+\b")


@dataclass(frozen=True)
class StreamError:
    """One reason one stream does not build (or builds only from its last good config)."""

    platform: str
    stream_key: str
    source: str  # "validation" or "parse"
    path: str
    message: str
    recorded_at: datetime | None

    @property
    def cause(self) -> str:
        """The message with its values blanked, so the same mistake in many rows groups together."""
        path = _INDEX.sub("[]", self.path)
        return f"{path}: {_QUOTED.sub('…', self.message)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "stream_key": self.stream_key,
            "source": self.source,
            "path": self.path,
            "message": self.message,
            "cause": self.cause,
            "recorded_at": self.recorded_at.isoformat() if self.recorded_at else None,
        }


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).strip().splitlines() if line.strip()]
    text = lines[0] if lines else type(cause).__name__
    return text if len(text) <= 200 else text[:199] + "…"


@contextmanager
def _reachable(where: str) -> Iterator[None]:
    """Turn "cannot reach the database" errors into :class:`DatabaseUnavailable`; let bugs through."""
    from sqlalchemy import exc as sa_exc

    try:
        yield
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError) as exc:
        raise DatabaseUnavailable(where, _first_line(exc)) from None
    except OSError as exc:
        raise DatabaseUnavailable(where, _first_line(exc)) from None


def errors_of(views: Iterable[StreamView]) -> list[StreamError]:
    """Validation problems of active rows and errors of the latest parse, newest first."""
    found: list[StreamError] = []
    for v in views:
        if v.status in (RowStatus.PAUSED, RowStatus.RETIRED):  # an unknown status is itself an error
            continue
        when = v.last_recorded_at or v.updated_at
        for p in v.problems:
            found.append(StreamError(v.platform, v.stream_key, "validation", p["path"], p["message"], v.updated_at))
        if v.last_outcome and v.last_outcome != "ok" and not v.problems:
            found.append(StreamError(v.platform, v.stream_key, "parse", "$", v.last_error or v.last_outcome, when))
    return sorted(found, key=lambda e: (e.recorded_at or datetime.min, e.platform, e.stream_key), reverse=True)


class ConfigService:
    """Blocking reads and writes of one config database. Cheap to create; connects lazily."""

    def __init__(self, db_url: str):
        self.db_url = normalize_url(db_url)

    @property
    def display_url(self) -> str:
        """The URL with its password hidden: the only form the UI shows."""
        return redact(self.db_url)

    @property
    def short_url(self) -> str:
        """:attr:`display_url` made readable: no driver suffix, socket paths unquoted."""
        from urllib.parse import unquote

        text = unquote(self.display_url)
        scheme, sep, rest = text.partition("://")
        return f"{scheme.split('+')[0]}{sep}{rest}" if sep else text

    @property
    def engine(self):
        return get_engine(self.db_url)

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        """A pooled connection whose "database unreachable" errors become :class:`DatabaseUnavailable`."""
        with _reachable(self.display_url), self.engine.connect() as conn:
            yield conn

    def ping(self) -> None:
        from sqlalchemy import text

        with self._connect() as conn:
            conn.execute(text("SELECT 1"))

    def platforms(self) -> list[str]:
        with self._connect() as conn:
            return store.list_platforms(conn)

    def streams(self, platform: str | None = None, status: str | None = None) -> list[StreamView]:
        with self._connect() as conn:
            names = [platform] if platform else store.list_platforms(conn)
            return [v for name in names for v in stream_views(conn, name, status=status)]

    def iter_streams(
        self, platform: str | None = None, *, first_batch: int = 200, batch: int = 1000
    ) -> Iterator[list[StreamView]]:
        """Every row as :class:`StreamView`, in batches as they arrive (server-side cursor).

        The first batch is small so a screen can show rows while the rest are still read and
        validated; each platform's rows come sorted by stream key.
        """
        with self._connect() as conn:
            names = [platform] if platform else store.list_platforms(conn)
            size = first_batch
            pending: list[StreamView] = []
            for name in names:
                for view in iter_stream_views(conn, name, yield_per=first_batch):
                    pending.append(view)
                    if len(pending) >= size:
                        yield pending
                        pending, size = [], batch
            if pending:
                yield pending

    def revision(self) -> tuple[Any, ...]:
        """A cheap token that changes when any row or any recorded build outcome changes.

        One aggregate query per table, hashed server-side: polling it every few seconds costs
        milliseconds even at 10,000 rows, and says whether a full reload is worth doing.
        """
        from sqlalchemy import func, select

        from factory.tables import platform_tables

        with self._connect() as conn:
            parts: list[Any] = []
            for name in store.list_platforms(conn):
                builds = platform_tables(name).builds
                count, newest = conn.execute(select(func.count(), func.max(builds.c.recorded_at))).one()
                parts.append((name, store.fingerprint(conn, name), count, newest))
            return tuple(parts)

    def stream(self, platform: str, stream_key: str) -> StreamView | None:
        """One row with its validity and its last recorded build outcome."""
        with self._connect() as conn:
            views = stream_views(conn, platform, stream_key=stream_key)
            return views[0] if views else None

    def history(self, platform: str, stream_key: str, limit: int = 50) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return store.read_history(conn, platform, stream_key, limit=limit)

    def errors(self, platform: str | None = None) -> list[StreamError]:
        return errors_of(self.streams(platform))

    def parses(self, platform: str, limit: int = 100) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return parse_reports(conn, platform, limit=limit)

    def export(self, platform: str) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return [r.to_dict() for r in store.read_rows(conn, platform)]

    def import_rows(
        self, platform: str, rows: list[dict[str, Any]], *, actor: str | None = None, dry_run: bool = False
    ) -> dict[str, Any]:
        """Validate every row first; write all of them in one transaction, or none.

        Each row needs ``stream_key`` and ``config_json`` (text or object); ``status`` defaults
        to active. Returns ``{"ok": False, "problems": {stream_key: [...]}}`` listing every
        problem of every invalid row (and writes nothing) when any row is invalid.
        """
        problems: dict[str, list[str]] = {}
        prepared: list[tuple[str, str, str]] = []
        for i, row in enumerate(rows):
            key = row.get("stream_key")
            raw = row.get("config_json")
            status = row.get("status", RowStatus.ACTIVE)
            label = key if isinstance(key, str) else f"#{i}"
            if status not in tuple(RowStatus):
                problems.setdefault(label, []).append(f"status {status!r} is not one of {', '.join(tuple(RowStatus))}")
                continue
            try:
                config = parse_config(
                    raw if isinstance(raw, (str, dict)) else "null", stream_key=key if isinstance(key, str) else None
                )
            except StreamConfigError as exc:
                problems.setdefault(label, []).extend(str(p) for p in exc.problems)
                continue
            prepared.append((config.stream_key, config.to_json(), status))
        if problems:
            return {"ok": False, "problems": problems, "written": {}}
        outcomes: dict[str, list[str]] = {"inserted": [], "updated": [], "unchanged": []}
        if dry_run:
            return {"ok": True, "problems": {}, "written": {}, "dry_run": True, "rows": len(prepared)}
        with self.engine.begin() as conn:
            store.ensure_tables(conn, platform)
            for key, text, status in prepared:
                outcomes[store.write_row(conn, platform, key, text, status, actor=actor)].append(key)
        return {"ok": True, "problems": {}, "written": outcomes}
