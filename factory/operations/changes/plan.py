"""Simulate before commit: what a changeset would do to a platform's DAGs, like ``terraform plan``.

Rows as they are, with the changeset laid over them, go through the factory's own validation
(:func:`factory.models.parse_config`) and its one builder (:func:`factory.builder.build_dag`),
exactly as the factory file does at parse time. Each stream gets a :class:`PlanEntry`: would its
DAG be created, changed, removed, stay the same, or fail to build, and why (problems at their
JSON paths), how long it took to build, and what changed (config field by field, DAG task by
task and argument by argument).

:func:`plan_changes` is pure (rows in, plan out); :func:`simulate` reads the rows first;
:func:`factory.operations.changes.apply.apply_changeset` plans the touched rows again inside its
transaction, so what is written is what was planned. :func:`simulate_edit` is the dashboard editor's
one call.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from factory.enums import RowStatus
from factory.errors import ConfigProblem, FactoryError, StreamConfigError
from factory.json_diff import JsonChange, json_diff
from factory.models import StreamConfig, canonical_json, parse_config
from factory.names import platform_slug
from factory.operations.changes.changeset import Changeset, Delete, SetStatus, Upsert, edit_of
from factory.operations.changes.dag_diff import DagDiff, diff_dags
from factory.rules import Rules
from factory.spec import DagSpec, dag_spec
from factory.store import ConfigRow

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from factory.job_contract import JobSettings

#: ``progress(done, total)``: called now and then while a plan builds DAGs.
Progress = Callable[[int, int], None]


class Action(StrEnum):
    """What happens to a stream's DAG."""

    CREATE = "create"  # no DAG now (no row, not active, or not building); one after
    CHANGE = "change"  # a DAG now and after, built from a different config
    REMOVE = "remove"  # a DAG now, none after (paused, retired or deleted)
    FAILS = "fails"  # should build after, but does not: see the problems
    UNCHANGED = "unchanged"  # the same DAG (or none) before and after


class RowOp(StrEnum):
    """What is written to the stream's row."""

    INSERT = "insert"
    UPDATE = "update"  # the config (and maybe the status)
    STATUS = "status"  # the status only
    DELETE = "delete"
    NONE = "none"


@dataclass
class PlanEntry:
    """One stream in a plan. ``touched`` says whether the changeset changes it."""

    stream_key: str
    action: Action
    row_op: RowOp = RowOp.NONE
    touched: bool = False
    old_status: str | None = None
    new_status: str | None = None
    problems: list[ConfigProblem] = field(default_factory=list)
    build_ms: float | None = None
    json_diff: list[JsonChange] = field(default_factory=list)
    dag_diff: DagDiff | None = None
    #: The DAG the new state builds (touched streams only; plain data, see :mod:`factory.spec`).
    spec: DagSpec | None = None
    #: Why the change's base no longer holds (someone changed the row since), else None.
    stale: str | None = None
    #: The canonical config_json the apply writes (None: the row is deleted or not written).
    new_config_json: str | None = None

    @property
    def dag_id(self) -> str | None:
        return self.spec.dag_id if self.spec else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream_key": self.stream_key,
            "action": str(self.action),
            "row_op": str(self.row_op),
            "touched": self.touched,
            "old_status": self.old_status,
            "new_status": self.new_status,
            "problems": [p.to_dict() for p in self.problems],
            "build_ms": round(self.build_ms, 3) if self.build_ms is not None else None,
            "json_diff": [c.to_dict() for c in self.json_diff],
            "dag_diff": self.dag_diff.to_dict() if self.dag_diff else None,
            "dag_id": self.dag_id,
            "stale": self.stale,
        }


