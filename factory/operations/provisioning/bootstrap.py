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

from factory.bundles import BundleConfig
from factory.db import DEFAULT_CONN_ID, get_engine
from factory.errors import FactoryError, RetryableConflict
from factory.files import write_atomic
from factory.models import StreamConfig
from factory.names import platform_slug
from factory.operations.provisioning.ecosystem import Ecosystem, platform_policy, platform_streams
from factory.operations.provisioning.render import render_factory_file, render_static_file, static_file_name
from factory.policy import write_policy
from factory.spec import dag_spec
from factory.split import DEFAULT_STREAMS_PER_FILE, Layout, Place, bundle_of, files_for


@dataclass
class PlatformBootstrap:
    platform: str
    table_created: bool = False
    summary: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    removed_files: list[str] = field(default_factory=list)
    #: How the platform is split over factory files after this bootstrap (factory.split).
    layout: Layout = field(default_factory=Layout)
    #: Split files beyond the new count, or in a file's old bundle, kept until the hand-over is
    #: done (run bootstrap again then).
    kept_files: list[str] = field(default_factory=list)
    #: Rows already in the table this run cannot handle (a key no file or dag_id may hold): named
    #: here and left exactly as they are (never retired, never rewritten).
    left_untouched: list[str] = field(default_factory=list)
    #: What Airflow must be configured with when the files use more than one DAG bundle.
    bundle_config: BundleConfig | None = None

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
        found = {
            "platform": self.platform,
            "table_created": self.table_created,
            "rows": self.summary,
            "files": self.files,
            "removed_files": self.removed_files,
            "kept_files": self.kept_files,
            "left_untouched": self.left_untouched,
            "layout": self.layout.to_dict(),
        }
        if self.bundle_config is not None:
            found["airflow_bundles"] = self.bundle_config.to_dict()
        return found


def bundle_config(dags_folder: Path, results: list[PlatformBootstrap]) -> BundleConfig:
    """The ``dag_bundle_config_list`` and DAG processors the platforms' files need now: as many
    bundles as the widest layout (new or previous), or any folder still holding a copy."""
    from factory.bundles import bundles_in_use

    platforms, layouts = [r.platform for r in results], [r.layout for r in results]
    return BundleConfig(dags_folder, bundles_in_use(dags_folder, platforms, layouts))


@dataclass(frozen=True)
class Split:
    """How many factory files each platform gets: ``files`` for all, else one per
    ``streams_per_file`` active streams (a platform at or under it keeps its single file)."""

    files: int | None = None
    streams_per_file: int = DEFAULT_STREAMS_PER_FILE
    #: Start a new change of the file count even while the last one is still handed over.
    force: bool = False
    #: Spread the files over this many DAG bundles (factory.bundles); None keeps each platform's.
    bundles: int | None = None

    def count(self, streams: int) -> int:
        """K: ``files``, else from the stream total; with ``bundles``, at least one file per bundle."""
        files = self.files if self.files is not None else files_for(streams, self.streams_per_file)
        return max(files, self.bundles or 1)


def _places(files: int, bundles: int) -> list[Place]:
    return [(i, bundle_of(i, bundles)) for i in range(files)]


def _file_key(place: Place, slug: str) -> str:
    from factory.bundles import shown_name

    return shown_name(place, slug)


