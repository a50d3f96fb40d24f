"""The DAG the factory would build from one config row, as plain data for people to read.

Calls the factory's own :func:`factory.spec.dag_spec` (the one place every value of the DAG is
decided) and describes the tasks with :data:`factory.shape.TASKS` (the one place the DAG's
shape is said), so what the dashboard shows is what Airflow gets. Airflow itself is not
imported; a test builds a real DAG and checks the two agree task by task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from factory.errors import StreamConfigError
from factory.models import parse_config
from factory.shape import TASKS, TaskShape
from factory.spec import DagSpec, dag_spec

if TYPE_CHECKING:
    from factory.policy import PlatformPolicy


@dataclass(frozen=True)
class DagPreview:
    """``spec`` when the config validates; otherwise ``None`` and the problems with their JSON paths."""

    platform: str
    stream_key: str
    spec: DagSpec | None
    problems: list[dict[str, str]] = field(default_factory=list)
    tasks: tuple[TaskShape, ...] = TASKS

    def task(self, task_id: str) -> TaskShape:
        return next(t for t in self.tasks if t.task_id == task_id)

    def roots(self) -> list[TaskShape]:
        downstream = {d for t in self.tasks for d in t.downstream}
        return [t for t in self.tasks if t.task_id not in downstream]

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "stream_key": self.stream_key,
            "dag": self.spec.to_dict() if self.spec else None,
            "problems": self.problems,
            "tasks": [
                {"task_id": t.task_id, "operator": t.operator, "downstream": list(t.downstream)} for t in self.tasks
            ],
        }


def preview_dag(platform: str, stream_key: str, config_json: str, policy: PlatformPolicy | None = None) -> DagPreview:
    """Validate ``config_json`` and describe the DAG the builder makes from it. Never raises for bad input.

    ``policy`` is the platform's stored one: its limits judge the row and its job settings
    (argument generation, secret key names, where the result comes from) shape the pod, as in
    the factory; without it, the platform-name rule and the default job settings."""
    try:
        config = parse_config(config_json, stream_key=stream_key, policy=policy)
    except StreamConfigError as exc:
        return DagPreview(platform, stream_key, None, [p.to_dict() for p in exc.problems])
    return DagPreview(platform, stream_key, dag_spec(config, platform, policy.job if policy else None))
