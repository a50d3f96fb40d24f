"""Which differences between a DataSurface static DAG and the factory's are intended, by name.

The factory runs the same job as DataSurface's July 2025 static files (same arguments, image,
namespace, schedule, credential variables and secrets) but does some things on purpose in
another way. Each such difference has a stable name that ``migrate cutover --accept`` takes;
anything else is drift, which no name accepts. A difference counts as intended only when the
static side holds exactly what DataSurface's template (ingestion_stream_dag.py.j2, commits
db4c68f and c7cdb5c of 2025-07-17/18, billynewport/datasurface) wrote; a hand-edited value is
drift. Our own static files have no intended differences: any difference there is drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from factory.operations.changes.dag_diff import MISSING, DagDiff
from factory.operations.migration.migrate_read import DATASURFACE_JULY_2025, Unmappable, parse_arguments
from factory.shape import CHECK_TASK_ID, JOB_TASK_ID, RESCHEDULE_TASK_ID

#: The intended differences, each with what it means.
INTENDED = {
    "result-code": "check_result read the job's log file from the worker's disk; the factory reads the "
    "DATASURFACE_RESULT_CODE line through pods/log (a pod callback) into XCom, no sidecar (do_xcom_push=False)",
    "default-args": "DataSurface's default_args (owner datasurface, email_on_failure, depends_on_past, "
    "retry_delay, start_date) against the factory's owner yellow and retries 0",
    "tags": "['datasurface', 'ingestion', platform, stream] against ['yellow', platform, ingestion_type]",
    "description": "'Ingestion Stream DAG for P__S' against 'Ingestion of STORE (DATASETS) on P'",
    "max-active-runs": "Airflow's default (16) against 1, as DataSurface's later DAGs",
    "slack-channel": "the literal DATASURFACE_SLACK_CHANNEL variable, which the job does not read; "
    "the factory passes Slack's token only",
    "platform-env": "DATASURFACE_PLATFORM_NAME held the dag_id's platform name; the factory passes the "
    "original name, as DataSurface's later DAGs (the job reads --platform-name)",
    "resources": "requests 256Mi/100m and no limits against requests and limits, both defaulting to 256Mi/100m",
    "pod-settings": "pod name, labels, the empty git-workspace volume, priority weight and its rule",
    "reschedule-conf": "the reschedule's conf {'triggered_by': 'reschedule'}, which nothing reads",
    "order": "the order of arguments or environment variables (the job's parser and the pod ignore it)",
}
#: Real drift: what the job runs differs. Never accepted by name.
DRIFT = ("arguments", "image", "command", "namespace", "schedule", "credentials", "environment", "shape", "other")

_JULY_DEFAULT_ARGS = {
    "owner": "datasurface",
    "depends_on_past": False,
    "email_on_failure": True,
    "email_on_retry": False,
    "retries": 0,
    "retry_delay": 300.0,
    "start_date": 1735689600.0,  # datetime(2025, 1, 1), UTC; the factory sets the same on the DAG
}
_POD_SETTINGS = ("labels", "name", "volume_mounts", "volumes", "priority_weight", "weight_rule", "image_pull_policy")


@dataclass(frozen=True)
class Difference:
    """One differing argument: its intended-difference or drift name, and both sides."""

    name: str
    intended: bool
    where: str
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "intended": self.intended,
            "where": self.where,
            "static": None if self.old is MISSING else self.old,
            "factory": None if self.new is MISSING else self.new,
        }


def classify(diff: DagDiff, generation: str, static_dag: Any) -> list[Difference]:
    """Name each difference of ``diff`` (static DAG -> factory DAG) and say whether it is intended."""
    july = generation == DATASURFACE_JULY_2025
    found: list[Difference] = []

    def add(name: str, where: str, old: Any, new: Any, expected: bool = True) -> None:
        found.append(Difference(name, july and expected and name in INTENDED, where, old, new))

    for arg in diff.dag:
        n = arg.name
        if n.startswith("default_args."):
            key = n.removeprefix("default_args.")
            known = key.endswith(".type") or arg.old == _JULY_DEFAULT_ARGS.get(key, MISSING)
            add("default-args", f"dag.{n}", arg.old, arg.new, known)
        elif n == "tags":
            add("tags", "dag.tags", arg.old, arg.new, _july_tags(static_dag))
        elif n == "description":
            add(
                "description",
                "dag.description",
                arg.old,
                arg.new,
                arg.old == f"Ingestion Stream DAG for {static_dag.dag_id.removesuffix('_ingestion')}",
            )
        elif n == "max_active_runs":
            add("max-active-runs", "dag.max_active_runs", arg.old, arg.new, arg.old == 16)
        elif n.startswith(("timetable", "schedule")):
            add("schedule", f"dag.{n}", arg.old, arg.new)
        else:
            add("other", f"dag.{n}", arg.old, arg.new)
    for task in diff.tasks:
        if task.kind != "changed":
            add("shape", f"task {task.task_id}", "present" if task.kind == "removed" else MISSING, task.kind)
            continue
        for arg in task.args:
            where, n = f"{task.task_id}.{arg.name}", arg.name
            if n == "owner":
                add("default-args", where, arg.old, arg.new, arg.old == "datasurface")
            elif task.task_id == JOB_TASK_ID:
                found += _job_difference(where, n, arg.old, arg.new, july, static_dag)
            elif task.task_id == CHECK_TASK_ID and n.startswith(("op_kwargs", "python_callable")):
                add("result-code", where, arg.old, arg.new)
            elif task.task_id == RESCHEDULE_TASK_ID and n.startswith("conf"):
                add("reschedule-conf", where, arg.old, arg.new, arg.old in ("reschedule", MISSING))
            else:
                add("other", where, arg.old, arg.new)
    return found


def _july_tags(dag: Any) -> bool:
    prefix = dag.dag_id.removesuffix("_ingestion")
    platform, _, stream = prefix.partition("__")
    return set(dag.tags or []) == {"datasurface", "ingestion", platform, stream}


def _job_difference(where: str, n: str, old: Any, new: Any, july: bool, dag: Any) -> list[Difference]:
    def one(name: str, expected: bool = True) -> list[Difference]:
        return [Difference(name, july and expected and name in INTENDED, where, old, new)]

    if n == "arguments":
        try:
            same = parse_arguments(old or []) == parse_arguments(new or [])
        except Unmappable:
            same = False
        return one("order" if same else "arguments")
    if n in ("image", "namespace"):
        return one(n)
    if n == "cmds":
        return one("command")
    if n == "env_vars":
        return _env_differences(where, old or [], new or [], july, dag)
    # The DAG diff keys the environment by variable (factory.operations.changes.dag_diff).
    if n.startswith("env_vars."):
        return _env_variable_difference(where, n.removeprefix("env_vars."), old, new, july, dag)
    if n.startswith("container_resources"):
        requests_july = n.startswith("container_resources.limits")  # July set requests only
        return one("resources", requests_july)
    if n in ("do_xcom_push", "callbacks"):
        return one("result-code")
    if n.split(".", maxsplit=1)[0] in _POD_SETTINGS:
        return one("pod-settings")
    if n == "secrets":
        return one("credentials")
    return one("other")


def _env(items: list[Any]) -> dict[str, Any]:
    found = {}
    for item in items:
        ref = (item.get("value_from") or {}).get("secret_key_ref") if isinstance(item, dict) else None
        found[item.get("name")] = (ref.get("name"), ref.get("key")) if ref else item.get("value")
    return found


def _env_differences(where: str, old: list[Any], new: list[Any], july: bool, dag: Any) -> list[Difference]:
    """The job's environment, variable by variable: a credential differing is drift, the two
    literal variables July set otherwise are intended, and the rest is order."""
    a, b = _env(old), _env(new)
    found = []
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name, MISSING), b.get(name, MISSING)
        if x == y:
            continue
        here = f"{where}.{name}"
        if name == "DATASURFACE_SLACK_CHANNEL" and y is MISSING:
            found.append(Difference("slack-channel", july, here, x, y))
        elif name == "DATASURFACE_PLATFORM_NAME" and x == dag.dag_id.partition("__")[0]:
            found.append(Difference("platform-env", july, here, x, y))
        elif isinstance(x, tuple) or isinstance(y, tuple):
            found.append(Difference("credentials", False, here, x, y))
        else:
            found.append(Difference("environment", False, here, x, y))
    if not found:
        found.append(Difference("order", july, where, [i.get("name") for i in old], [i.get("name") for i in new]))
    return found


def _env_variable_difference(where: str, path: str, old: Any, new: Any, july: bool, dag: Any) -> list[Difference]:
    """One variable of the job's environment (``NAME``, or ``NAME.secret`` / ``NAME.key`` for a
    credential): July's two literal variables are intended, a credential differing is drift."""
    name, _, part = path.partition(".")
    if name == "DATASURFACE_SLACK_CHANNEL" and new is MISSING:
        return [Difference("slack-channel", july, where, old, new)]
    if name == "DATASURFACE_PLATFORM_NAME" and old == dag.dag_id.partition("__")[0]:
        return [Difference("platform-env", july, where, old, new)]
    credential = part in ("secret", "key") or isinstance(old, dict) or isinstance(new, dict)
    return [Difference("credentials" if credential else "environment", False, where, old, new)]


def names(differences: list[Difference], intended: bool) -> list[str]:
    """The distinct names of the intended (or drift) differences, sorted."""
    return sorted({d.name for d in differences if d.intended is intended})
