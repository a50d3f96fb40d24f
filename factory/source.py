"""Where one load gets its configs: the database's rows, the snapshot when nothing changed, or
the snapshot when the database cannot be read. The answer is one of three typed results.

Every database call is bounded on our side too (:func:`factory.db.run_bounded`): a database
that hangs mid-reply costs seconds, never the parse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from factory import store
from factory.db import redact, resolve_db_url, run_bounded
from factory.enums import LoadMode, RowStatus, Source
from factory.errors import ConfigSourceError, first_line
from factory.names import platform_slug, stream_key_from_dag_id
from factory.policy import PlatformPolicy, read_policy
from factory.snapshot import LastGood, Snapshot
from factory.split import Layout, read_layout

if TYPE_CHECKING:
    from sqlalchemy import Connection

log = logging.getLogger("yellow.factory")

#: Statuses that build nothing on purpose; every other non-active status is a reported problem.
INACTIVE_STATUSES: tuple[str, ...] = (RowStatus.PAUSED, RowStatus.RETIRED)


@dataclass(frozen=True)
class ParseTarget:
    """What one load builds: every active stream of a platform, or the one a dag_id names.

    ``foreign`` is a dag_id that is not this platform's (a worker starting a task of another
    factory file): such a load builds nothing. ``file_index`` is which of the platform's split
    files is parsing (:mod:`factory.split`); a full parse builds that file's share, a worker builds
    the DAG it was asked for whichever file it loaded.
    """

    platform: str
    stream_key: str | None = None
    foreign: bool = False
    file_index: int = 0
    #: Which DAG bundle this copy of the file is in (factory.bundles).
    bundle: int = 0

    @classmethod
    def of(cls, platform: str, dag_id: str | None = None, file_index: int = 0, bundle: int = 0) -> ParseTarget:
        """``dag_id`` None (or empty) means a full parse."""
        slug = platform_slug(platform)
        if not dag_id:
            return cls(slug, file_index=file_index, bundle=bundle)
        key = stream_key_from_dag_id(slug, dag_id)
        return cls(slug, key, foreign=key is None, file_index=file_index, bundle=bundle)

    @property
    def mode(self) -> LoadMode:
        return LoadMode.FULL if self.stream_key is None and not self.foreign else LoadMode.SINGLE


@dataclass(frozen=True)
class RowsRead:
    """Rows read from the database: (stream_key, config_json), sorted by key.

    ``fingerprint`` is the table's digest on a full parse, None on the worker path (one row).
    """

    db_url: str
    rows: list[tuple[str, str]]
    fingerprint: str | None
    #: The platform's stored policy (None: no policy table, the platform-name rule only).
    policy: PlatformPolicy | None = None
    #: Every platform with a config table, read only when a key holds ``__`` (see factory.collisions).
    platforms: tuple[str, ...] = ()
    #: Rows whose status is none of RowStatus: (stream_key, status, config_json), reported, never built.
    unknown_status: list[tuple[str, str, str]] = field(default_factory=list)
    #: How the platform is split over files; the rows above are already this file's share.
    layout: Layout = field(default_factory=Layout)
    source: ClassVar[Source] = Source.DATABASE
    detail: ClassVar[str | None] = None


@dataclass(frozen=True)
class Unchanged:
    """The table's fingerprint matches the snapshot's: its validated configs stand."""

    db_url: str
    snapshot: Snapshot
    source: ClassVar[Source] = Source.UNCHANGED
    detail: ClassVar[str | None] = None


@dataclass(frozen=True)
class FromSnapshot:
    """The database could not be read; ``detail`` says where and why. ``db_url`` is None when
    not even the URL could be found."""

    db_url: str | None
    snapshot: Snapshot
    detail: str
    source: ClassVar[Source] = Source.SNAPSHOT


SourceRead = RowsRead | Unchanged | FromSnapshot


def read_source(target: ParseTarget, last_good: LastGood, *, conn_id: str | None, url: str | None) -> SourceRead:
    """Read the target's rows, or say why the snapshot stands in for them.

    Raises :class:`ConfigSourceError` only when neither the database nor a snapshot can be read.
    """
    db_url: str | None = None
    try:
        db_url = resolve_db_url(conn_id, url)
        known = last_good.snapshot if target.mode is LoadMode.FULL else None
        found_url = db_url
        return run_bounded(db_url, lambda conn: _read(conn, target, known, found_url))
    except Exception as exc:
        where = redact(db_url) if db_url else f"connection {conn_id!r}"
        return _fall_back(target, last_good, db_url, where, exc)


def _read(conn: Connection, target: ParseTarget, known: Snapshot | None, db_url: str) -> RowsRead | Unchanged:
    """One row on the worker path; on a full parse, the fingerprint first, and rows only if it moved.

    A full parse reads every row that is not paused or retired: rows with a status outside the
    known set are reported, not silently skipped. The platform's policy is part of the
    fingerprint, so a policy change re-checks every row.
    """
    policy = read_policy(conn, target.platform)
    if target.stream_key is not None:
        found = store.read_rows(conn, target.platform, status=RowStatus.ACTIVE, stream_key=target.stream_key)
        rows = [(r.stream_key, r.config_json) for r in found]
        return RowsRead(db_url, rows, fingerprint=None, policy=policy, platforms=_platforms(conn, rows))
    digest = store.fingerprint(conn, target.platform)
    if policy is not None:
        digest = f"{digest}|policy:{policy.digest}"
    layout = read_layout(conn, target.platform)
    if layout.digest():
        digest = f"{digest}|{layout.digest()}|file:{target.file_index}" + (f"@{target.bundle}" if target.bundle else "")
    if known is not None and digest == known.fingerprint:
        return Unchanged(db_url, known)
    found = store.read_rows(conn, target.platform, exclude_statuses=INACTIVE_STATUSES)
    if layout.digest():
        found = [r for r in found if layout.builds(target.file_index, r.stream_key, target.bundle)]
    rows = [(r.stream_key, r.config_json) for r in found if r.status == RowStatus.ACTIVE]
    unknown = [(r.stream_key, r.status, r.config_json) for r in found if r.status != RowStatus.ACTIVE]
    return RowsRead(
        db_url,
        rows,
        fingerprint=digest,
        policy=policy,
        platforms=_platforms(conn, rows),
        unknown_status=unknown,
        layout=layout,
    )


def _platforms(conn: Connection, rows: list[tuple[str, str]]) -> tuple[str, ...]:
    """Every platform's slug, read only when some key could reach into another platform's names."""
    return tuple(store.list_platforms(conn)) if any("__" in key for key, _ in rows) else ()


def _fall_back(
    target: ParseTarget, last_good: LastGood, db_url: str | None, where: str, exc: Exception
) -> FromSnapshot:
    snapshot = last_good.snapshot
    cause = first_line(exc, named=True, redact=True)  # the driver's own line, with its class name
    if snapshot is None:
        raise ConfigSourceError(
            f"platform {target.platform}: cannot read the config database {where} ({cause}) "
            f"and there is no snapshot at {last_good.path} to fall back on"
        ) from None
    log.warning(
        "platform %s: config database %s unavailable (%s); building from snapshot of %s",
        target.platform,
        where,
        cause,
        snapshot.written_at,
    )
    return FromSnapshot(db_url, snapshot, f"{where}: {cause}; snapshot written {snapshot.written_at}")
