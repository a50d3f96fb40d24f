"""Dropping a platform: export its rows and history to a file, then remove all its tables.

One transaction: the config table is locked (no writer can slip a row in between), rows,
history and policy are read and written to the export file (flushed to disk), and only then
are the tables dropped. If the export cannot be written, nothing is dropped. The export's
``rows`` are what ``config import`` and ``apply`` read, so the rows can be restored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factory.errors import DropError
from factory.files import write_atomic
from factory.names import platform_slug

if TYPE_CHECKING:
    from sqlalchemy import Connection

EXPORT_KIND = "yellow-platform-export"


def default_export_path(platform: str, now: datetime | None = None) -> Path:
    """``./{platform}-dropped-{UTC timestamp}.json``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return Path(f"{platform_slug(platform)}-dropped-{stamp}.json")


@dataclass
class DropResult:
    platform: str
    export_path: str
    rows: int
    history: int
    tables: list[str]
    #: The platform's factory files as they were placed: their names, in the dags folder or after
    #: their DAG bundle's folder (``yellow-{j}/...``, factory.bundles), to remove from every DAG processor.
    factory_files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "export": self.export_path,
            "rows": self.rows,
            "history": self.history,
            "dropped_tables": self.tables,
            "factory_files": self.factory_files,
        }


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def export_platform(conn: Connection, platform: str) -> dict[str, Any]:
    """The platform's rows (as `config export` writes them, without ``updated_at``, so a restore
    into an empty table is not taken for a conflict), its whole history and its policy."""
    from factory import store
    from factory.policy import read_policy

    slug = platform_slug(platform)
    rows = store.read_rows(conn, slug)
    history = store.read_history(conn, slug, limit=2**62)
    policy = read_policy(conn, slug)
    from factory.split import read_layout

    layout = read_layout(conn, slug, confirmations=False)
    return {
        "kind": EXPORT_KIND,
        "platform": slug,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": [{"stream_key": r.stream_key, "status": r.status, "config_json": r.config_json} for r in rows],
        "row_times": {
            r.stream_key: {"created_at": _plain(r.created_at), "updated_at": _plain(r.updated_at)} for r in rows
        },
        "history": [{k: _plain(v) for k, v in h.to_dict().items()} for h in reversed(history)],
        "policy": policy.to_dict() if policy is not None else None,
        "layout": layout.to_dict(),
    }


def platform_table_names(platform: str) -> list[str]:
    """Every table of the platform: the config table and all its side tables."""
    from factory.tables import layout_table, platform_tables, policy_table

    tables = platform_tables(platform)
    return [
        tables.dsg.name,
        tables.history.name,
        tables.parses.name,
        tables.builds.name,
        policy_table(platform).name,
        layout_table(platform).name,
    ]


def drop_platform(db_url: str, platform: str, export_path: Path) -> DropResult:
    """Export, then drop every table of ``platform``, in one transaction. Raises
    :class:`DropError` (nothing dropped) when the platform is unknown or the export fails."""
    from sqlalchemy import text

    from factory import store
    from factory.db import get_engine, reachable, redact

    slug = platform_slug(platform)
    if export_path.exists():
        raise DropError(f"the export file {export_path} already exists; choose another with -o")
    with reachable(redact(db_url)), get_engine(db_url).connect() as conn, conn.begin():
        if slug not in store.list_platforms(conn):
            raise DropError(f"platform {slug!r} has no config table in {redact(db_url)}; nothing to drop")
        names = platform_table_names(slug)
        conn.execute(text(f"LOCK TABLE {names[0]} IN ACCESS EXCLUSIVE MODE"))  # names from a checked slug
        data = export_platform(conn, slug)
        try:
            write_atomic(export_path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
        except OSError as exc:
            raise DropError(f"the export could not be written to {export_path} ({exc}); nothing was dropped") from None
        existing = [n for n in names if conn.execute(text("SELECT to_regclass(:n)"), {"n": n}).scalar() is not None]
        for name in existing:
            conn.execute(text(f"DROP TABLE {name} CASCADE"))
        conn.execute(text(f"DROP FUNCTION IF EXISTS {names[0]}_record_history()"))
    from factory.bundles import shown_name
    from factory.split import Layout

    layout = Layout.from_dict(data["layout"])
    places = sorted(set(layout.homes()) | set(layout.previous_homes() if layout.moving else []))
    files = [shown_name(place, slug) for place in places]
    return DropResult(slug, str(export_path), len(data["rows"]), len(data["history"]), existing, files)
