"""The ingestion DAG's shape, said once: its tasks, their edges, the job's result codes and what
each branch means.

The builder wires the DAG from it, the branch callable maps result codes through it, and the
dashboard's DAG tree and the command line describe the DAG with it. The legacy static template
spells the same shape out by itself (it must not import the factory); the parity test holds the
two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ResultCode(IntEnum):
    """What the ingestion job tells the DAG: its ``DATASURFACE_RESULT_CODE`` line, read from the pod's
    own log through the Kubernetes API (never from a log file on disk, never through an XCom sidecar);
    ``-1``, the job's error, fails the job task itself."""

    DONE = 0
    KEEP_WORKING = 1


JOB_TASK_ID = "snapshot_merge_job"
CHECK_TASK_ID = "check_result"
RESCHEDULE_TASK_ID = "reschedule_immediately"
WAIT_TASK_ID = "wait_for_trigger"


@dataclass(frozen=True)
class TaskShape:
    """One task: its id, operator class, the tasks after it, what it does, and (for a branch
    target) the result code that leads to it."""

    task_id: str
    operator: str
    downstream: tuple[str, ...]
    role: str
    when: ResultCode | None = None


TASKS: tuple[TaskShape, ...] = (
    TaskShape(
        JOB_TASK_ID,
        "KubernetesPodOperator",
        (CHECK_TASK_ID,),
        "runs DataSurface's job; its DATASURFACE_RESULT_CODE line is read from the pod's log",
    ),
    TaskShape(
        CHECK_TASK_ID,
        "BranchPythonOperator",
        (RESCHEDULE_TASK_ID, WAIT_TASK_ID),
        "1 keep working -> reschedule, 0 done -> wait, anything else fails the run",
    ),
    TaskShape(
        RESCHEDULE_TASK_ID,
        "TriggerDagRunOperator",
        (),
        "triggers this same DAG again at once",
        ResultCode.KEEP_WORKING,
    ),
    TaskShape(WAIT_TASK_ID, "EmptyOperator", (), "no-op: done until the next scheduled run", ResultCode.DONE),
)

#: Which task the branch follows for each result code; any other code fails the run.
BRANCHES: dict[ResultCode, str] = {t.when: t.task_id for t in TASKS if t.when is not None}


def task(task_id: str) -> TaskShape:
    """The task named ``task_id`` (KeyError for a name the DAG does not have)."""
    for shape in TASKS:
        if shape.task_id == task_id:
            return shape
    raise KeyError(task_id)


def edges() -> list[tuple[str, str]]:
    """(upstream, downstream) pairs in task order."""
    return [(t.task_id, d) for t in TASKS for d in t.downstream]


def next_task(code: object) -> str | None:
    """The branch target for a result code, or None when the code means the run fails."""
    for result, target in BRANCHES.items():
        if code == result:
            return target
    return None


def summary() -> str:
    """One line for people: ``snapshot_merge_job -> check_result -> reschedule_immediately | wait_for_trigger``."""
    chain = [JOB_TASK_ID, CHECK_TASK_ID]
    return " -> ".join(chain) + " -> " + " | ".join(task(CHECK_TASK_ID).downstream)
