"""Changing streams from the dashboard: read a row to edit, plan a changeset, apply it.

A thin layer over the factory's headless core (:mod:`factory.operations.changes.plan`,
:mod:`factory.operations.changes.apply`), the same calls ``yellowtui simulate`` and
``yellowtui apply`` make, so the dashboard never grows a second builder or a second apply. Every
method blocks (call it from a worker) and turns "the database cannot be reached" into
:class:`factory.errors.DatabaseUnavailable`; a conflict or a rejected changeset comes back as the
core raises it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from factory import store
from factory.db import get_engine, normalize_url, reachable, redact
from factory.operations.changes.apply import apply_changeset
from factory.operations.changes.plan import Plan, simulate

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from factory.operations.changes.apply import ApplyResult
    from factory.operations.changes.changeset import Changeset
    from factory.rules import Rules
    from factory.store import ConfigRow


class ChangeService:
    """Blocking reads, plans and applies for the dashboard's editor and plan screen."""

    def __init__(self, db_url: str, *, actor: str | None = None, read_only: bool = False) -> None:
        self.db_url = normalize_url(db_url)
        #: A read-only session (a read-only profile, ``--read-only``, ``yellowtui serve``) writes nothing.
        self.read_only = read_only
        #: Who the history records for every apply (the OS user unless told otherwise).
        self.actor = actor or store.default_actor()

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        with reachable(redact(self.db_url)), get_engine(self.db_url).connect() as conn:
            yield conn

    def row(self, platform: str, stream_key: str) -> ConfigRow | None:
        """The stream's row as stored now (an edit is based on it), or None."""
        with self._connect() as conn:
            return store.read_row(conn, platform, stream_key)

    def rules(self, platform: str) -> Rules:
        """What the platform's rows are judged by beyond their JSON (policy, other platforms)."""
        from factory.operations.inspection.views import platform_rules

        with self._connect() as conn:
            return platform_rules(conn, platform)

    def plan(self, changeset: Changeset) -> Plan:
        """Every active stream of the changeset's platform built offline with the changeset laid
        over the rows: what would be created, changed, removed, or fail to build. Writes nothing."""
        with self._connect() as conn:
            return simulate(conn, changeset.platform, changeset)

    def apply(self, changeset: Changeset) -> ApplyResult:
        """Write the changeset in one transaction, conflict-checked, as :attr:`actor`. Raises
        :class:`factory.errors.ChangesetConflict` or :class:`factory.errors.ChangesetRejected`
        (nothing written) as :func:`factory.operations.changes.apply.apply_changeset` does;
        :class:`PermissionError` when read-only."""
        if self.read_only:
            raise PermissionError("this session is read-only: nothing was written")
        with reachable(redact(self.db_url)):
            return apply_changeset(self.db_url, changeset, actor=self.actor)

    @staticmethod
    def save(changeset: Changeset, path: Path) -> Path:
        """Write the changeset file (``yellowtui apply PATH`` applies it later); the path written."""
        path = path.expanduser()
        changeset.save(path)
        return path.resolve()
