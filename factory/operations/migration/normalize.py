"""Rewrite the rows DataSurface wrote into the factory's canonical form, through a changeset.

A row in DataSurface's form (:mod:`factory.datasurface_rows`) already builds its DAG; normalizing
changes only its text: keys renamed, the keys that repeat another dropped, the carried keys
dropped. It goes through the changeset machinery like any edit: the plan first, each change
based on the row as it was read (a row changed since is a conflict, nothing written), every
write in the history. A rewrite must leave the DAG exactly as it was, so a row that does not
validate is left as it is and reported, never rewritten.

DataSurface deletes and rewrites the whole table each time it runs
(``yellow_dp.py``, ``populateDAGConfigurations``): normalize once DataSurface no longer writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from factory import datasurface_rows
from factory.errors import ConfigProblem, StreamConfigError
from factory.json_diff import JsonChange, json_diff
from factory.models import parse_config
from factory.names import platform_slug
from factory.operations.changes.changeset import Changeset, Delete, SetStatus, Upsert, edit_of, new_changeset
from factory.operations.changes.plan import Action, Plan, plan_changes, touched_rows

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from factory.operations.changes.apply import ApplyResult


@dataclass
class Rewrite:
    """One row's rewrite: what it is called now, what goes."""

    stream_key: str
    status: str
    #: DataSurface's key -> the model's field it becomes.
    renamed: dict[str, str] = field(default_factory=dict)
    #: Keys that leave the row: checked against another (git_repo_owner, ...) or carried unused.
    dropped: list[str] = field(default_factory=list)
    #: Field by field, the stored JSON against the canonical JSON.
    changes: list[JsonChange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream_key": self.stream_key,
            "status": self.status,
            "renamed": self.renamed,
            "dropped": self.dropped,
            "json_diff": [c.to_dict() for c in self.changes],
        }


@dataclass
class Normalization:
    """The plan of a normalize: the rewrites, the changeset that makes them, and its plan."""

    platform: str
    changeset: Changeset
    plan: Plan
    rewrites: list[Rewrite] = field(default_factory=list)
    #: Rows in DataSurface's form that do not validate: left as they are, with their problems.
    left: dict[str, list[ConfigProblem]] = field(default_factory=dict)
    #: Rows not in DataSurface's form: left alone.
    other: int = 0

    @property
    def dags_unchanged(self) -> bool:
        """Every rewritten row builds the DAG it built before (or, not active, none before and after)."""
        return all(e.action is Action.UNCHANGED and not e.problems for e in self.plan.entries if e.touched)

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "rewrites": [r.to_dict() for r in self.rewrites],
            "left": {k: [p.to_dict() for p in v] for k, v in self.left.items()},
            "other": self.other,
            "dags_unchanged": self.dags_unchanged,
            "plan": self.plan.to_dict(),
            "changeset": json.loads(self.changeset.to_json()),
        }


def plan_normalize(conn: Connection, platform: str, *, actor: str | None = None) -> Normalization:
    """Read the platform's rows (every status) and plan rewriting those in DataSurface's form."""
    from factory.operations.inspection.views import platform_rules
    from factory.store import iter_rows

    slug = platform_slug(platform)
    rules = platform_rules(conn, slug)  # judged as the apply will judge the rewrite
    rows = list(iter_rows(conn, slug))
    changes: list[Upsert | SetStatus | Delete] = []
    rewrites: list[Rewrite] = []
    left: dict[str, list[ConfigProblem]] = {}
    other = 0
    for row in rows:
        data = datasurface_rows.read_form(row.config_json)
        if data is None:
            other += 1
            continue
        try:
            config = parse_config(row.config_json, stream_key=row.stream_key, rules=rules)
        except StreamConfigError as exc:
            left[row.stream_key] = list(exc.problems)
            continue
        changes.append(edit_of(row, row.stream_key, config.to_data()))
        rewrites.append(_rewrite(row.stream_key, row.status, data, config.to_data()))
    changeset = new_changeset(slug, changes, created_by=actor)
    plan = plan_changes(slug, touched_rows(rows, changeset), changeset, diff=False, rules=rules)
    return Normalization(slug, changeset, plan, rewrites, left, other)


def _rewrite(stream_key: str, status: str, data: dict[str, Any], canonical: dict[str, Any]) -> Rewrite:
    renamed = {k: v for k, v in datasurface_rows.RENAMED.items() if k in data}
    dropped = [k for k in data if k not in canonical and k not in renamed]
    return Rewrite(stream_key, status, renamed, dropped, json_diff(data, canonical))


def apply_normalize(db_url: str, result: Normalization, *, actor: str | None = None) -> ApplyResult:
    """Apply the plan's changeset in one conflict-checked transaction
    (:func:`factory.operations.changes.apply.apply_changeset`).

    A table DataSurface created has none of the factory's side tables: they are created first
    (the table itself is adopted as it is), so the rewrite lands in the history like any change.
    """
    from factory.db import get_engine, reachable, redact
    from factory.operations.changes.apply import apply_changeset
    from factory.store import ensure_tables
    from factory.tables import platform_tables, table_exists

    with reachable(redact(db_url)), get_engine(db_url).begin() as conn:
        if not table_exists(conn, platform_tables(result.platform).history.name):
            ensure_tables(conn, result.platform)
    return apply_changeset(db_url, result.changeset, actor=actor)
