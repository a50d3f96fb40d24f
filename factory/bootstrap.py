"""Bootstrap: ecosystem file -> tables, rows and DAG files, all or nothing.

Everything is validated before anything is written. Then every platform's tables and rows are
written in one database transaction (PostgreSQL DDL is transactional), and the DAG files are
written only after it commits, each atomically, so a failed bootstrap leaves no partial state.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factory.db import DEFAULT_CONN_ID, get_engine
from factory.ecosystem import Ecosystem, platform_policy, platform_streams
from factory.errors import FactoryError, RetryableConflict
from factory.files import write_atomic
from factory.models import StreamConfig
from factory.names import platform_slug
from factory.policy import write_policy
from factory.render import render_factory_file, render_static_file, static_file_name
from factory.spec import dag_spec
from factory.split import DEFAULT_STREAMS_PER_FILE, Layout, files_for, split_file_name, surplus_files


@dataclass
class PlatformBootstrap:
    platform: str
    table_created: bool = False
    summary: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    removed_files: list[str] = field(default_factory=list)
    #: How the platform is split over factory files after this bootstrap (factory.split).
    layout: Layout = field(default_factory=Layout)
    #: Split files beyond the new count kept until the hand-over is done (run bootstrap again then).
    kept_files: list[str] = field(default_factory=list)
    #: Rows already in the table this run cannot handle (a key no file or dag_id may hold): named
    #: here and left exactly as they are (never retired, never rewritten).
    left_untouched: list[str] = field(default_factory=list)

    def committed(self) -> str:
        """What the transaction wrote for this platform, in one line."""
        rows = self.summary
        table = "table created" if self.table_created else "table adopted"
        left = f"; left untouched: {', '.join(map(repr, self.left_untouched))}" if self.left_untouched else ""
        return (
            f"{self.platform} ({table}): {len(rows.get('inserted', []))} inserted, {len(rows.get('updated', []))} "
            f"updated, {len(rows.get('unchanged', []))} unchanged, {len(rows.get('retired', []))} retired{left}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "table_created": self.table_created,
            "rows": self.summary,
            "files": self.files,
            "removed_files": self.removed_files,
            "kept_files": self.kept_files,
            "left_untouched": self.left_untouched,
            "layout": self.layout.to_dict(),
        }


@dataclass(frozen=True)
class Split:
    """How many factory files each platform gets: ``files`` for all, else one per
    ``streams_per_file`` active streams (a platform at or under it keeps its single file)."""

    files: int | None = None
    streams_per_file: int = DEFAULT_STREAMS_PER_FILE
    #: Start a new change of the file count even while the last one is still handed over.
    force: bool = False

    def count(self, streams: int) -> int:
        return self.files if self.files is not None else files_for(streams, self.streams_per_file)


def planned_files(
    eco: Ecosystem,
    configs_by_slug: dict[str, list[StreamConfig]],
    *,
    static: bool,
    conn_id: str,
    split: Split | None = None,
) -> dict[str, dict[str, str]]:
    """File name -> source, per platform slug. Rendering happens before any write."""
    files: dict[str, dict[str, str]] = {}
    split = split or Split()
    for platform in eco.platforms:
        slug = platform_slug(platform.name)
        configs = configs_by_slug[slug]
        if static:
            files[slug] = {
                static_file_name(slug, c.stream_key): render_static_file(dag_spec(c, slug, platform.job))
                for c in configs
            }
        else:
            files[slug] = {
                split_file_name(slug, i): render_factory_file(platform.name, conn_id, i)
                for i in range(split.count(len(configs)))
            }
    return files


def bootstrap(
    eco: Ecosystem,
    db_url: str,
    dags_folder: Path | None,
    *,
    static: bool = False,
    conn_id: str = DEFAULT_CONN_ID,
    actor: str | None = None,
    split: Split | None = None,
) -> list[PlatformBootstrap]:
    """Create tables, upsert rows and render DAG files for every platform of ``eco``.

    ``eco`` must come from :func:`factory.ecosystem.parse_ecosystem` (already validated).
    ``split`` decides how many factory files each platform gets (:mod:`factory.split`); the
    count is stored with the rows, and files beyond it stay until their streams were handed over.
    """
    split = split or Split()
    configs_by_slug = {platform_slug(p.name): platform_streams(p)[0] for p in eco.platforms}
    files = (
        planned_files(eco, configs_by_slug, static=static, conn_id=conn_id, split=split)
        if dags_folder is not None
        else {}
    )
    staging = _stage(dags_folder, files) if dags_folder is not None else None
    results: list[PlatformBootstrap] = []
    try:
        results = _write_rows(eco, db_url, configs_by_slug, actor, None if static else split)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    # Committed: from here on, every failure says what was committed; files go in all or none.
    if dags_folder is not None and staging is not None:
        try:
            _publish(dags_folder, staging, results, files, static=static)
        except Exception as exc:
            reason = f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise FilesNotWritten(
                "the rows were committed ("
                + "; ".join(r.committed() for r in results)
                + f"), but no DAG file was written or removed in {dags_folder}: {reason}; fix the folder and "
                "run the same bootstrap again (the committed rows stay as they are)"
            ) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return results


class FilesNotWritten(FactoryError):
    """The transaction committed; the files could not be put in place, and none was: the message
    names what was committed (never "nothing was written")."""


#: Serializes bootstraps of one database: two at once would race creating the same tables.
_BOOTSTRAP_LOCK = "yellow.bootstrap"


def _write_rows(
    eco: Ecosystem,
    db_url: str,
    configs_by_slug: dict[str, list[StreamConfig]],
    actor: str | None,
    split: Split | None,
) -> list[PlatformBootstrap]:
    """Every platform's tables, policy and rows in one transaction. Concurrent writers: other
    bootstraps wait (one advisory lock), `apply` and `config set` wait per stream key (the same
    per-key locks they take); a deadlock, a serialization failure or a unique violation that still
    slips through is :class:`RetryableConflict`; a connection lost while committing is
    :class:`OutcomeUnknown`."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    from factory import store
    from factory.apply import commit, reachable, retryable
    from factory.db import redact
    from factory.split import read_layout, write_layout

    results: list[PlatformBootstrap] = []
    check = "`yellowtui config list` (and each stream's history: `yellowtui config show KEY -p PLATFORM`)"
    with reachable(redact(db_url)), get_engine(db_url).connect() as conn:
        transaction = conn.begin()
        try:
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": _BOOTSTRAP_LOCK})
            for platform in eco.platforms:
                slug = platform_slug(platform.name)
                configs = configs_by_slug[slug]
                outcome = PlatformBootstrap(platform=slug)
                outcome.table_created = store.ensure_tables(conn, slug)
                write_policy(conn, platform_policy(platform))
                store.lock_keys(conn, slug, [c.stream_key for c in configs])
                outcome.left_untouched = _unhandled_keys(conn, slug)
                summary = store.apply_rows(
                    conn,
                    slug,
                    [(c.stream_key, c.to_json()) for c in configs],
                    actor=actor,
                    keep=frozenset(outcome.left_untouched),
                )
                outcome.summary = summary.to_dict()
                if split is not None:
                    files = split.count(len(configs))
                    current = read_layout(conn, slug)
                    if split.files is None and not split.force and not current.settled:
                        files = current.files  # a count from the stream total waits for the running hand-over
                    outcome.layout = write_layout(
                        conn, slug, files, actor=actor or store.default_actor(), force=split.force
                    )
                results.append(outcome)
        except (sa_exc.IntegrityError, sa_exc.OperationalError, sa_exc.InternalError) as exc:
            transaction.rollback()
            if isinstance(exc, sa_exc.IntegrityError) or retryable(exc) or "concurrently" in str(exc):
                raise RetryableConflict(
                    "another writer changed the same rows or tables at the same moment; nothing was written; "
                    "run the same bootstrap again"
                ) from None
            raise
        except BaseException:
            transaction.rollback()
            raise
        platforms = ", ".join(r.platform for r in results)
        commit(transaction, f"the bootstrap of {platforms} (no DAG file was written)", check)
    return results