@dataclass
class Plan:
    """What a changeset would do to one platform; entries sorted by stream key."""

    platform: str
    entries: list[PlanEntry]
    #: Build time of every DAG built, and of the whole plan, in milliseconds.
    build_ms: float = 0.0
    total_ms: float = 0.0
    #: The DAGs of the new state, by dag_id, when asked for (``keep_dags=True``).
    dags: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        found = {str(a): 0 for a in Action}
        for entry in self.entries:
            found[str(entry.action)] += 1
        return found

    @property
    def builds(self) -> bool:
        """True when every DAG that should exist after the change builds."""
        return not any(e.action is Action.FAILS for e in self.entries)

    @property
    def failures(self) -> list[PlanEntry]:
        return [e for e in self.entries if e.action is Action.FAILS]

    @property
    def changes(self) -> list[PlanEntry]:
        """Entries that write a row or change a DAG (what a review needs to read)."""
        return [e for e in self.entries if e.row_op is not RowOp.NONE or e.action is not Action.UNCHANGED]

    @property
    def stale(self) -> list[PlanEntry]:
        return [e for e in self.entries if e.stale]

    def summary(self) -> str:
        """``Plan: 2 to create, 1 to change, 0 to remove, 1 fails to build``."""
        c = self.counts()
        return (
            f"Plan: {c['create']} to create, {c['change']} to change, {c['remove']} to remove, "
            f"{c['fails']} fails to build"
        )

    def to_dict(self, *, all_entries: bool = False) -> dict[str, Any]:
        """JSON-ready; unchanged, untouched streams are counted but listed only with ``all_entries``."""
        shown = (
            self.entries if all_entries else [e for e in self.entries if e.touched or e.action is not Action.UNCHANGED]
        )
        return {
            "platform": self.platform,
            "builds": self.builds,
            "counts": self.counts(),
            "summary": self.summary(),
            "build_ms": round(self.build_ms, 1),
            "total_ms": round(self.total_ms, 1),
            "entries": [e.to_dict() for e in shown],
        }


# ---- the plan ------------------------------------------------------------------------------


@dataclass
class _Built:
    config: StreamConfig | None
    problems: list[ConfigProblem]
    dag: Any = None
    build_ms: float | None = None


def _validate(
    config_json: str, stream_key: str | None, rules: Rules | None = None
) -> tuple[StreamConfig | None, list[ConfigProblem]]:
    try:
        return parse_config(config_json, stream_key=stream_key, rules=rules), []
    except StreamConfigError as exc:
        return None, list(exc.problems)
    except Exception as exc:  # a bug must not cost the rest of the plan
        return None, [ConfigProblem("$", f"validation failed: {type(exc).__name__}: {exc}")]


def _job(rules: Rules | None) -> JobSettings | None:
    """The platform's job settings, carried by its stored policy (None: the defaults)."""
    return rules.policy.job if rules is not None and rules.policy is not None else None


def _build(
    config_json: str, stream_key: str, platform: str, rules: Rules | None = None, *, job: JobSettings | None = None
) -> _Built:
    """Validate and build one stream, in its own guard, as the factory file does: judged by
    ``rules`` when given, built with the platform's ``job`` settings."""
    from factory.builder import build_dag

    config, problems = _validate(config_json, stream_key, rules)
    if config is None:
        return _Built(None, problems)
    started = time.perf_counter()
    try:
        dag = build_dag(config, platform, job=job)
    except Exception as exc:
        ms = (time.perf_counter() - started) * 1000.0
        return _Built(config, [ConfigProblem("$", f"building the DAG failed: {type(exc).__name__}: {exc}")], None, ms)
    return _Built(config, [], dag, (time.perf_counter() - started) * 1000.0)


def _canonical(config_json: str) -> str:
    """The stored form of a config text: canonical JSON when it parses, else the text itself."""
    try:
        return canonical_json(json.loads(config_json))
    except ValueError:
        return config_json


def _stored_form(config: StreamConfig | None, config_json: str) -> Any:
    """What the table holds (or would hold) for a config: the model's dump when it validates,
    else the JSON as written, else the raw text."""
    if config is not None:
        return config.model_dump(mode="json", exclude_none=True)
    try:
        return json.loads(config_json)
    except ValueError:
        return config_json


@dataclass(frozen=True)
class _Target:
    """A stream's state after the changeset: its config text and status, or deleted (None)."""

    config_json: str | None
    status: str | None
    problem: ConfigProblem | None = None


def _target(row: ConfigRow | None, change: Upsert | SetStatus | Delete | None) -> _Target:
    if change is None:
        return _Target(row.config_json if row else None, row.status if row else None)
    if isinstance(change, Upsert):
        status = change.status or (row.status if row else RowStatus.ACTIVE)
        return _Target(change.config_text(), str(status))
    if row is None:
        missing = ConfigProblem(
            "$", f"stream {change.stream_key!r} does not exist; nothing to {change.op.replace('_', ' ')}"
        )
        return _Target(None, None, missing)
    if isinstance(change, SetStatus):
        return _Target(row.config_json, str(change.status))
    return _Target(None, None)


