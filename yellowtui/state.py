"""The dashboard's shared state as immutable values: the loaded rows and the database's health.

The app holds each in one reactive (``YellowApp.rows``, ``YellowApp.health``) and replaces it
whole; screens and widgets watch that one name and read typed fields, so a renamed field fails
the type check instead of silently showing a default.

Why batches: rows stream in (a first batch of 200, then 1,000 at a time) and each batch makes a
new :class:`RowSet`. Copying every row into a new tuple per batch would cost O(n²) over a load;
a RowSet instead holds a tuple of immutable :class:`RowBatch` values, so a new batch copies
only the batch references (about a dozen at 10,000 rows) and the rows themselves are shared.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from factory.operations.inspection.views import StreamView
    from yellowtui.rows import TableRow


@dataclass(frozen=True, slots=True)
class RowBatch:
    """Rows read together: each :class:`StreamView` with its :class:`TableRow` (same order)."""

    views: tuple[StreamView, ...]
    rows: tuple[TableRow, ...]

    def __len__(self) -> int:
        return len(self.views)


# eq=False: two RowSets are the same state only when they are the same object (a reactive then
# fires on every new value, and comparing never walks 10,000 rows).
@dataclass(frozen=True, slots=True, eq=False)
class RowSet:
    """Every row the dashboard holds, and how they got there.

    ``generation`` changes when a load replaces the rows (a table then starts over); within one
    generation later RowSets only add rows. ``loading`` is true until the last batch of the load
    arrived; ``loaded_at`` and ``load_ms`` describe the last load that finished.
    """

    batches: tuple[RowBatch, ...] = ()
    count: int = 0
    generation: int = 0
    load_id: int = 0
    loading: bool = True
    loaded_at: datetime | None = None
    load_ms: float | None = None
    platforms: frozenset[str] = field(default_factory=frozenset)

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    @property
    def views(self) -> Iterator[StreamView]:
        """Every row's :class:`StreamView`, in the order read."""
        return itertools.chain.from_iterable(b.views for b in self.batches)

    def rows_from(self, start: int) -> list[TableRow]:
        """The table rows past the first ``start`` (what a table that holds ``start`` lacks)."""
        out: list[TableRow] = []
        seen = 0
        for batch in self.batches:
            if seen + len(batch) > start:
                out.extend(batch.rows[max(0, start - seen) :])
            seen += len(batch)
        return out

    def with_batch(self, batch: RowBatch, *, replace_rows: bool, load_id: int) -> RowSet:
        """This set with ``batch`` added, or (``replace_rows``) a new generation holding only it."""
        platforms = frozenset(v.platform for v in batch.views)
        if replace_rows:
            return replace(
                self,
                batches=(batch,),
                count=len(batch),
                generation=self.generation + 1,
                load_id=load_id,
                loading=True,
                platforms=platforms,
            )
        return replace(
            self,
            batches=(*self.batches, batch),
            count=self.count + len(batch),
            load_id=load_id,
            loading=True,
            platforms=self.platforms | platforms,
        )

    def finished(self, loaded_at: datetime, load_ms: float) -> RowSet:
        """The load's last batch arrived."""
        return replace(self, loading=False, loaded_at=loaded_at, load_ms=load_ms)

    def stopped(self) -> RowSet:
        """The load ended without rows (the database went away, the worker failed): keep what is held."""
        return replace(self, loading=False) if self.loading else self


@dataclass(frozen=True, slots=True)
class DatabaseHealth:
    """Whether the config database answers; when not, since when and why (a reason safe to show)."""

    online: bool = True
    reason: str = ""
    down_since: datetime | None = None

    def went_down(self, reason: str, at: datetime) -> DatabaseHealth:
        return DatabaseHealth(False, reason, self.down_since if not self.online else at)


ONLINE = DatabaseHealth()
