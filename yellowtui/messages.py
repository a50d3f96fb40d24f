"""Events the dashboard's workers and widgets post: each says what already happened.

Workers never touch widgets; they post one of these and an ``@on`` handler updates state.
Payloads are typed values (the types only matter to the checker, so they are imported for it
alone and this module stays light).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from factory.operations.inspection.views import StreamView
    from yellowtui.presenters.dag_preview import DagPreview
    from yellowtui.services.airflow_service import RunState, TaskInstanceState
    from yellowtui.services.config_service import HistoryEntry, ParseReport, Revision
    from yellowtui.services.parse_loop_service import ParseInfo
    from yellowtui.services.run_state import PlatformRunState
    from yellowtui.state import RowBatch


@dataclass
class RowsLoaded(Message):
    """A batch of config rows arrived (already turned into table rows off the UI thread).

    ``replace`` starts a new set of rows; later batches of the same load append to it;
    ``done`` marks the last batch.
    """

    batch: RowBatch
    replace: bool
    done: bool
    elapsed_ms: float
    loaded_at: datetime
    #: Which load this batch belongs to: batches of a superseded load are ignored.
    load_id: int = 0


@dataclass
class RevisionChecked(Message):
    """The database answered the periodic check; ``revision`` changes when rows or outcomes do."""

    revision: Revision


@dataclass
class DatabaseWentDown(Message):
    """A database call failed because the database cannot be reached. Safe-to-show reason."""

    reason: str
    at: datetime


@dataclass
class DatabaseCameBack(Message):
    """The database answers again after being down (since ``down_since``, when known)."""

    at: datetime
    down_since: datetime | None = None


@dataclass
class StreamSelected(Message):
    """The operator chose one stream (Enter in a table or a tree, or the command palette)."""

    platform: str
    stream_key: str


@dataclass
class StreamLoaded(Message):
    """One stream's row, the DAG it builds and its history were read (``view`` None: no such row)."""

    platform: str
    stream_key: str
    view: StreamView | None
    preview: DagPreview | None
    history: list[HistoryEntry] = field(default_factory=list)
    #: Airflow's versions of the stream's DAG (number, created), oldest first; None: not read.
    versions: list[tuple[int, datetime | None]] | None = None
    #: Why the versions could not be read (Airflow not configured, down, no such DAG).
    versions_note: str = ""


@dataclass
class ParsesLoaded(Message):
    """Recent parse reports of one platform were read, newest first."""

    platform: str
    reports: list[ParseReport]


@dataclass
class ParseLoopStarted(Message):
    platform: str


@dataclass
class ParseRecorded(Message):
    """The parse loop finished one parse of the factory file (its report is in the database)."""

    platform: str
    info: ParseInfo


@dataclass
class ParseLoopStopped(Message):
    platform: str
    error: str | None = None


# ---- Airflow ------------------------------------------------------------------------------------


@dataclass
class AirflowRefreshed(Message):
    """Airflow answered: every platform's run state, read at ``at``."""

    states: tuple[PlatformRunState, ...]
    at: datetime


@dataclass
class AirflowWentDown(Message):
    """Airflow could not be reached (or refused the credentials). Safe-to-show reason."""

    reason: str
    at: datetime


@dataclass
class DagRunsLoaded(Message):
    """The newest runs of one DAG were read, newest first."""

    dag_id: str
    runs: list[RunState]


@dataclass
class TaskInstancesLoaded(Message):
    """The task instances of one run were read."""

    dag_id: str
    run_id: str
    tasks: list[TaskInstanceState]


@dataclass
class TaskLogLoaded(Message):
    """One try of one task instance's log was read (the whole text so far)."""

    dag_id: str
    run_id: str
    task_id: str
    try_number: int
    text: str


@dataclass
class ClearPreviewed(Message):
    """What clearing a run's failed tasks would clear (a dry run: nothing changed yet)."""

    dag_id: str
    run_id: str
    tasks: list[str]


@dataclass
class AirflowActionFinished(Message):
    """A write to Airflow (trigger, pause, unpause, clear) was done (``error`` None) or failed."""

    what: str
    result: str
    error: str | None = None


@dataclass
class AirflowReadFailed(Message):
    """A read for one selection (runs, task instances, a log) failed for a reason other than
    Airflow being unreachable (the run was deleted, say). One line, safe to show."""

    what: str
    error: str
