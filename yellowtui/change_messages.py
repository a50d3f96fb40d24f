"""Events of the simulate-before-commit workflow (editor, plan, apply), each saying what happened.

Like :mod:`yellowtui.messages`: workers post these, ``@on`` handlers own the state. Payloads
are the factory's own values (verdicts, plans, conflicts), imported for the checker only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from pathlib import Path

    from factory.errors import ConfigProblem, RowConflict
    from factory.operations.changes.apply import ApplyResult
    from factory.operations.changes.plan import EditVerdict, Plan
    from factory.store import ConfigRow
    from yellowtui.services.live_state import PlatformLive
    from yellowtui.services.parse_request import ParseRequests


@dataclass
class EditRowLoaded(Message):
    """The row an edit starts from was read (``row`` None: the stream does not exist)."""

    platform: str
    stream_key: str
    row: ConfigRow | None


@dataclass
class EditSimulated(Message):
    """The editor's text was validated and built by the factory; ``text`` is what was simulated."""

    text: str
    verdict: EditVerdict


@dataclass
class PlanSimulated(Message):
    """A platform's staged changeset was planned (``plan`` covers every active stream)."""

    platform: str
    plan: Plan


@dataclass
class ChangesApplied(Message):
    """The changeset was written in one transaction; the history has every change with its actor."""

    platform: str
    result: ApplyResult
    #: The parse requests sent for the changed streams' files (None: no Airflow configured).
    parses: ParseRequests | None = None


@dataclass
class LiveLooked(Message):
    """The applied streams' live status was read again (while the plan screen follows them)."""

    platform: str
    state: PlatformLive


@dataclass
class ChangesConflicted(Message):
    """Rows changed since the staged changes were based on them; nothing was written."""

    platform: str
    conflicts: list[RowConflict]


@dataclass
class ChangesRejected(Message):
    """Some staged change would not validate or build; nothing was written."""

    platform: str
    problems: dict[str, list[ConfigProblem]] = field(default_factory=dict)


@dataclass
class ChangesetSaved(Message):
    platform: str
    path: Path


@dataclass
class ConflictRowsRead(Message):
    """The current rows of conflicting streams were read, to rebase the staged changes onto them."""

    platform: str
    rows: dict[str, ConfigRow | None]
