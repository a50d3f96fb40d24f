"""A platform split over several factory files, and how streams move when the file count changes.

Airflow's DAG processor gives each file its own process and time limit, and parses several files
at once, so a platform too large for one file is split into ``K`` files: file ``i`` builds the
streams whose key :func:`file_of` assigns to ``i`` (jump consistent hashing: a stream moves only
when ``K`` changes, and then only ``1/K`` of them when growing by one). Every file is the same
template with its own index; ``K`` itself is read from the database at each parse, so changing it
is a row update like any other config change.

**Changing K without a gap or a flapping DAG.** Airflow keeps, per dag_id, the file that last
defined it (``fileloc``) and makes the DAG stale when that file parses without it; a dag_id
defined by two files flips between them at each parse. So a moving stream is handed over,
claim first, release second:

1. the layout row holds the new ``K``, the previous one and a generation number;
2. the stream's new file (its *home*) builds it from its first parse under the new generation,
   and says so in its parse report (``generation``);
3. until that report exists, the old file keeps building it; once it does, the old file stops.

So the file that last defined the DAG always still defines it (never stale), and the DAG's
file changes once, when its home claims it. A file beyond ``K`` (after shrinking) builds only
what it still hands over, then nothing; ``bootstrap`` removes it once every home has confirmed
(removing it earlier would make its DAGs stale). A stream keeps its ``dag_id``, so its runs and
history stay with it. One change at a time: ``bootstrap`` refuses a new ``K`` while a hand-over
is still running. Parses that overlap (the old file read the layout before the home's report
and finished after it) can flip a DAG back once; Airflow's ``stale_dag_threshold`` covers
the one parse it takes to settle (docs/operations.md).

Cheap to import: the loader reads the layout on every parse.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factory.errors import FactoryError
from factory.names import platform_slug

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

LAYOUT_SUFFIX = "_airflow_dsg_layout"
#: The most files one platform may be split into (a sanity bound, not a tuning knob).
MAX_FILES = 256
#: Above this many active streams ``bootstrap`` splits a platform. Measured at 20,000 streams with
#: Airflow's default limits (docs/benchmarks.md, "Split factory files"): 2,500 per file had file
#: processors killed and not all DAGs listed in 8 min; 500 listed all as soon as 1,000 did, with
#: each file's reported parse at most 15 s (40 s on a loaded machine), against the 50 s processor limit.
DEFAULT_STREAMS_PER_FILE = 500


class LayoutError(FactoryError):
    """A file count that cannot be used, or a change of it while the last one is still running."""


def file_of(stream_key: str, files: int) -> int:
    """The file (0..files-1) that builds ``stream_key``: jump consistent hashing (Lamping and
    Veach) over a stable digest of the key, so the answer never depends on the process."""
    if files <= 1:
        return 0
    key = int.from_bytes(hashlib.blake2b(stream_key.encode("utf-8"), digest_size=8).digest(), "big")
    bucket, jump = -1, 0
    while jump < files:
        bucket = jump
        key = (key * 2862933555777941757 + 1) % (1 << 64)
        jump = int((bucket + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return bucket


def files_for(active_streams: int, streams_per_file: int = DEFAULT_STREAMS_PER_FILE) -> int:
    """How many files a platform of ``active_streams`` needs at ``streams_per_file`` each."""
    if streams_per_file < 1:
        raise LayoutError(f"--streams-per-file must be at least 1, not {streams_per_file}")
    return max(1, min(MAX_FILES, -(-active_streams // streams_per_file)))


def part_suffix(file_index: int) -> str:
    """``""`` for file 0 (the unsplit names stay), ``.part{i}`` in local file names of file ``i``."""
    return f".part{file_index}" if file_index else ""


def split_file_name(platform: str, index: int) -> str:
    """File 0 keeps the unsplit name ``{platform}_factory_dag.py``; file ``i`` is ``..._{i}.py``."""
    from factory.layout import factory_file_name

    return factory_file_name(platform) if index == 0 else f"{platform_slug(platform)}_factory_dag_{index}.py"


@dataclass(frozen=True)
class Layout:
    """How a platform is split now: ``files`` (K), the ``previous`` K, the change's ``generation``,
    and which files have parsed under this generation (``confirmed``, read only mid-change)."""

    files: int = 1
    previous: int = 1
    generation: int = 0
    confirmed: frozenset[int] = field(default_factory=frozenset)

    @property
    def moving(self) -> bool:
        """A change of K whose hand-over may still be running."""
        return self.files != self.previous

    @property
    def settled(self) -> bool:
        """Every file of the new K has parsed under it: nothing is still being handed over."""
        return not self.moving or all(i in self.confirmed for i in range(self.files))

    def home(self, stream_key: str) -> int:
        return file_of(stream_key, self.files)

    def builds(self, index: int, stream_key: str) -> bool:
        """Whether file ``index`` builds ``stream_key`` now (see the module docstring)."""
        home = self.home(stream_key)
        if home == index:
            return True
        return self.moving and home not in self.confirmed and file_of(stream_key, self.previous) == index

    def digest(self) -> str:
        """Part of the table fingerprint: a change of layout or of the hand-over re-reads the rows."""
        if self.files == 1 and not self.moving:
            return ""
        confirmed = ",".join(str(i) for i in sorted(self.confirmed)) if self.moving else ""
        return f"files:{self.files}/{self.previous}/{self.generation}/{confirmed}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "previous": self.previous,
            "generation": self.generation,
            "confirmed": sorted(self.confirmed),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Layout:
        """A layout stored in a snapshot; anything unreadable is the unsplit layout."""
        try:
            return cls(
                int(data["files"]),
                int(data["previous"]),
                int(data["generation"]),
                frozenset(int(i) for i in data.get("confirmed", ())),
            )
        except (TypeError, KeyError, ValueError):
            return cls()


# ---- the layout row ------------------------------------------------------------------------------


def layout_table(platform: str) -> Table:
    from sqlalchemy import Column, DateTime, Integer, MetaData, SmallInteger, String, Table

    return Table(
        f"{platform_slug(platform)}{LAYOUT_SUFFIX}",
        MetaData(),
        Column("id", SmallInteger, primary_key=True, autoincrement=False),
        Column("files", SmallInteger, nullable=False),
        Column("previous_files", SmallInteger, nullable=False),
        Column("generation", Integer, nullable=False),
        Column("changed_at", DateTime, nullable=False),
        Column("changed_by", String(255), nullable=False),
    )


def read_layout(conn: Connection, platform: str, *, confirmations: bool = True) -> Layout:
    """The platform's layout; the unsplit one when it has no layout table. Mid-change, also which
    files have confirmed (``confirmations``): one small query on the parse reports."""
    from sqlalchemy import select

    from factory.tables import table_exists

    table = layout_table(platform)
    if not table_exists(conn, table.name):
        return Layout()
    row = conn.execute(
        select(table.c.files, table.c.previous_files, table.c.generation).where(table.c.id == 1)
    ).one_or_none()
    if row is None:
        return Layout()
    layout = Layout(int(row.files), int(row.previous_files), int(row.generation))
    if layout.moving and confirmations:
        layout = replace(layout, confirmed=confirmed_files(conn, platform, layout.generation))
    return layout


def confirmed_files(conn: Connection, platform: str, generation: int) -> frozenset[int]:
    """Files whose parse report says they parsed under ``generation`` (or a later one)."""
    from sqlalchemy import select

    from factory.tables import platform_tables

    parses = platform_tables(platform_slug(platform)).parses
    found = conn.execute(
        select(parses.c.file_index).where(parses.c.generation >= generation).group_by(parses.c.file_index)
    )
    return frozenset(int(i) for (i,) in found)


def write_layout(conn: Connection, platform: str, files: int, *, actor: str, force: bool = False) -> Layout:
    """Set the platform's file count (inside the caller's transaction); a new count starts a new
    generation. Refuses while the previous change is still being handed over, unless ``force``."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    if not 1 <= files <= MAX_FILES:
        raise LayoutError(f"a platform is split into 1 to {MAX_FILES} files, not {files}")
    from factory.tables import table_exists

    table = layout_table(platform)
    if not table_exists(conn, table.name):
        if files == 1:
            return Layout()  # never split: no layout table, exactly as before splitting existed
        table.create(conn)
    current = read_layout(conn, platform)
    if files == current.files:
        return current
    if not current.settled and not force:
        waiting = [str(i) for i in range(current.files) if i not in current.confirmed]
        raise LayoutError(
            f"platform {platform_slug(platform)}: the change from {current.previous} to {current.files} file(s) is "
            f"still being handed over (file(s) {', '.join(waiting)} have not parsed since); wait for the DAG "
            "processor to parse them (see `yellowtui parses`) and run the same command again"
        )
    # Nothing parsed yet (a new platform, or one just migrated): no file has defined a DAG, so
    # there is nothing to hand over and no moment where two files define one.
    previous = current.files if _ever_parsed(conn, platform) else files
    new = Layout(files, previous, current.generation + 1)
    values = {
        "id": 1,
        "files": new.files,
        "previous_files": new.previous,
        "generation": new.generation,
        "changed_at": datetime.now(UTC).replace(tzinfo=None),
        "changed_by": actor[:255],
    }
    stmt = pg_insert(table).values(**values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={k: stmt.excluded[k] for k in values}))
    return new


