"""Airflow's DAG versions of one stream, set beside the row's history.

Airflow 3 writes a new DAG version only when the serialized DAG changed *and* the latest version
already ran; otherwise the next parse rewrites the latest version in place (``write_dag`` in
``airflow/models/serialized_dag.py``). So versions are not one per change: several row changes
made with no run in between share one version, and only the last of them is still in it.

Each row change is put in the version its parse landed in: the first version Airflow created
after the change, when it was created before the next change; otherwise the version that was
latest when the change was made (rewritten in place). The version Airflow serves now is checked
by content: its fingerprint (from the DAG's description) against the changes' fingerprints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from factory.fingerprint import config_fingerprint
from yellowtui.presenters.times import aware

if TYPE_CHECKING:
    from factory.records import HistoryEntry


@dataclass(frozen=True)
class RowChange:
    """One change of the row that built a DAG (or stopped building one)."""

    changed_at: datetime
    changed_by: str
    action: str
    fingerprint: str | None


@dataclass(frozen=True)
class VersionLine:
    """One DAG version and the row changes it stands for (the first made it; the others
    rewrote it in place, as it had no run yet)."""

    version: int
    created_at: datetime | None
    changes: tuple[RowChange, ...]
    current: bool
    note: str


def row_changes(platform: str, history: Sequence[HistoryEntry]) -> list[RowChange]:
    """The history (any order) as row changes, oldest first, each with the fingerprint of the DAG
    its new config builds (None for a config that does not build, or a status change away)."""
    found = []
    for h in history:
        builds = h.new_status in (None, "active")
        fingerprint = config_fingerprint(h.new_config_json, platform) if builds else None
        found.append(RowChange(aware(h.changed_at), h.changed_by, h.action, fingerprint))
    return sorted(found, key=lambda c: c.changed_at)


def version_lines(
    versions: Sequence[tuple[int, datetime | None]], changes: Sequence[RowChange], served: str | None
) -> list[VersionLine]:
    """Versions (number, created_at), oldest first, each with its row changes; ``served`` is the
    fingerprint Airflow serves now (the latest version's content)."""
    ordered = sorted(versions)
    times = [aware(t) if t is not None else None for _, t in ordered]
    owner: dict[int, list[RowChange]] = {n: [] for n, _ in ordered}
    building = [c for c in changes if c.fingerprint is not None]
    for i, change in enumerate(building):
        following = building[i + 1].changed_at if i + 1 < len(building) else None
        created_after = [
            j
            for j, t in enumerate(times)
            if t is not None and t >= change.changed_at and (following is None or t < following)
        ]
        before = [j for j, t in enumerate(times) if t is not None and t < change.changed_at]
        j = created_after[0] if created_after else (before[-1] if before else None)
        if j is not None:
            owner[ordered[j][0]].append(change)
    lines = []
    for k, (number, created) in enumerate(ordered):
        mine = tuple(owner[number])
        current = k == len(ordered) - 1
        if current and served is not None and mine and mine[-1].fingerprint != served:
            note = f"Airflow serves {served}; the newest change ({mine[-1].fingerprint}) is not parsed yet"
        elif current and served is not None and not mine:
            note = f"serves {served}"
        elif len(mine) > 1:
            note = f"{len(mine)} changes, rewritten in place: no run between them"
        elif not mine:
            note = "no row change found for it (made before the history, or by a factory upgrade)"
        else:
            note = ""
        lines.append(VersionLine(number, aware(created) if created is not None else None, mine, current, note))
    return lines
