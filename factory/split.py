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

**Bundles.** A platform's files can also be spread over ``B`` DAG bundles, each parsed by its own
DAG processor (:mod:`factory.bundles`). File ``i`` lives in bundle ``i % B``; a stream's *place*
is (its file, that file's bundle). Changing ``B`` moves whole files, with the same hand-over as
changing ``K``: the file's copy in its new bundle claims its streams, the copy in the old bundle
releases them once that claim is reported, and ``bootstrap`` removes the old copy after that.
``K`` and ``B`` live in the same row and a change of either is one generation.

Cheap to import: the loader reads the layout on every parse.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from factory.errors import FactoryError
from factory.names import platform_slug

if TYPE_CHECKING:
    from sqlalchemy import Connection

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


def part_suffix(file_index: int, bundle: int = 0) -> str:
    """``""`` for file 0 (the unsplit names stay), ``.part{i}`` in local file names of file ``i``,
    then ``.bundle{j}`` for a copy in bundle ``j`` > 0: two copies of one file (a file moving
    between bundles) never share a snapshot, spool or recorded-outcomes file."""
    return (f".part{file_index}" if file_index else "") + (f".bundle{bundle}" if bundle else "")


def split_file_name(platform: str, index: int) -> str:
    """File 0 keeps the unsplit name ``{platform}_factory_dag.py``; file ``i`` is ``..._{i}.py``."""
    from factory.layout import factory_file_name

    return factory_file_name(platform) if index == 0 else f"{platform_slug(platform)}_factory_dag_{index}.py"


def bundle_of(file_index: int, bundles: int) -> int:
    """The bundle (0..bundles-1) file ``file_index`` lives in: round robin, so B bundles share
    the K files evenly (never more than one file apart) and file 0 stays in bundle 0, the dags folder."""
    return file_index % bundles if bundles > 1 else 0


#: (file index, bundle index): where one copy of a factory file lives.
Place = tuple[int, int]


@dataclass(frozen=True)
class Layout:
    """How a platform is split now: ``files`` (K), the ``previous`` K, the change's ``generation``,
    which places (file, bundle) have parsed under this generation (``confirmed``, read only
    mid-change), and the ``bundles`` (B) and ``previous_bundles`` the files are spread over."""

    files: int = 1
    previous: int = 1
    generation: int = 0
    confirmed: frozenset[Place] = field(default_factory=frozenset)
    bundles: int = 1
    previous_bundles: int = 1

    @property
    def moving(self) -> bool:
        """A change of K or B whose hand-over may still be running."""
        return self.files != self.previous or self.bundles != self.previous_bundles

    @property
    def settled(self) -> bool:
        """Every file of the new layout has parsed under it, in its new bundle: nothing is still
        being handed over."""
        return not self.moving or all(p in self.confirmed for p in self.homes())

    def homes(self) -> list[Place]:
        """Each file's place under this layout."""
        return [(i, bundle_of(i, self.bundles)) for i in range(self.files)]

    def previous_homes(self) -> list[Place]:
        return [(i, bundle_of(i, self.previous_bundles)) for i in range(self.previous)]

    def home(self, stream_key: str) -> int:
        return file_of(stream_key, self.files)

    def place(self, stream_key: str) -> Place:
        index = file_of(stream_key, self.files)
        return index, bundle_of(index, self.bundles)

    def previous_place(self, stream_key: str) -> Place:
        index = file_of(stream_key, self.previous)
        return index, bundle_of(index, self.previous_bundles)

    def builds(self, index: int, stream_key: str, bundle: int = 0) -> bool:
        """Whether the copy of file ``index`` in ``bundle`` builds ``stream_key`` now (see the
        module docstring): its home always; its previous place until the home has confirmed."""
        home = self.place(stream_key)
        if home == (index, bundle):
            return True
        return self.moving and home not in self.confirmed and self.previous_place(stream_key) == (index, bundle)

    def digest(self) -> str:
        """Part of the table fingerprint: a change of layout or of the hand-over re-reads the rows."""
        if self.files == 1 and self.bundles == 1 and not self.moving:
            return ""
        confirmed = ",".join(_place_text(p) for p in sorted(self.confirmed)) if self.moving else ""
        spread = (
            f"/bundles:{self.bundles}/{self.previous_bundles}"
            if (self.bundles, self.previous_bundles) != (1, 1)
            else ""
        )
        return f"files:{self.files}/{self.previous}/{self.generation}/{confirmed}{spread}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "previous": self.previous,
            "generation": self.generation,
            "confirmed": [list(p) for p in sorted(self.confirmed)],
            "bundles": self.bundles,
            "previous_bundles": self.previous_bundles,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Layout:
        """A layout stored in a snapshot; anything unreadable is the unsplit layout. A snapshot
        from before bundles lists confirmed files as bare indexes: places in bundle 0."""
        try:
            return cls(
                int(data["files"]),
                int(data["previous"]),
                int(data["generation"]),
                frozenset(_place(p) for p in data.get("confirmed", ())),
                int(data.get("bundles", 1)),
                int(data.get("previous_bundles", 1)),
            )
        except (TypeError, KeyError, ValueError):
            return cls()


def _place(value: Any) -> Place:
    if isinstance(value, int):
        return value, 0
    index, bundle = value
    return int(index), int(bundle)


def _place_text(place: Place) -> str:
    """``i`` for a file in bundle 0 (the form from before bundles), ``i@b`` otherwise."""
    return str(place[0]) if place[1] == 0 else f"{place[0]}@{place[1]}"


# ---- the layout row ------------------------------------------------------------------------------


def read_layout(conn: Connection, platform: str, *, confirmations: bool = True) -> Layout:
    """The platform's layout; the unsplit one when it has no layout table. Mid-change, also which
    places have confirmed (``confirmations``): one small query on the parse reports. The row is
    read as JSON so a table from before bundles (no ``bundles`` columns) still reads."""
    from sqlalchemy import text

    from factory.tables import layout_table, table_exists

    table = layout_table(platform)
    if not table_exists(conn, table.name):
        return Layout()
    row = conn.execute(text(f"SELECT to_jsonb(t) FROM {table.name} t WHERE id = 1")).scalar_one_or_none()
    if row is None:
        return Layout()
    layout = Layout(
        int(row["files"]),
        int(row["previous_files"]),
        int(row["generation"]),
        bundles=int(row.get("bundles") or 1),
        previous_bundles=int(row.get("previous_bundles") or 1),
    )
    if layout.moving and confirmations:
        layout = replace(layout, confirmed=confirmed_places(conn, platform, layout.generation))
    return layout


def confirmed_places(conn: Connection, platform: str, generation: int) -> frozenset[Place]:
    """Places (file, bundle) whose parse report says they parsed under ``generation`` (or a later
    one). A report table from before bundles has no ``bundle`` column: every report is bundle 0."""
    from sqlalchemy import text

    from factory.tables import platform_tables

    parses = platform_tables(platform_slug(platform)).parses.name
    found = conn.execute(
        text(
            f"SELECT DISTINCT file_index, coalesce((to_jsonb(p) ->> 'bundle')::int, 0) FROM {parses} p "
            "WHERE generation >= :generation"
        ),
        {"generation": generation},
    )
    return frozenset((int(i), int(b)) for i, b in found)


def confirmed_files(conn: Connection, platform: str, generation: int) -> frozenset[int]:
    """Files whose parse report says they parsed under ``generation`` (in any bundle)."""
    return frozenset(i for i, _ in confirmed_places(conn, platform, generation))


def write_layout(
    conn: Connection,
    platform: str,
    files: int,
    *,
    actor: str,
    force: bool = False,
    bundles: int | None = None,
) -> Layout:
    """Set the platform's file count and, with ``bundles``, how many bundles they are spread over
    (inside the caller's transaction; ``None`` keeps the current B); a new K or B starts a new
    generation. Refuses while the previous change is still being handed over, unless ``force``."""
    from sqlalchemy import text
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    from factory.bundles import MAX_BUNDLES

    if not 1 <= files <= MAX_FILES:
        raise LayoutError(f"a platform is split into 1 to {MAX_FILES} files, not {files}")
    if bundles is not None and not 1 <= bundles <= MAX_BUNDLES:
        raise LayoutError(f"a platform's files are spread over 1 to {MAX_BUNDLES} bundles, not {bundles}")
    from factory.tables import layout_table, table_exists

    table = layout_table(platform)
    if not table_exists(conn, table.name):
        if files == 1 and (bundles or 1) == 1:
            return Layout()  # never split: no layout table, exactly as before splitting existed
        table.create(conn)
    for column in ("bundles", "previous_bundles"):  # a layout table from before bundles
        conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN IF NOT EXISTS {column} smallint NOT NULL DEFAULT 1"))
    current = read_layout(conn, platform)
    bundles = current.bundles if bundles is None else bundles
    if files == current.files and bundles == current.bundles:
        return current
    if not current.settled and not force:
        _refuse_while_moving(platform, current)
    # Nothing parsed yet (a new platform, or one just migrated): no file has defined a DAG, so
    # there is nothing to hand over and no moment where two files define one.
    parsed = _ever_parsed(conn, platform)
    new = Layout(
        files,
        current.files if parsed else files,
        current.generation + 1,
        bundles=bundles,
        previous_bundles=current.bundles if parsed else bundles,
    )
    values = {
        "id": 1,
        "files": new.files,
        "previous_files": new.previous,
        "generation": new.generation,
        "changed_at": datetime.now(UTC).replace(tzinfo=None),
        "changed_by": actor[:255],
        "bundles": new.bundles,
        "previous_bundles": new.previous_bundles,
    }
    stmt = pg_insert(table).values(**values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={k: stmt.excluded[k] for k in values}))
    return new


def _refuse_while_moving(platform: str, current: Layout) -> NoReturn:
    slug = platform_slug(platform)
    if current.bundles == current.previous_bundles:
        waiting = [str(i) for i, b in current.homes() if (i, b) not in current.confirmed]
        raise LayoutError(
            f"platform {slug}: the change from {current.previous} to {current.files} file(s) is "
            f"still being handed over (file(s) {', '.join(waiting)} have not parsed since); wait for the DAG "
            "processor to parse them (see `yellowtui parses`) and run the same command again"
        )
    from factory.bundles import bundle_name

    waiting = [f"{i} in {bundle_name(b)}" for i, b in current.homes() if (i, b) not in current.confirmed]
    raise LayoutError(
        f"platform {slug}: the move from {current.previous_bundles} to {current.bundles} bundle(s) "
        f"({current.previous} to {current.files} file(s)) is still being handed over (file(s) {', '.join(waiting)} "
        "have not parsed since); wait for each bundle's DAG processor to parse them (see `yellowtui parses`) "
        "and run the same command again, or force it"
    )


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