def split_index(platform: str, file_name: str) -> int | None:
    """Which of the platform's factory files ``file_name`` (a path or a bare name) is, or None."""
    name = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    prefix = f"{platform_slug(platform)}_factory_dag"
    if not (name.startswith(prefix) and name.endswith(".py")):
        return None
    suffix = name[len(prefix) : -len(".py")]
    index = 0 if suffix == "" else int(suffix[1:]) if suffix[:1] == "_" and suffix[1:].isdigit() else None
    return index if index is not None and split_file_name(platform, index) == name else None


def split_files_in(folder: Path, platform: str) -> dict[int, str]:
    """Index -> name of each of the platform's split files in ``folder`` (file 0 included)."""
    found = {}
    for path in folder.glob(f"{platform_slug(platform)}_factory_dag*.py"):
        index = split_index(platform, path.name)
        if index is not None:
            found[index] = path.name
    return found


def _ever_parsed(conn: Connection, platform: str) -> bool:
    from sqlalchemy import select

    from factory.tables import platform_tables

    parses = platform_tables(platform_slug(platform)).parses
    return conn.execute(select(parses.c.id).limit(1)).first() is not None


def surplus_files(folder: Path, platform: str, layout: Layout) -> tuple[list[str], list[str]]:
    """Split files beyond the layout's K: (removable now, kept until the hand-over is done)."""
    beyond = sorted(name for index, name in split_files_in(folder, platform).items() if index >= layout.files)
    return (beyond, []) if layout.settled else ([], beyond)
