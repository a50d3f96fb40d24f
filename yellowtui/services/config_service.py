"""Config rows, history, errors and parse reports of every platform in one database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from factory import store
from factory.db import get_engine, normalize_url, reachable, redact
from factory.enums import RowStatus
from factory.errors import StreamConfigError
from factory.models import parse_config
from factory.operations.inspection.views import StreamView, iter_stream_views, parse_reports, stream_views
from factory.records import HistoryEntry, ParseReport
from yellowtui.presenters.stream_errors import StreamError, errors_of

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from factory.policy import PlatformPolicy
    from factory.split import Layout

#: Per platform: name, content fingerprint, recorded build count, newest build time.
PlatformRevision = tuple[str, str | None, int, datetime | None]
Revision = tuple[PlatformRevision, ...]


#: The longest "database unreachable" reason, in characters: it is the banner's one line.
REASON_WIDTH = 200


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
        """:attr:`display_url` made readable: no driver suffix, percent-escapes decoded."""
        from urllib.parse import unquote

        text = unquote(self.display_url)
        scheme, sep, rest = text.partition("://")
        return f"{scheme.split('+')[0]}{sep}{rest}" if sep else text

    @property
    def engine(self) -> Engine:
        return get_engine(self.db_url)

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        """A pooled connection whose "database unreachable" errors become :class:`DatabaseUnavailable`."""
        with reachable(self.display_url, os_errors=True, limit=REASON_WIDTH), self.engine.connect() as conn:
            yield conn

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

    def revision(self) -> Revision:
        """A cheap token that changes when any row or any recorded build outcome changes.

        One aggregate query per table, hashed server-side: polling it every few seconds costs
        milliseconds even at 10,000 rows, and says whether a full reload is worth doing.
        """
        from sqlalchemy import func, select

        from factory.tables import platform_tables

        with self._connect() as conn:
            parts: list[PlatformRevision] = []
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

    def history(self, platform: str, stream_key: str, limit: int = 50) -> list[HistoryEntry]:
        with self._connect() as conn:
            return store.read_history(conn, platform, stream_key, limit=limit)

    def policy(self, platform: str) -> PlatformPolicy | None:
        """The platform's stored policy (its limits and job settings), None when it has none."""
        from factory.policy import read_policy

        with self._connect() as conn:
            return read_policy(conn, platform)

    def layout(self, platform: str) -> Layout:
        """How the platform's factory files are laid out now: how many, over how many DAG bundles
        (one file in one bundle when it is not split)."""
        from factory.split import read_layout

        with self._connect() as conn:
            return read_layout(conn, platform, confirmations=False)

    def errors(self, platform: str | None = None) -> list[StreamError]:
        return errors_of(self.streams(platform))

    def parses(self, platform: str, limit: int = 100) -> list[ParseReport]:
        with self._connect() as conn:
            return parse_reports(conn, platform, limit=limit)

    def export(self, platform: str) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return [r.to_dict() for r in store.read_rows(conn, platform)]

    def ensure_platform(self, platform: str) -> bool:
        """Create the platform's tables if missing; True when they were created."""
        with reachable(self.display_url, os_errors=True, limit=REASON_WIDTH), self.engine.begin() as conn:
            return store.ensure_tables(conn, platform)

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
            status = row.get("status", RowStatus.ACTIVE.value)
            label = key if isinstance(key, str) else f"#{i}"
            if status not in tuple(RowStatus):
                problems.setdefault(label, []).append(f"status {status!r} is not one of {', '.join(RowStatus)}")
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
