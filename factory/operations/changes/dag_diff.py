"""What changed between two DAGs, task by task and argument by argument, as Airflow stores them.

Both sides go through Airflow's own serializer (``DagSerialization.to_dict``), the form the
scheduler and the UI see, so a difference shown here is a difference Airflow will see. Where
a DAG came from (file locations) is left out; what serialization leaves out but the job depends
on (its callbacks, XCom push, what happens to the pod) is added to the job task; its environment
is keyed by variable name, each credential shown as the secret and key it is read from.

Serializing costs milliseconds per DAG: callers diff only DAGs whose config changed. The
builder is deterministic (same config, same DAG), so identical configs need no diff at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from factory.fingerprint import strip_fingerprint
from factory.json_diff import MISSING, json_diff
from factory.shape import JOB_TASK_ID

if TYPE_CHECKING:
    from airflow.sdk import DAG

#: Where a DAG came from, not what it is.
LOCATION_KEYS = frozenset({"fileloc", "relative_fileloc", "_processor_dags_folder"})
#: Shown once per task, not as arguments: the tasks' identity and their order in the list.
_TASKS_KEY = "tasks"


@dataclass(frozen=True)
class ArgChange:
    """One argument that differs; ``name`` is dotted for nested values (``env_vars.X``)."""

    name: str
    old: Any
    new: Any

    @property
    def kind(self) -> str:
        if self.old is MISSING:
            return "added"
        return "removed" if self.new is MISSING else "changed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "old": None if self.old is MISSING else self.old,
            "new": None if self.new is MISSING else self.new,
        }


@dataclass(frozen=True)
class TaskDiff:
    """One task that was added, removed or changed, with its differing arguments."""

    task_id: str
    kind: str  # "added", "removed" or "changed"
    args: tuple[ArgChange, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "kind": self.kind, "args": [a.to_dict() for a in self.args]}


@dataclass(frozen=True)
class DagDiff:
    """DAG-level arguments (schedule, tags, ...) and tasks that differ; empty when the DAGs are equal."""

    dag: tuple[ArgChange, ...] = ()
    tasks: tuple[TaskDiff, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.dag and not self.tasks

    def to_dict(self) -> dict[str, Any]:
        return {"dag": [a.to_dict() for a in self.dag], "tasks": [t.to_dict() for t in self.tasks]}


def dag_document(dag: DAG) -> dict[str, Any]:
    """The DAG as Airflow serializes it, without file locations and the description's
    fingerprint, plus the job's secrets."""
    from airflow.serialization.serialized_objects import DagSerialization

    data = _strip(DagSerialization.to_dict(dag)["dag"])
    if "description" in data:  # its fingerprint says that something changed, the diff says what
        data["description"] = strip_fingerprint(data["description"])
    if dag.has_task(JOB_TASK_ID):
        job: Any = dag.get_task(JOB_TASK_ID)
        extras = {
            # The credentials are V1EnvVars in env_vars, which Airflow serializes; the provider's
            # Secret objects (not serialized) are only read for DAGs built the old way.
            "secrets": sorted(
                [s.deploy_type, s.deploy_target, s.secret, s.key] for s in getattr(job, "secrets", None) or []
            ),
            "callbacks": sorted(getattr(c, "__name__", str(c)) for c in getattr(job, "callbacks", None) or []),
            "do_xcom_push": job.do_xcom_push,
            "on_finish_action": str(getattr(job, "on_finish_action", "")),
        }
        for task in data.get(_TASKS_KEY, []):
            body = task.get("__var", task)
            if body.get("task_id") == JOB_TASK_ID:
                body.update(extras)
                if isinstance(body.get("env_vars"), list):
                    body["env_vars"] = _env_by_name(body["env_vars"])
    return data


def _env_by_name(env_vars: list[Any]) -> dict[str, Any]:
    """The job's serialized V1EnvVars by name: a literal value, or the secret and key it comes
    from, so a diff reads ``env_vars.postgres_PASSWORD.secret: 'a' -> 'b'``."""
    found: dict[str, Any] = {}
    for var in env_vars:
        if not isinstance(var, dict) or "name" not in var:
            return {"list": env_vars}  # not the shape we build: keep it whole
        ref = (var.get("value_from") or {}).get("secret_key_ref") or {}
        found[str(var["name"])] = {"secret": ref.get("name"), "key": ref.get("key")} if ref else var.get("value")
    return found


def diff_dags(old: DAG, new: DAG) -> DagDiff:
    """Serialize both DAGs and diff them (see :func:`diff_documents`)."""
    return diff_documents(dag_document(old), dag_document(new))


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> DagDiff:
    """Diff two serialized DAGs: DAG-level arguments, then tasks matched by task_id."""
    dag_args = _changes(_flatten(_without_tasks(old)), _flatten(_without_tasks(new)))
    old_tasks, new_tasks = _tasks(old), _tasks(new)
    tasks: list[TaskDiff] = []
    for task_id in _ordered(old_tasks, new_tasks):
        if task_id not in new_tasks:
            tasks.append(TaskDiff(task_id, "removed"))
        elif task_id not in old_tasks:
            tasks.append(TaskDiff(task_id, "added", _changes({}, _flatten(new_tasks[task_id]))))
        else:
            args = _changes(_flatten(old_tasks[task_id]), _flatten(new_tasks[task_id]))
            if args:
                tasks.append(TaskDiff(task_id, "changed", args))
    return DagDiff(dag_args, tuple(tasks))


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in LOCATION_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _without_tasks(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != _TASKS_KEY}


def _tasks(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for task in doc.get(_TASKS_KEY, []):
        body = task.get("__var", task) if isinstance(task, dict) else {}
        if "task_id" in body:
            found[body["task_id"]] = body
    return found


def _ordered(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Task ids in the DAG's own order (old first, then tasks only the new one has)."""
    return list(old) + [t for t in new if t not in old]


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted names; Airflow's ``{"__type", "__var"}`` wrapping unwrapped.

    Lists stay whole values: an argument list such as ``arguments`` reads best side by side.
    """
    flat: dict[str, Any] = {}
    for key, item in value.items():
        if key == "__type" and item == "dict":  # the wrapper of a plain dict says nothing
            continue
        name = prefix[:-1] if key == "__var" else prefix + ("type" if key == "__type" else str(key))
        if isinstance(item, dict) and item:
            flat.update(_flatten(item, f"{name}." if name else ""))
        else:
            flat[name] = item
    return flat


def _changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[ArgChange, ...]:
    """Flattened arguments that differ, by name; values compared whole, with plain ``==``."""
    changes = json_diff(old, new, "", depth=1, exact_types=False)
    return tuple(ArgChange(c.path, c.old_or_missing, c.new_or_missing) for c in changes)