def planned_files(
    eco: Ecosystem,
    configs_by_slug: dict[str, list[StreamConfig]],
    *,
    static: bool,
    conn_id: str,
    split: Split | None = None,
    current_bundles: dict[str, int] | None = None,
) -> dict[str, dict[str, str]]:
    """File name -> source, per platform slug (a file in bundle ``j`` > 0 as ``yellow-{j}/name``).
    Rendering happens before any write. ``current_bundles``: each platform's B now, kept when
    ``split`` does not set one."""
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
            bundles = split.bundles or (current_bundles or {}).get(slug, 1)
            files[slug] = {
                _file_key(place, slug): render_factory_file(platform.name, conn_id, *place)
                for place in _places(split.count(len(configs)), bundles)
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

    ``eco`` must come from :func:`factory.operations.provisioning.ecosystem.parse_ecosystem`
    (already validated). ``split`` decides how many factory files each platform gets
    (:mod:`factory.split`); the count is stored with the rows, and files beyond it stay until their
    streams were handed over.
    """
    split = split or Split()
    configs_by_slug = {platform_slug(p.name): platform_streams(p)[0] for p in eco.platforms}
    current = _current_bundles(db_url, list(configs_by_slug)) if dags_folder is not None and not static else {}
    files = (
        planned_files(eco, configs_by_slug, static=static, conn_id=conn_id, split=split, current_bundles=current)
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
            names = {platform_slug(p.name): p.name for p in eco.platforms}
            _publish(dags_folder, staging, results, files, static=static, render=(names, conn_id))
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
        if not static:
            config = bundle_config(dags_folder, results)
            for outcome in results:
                outcome.bundle_config = config if config.bundles > 1 else None
    return results


def _current_bundles(db_url: str, slugs: list[str]) -> dict[str, int]:
    """Each platform's B now, so a bootstrap without ``--bundles`` renders its files where they are.
    Unreadable: 1 (the transaction that follows fails the same way)."""
    from factory.split import read_layout

    try:
        with get_engine(db_url).connect() as conn:
            return {slug: read_layout(conn, slug, confirmations=False).bundles for slug in slugs}
    except Exception:
        return {}


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
    from factory.db import reachable, redact
    from factory.operations.changes.apply import commit, retryable
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
                        conn,
                        slug,
                        files,
                        actor=actor or store.default_actor(),
                        force=split.force,
                        bundles=split.bundles,
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
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
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
    render: tuple[dict[str, str], str],
) -> None:
    """Put every file in place (the dags folder, or its bundle's folder) and remove the copies no
    longer wanted, all or none: each file replaced or removed is first moved aside into the
    staging folder, and on any failure every step is undone, so the folders are as they were."""
    placed: dict[str, list[tuple[str, Path]]] = {}  # per platform: (shown name, target)
    removed: dict[str, list[Path]] = {}
    kept: dict[str, list[str]] = {}
    for outcome in results:
        if static:
            placed[outcome.platform] = [(name, dags_folder / name) for name in files[outcome.platform]]
            stale = [dags_folder / static_file_name(outcome.platform, k) for k in outcome.summary.get("retired", [])]
            removed[outcome.platform] = [path for path in stale if path.exists()]
        else:
            placed[outcome.platform] = _factory_files(dags_folder, staging, outcome, render)
            removed[outcome.platform], kept_paths = _surplus(dags_folder, outcome)
            kept[outcome.platform] = [_shown(dags_folder, path) for path in kept_paths]
    _move_all_or_none(
        staging,
        [(staging / key, target) for found in placed.values() for key, target in found],
        [path for found in removed.values() for path in found],
    )
    for outcome in results:
        outcome.files += [key for key, _ in placed[outcome.platform]]
        outcome.removed_files += [_shown(dags_folder, path) for path in removed[outcome.platform]]
        outcome.kept_files = kept.get(outcome.platform, [])


def _move_all_or_none(staging: Path, moves: list[tuple[Path, Path]], removals: list[Path]) -> None:
    """Each ``(staged, target)`` renamed into place and each removal moved aside; on any failure
    every step is undone in reverse. A folder holding a file's name is never moved."""
    aside = staging / ".replaced"
    aside.mkdir()
    undo: list[tuple[Path, Path | None]] = []  # (where a file is now, where it goes back; None: delete)
    try:
        for staged, target in moves:
            if target.is_dir() and not target.is_symlink():
                raise IsADirectoryError(21, "a folder holds the name of a DAG file", target.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() or target.is_symlink():
                saved = aside / str(len(undo))
                os.replace(target, saved)
                undo.append((saved, target))
            os.replace(staged, target)
            undo.append((target, None))
        for path in removals:
            saved = aside / str(len(undo))
            os.replace(path, saved)
            undo.append((saved, path))
    except BaseException:
        for path, back in reversed(undo):
            if back is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(path, back)
        raise


def _factory_files(
    dags_folder: Path, staging: Path, outcome: PlatformBootstrap, render: tuple[dict[str, str], str]
) -> list[tuple[str, Path]]:
    """Each file of the platform's layout and its place: the dags folder, or its bundle's folder.
    A file the plan did not stage (the layout kept another K or B than planned, a hand-over still
    running) is rendered into the staging folder now. A file moving to another bundle is only
    added there; its old copy stays until the hand-over is done (``_surplus``)."""
    from factory.bundles import file_path

    names, conn_id = render
    found = []
    for place in outcome.layout.homes():
        key = _file_key(place, outcome.platform)
        if not (staging / key).exists():
            write_atomic(
                staging / key, render_factory_file(names.get(outcome.platform, outcome.platform), conn_id, *place)
            )
        found.append((key, file_path(dags_folder, place, outcome.platform)))
    return found


def _surplus(dags_folder: Path, outcome: PlatformBootstrap) -> tuple[list[Path], list[Path]]:
    """Copies the layout no longer uses (files beyond the count, copies in a file's old bundle):
    removable once every stream they built has been handed over, else kept (removing one early
    would make its DAGs stale)."""
    from factory.bundles import surplus_copies

    removable, kept = surplus_copies(dags_folder, outcome.platform, outcome.layout)
    return list(removable), list(kept)


def _shown(dags_folder: Path, path: Path) -> str:
    return path.name if path.parent == dags_folder else f"{path.parent.name}/{path.name}"
