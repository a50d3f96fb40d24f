"""Config rows, history, errors and parse reports of every platform in one database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from factory import store
from factory.db import get_engine, normalize_url, redact
from factory.models import parse_config
from factory.errors import StreamConfigError
from factory.views import StreamView, parse_reports, stream_view, stream_views

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
        return {"platform": self.platform, "stream_key": self.stream_key, "source": self.source, "path": self.path,
                "message": self.message, "cause": self.cause,
                "recorded_at": self.recorded_at.isoformat() if self.recorded_at else None}


def errors_of(views: Iterable[StreamView]) -> list[StreamError]:
    """Validation problems of active rows and errors of the latest parse, newest first."""
    found: list[StreamError] = []
    for v in views:
        if v.status != store.ACTIVE:
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
    def engine(self):
        return get_engine(self.db_url)

    def ping(self) -> None:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def platforms(self) -> list[str]:
        with self.engine.connect() as conn:
            return store.list_platforms(conn)

    def streams(self, platform: str | None = None, status: str | None = None) -> list[StreamView]:
        with self.engine.connect() as conn:
            names = [platform] if platform else store.list_platforms(conn)
            return [v for name in names for v in stream_views(conn, name, status=status)]

    def stream(self, platform: str, stream_key: str) -> StreamView | None:
        with self.engine.connect() as conn:
            row = store.read_row(conn, platform, stream_key)
            return stream_view(row) if row else None

    def history(self, platform: str, stream_key: str, limit: int = 50) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return store.read_history(conn, platform, stream_key, limit=limit)

    def errors(self, platform: str | None = None) -> list[StreamError]:
        return errors_of(self.streams(platform))

    def parses(self, platform: str, limit: int = 100) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return parse_reports(conn, platform, limit=limit)

    def export(self, platform: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [r.to_dict() for r in store.read_rows(conn, platform)]

    def import_rows(self, platform: str, rows: list[dict[str, Any]], *, actor: str | None = None,
                    dry_run: bool = False) -> dict[str, Any]:
        """Validate every row first; write all of them in one transaction, or none.

        Each row needs ``stream_key`` and ``config_json`` (text or object); ``status`` defaults
        to active. Raises :class:`StreamConfigError` listing the first invalid row's problems,
        after collecting all of them in ``problems``.
        """
        problems: dict[str, list[str]] = {}
        prepared: list[tuple[str, str, str]] = []
        for i, row in enumerate(rows):
            key = row.get("stream_key")
            raw = row.get("config_json")
            status = row.get("status", store.ACTIVE)
            label = key if isinstance(key, str) else f"#{i}"
            if status not in store.KNOWN_STATUSES:
                problems.setdefault(label, []).append(f"status {status!r} is not one of {', '.join(store.KNOWN_STATUSES)}")
                continue
            try:
                config = parse_config(raw if isinstance(raw, (str, dict)) else "null", stream_key=key if isinstance(key, str) else None)
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
