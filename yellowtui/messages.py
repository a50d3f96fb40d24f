"""Events the dashboard's workers and widgets post: each says what already happened.

Workers never touch widgets; they post one of these and an ``@on`` handler updates state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from textual.message import Message


@dataclass
class RowsLoaded(Message):
    """A batch of config rows arrived (already turned into table rows off the UI thread).

    ``replace`` starts a new set of rows; later batches of the same load append to it;
    ``done`` marks the last batch.
    """

    views: list[Any]
    rows: list[Any]
    replace: bool
    done: bool
    elapsed_ms: float
    loaded_at: datetime
    #: Which load this batch belongs to: batches of a superseded load are ignored.
    load_id: int = 0


@dataclass
class RevisionChecked(Message):
    """The database answered the periodic check; ``revision`` changes when rows or outcomes do."""

    revision: tuple[Any, ...]


@dataclass
class DatabaseWentDown(Message):
    """A database call failed because the database cannot be reached. Safe-to-show reason."""

    reason: str
    at: datetime


@dataclass
class DatabaseCameBack(Message):
    """The database answers again after being down."""

    at: datetime


@dataclass
class StreamSelected(Message):
    """The operator chose one stream (Enter in a table or a tree, or the command palette)."""

    platform: str
    stream_key: str


@dataclass
class StreamLoaded(Message):
    """One stream's row, the DAG it builds and its history were read."""

    platform: str
    stream_key: str
    view: Any
    preview: Any
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ParsesLoaded(Message):
    """Recent parse reports of one platform were read, newest first."""

    platform: str
    reports: list[dict[str, Any]]


@dataclass
class ParseLoopStarted(Message):
    platform: str


@dataclass
class ParseRecorded(Message):
    """The parse loop finished one parse of the factory file (its report is in the database)."""

    platform: str
    info: dict[str, Any]


@dataclass
class ParseLoopStopped(Message):
    platform: str
    error: str | None = None


@dataclass
class PlatformChanged(Message):
    """The operator picked another platform (``None``: all platforms)."""

    platform: str | None