def _row_op(
    row: ConfigRow | None,
    target: _Target,
    change: Upsert | SetStatus | Delete,
    old_config: StreamConfig | None,
    new_config: StreamConfig | None,
) -> tuple[RowOp, str | None]:
    """What the apply writes, and the config_json it writes: an edit in the model's canonical
    form; a status change keeps the stored text as it is."""
    if target.config_json is None:
        return (RowOp.DELETE if row is not None else RowOp.NONE), None
    text = new_config.to_json() if isinstance(change, Upsert) and new_config is not None else target.config_json
    if row is None:
        return RowOp.INSERT, text
    if old_config is not None and new_config is not None:
        # The same config stored in another form (DataSurface's, or by hand) is rewritten canonical.
        same = old_config.to_json() == new_config.to_json() and row.config_json == text
    else:
        same = _canonical(row.config_json) == _canonical(text)
    if not same:
        return RowOp.UPDATE, text
    return (RowOp.STATUS if row.status != target.status else RowOp.NONE), row.config_json


def _stale(row: ConfigRow | None, change: Upsert | SetStatus | Delete | None) -> str | None:
    if change is None or change.base is None or change.base.to_row_base().matches(row):
        return None
    if row is None:
        return "the stream no longer exists"
    if not change.base.exists:
        return f"the stream exists now (updated_at {row.updated_at})"
    return f"the row changed since it was read (updated_at {row.updated_at})"


def plan_entry(
    platform: str,
    stream_key: str,
    row: ConfigRow | None,
    change: Upsert | SetStatus | Delete | None,
    *,
    diff: bool = True,
    rules: Rules | None = None,
) -> tuple[PlanEntry, Any]:
    """One stream's entry and the DAG its new state builds (or None).

    An untouched stream is built once (old and new are the same). A touched one builds its new
    state, judged by the platform's ``rules`` too (as the loader will judge it); when its config
    changed and ``diff`` is on, its old state too, for the DAG diff.
    """
    target = _target(row, change)
    entry = PlanEntry(
        stream_key,
        Action.UNCHANGED,
        touched=change is not None,
        old_status=row.status if row else None,
        new_status=target.status,
        stale=_stale(row, change),
    )
    if target.problem is not None:
        entry.action, entry.problems = Action.FAILS, [target.problem]
        return entry, None
    if change is None:  # untouched: one build serves old and new
        return _plan_untouched(entry, row, platform, _job(rules))
    return _plan_touched(entry, row, change, target, platform, diff=diff, rules=rules)


def _plan_untouched(
    entry: PlanEntry, row: ConfigRow | None, platform: str, job: JobSettings | None
) -> tuple[PlanEntry, Any]:
    """A stream the changeset leaves alone: built once when active (not judged by the rules,
    built with the platform's ``job`` settings), else nothing to do."""
    if row is None or row.status != RowStatus.ACTIVE:
        return entry, None
    built = _build(row.config_json, entry.stream_key, platform, job=job)
    entry.build_ms, entry.problems = built.build_ms, built.problems
    entry.action = Action.UNCHANGED if built.dag is not None else Action.FAILS
    return entry, built.dag


def _plan_touched(
    entry: PlanEntry,
    row: ConfigRow | None,
    change: Upsert | SetStatus | Delete,
    target: _Target,
    platform: str,
    *,
    diff: bool,
    rules: Rules | None,
) -> tuple[PlanEntry, Any]:
    """A stream the changeset touches: its new state, the row write, the config diff, the action."""
    old_config = _validate(row.config_json, entry.stream_key)[0] if row is not None else None
    new, new_config = _new_state(entry, target, change, platform, rules)
    entry.row_op, entry.new_config_json = _row_op(row, target, change, old_config, new_config)
    if row is not None and target.config_json is not None:
        entry.json_diff = json_diff(
            _stored_form(old_config, row.config_json), _stored_form(new_config, target.config_json)
        )
    if new is not None and new.config is not None and new.dag is not None:
        entry.spec = dag_spec(new.config, platform, _job(rules))
    old_builds = row is not None and row.status == RowStatus.ACTIVE and old_config is not None
    _set_action(entry, new, new_config, old_config if old_builds else None, platform, diff=diff, job=_job(rules))
    return entry, (new.dag if new is not None else None)


