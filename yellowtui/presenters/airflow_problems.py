"""Airflow's own complaints about a platform's factory DAGs, for the errors screen: import errors
of the factory file (with their stack trace) and DAG warnings, beside the factory's errors.

Plain data from plain fields (the service's records are read through small protocols, so this
module stays free of the service layer); every text from Airflow is made safe to show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from factory.names import stream_key_from_dag_id
from yellowtui.presenters.runs import visible, visible_lines

#: How many lines of an import error's stack trace are shown under it (its end: the cause).
TRACE_LINES = 12


class ImportErrorLike(Protocol):
    @property
    def filename(self) -> str: ...
    @property
    def timestamp(self) -> datetime | None: ...
    @property
    def stack_trace(self) -> str: ...


class DagWarningLike(Protocol):
    @property
    def dag_id(self) -> str: ...
    @property
    def warning_type(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def timestamp(self) -> datetime | None: ...


@dataclass(frozen=True)
class AirflowProblem:
    """One import error or DAG warning as the errors screen lists it."""

    platform: str
    kind: str  # "import error" | "DAG warning"
    subject: str  # the file, or the dag_id
    stream_key: str | None  # the stream a DAG warning is about, when its dag_id names one
    summary: str
    detail: tuple[str, ...]
    at: datetime | None


def airflow_problems(
    platform: str, import_errors: Iterable[ImportErrorLike], warnings: Iterable[DagWarningLike]
) -> list[AirflowProblem]:
    """Import errors first (they can cost the platform every DAG), then warnings, newest first."""
    found: list[AirflowProblem] = []
    for error in import_errors:
        lines = [line for line in visible_lines(error.stack_trace) if line.strip()]
        found.append(
            AirflowProblem(
                platform,
                "import error",
                visible(error.filename),
                None,
                lines[-1] if lines else "(no stack trace)",
                tuple(lines[-TRACE_LINES:]),
                error.timestamp,
            )
        )
    for warning in warnings:
        message = visible(warning.message)
        found.append(
            AirflowProblem(
                platform,
                "DAG warning",
                visible(warning.dag_id),
                stream_key_from_dag_id(platform, warning.dag_id),
                f"{visible(warning.warning_type)}: {message.splitlines()[0] if message else ''}",
                tuple(message.splitlines()[1:TRACE_LINES]),
                warning.timestamp,
            )
        )
    return found
