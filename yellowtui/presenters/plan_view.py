"""A plan, an edit's diffs and a conflict as lines of text for people to read.

The command line (``yellowtui simulate``/``apply``) prints these lines with Rich and the
dashboard (plan screen, editor, conflict view) shows them with Textual: both read the same
lines, so the two never drift. A line is a tuple of :class:`Span` values, each a piece of text
and a :class:`Role` (what the piece *is*, not how it looks); each front end maps roles to its
own styles. Text from the data stays plain text: nothing here is ever read as markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from factory.errors import ConfigProblem, RowConflict
    from factory.json_diff import JsonChange
    from factory.operations.changes.dag_diff import ArgChange, DagDiff
    from factory.operations.changes.plan import PlanEntry

#: Longest value shown in a diff line, in characters (longer ones end in "…").
VALUE_WIDTH = 100


class Role(StrEnum):
    PLAIN = ""
    STRONG = "strong"  # a stream key, a summary
    MUTED = "muted"  # labels
    CREATE = "create"
    CHANGE = "change"
    REMOVE = "remove"
    FAILS = "fails"
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    PROBLEM = "problem"  # a JSON path with a problem
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    role: Role = Role.PLAIN


Line = tuple[Span, ...]

#: The sign and the role of each plan action (unchanged: a row is written, no DAG changes).
ACTION_SIGN: dict[str, tuple[str, Role]] = {
    "create": ("+", Role.CREATE),
    "change": ("~", Role.CHANGE),
    "remove": ("-", Role.REMOVE),
    "fails": ("!", Role.FAILS),
    "unchanged": ("·", Role.MUTED),
}
ACTION_WORDS: dict[str, str] = {
    "create": "create",
    "change": "change",
    "remove": "remove",
    "fails": "fails to build",
    "unchanged": "no DAG change",
}
KIND_SIGN: dict[str, tuple[str, Role]] = {
    "added": ("+", Role.ADDED),
    "removed": ("-", Role.REMOVED),
    "changed": ("~", Role.CHANGED),
}


def line(*parts: Span | str | tuple[str, Role]) -> Line:
    """A line from plain strings, ``(text, role)`` pairs and spans."""
    out = []
    for part in parts:
        if isinstance(part, Span):
            out.append(part)
        elif isinstance(part, tuple):
            out.append(Span(part[0], part[1]))
        else:
            out.append(Span(part))
    return tuple(out)


def plain(lines: Iterable[Line]) -> str:
    """The lines as plain text (for tests and logs)."""
    return "\n".join("".join(s.text for s in ln) for ln in lines)


def value_text(value: Any, width: int = VALUE_WIDTH) -> str:
    """A value as compact JSON, cut to ``width`` characters."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def row_detail(entry: PlanEntry) -> str:
    """What is written to the row: ``update``, ``insert, active``, ``status active -> paused``."""
    from factory.operations.changes.plan import RowOp

    moved = entry.old_status != entry.new_status and entry.old_status and entry.new_status
    status = f"status {entry.old_status} -> {entry.new_status}" if moved else ""
    if entry.row_op is RowOp.STATUS:
        return status
    if entry.row_op is RowOp.INSERT:
        return f"insert, {entry.new_status}"
    return ", ".join(part for part in (str(entry.row_op), status) if part)


def entry_headline(entry: PlanEntry, indent: str = "  ") -> Line:
    """``  ~ Store1  change  (update)``."""
    from factory.operations.changes.plan import RowOp

    sign, role = ACTION_SIGN.get(str(entry.action), ("·", Role.MUTED))
    what = ACTION_WORDS[str(entry.action)]
    detail = f"  ({row_detail(entry)})" if entry.touched and entry.row_op is not RowOp.NONE else ""
    return line((f"{indent}{sign} ", role), (entry.stream_key, Role.STRONG), (f"  {what}", role), detail)


def problem_lines(problems: Iterable[ConfigProblem], indent: str = "      ") -> Iterator[Line]:
    for problem in problems:
        yield line(indent, (problem.path, Role.PROBLEM), f": {problem.message}")