def _new_state(
    entry: PlanEntry, target: _Target, change: Upsert | SetStatus | Delete, platform: str, rules: Rules | None
) -> tuple[_Built | None, StreamConfig | None]:
    """The new state's build (None when it will not be active) and config; its problems and
    build time go on the entry."""
    if target.config_json is None:
        return None, None
    if target.status == RowStatus.ACTIVE:
        new = _build(target.config_json, entry.stream_key, platform, rules, job=_job(rules))
        entry.problems, entry.build_ms = new.problems, new.build_ms
        return new, new.config
    # kept but not active: validated, not built
    new_config, problems = _validate(target.config_json, entry.stream_key, rules)
    if isinstance(change, Upsert):  # an edit is checked even when it builds nothing yet
        entry.problems = problems
    return None, new_config


def _set_action(
    entry: PlanEntry,
    new: _Built | None,
    new_config: StreamConfig | None,
    old_built: StreamConfig | None,
    platform: str,
    *,
    diff: bool,
    job: JobSettings | None = None,
) -> None:
    """The entry's action from what builds before (``old_built``: the old config, when its DAG
    was active and valid) and after; the DAG diff too when it changed and ``diff`` is on."""
    if new is None:
        if entry.problems:
            entry.action = Action.FAILS  # an invalid config is never written, active or not
        else:
            entry.action = Action.REMOVE if old_built is not None else Action.UNCHANGED
    elif new.dag is None or new_config is None:
        entry.action = Action.FAILS
    elif old_built is None:
        entry.action = Action.CREATE
    elif old_built.to_json() == new_config.to_json():
        entry.action = Action.UNCHANGED
    else:
        entry.action = Action.CHANGE
        if diff:
            entry.dag_diff = _dag_diff(old_built, new.dag, platform, job)


def _dag_diff(old_config: StreamConfig, new_dag: Any, platform: str, job: JobSettings | None) -> DagDiff | None:
    from factory.builder import build_dag

    try:
        return diff_dags(build_dag(old_config, platform, job=job), new_dag)
    except Exception:  # the stored config no longer builds: nothing to compare with
        return None


def plan_changes(
    platform: str,
    rows: Mapping[str, ConfigRow | None],
    changeset: Changeset | None = None,
    *,
    progress: Progress | None = None,
    keep_dags: bool = False,
    diff: bool = True,
    rules: Rules | None = None,
) -> Plan:
    """The plan for ``changeset`` over ``rows`` (the streams it should cover, by key; None for
    a key with no row). Lists every active stream and every stream the changeset touches; the
    streams it touches are judged by the platform's ``rules`` too (the others are not judged).
    Pure: reads nothing, writes nothing; never raises for a bad row or a bad change.
    """
    started = time.perf_counter()
    slug = platform_slug(platform)
    if changeset is not None and changeset.platform != slug:
        raise FactoryError(f"the changeset is for platform {changeset.platform}, not {slug}")
    changes = changeset.by_key() if changeset is not None else {}
    keys = sorted(set(rows) | set(changes))
    plan = Plan(slug, [])
    for done, key in enumerate(keys, 1):
        entry, dag = plan_entry(slug, key, rows.get(key), changes.get(key), diff=diff, rules=rules)
        if entry.touched or entry.old_status == RowStatus.ACTIVE:
            plan.entries.append(entry)
        plan.build_ms += entry.build_ms or 0.0
        if keep_dags and dag is not None:
            plan.dags[dag.dag_id] = dag
        if progress is not None and (done % 100 == 0 or done == len(keys)):
            progress(done, len(keys))
    plan.total_ms = (time.perf_counter() - started) * 1000.0
    return plan


def simulate(
    conn: Connection,
    platform: str,
    changeset: Changeset | None = None,
    *,
    progress: Progress | None = None,
    keep_dags: bool = False,
    diff: bool = True,
) -> Plan:
    """Build every active row of ``platform`` offline, with ``changeset`` laid over the rows.

    Reads the rows on ``conn`` and writes nothing. The plan lists every active stream and every
    stream the changeset touches; ``keep_dags`` keeps the new state's DAGs on the plan. The
    platform's stored policy judges the touched streams and its job settings build every DAG,
    as ``apply`` and the factory do.
    """
    from factory.operations.inspection.views import platform_rules
    from factory.store import iter_rows

    slug = platform_slug(platform)
    started = time.perf_counter()
    rules = platform_rules(conn, slug)
    rows: dict[str, ConfigRow | None] = {r.stream_key: r for r in iter_rows(conn, slug)}
    plan = plan_changes(slug, rows, changeset, progress=progress, keep_dags=keep_dags, diff=diff, rules=rules)
    plan.total_ms = (time.perf_counter() - started) * 1000.0
    return plan