def _unhandled_keys(conn: Any, platform: str) -> list[str]:
    """Keys of rows already in the table that no file or dag_id may hold (a row made by hand):
    the run cannot retire or render them, so it leaves them as they are and names them."""
    from sqlalchemy import select

    from factory.names import STREAM_KEY_RE
    from factory.tables import platform_tables

    t = platform_tables(platform).dsg
    return sorted(k for (k,) in conn.execute(select(t.c.stream_key)) if not STREAM_KEY_RE.fullmatch(k))


def _stage(dags_folder: Path, files: dict[str, dict[str, str]]) -> Path:
    """Write every file into a hidden folder inside ``dags_folder`` before the transaction: a full
    disk or a read-only folder fails here, with nothing written anywhere. Publishing is then one
    rename per file, on the same file system."""
    dags_folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".yellow-staging-", dir=dags_folder))
    try:
        for platform_files in files.values():
            for name, text in platform_files.items():
                write_atomic(staging / name, text)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _publish(
    dags_folder: Path,
    staging: Path,
    results: list[PlatformBootstrap],
    files: dict[str, dict[str, str]],
    *,
    static: bool,
) -> None:
    """Put every staged file in place and remove the files no longer wanted, all or none: each
    file replaced or removed is first moved aside into the staging folder, and on any failure
    every step is undone, so the folder is exactly as it was."""
    placed: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}
    kept: dict[str, list[str]] = {}
    for outcome in results:
        placed[outcome.platform] = list(files[outcome.platform])
        if static:
            stale = [static_file_name(outcome.platform, key) for key in outcome.summary.get("retired", [])]
            removed[outcome.platform] = [n for n in stale if (dags_folder / n).exists()]
        else:
            removed[outcome.platform], kept[outcome.platform] = surplus_files(
                dags_folder, outcome.platform, outcome.layout
            )
    aside = staging / ".replaced"
    aside.mkdir()
    undo: list[tuple[Path, Path | None]] = []  # (a path now in the folder, or moved aside; where it went)
    try:
        for names in placed.values():
            for name in names:
                target = dags_folder / name
                if target.is_dir() and not target.is_symlink():
                    raise IsADirectoryError(21, "a folder holds the name of a DAG file", name)
                if target.exists() or target.is_symlink():
                    os.replace(target, aside / name)
                    undo.append((aside / name, target))
                os.replace(staging / name, target)
                undo.append((target, None))
        for names in removed.values():
            for name in names:
                os.replace(dags_folder / name, aside / name)
                undo.append((aside / name, dags_folder / name))
    except BaseException:
        for path, back in reversed(undo):
            if back is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(path, back)
        raise
    for outcome in results:
        outcome.files += placed[outcome.platform]
        outcome.removed_files += removed[outcome.platform]
        outcome.kept_files = kept.get(outcome.platform, [])