def json_diff_lines(changes: Iterable[JsonChange], indent: str = "        ") -> Iterator[Line]:
    """``~ $.schedule: "@hourly" -> "@daily"``, one line per field."""
    for c in changes:
        sign, role = KIND_SIGN[c.kind]
        old_new = value_text(c.new) if c.kind == "added" else value_text(c.old)
        if c.kind == "changed":
            old_new = f"{value_text(c.old)} -> {value_text(c.new)}"
        yield line((f"{indent}{sign} ", role), c.path, f": {old_new}")


def dag_diff_lines(diff: DagDiff, indent: str = "        ") -> Iterator[Line]:
    """DAG-level arguments, then ``task.argument: old -> new`` per changed argument (an added
    argument shows its new value, a removed one its old value)."""
    for a in diff.dag:
        sign, role = KIND_SIGN[a.kind]
        yield line((f"{indent}{sign} ", role), a.name, f": {_arg_change(a)}")
    for task in diff.tasks:
        if task.kind != "changed":
            sign, role = KIND_SIGN[task.kind]
            yield line((f"{indent}{sign} ", role), f"task {task.task_id} {task.kind}")
            continue
        for a in task.args:
            sign, role = KIND_SIGN[a.kind]
            yield line((f"{indent}{sign} ", role), f"{task.task_id}.{a.name}", f": {_arg_change(a)}")


def _arg_change(change: ArgChange) -> str:
    if change.kind == "added":
        return value_text(change.new)
    if change.kind == "removed":
        return value_text(change.old)
    return f"{value_text(change.old)} -> {value_text(change.new)}"


def entry_lines(entry: PlanEntry) -> Iterator[Line]:
    """One plan entry as ``yellowtui simulate`` prints it: headline, problems, staleness, diffs."""
    yield entry_headline(entry)
    yield from problem_lines(entry.problems)
    if entry.stale:
        yield line(("      ⚠ ", Role.WARNING), f"based on an older row: {entry.stale}")
    if entry.json_diff:
        yield line(("      config:", Role.MUTED))
        yield from json_diff_lines(entry.json_diff)
    if entry.dag_diff is not None and not entry.dag_diff.empty:
        yield line(("      DAG ", Role.MUTED), entry.dag_id or "", ("  (task.argument: old -> new)", Role.MUTED))
        yield from dag_diff_lines(entry.dag_diff)


def conflict_lines(conflict: RowConflict) -> Iterator[Line]:
    """One conflict: the row as it is now (theirs) and the change that expected another (yours)."""
    from factory.json_diff import json_diff

    theirs = conflict.theirs or {}
    yours = conflict.yours
    yield line(("  ! ", Role.FAILS), (conflict.stream_key, Role.STRONG), f"  {conflict.reason}")
    yield line(
        "      theirs: ",
        f"status {theirs.get('status', '-')}, updated_at {theirs.get('updated_at', '-')}"
        if conflict.theirs
        else "no row",
    )
    status = f", status {yours['status']}" if yours.get("status") else ""
    yield line("      yours:  ", f"{yours.get('op')}{status}, based on {value_text(yours.get('base'))}")
    mine = yours.get("config")
    if conflict.theirs and mine is not None:
        their_config = json_or_text(str(theirs.get("config_json", "")))
        for d in json_diff(their_config, json_or_text(mine) if isinstance(mine, str) else mine)[:20]:
            yield line("        ", d.path, f": theirs {value_text(d.old)}, yours {value_text(d.new)}")


def json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def pretty_config(config: Any) -> str:
    """A config (object or JSON text) as the editor shows it: indented JSON, keys in stored order;
    text that is not JSON as it is."""
    data = json_or_text(config) if isinstance(config, str) else config
    if isinstance(data, str):
        return data
    return json.dumps(data, indent=2, ensure_ascii=False)


def counts_line(counts: dict[str, int]) -> Line:
    """``+2 create  ~1 change  -0 remove  !1 fails``, each in its action's role when not zero."""
    parts: list[Span] = []
    for action in ("create", "change", "remove", "fails"):
        sign, role = ACTION_SIGN[action]
        n = counts.get(action, 0)
        if parts:
            parts.append(Span("  "))
        parts.append(Span(f"{sign}{n} {action}", role if n else Role.MUTED))
    return tuple(parts)
