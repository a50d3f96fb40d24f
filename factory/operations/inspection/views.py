"""Read models for people: rows joined with validation and last build outcome.

Shared by the dashboard and the command line (``--json``), so both always show the same
thing. Pure reads; no Airflow import.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from factory.collisions import stream_problems
from factory.enums import RowStatus
from factory.errors import ConfigProblem, StreamConfigError
from factory.fingerprint import fingerprint_in
from factory.models import MAX_JSON_DEPTH, json_depth_over, parse_config
from factory.policy import effective_policy, read_policy
from factory.rules import Rules
from factory.spec import dag_spec
from factory.store import ConfigRow, iter_rows, list_platforms
from factory.tables import platform_tables, table_exists
from factory.validation import unknown_status_message


@dataclass
class StreamView:
    """One config row as an operator sees it."""

    platform: str
    stream_key: str
    status: str
    config_json: str
    updated_at: datetime | None
    created_at: datetime | None
    ingestion_type: str | None = None
    schedule: str | None = None
    dataset_count: int | None = None
    valid: bool = True
    problems: list[dict[str, str]] = field(default_factory=list)
    last_outcome: str | None = None
    last_error: str | None = None
    last_build_ms: float | None = None
    last_recorded_at: datetime | None = None
    #: The config hash the factory's last recorded outcome was for (``factory.validation.config_hash``).
    last_config_hash: str | None = None
    #: The fingerprint of the DAG the row builds (``factory.fingerprint``); None when it does not build.
    fingerprint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "stream_key": self.stream_key,
            "status": self.status,
            "ingestion_type": self.ingestion_type,
            "schedule": self.schedule,
            "dataset_count": self.dataset_count,
            "valid": self.valid,
            "problems": self.problems,
            "last_outcome": self.last_outcome,
            "last_error": self.last_error,
            "last_build_ms": self.last_build_ms,
            "last_recorded_at": self.last_recorded_at.isoformat() if self.last_recorded_at else None,
            "fingerprint": self.fingerprint,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


def stream_view(row: ConfigRow, build: Any = None, rules: Rules | None = None) -> StreamView:
    """The row as shown; ``rules`` (its platform's policy and the other platforms) add the problems
    the loader would find beyond the JSON itself. Never raises for a hostile row."""
    view = StreamView(row.platform, row.stream_key, row.status, row.config_json, row.updated_at, row.created_at)
    _summarize(view, row.config_json)
    try:
        config = parse_config(row.config_json, stream_key=row.stream_key, rules=rules)
        job = rules.policy.job if rules is not None and rules.policy is not None else None
        view.fingerprint = fingerprint_in(dag_spec(config, row.platform, job).description)
    except StreamConfigError as exc:
        view.valid = False
        view.problems = [p.to_dict() for p in exc.problems]
    if row.status not in _KNOWN_STATUSES:
        view.valid = False
        view.problems.insert(0, ConfigProblem("status", unknown_status_message(row.status)).to_dict())
    if build is not None:
        view.last_outcome = build.outcome
        view.last_error = build.error
        view.last_build_ms = build.build_ms
        view.last_recorded_at = build.recorded_at
        view.last_config_hash = getattr(build, "config_hash", None)
    return view


_KNOWN_STATUSES = frozenset(RowStatus)


def _summarize(view: StreamView, config_json: str) -> None:
    """Best-effort type, schedule and dataset count, also of a row that is not valid."""
    if json_depth_over(config_json, MAX_JSON_DEPTH) is not None:
        return
    try:
        data = json.loads(config_json)
    except (ValueError, RecursionError):
        return
    if isinstance(data, dict):
        view.ingestion_type = data.get("ingestion_type") if isinstance(data.get("ingestion_type"), str) else None
        view.schedule = data.get("schedule") if isinstance(data.get("schedule"), str) else None
        view.dataset_count = len(data["datasets"]) if isinstance(data.get("datasets"), list) else None


def platform_rules(conn: Connection, platform: str, platforms: tuple[str, ...] | None = None) -> Rules:
    """The rules rows of ``platform`` are judged by, as the loader judges them."""
    policy = effective_policy(platform, read_policy(conn, platform))
    return Rules(platform.lower(), policy, tuple(list_platforms(conn)) if platforms is None else platforms)


def iter_stream_views(
    conn: Connection,
    platform: str,
    *,
    status: str | None = None,
    stream_key: str | None = None,
    yield_per: int | None = None,
) -> Iterator[StreamView]:
    """Rows of the platform with their validity and last recorded build outcome, as they arrive."""
    builds_t = platform_tables(platform).builds
    query = select(builds_t)
    if stream_key is not None:
        query = query.where(builds_t.c.stream_key == stream_key)
    # A table DataSurface made has no side tables until bootstrap or an apply adds them.
    builds = {b.stream_key: b for b in conn.execute(query)} if table_exists(conn, builds_t.name) else {}
    rules = platform_rules(conn, platform)
    for row in iter_rows(conn, platform, status=status, stream_key=stream_key, yield_per=yield_per):
        yield stream_view(row, builds.get(row.stream_key), rules)


def stream_views(
    conn: Connection, platform: str, *, status: str | None = None, stream_key: str | None = None
) -> list[StreamView]:
    """Every row of the platform with its validity and its last recorded build outcome."""
    return list(iter_stream_views(conn, platform, status=status, stream_key=stream_key))


def parse_reports(conn: Connection, platform: str, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first; each with ``file_index``, ``generation`` and ``bundle`` (0 for a table from
    before split files or bundles, until ``bootstrap`` adds those columns)."""
    t = platform_tables(platform).parses
    rows = conn.execute(
        select(*parse_columns(conn, platform)).order_by(t.c.parsed_at.desc(), t.c.id.desc()).limit(limit)
    )
    return [{"file_index": 0, "generation": 0, "bundle": 0, **r._mapping} for r in rows]


def parse_columns(conn: Connection, platform: str) -> list[Any]:
    """The ``_parse`` table's columns that exist in this database (one made before split files
    lacks ``file_index`` and ``generation`` until ``bootstrap`` adds them)."""
    from sqlalchemy import inspect

    t = platform_tables(platform).parses
    present = {c["name"] for c in inspect(conn).get_columns(t.name)}
    return [c for c in t.c if c.name in present]


def clashes_of(everyone: list[StreamView], shown: list[StreamView]) -> list[tuple[StreamView, list[dict[str, str]]]]:
    """(view, problems) for each of ``shown`` whose dag_id collides across ``everyone``'s platforms.
    Paused and retired rows build nothing, so they collide with nothing."""
    live = [v for v in everyone if v.status not in (RowStatus.PAUSED, RowStatus.RETIRED)]
    found = stream_problems((v.platform, v.stream_key) for v in live)
    return [
        (v, [p.to_dict() for p in found[(v.platform, v.stream_key)]])
        for v in shown
        if (v.platform, v.stream_key) in found
    ]