def touched_rows(rows: Iterable[ConfigRow], changeset: Changeset) -> dict[str, ConfigRow | None]:
    """The rows a changeset touches (None where a touched stream has no row), for planning only those."""
    by_key = {r.stream_key: r for r in rows}
    return {c.stream_key: by_key.get(c.stream_key) for c in changeset.changes}


# ---- one stream, for the dashboard's editor --------------------------------------------------


@dataclass
class EditVerdict:
    """What an edited config would do, for the editor to show on every (debounced) keystroke.

    ``builds`` is True when the edit validates and its DAG builds; ``problems`` are at their
    JSON paths; ``json_diff`` is against the stored row (field by field) and ``dag_diff`` against
    the stored row's DAG (task by task); ``change`` is the edit ready to stage in a changeset,
    based on the row as it was read (None when the text names no usable stream key).
    """

    stream_key: str | None
    builds: bool
    action: Action
    problems: list[ConfigProblem] = field(default_factory=list)
    spec: DagSpec | None = None
    build_ms: float | None = None
    json_diff: list[JsonChange] = field(default_factory=list)
    dag_diff: DagDiff | None = None
    change: Upsert | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream_key": self.stream_key,
            "builds": self.builds,
            "action": str(self.action),
            "problems": [p.to_dict() for p in self.problems],
            "dag": self.spec.to_dict() if self.spec else None,
            "build_ms": round(self.build_ms, 3) if self.build_ms is not None else None,
            "json_diff": [c.to_dict() for c in self.json_diff],
            "dag_diff": self.dag_diff.to_dict() if self.dag_diff else None,
        }


def simulate_edit(
    platform: str,
    stored: ConfigRow | None,
    edited_json: str,
    *,
    status: RowStatus | None = None,
    rules: Rules | None = None,
) -> EditVerdict:
    """Validate and build an edited config as the factory would, against the stored row.

    ``stored`` is the row as loaded (None for a new stream, whose key then comes from the
    text's ``stream_key``); ``status`` None keeps the row's status; ``rules`` are the platform's
    (policy, other platforms), as the apply will judge the edit. Never raises: invalid JSON,
    wrong types, an unknown platform or a bug all come back as problems. A paused or retired
    row's edit is built too, so the editor shows what resuming it would build.
    """
    key = stored.stream_key if stored is not None else _key_in(edited_json)
    try:
        slug = platform_slug(platform)
        if key is None:  # a new stream: its key comes from the text
            problems = [p for p in _validate(edited_json, None, rules)[1] if p.path != "$.stream_key"]
            problems.append(ConfigProblem("$.stream_key", "a new stream needs a valid stream_key"))
            return EditVerdict(None, False, Action.FAILS, sorted(set(problems)))
        change = edit_of(stored, key, edited_json)
        if status is not None:
            change = change.model_copy(update={"status": status})
        entry, _ = plan_entry(slug, key, stored, change, rules=rules)
        shown = entry
        if entry.new_status != RowStatus.ACTIVE and entry.action is not Action.FAILS:
            active = change.model_copy(update={"status": RowStatus.ACTIVE})
            shown, _ = plan_entry(slug, key, stored, active, rules=rules)
        return EditVerdict(
            stream_key=key,
            builds=not shown.problems and (shown.spec is not None),
            action=entry.action,
            problems=shown.problems,
            spec=shown.spec,
            build_ms=shown.build_ms,
            json_diff=entry.json_diff,
            dag_diff=shown.dag_diff,
            change=change,
        )
    except Exception as exc:  # the editor must keep working whatever was typed
        return EditVerdict(key, False, Action.FAILS, [ConfigProblem("$", f"{type(exc).__name__}: {exc}")])


def _key_in(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    key = data.get("stream_key") if isinstance(data, dict) else None
    if not isinstance(key, str):
        return None
    from factory.names import STREAM_KEY_RE

    return key if STREAM_KEY_RE.fullmatch(key) else None


__all__ = [
    "Action",
    "EditVerdict",
    "JsonChange",
    "Plan",
    "PlanEntry",
    "Progress",
    "RowOp",
    "json_diff",
    "plan_changes",
    "plan_entry",
    "simulate",
    "simulate_edit",
    "touched_rows",
]
