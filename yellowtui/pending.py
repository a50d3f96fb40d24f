"""The changes an operator staged in the dashboard, as one immutable value.

The app holds a :class:`PendingChanges` in one reactive (``YellowApp.pending``) and replaces it
whole on every stage, unstage or apply. It holds at most one change per stream (a changeset
allows no more), one changeset per platform. Staging a second change for a stream combines it
with the first so that the original base is kept: the change stays based on the row as it was
first read, and an apply still notices anyone who changed that row since.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from factory.enums import RowStatus
from factory.operations.changes.changeset import ChangeBase, Changeset, Delete, SetStatus, Upsert, new_changeset
from factory.store import ConfigRow

if TYPE_CHECKING:
    from factory.operations.inspection.views import StreamView

Change = Upsert | SetStatus | Delete


@dataclass(frozen=True, slots=True)
class StagedChange:
    platform: str
    change: Change

    @property
    def stream_key(self) -> str:
        return self.change.stream_key


def combine(first: Change, then: Change) -> Change:
    """``then`` staged on top of ``first`` (same stream), keeping ``first``'s base.

    An edit then a status change is one upsert with that status; a status change then an edit
    keeps the edit's own status (None: the row's) unless it names one; a delete wins over
    anything staged before it; anything after a delete replaces it.
    """
    base = first.base
    if isinstance(first, Upsert) and isinstance(then, SetStatus):
        return first.model_copy(update={"status": then.status})
    if isinstance(first, SetStatus) and isinstance(then, Upsert) and then.status is None:
        return then.model_copy(update={"status": first.status, "base": base})
    return then.model_copy(update={"base": base})


@dataclass(frozen=True, slots=True)
class PendingChanges:
    """Staged changes of every platform, in the order first staged."""

    staged: tuple[StagedChange, ...] = ()

    def __len__(self) -> int:
        return len(self.staged)

    def __bool__(self) -> bool:
        return bool(self.staged)

    @property
    def platforms(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for s in self.staged:
            seen.setdefault(s.platform, None)
        return tuple(seen)

    def of(self, platform: str) -> tuple[Change, ...]:
        return tuple(s.change for s in self.staged if s.platform == platform)

    def get(self, platform: str, stream_key: str) -> Change | None:
        return next((s.change for s in self.staged if (s.platform, s.stream_key) == (platform, stream_key)), None)

    def with_change(self, platform: str, change: Change, *, keep_base: bool = True) -> PendingChanges:
        """This with ``change`` staged (combined with a change already staged for the stream
        when ``keep_base``; else replacing it, e.g. after a rebase onto the current row)."""
        out: list[StagedChange] = []
        placed = False
        for s in self.staged:
            if (s.platform, s.stream_key) == (platform, change.stream_key):
                out.append(StagedChange(platform, combine(s.change, change) if keep_base else change))
                placed = True
            else:
                out.append(s)
        if not placed:
            out.append(StagedChange(platform, change))
        return replace(self, staged=tuple(out))

    def without(self, platform: str, stream_key: str) -> PendingChanges:
        return replace(
            self, staged=tuple(s for s in self.staged if (s.platform, s.stream_key) != (platform, stream_key))
        )

    def cleared(self, platform: str) -> PendingChanges:
        return replace(self, staged=tuple(s for s in self.staged if s.platform != platform))

    def changeset(self, platform: str, *, created_by: str | None = None) -> Changeset:
        """The platform's staged changes as a changeset (sorted by stream key), stamped now."""
        changes = sorted(self.of(platform), key=lambda c: c.stream_key)
        return new_changeset(platform, list(changes), created_by=created_by)

    def summary(self) -> str:
        """``3 staged changes`` / ``1 staged change (yellowlive)`` / ``no staged changes``."""
        n = len(self.staged)
        if not n:
            return "no staged changes"
        where = ", ".join(self.platforms)
        return f"{n} staged change{'s' if n != 1 else ''} ({where})"


NOTHING_STAGED = PendingChanges()

#: The status operations a key can stage, and the status each sets (None: delete the row).
STATUS_OPS: dict[str, RowStatus | None] = {
    "pause": RowStatus.PAUSED,
    "resume": RowStatus.ACTIVE,
    "retire": RowStatus.RETIRED,
    "delete": None,
}


def row_of(view: StreamView) -> ConfigRow:
    """The row a :class:`StreamView` was read from (what a change made from the screen is based on)."""
    return ConfigRow(view.platform, view.stream_key, view.config_json, view.status, view.created_at, view.updated_at)


def status_change(view: StreamView, op: str) -> Change:
    """``pause``/``resume``/``retire`` (a status change) or ``delete`` of the stream as shown,
    based on that row."""
    if op not in STATUS_OPS:
        raise ValueError(f"unknown operation {op!r}; use one of {', '.join(STATUS_OPS)}")
    base = ChangeBase.of(row_of(view))
    status = STATUS_OPS[op]
    if status is None:
        return Delete(stream_key=view.stream_key, base=base)
    return SetStatus(stream_key=view.stream_key, status=status, base=base)


def rebased(
    pending: PendingChanges, platform: str, rows: Mapping[str, ConfigRow | None]
) -> tuple[PendingChanges, list[str]]:
    """The staged changes of ``rows``' streams based on those rows as they are now (after a
    conflict: the operator saw theirs and keeps theirs' version as the new base). A status
    change or delete of a stream that no longer exists is dropped (returned by key)."""
    dropped: list[str] = []
    for key, row in rows.items():
        change = pending.get(platform, key)
        if change is None:
            continue
        if row is None and not isinstance(change, Upsert):
            pending = pending.without(platform, key)
            dropped.append(key)
            continue
        pending = pending.with_change(platform, change.model_copy(update={"base": ChangeBase.of(row)}), keep_base=False)
    return pending, dropped
