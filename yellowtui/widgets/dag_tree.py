"""DagTree: the DAG the builder makes from one row: tasks, operators, image, command, env vars,
the secrets they come from (names only: values never exist here), schedule, and dependencies."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets.tree import TreeNode

from factory.enums import Outcome
from factory.shape import JOB_TASK_ID, TaskShape
from yellowtui.presenters.dag_preview import DagPreview
from yellowtui.widgets.content_tree import ContentTree


def branch_note(task: TaskShape) -> str | None:
    """``when the job says DONE (0)`` for a branch target; None for other tasks.

    Args:
        task: A task of the DAG.

    Returns:
        The condition under which the task runs, or None.
    """
    return f"when the job says {task.when.name} ({task.when.value})" if task.when is not None else None


def _kv(key: str, value: Any, value_style: str = "") -> Content:
    return Content.assemble((f"{key}: ", "$text-muted"), (str(value), value_style))


class DagTree(ContentTree):
    """A read-only tree of a :class:`DagPreview`. ``show(preview, last_outcome)`` fills it."""

    HELP = """
## The DAG

What the factory's builder makes from this row: tasks, operators, the job's image, command,
env vars and the Kubernetes secrets (names only) they come from, and the dependencies.
"""

    DEFAULT_CSS = """
    DagTree {
        height: 1fr;
        padding: 0 1;
        background: $surface;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        """Create the tree; it is empty until :meth:`show`.

        Args:
            id: The ID of the widget in the DOM.
            classes: The CSS classes of the widget.
        """
        super().__init__("DAG", id=id, classes=classes)
        self.show_root = True
        self.guide_depth = 3

    def show(self, preview: DagPreview, last_outcome: str | None = None, last_error: str | None = None) -> None:
        """Fill the tree with the DAG of ``preview``, or with its problems when the config does not validate.

        Args:
            preview: The row's DAG as the builder makes it, or its problems.
            last_outcome: The factory's last recorded outcome for the row, said when it is not ok.
            last_error: The last parse's error, shown when the outcome is not ok.
        """
        self.clear()
        root = self.root
        spec = preview.spec
        if spec is None:
            root.set_label(
                self.content_label(
                    Content.styled(
                        f"No DAG: {preview.platform}/{preview.stream_key} does not validate", "$text-error bold"
                    )
                )
            )
            problems = root.add(
                self.content_label(Content.styled(f"{len(preview.problems)} problem(s)", "$text-error")), expand=True
            )
            for p in preview.problems:
                problems.add_leaf(
                    self.content_label(Content.assemble((p["path"], "$text-error bold"), ": ", p["message"]))
                )
            if last_outcome == Outcome.STALE:
                root.add_leaf(
                    self.content_label(
                        Content.styled(
                            "Airflow still runs this stream's last good config from the factory's snapshot.",
                            "$text-warning",
                        )
                    )
                )
            elif last_outcome == Outcome.ERROR:
                root.add_leaf(
                    self.content_label(
                        Content.styled(
                            "The factory builds no DAG for this stream until the row is fixed; "
                            "every other stream keeps its DAG.",
                            "$text-muted",
                        )
                    )
                )
            root.expand_all()
            return
        root.set_label(
            self.content_label(
                Content.assemble((spec.dag_id, "bold $text-primary"), ("  (as the factory builds it)", "$text-muted"))
            )
        )
        root.add_leaf(self.content_label(_kv("schedule", spec.schedule or "none (manual runs)", "$text-accent")))
        root.add_leaf(self.content_label(_kv("namespace", spec.namespace)))
        root.add_leaf(self.content_label(_kv("tags", ", ".join(spec.tags))))
        deps = root.add(self.content_label(Content.styled("dependencies", "bold")), expand=True)
        for task in preview.roots():
            self._add_dependency(deps, preview, task)
        tasks = root.add(self.content_label(Content.styled("tasks", "bold")), expand=True)
        for task in preview.tasks:
            node = tasks.add(
                self.content_label(Content.assemble((task.task_id, "bold"), "  ", (task.operator, "$text-accent"))),
                expand=True,
            )
            node.add_leaf(self.content_label(Content.styled(task.role, "$text-muted italic")))
            if task.task_id == JOB_TASK_ID:
                self._add_job(node, preview)
        if last_outcome and last_outcome != Outcome.OK:
            root.add_leaf(
                self.content_label(Content.styled(f"last parse: {last_outcome}: {last_error or ''}", "$text-error"))
            )
        root.expand()

    def _add_dependency(self, parent: TreeNode[Any], preview: DagPreview, task: TaskShape) -> None:
        note = branch_note(task)
        label = Content.assemble(
            (task.task_id, "bold"),
            "  ",
            (task.operator, "$text-accent"),
            ((f"  {note}", "$text-muted") if note else ""),
        )
        if task.downstream:
            node = parent.add(self.content_label(label), expand=True)
            for child in task.downstream:
                self._add_dependency(node, preview, preview.task(child))
        else:
            parent.add_leaf(self.content_label(label))

    def _add_job(self, node: TreeNode[Any], preview: DagPreview) -> None:
        spec = preview.spec
        assert spec is not None
        node.add_leaf(self.content_label(_kv("image", spec.image, "$text-success")))
        node.add_leaf(self.content_label(_kv("command", " ".join(spec.cmds), "$text-success")))
        args = node.add(self.content_label(_kv("arguments", f"{len(spec.arguments)} items")), expand=False)
        pairs = list(spec.arguments)
        i = 0
        while i < len(pairs):
            if pairs[i].startswith("--") and i + 1 < len(pairs) and not pairs[i + 1].startswith("--"):
                args.add_leaf(self.content_label(Content.assemble((pairs[i], "$text-muted"), " ", pairs[i + 1])))
                i += 2
            else:
                args.add_leaf(self.content_label(Content(pairs[i])))
                i += 1
        env = node.add(self.content_label(_kv("env vars", f"{len(spec.env_vars)} plain values")), expand=True)
        for key in sorted(spec.env_vars):
            env.add_leaf(self.content_label(Content.assemble((key, "$text-primary"), " = ", spec.env_vars[key])))
        secrets = node.add(
            self.content_label(_kv("env vars from Kubernetes secrets", f"{len(spec.secrets)} (names only)")),
            expand=True,
        )
        for s in spec.secrets:
            secrets.add_leaf(
                self.content_label(
                    Content.assemble(
                        (s.env_var, "$text-primary"),
                        " ← secret ",
                        (s.secret_name, "$text-warning bold"),
                        (f" key {s.secret_key}", "$text-muted"),
                    )
                )
            )
        node.add_leaf(self.content_label(_kv("pod", f"{spec.pod_name} in {spec.namespace}")))
        if spec.resources:
            res = node.add(self.content_label(Content("resources")), expand=True)
            for kind, values in spec.resources.items():
                res.add_leaf(self.content_label(_kv(kind, ", ".join(f"{k}={v}" for k, v in values.items()))))
        labels = node.add(self.content_label(_kv("labels", len(spec.labels))), expand=False)
        for key, value in spec.labels.items():
            labels.add_leaf(self.content_label(_kv(key, value)))
