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

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "table_created": self.table_created,
            "rows": self.summary,
            "files": self.files,
            "removed_files": self.removed_files,
            "kept_files": self.kept_files,
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
    if dags_folder is not None and staging is not None:
        try:
            _publish(dags_folder, staging, results, files, static=static)
        except OSError as exc:
            raise FilesNotWritten(
                f"the rows were committed, but the DAG files could not be put in place in {dags_folder}: "
                f"{exc.strerror or exc}; fix the folder and run the same bootstrap again (rows already "
                "written stay unchanged)"
            ) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return results


class FilesNotWritten(FactoryError):
    """The transaction committed; the files could not be put in place (never "nothing was written")."""


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
                summary = store.apply_rows(conn, slug, [(c.stream_key, c.to_json()) for c in configs], actor=actor)
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
        commit(transaction, f"the bootstrap of {platforms}", check)
    return results


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
    for outcome in results:
        for name in files[outcome.platform]:
            os.replace(staging / name, dags_folder / name)
            outcome.files.append(name)
        if static:
            for key in outcome.summary.get("retired", []):
                stale = dags_folder / static_file_name(outcome.platform, key)
                if stale.exists():
                    stale.unlink()
                    outcome.removed_files.append(stale.name)
        else:
            _tidy_split_files(dags_folder, outcome)


def _tidy_split_files(dags_folder: Path, outcome: PlatformBootstrap) -> None:
    """Remove split files beyond the platform's file count once every stream they built has been
    handed over; until then keep them (removing one early would make its DAGs stale)."""
    removable, outcome.kept_files = surplus_files(dags_folder, outcome.platform, outcome.layout)
    for name in removable:
        (dags_folder / name).unlink(missing_ok=True)
        outcome.removed_files.append(name)
