"""Cutover (static files -> factory) and rollback (factory -> static files), resumable.

The rule that keeps one dag_id in one file: the factory file skips every stream whose static
file is beside it (:mod:`factory.layout`). So the steps are ordered to keep each dag_id defined
by exactly one file at every instant:

cutover, per platform
  1. check: each stream has a row that builds, and its static DAG equals the factory's DAG
  2. activate the rows           (the static files are still there: the factory skips them)
  3. render the factory file     (if missing or different)
  4. move each static file to the backup folder, one at a time (the factory takes it over)

rollback
  1. render each static file from its row, byte for byte what the legacy template makes
                                 (the factory skips it from its next parse on)
  2. pause the rows              (the factory no longer builds them at all)
  3. no active row left: move the factory file to the backup folder too

Every step checks what is already done and does only the rest, so running the same command
again after a crash (or twice) finishes the job without harm. A small journal in the backup
folder remembers which streams an unfinished run was moving; it is removed when the run ends.
Row changes go through the apply machinery: one transaction, conflict-checked, in the history
with the actor.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factory.bundles import bundle_name, file_path, placed_files, shown_name
from factory.db import DEFAULT_CONN_ID
from factory.enums import RowStatus
from factory.errors import MigrationError, StreamConfigError
from factory.files import write_atomic
from factory.layout import static_file_name, static_files_in
from factory.names import platform_slug

JOURNAL_NAME = "migration-journal.json"
JOURNAL_FORMAT = 1
CUTOVER = "cutover"
ROLLBACK = "rollback"

#: Called after every step with its name (``activate``, ``factory-file``, ``move Store1``, ...):
#: the tests parse the dags folder there, and a crash there is what ``resume`` recovers from.
StepHook = Callable[[str], None]


def default_backup_dir(dags_folder: Path, platform: str) -> Path:
    """``<dags folder>.yellow-backup/<platform>``, beside the dags folder (never inside it: Airflow
    parses every ``.py`` file under its dags folder)."""
    return dags_folder.parent / f"{dags_folder.name}.yellow-backup" / platform_slug(platform)


@dataclass
class MigrationReport:
    """What a cutover or rollback did, step by step, and the streams it refused."""

    operation: str
    platform: str
    dags_folder: str
    backup_dir: str
    streams: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    resumed: bool = False
    #: stream key -> the intended differences accepted for it (``--accept``).
    accepted: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.refused

    def to_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "platform": self.platform,
            "dags_folder": self.dags_folder,
            "backup_dir": self.backup_dir,
            "streams": self.streams,
            "steps": self.steps,
            "refused": self.refused,
            "resumed": self.resumed,
            "accepted": self.accepted,
            "ok": self.ok,
        }


# ---- the journal ------------------------------------------------------------------------------


def read_journal(backup_dir: Path) -> dict[str, Any] | None:
    """The unfinished run's journal, or None (a journal that cannot be read is reported)."""
    path = backup_dir / JOURNAL_NAME
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != JOURNAL_FORMAT or data.get("operation") not in (CUTOVER, ROLLBACK):
            raise ValueError("unknown format")
        return dict(data)
    except (OSError, ValueError, AttributeError) as exc:
        raise MigrationError(
            f"the migration journal {path} cannot be read ({exc}); remove it after checking the dags folder"
        ) from None


def _write_journal(backup_dir: Path, data: dict[str, Any]) -> None:
    write_atomic(backup_dir / JOURNAL_NAME, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _journal(operation: str, platform: str, streams: list[str]) -> dict[str, Any]:
    return {
        "format": JOURNAL_FORMAT,
        "operation": operation,
        "platform": platform,
        "streams": streams,
        "done": [],
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# ---- files --------------------------------------------------------------------------------------


def _same_file(a: Path, b: Path) -> bool:
    return a.exists() and b.exists() and filecmp.cmp(a, b, shallow=False)


def move_to_backup(path: Path, backup_dir: Path) -> Path:
    """Move ``path`` into ``backup_dir``, keeping any different earlier copy as ``NAME.~N~``.

    Safe to repeat after a crash: a backup already holding the same bytes means only the source
    is left to remove.
    """
    backup_dir.mkdir(parents=True, exist_ok=True)
    target = backup_dir / path.name
    if _same_file(path, target):
        path.unlink()
        return target
    if target.exists():
        n = 1
        while (backup_dir / f"{path.name}.~{n}~").exists():
            n += 1
        target.rename(backup_dir / f"{path.name}.~{n}~")
    try:
        os.replace(path, target)
    except OSError:  # another file system: copy, flush, then remove
        shutil.copy2(path, target)
        with open(target, "rb") as handle:
            os.fsync(handle.fileno())
        path.unlink()
    return target


def _check_folders(dags_folder: Path, backup_dir: Path) -> None:
    if not dags_folder.is_dir():
        raise MigrationError(f"the dags folder {dags_folder} does not exist")
    dags, backup = dags_folder.resolve(), backup_dir.resolve()
    if backup == dags or dags in backup.parents:
        raise MigrationError(
            f"the backup folder {backup_dir} is inside the dags folder {dags_folder}: Airflow would parse "
            "the files moved there; choose a folder outside it"
        )


# ---- the database -------------------------------------------------------------------------------


def _rows(db_url: str, platform: str) -> tuple[dict[str, Any], Any]:
    """The platform's rows by stream key, and its stored policy."""
    from factory import store
    from factory.db import get_engine, reachable, redact
    from factory.errors import UnknownPlatformError
    from factory.policy import read_policy

    with reachable(redact(db_url)), get_engine(db_url).connect() as conn:
        if platform not in store.list_platforms(conn):
            raise UnknownPlatformError(f"platform {platform!r} has no config table in {redact(db_url)}")
        return {r.stream_key: r for r in store.read_rows(conn, platform)}, read_policy(conn, platform)


def _file_places(db_url: str, platform: str) -> list[tuple[int, int]]:
    """Each of the platform's factory files and the DAG bundle it lives in (one file in the dags
    folder unless ``bootstrap --files``/``--bundles``)."""
    from factory.db import get_engine
    from factory.split import read_layout

    with get_engine(db_url).connect() as conn:
        return read_layout(conn, platform, confirmations=False).homes()


def _set_status(
    db_url: str, platform: str, rows: dict[str, Any], keys: Iterable[str], status: RowStatus, actor: str | None
) -> list[str]:
    """One conflict-checked transaction setting ``status`` on those of ``keys`` that lack it."""
    from factory.operations.changes.apply import apply_changeset
    from factory.operations.changes.changeset import ChangeBase, SetStatus, new_changeset

    changes = [
        SetStatus(stream_key=k, status=status, base=ChangeBase.of(rows[k]))
        for k in sorted(keys)
        if rows[k].status != status
    ]
    if changes:
        apply_changeset(db_url, new_changeset(platform, list(changes), created_by=actor), actor=actor)
    return [c.stream_key for c in changes]


def _config(row: Any, platform: str, policy: Any) -> Any:
    from factory.models import parse_config

    return parse_config(row.config_json, stream_key=row.stream_key, policy=policy)


def _targets(
    operation: str,
    streams: Iterable[str] | None,
    default: Iterable[str],
    journal: dict[str, Any] | None,
    rows: dict[str, Any],
) -> tuple[list[str], bool]:
    """The streams to move: the ones named, else ``default`` plus an unfinished run's streams."""
    resumed = journal is not None and journal["operation"] == operation
    if streams is not None:
        named = sorted(set(streams))
        unknown = [k for k in named if k not in rows]
        if unknown:
            raise MigrationError(
                f"no config row for stream(s) {', '.join(unknown)}; run migrate extract and config import first"
            )
        return named, resumed
    chosen = set(default)
    if resumed and journal is not None:
        chosen |= {k for k in journal.get("streams", []) if k in rows}
    return sorted(chosen), resumed


def _step(report: MigrationReport, name: str, on_step: StepHook | None) -> None:
    report.steps.append(name)
    if on_step is not None:
        on_step(name)


# ---- cutover ------------------------------------------------------------------------------------


def cutover(
    db_url: str,
    platform: str,
    dags_folder: Path,
    *,
    streams: Iterable[str] | None = None,
    backup_dir: Path | None = None,
    conn_id: str = DEFAULT_CONN_ID,
    actor: str | None = None,
    allow_different: bool = False,
    accept: Iterable[str] = (),
    on_step: StepHook | None = None,
) -> MigrationReport:
    """Move streams from their static files to the factory (all that have a static file and a row,
    or ``streams``). A stream whose static DAG differs from the factory's is refused unless
    ``allow_different``, or, for a DataSurface static file differing only in intended ways
    (:mod:`factory.operations.migration.intended`), unless every one is named in ``accept``; one
    whose row does not build is always refused."""
    slug = platform_slug(platform)
    backup = backup_dir or default_backup_dir(dags_folder, slug)
    _check_folders(dags_folder, backup)
    journal = read_journal(backup)
    rows, policy = _rows(db_url, slug)
    present = static_files_in(dags_folder, slug)
    default = [k for k in present if k in rows and rows[k].status != RowStatus.RETIRED]
    targets, resumed = _targets(CUTOVER, streams, default, journal, rows)
    report = MigrationReport(CUTOVER, slug, str(dags_folder), str(backup), resumed=resumed)
    for key in sorted(set(present) - set(rows)):
        if streams is None or key in set(streams):
            report.refused[key] = "no config row: run migrate extract, then config import"
    _refuse_unbuilt(report, targets, rows, policy)
    checked = [k for k in targets if k in present and k not in report.refused]
    if checked:
        _compare_static_dags(report, dags_folder, checked, rows, policy, allow_different=allow_different, accept=accept)
    report.streams = [k for k in targets if k not in report.refused]
    if report.streams:
        _take_over(report, db_url, dags_folder, backup, rows, conn_id=conn_id, actor=actor, on_step=on_step)
    return report


def _refuse_unbuilt(report: MigrationReport, keys: list[str], rows: dict[str, Any], policy: Any) -> None:
    """Refuse each stream whose row does not validate: the factory could not build it."""
    for key in keys:
        try:
            _config(rows[key], report.platform, policy)
        except StreamConfigError as exc:
            report.refused[key] = f"its row does not build: {'; '.join(str(p) for p in exc.problems)}"


def _compare_static_dags(
    report: MigrationReport,
    dags_folder: Path,
    keys: list[str],
    rows: dict[str, Any],
    policy: Any,
    *,
    allow_different: bool,
    accept: Iterable[str],
) -> None:
    """Compare each stream's static DAG with the factory's: refuse a different one (unless
    ``allow_different``) and intended differences not all in ``accept``; note the accepted ones."""
    from factory.operations.migration.migrate import Verdict, compare

    found = compare(dags_folder, report.platform, [rows[k] for k in keys], policy=policy, streams=keys)
    for verdict in found.verdicts:
        if verdict.verdict == Verdict.DIFFERENT and not allow_different:
            report.refused[verdict.stream_key] = f"its static DAG differs from the factory's: {verdict.detail}"
        elif verdict.verdict == Verdict.INTENDED and not (allow_different or verdict.accepted(accept)):
            missing = sorted(set(verdict.intended) - set(accept))
            report.refused[verdict.stream_key] = (
                f"intended differences not accepted: {', '.join(missing)} "
                f"(review them with migrate compare, then pass --accept {','.join(verdict.intended)})"
            )
        elif verdict.verdict == Verdict.INTENDED:
            report.accepted[verdict.stream_key] = verdict.intended
        elif verdict.verdict not in (Verdict.IDENTICAL, Verdict.DIFFERENT):
            report.refused[verdict.stream_key] = f"{verdict.verdict}: {verdict.detail}"


def _take_over(
    report: MigrationReport,
    db_url: str,
    dags_folder: Path,
    backup: Path,
    rows: dict[str, Any],
    *,
    conn_id: str,
    actor: str | None,
    on_step: StepHook | None,
) -> None:
    """Hand ``report.streams`` to the factory, journalled: activate their rows, render the factory
    files, then move each static file to the backup folder."""
    slug = report.platform
    state = _journal(CUTOVER, slug, report.streams)
    _write_journal(backup, state)

    activated = _set_status(db_url, slug, rows, report.streams, RowStatus.ACTIVE, actor)
    _step(report, f"activate {len(activated)} row(s)", on_step)

    _render_factory_files(report, db_url, dags_folder, conn_id, on_step)

    for key in report.streams:
        path = dags_folder / static_file_name(slug, key)
        if path.exists():
            move_to_backup(path, backup)
            state["done"].append(key)
            _write_journal(backup, state)
            _step(report, f"move {path.name} to the backup folder", on_step)
    (backup / JOURNAL_NAME).unlink(missing_ok=True)


def _render_factory_files(
    report: MigrationReport, db_url: str, dags_folder: Path, conn_id: str, on_step: StepHook | None
) -> None:
    """Every file of a split platform (factory.split), in its DAG bundle (factory.bundles), written
    when missing or different: a copy outside the dags folder skips the static files in Airflow's
    dags folder all the same."""
    from factory.operations.provisioning.render import render_factory_file

    slug = report.platform
    for place in _file_places(db_url, slug):
        factory_path = file_path(dags_folder, place, slug)
        text = render_factory_file(slug, conn_id, *place)
        if not factory_path.exists() or factory_path.read_text(encoding="utf-8") != text:
            factory_path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(factory_path, text)
            _step(report, f"render {shown_name(place, slug)}", on_step)


# ---- rollback -----------------------------------------------------------------------------------


def rollback(
    db_url: str,
    platform: str,
    dags_folder: Path,
    *,
    streams: Iterable[str] | None = None,
    backup_dir: Path | None = None,
    actor: str | None = None,
    on_step: StepHook | None = None,
) -> MigrationReport:
    """Give streams back to static files rendered from their rows (all active streams, or
    ``streams``), then take them out of the factory (paused). When no active row is left, the
    factory file goes to the backup folder too."""
    from factory.operations.provisioning.render import render_static_file
    from factory.spec import dag_spec

    slug = platform_slug(platform)
    backup = backup_dir or default_backup_dir(dags_folder, slug)
    _check_folders(dags_folder, backup)
    journal = read_journal(backup)
    rows, policy = _rows(db_url, slug)
    default = [k for k, r in rows.items() if r.status == RowStatus.ACTIVE]
    targets, resumed = _targets(ROLLBACK, streams, default, journal, rows)
    report = MigrationReport(ROLLBACK, slug, str(dags_folder), str(backup), resumed=resumed)
    sources: dict[str, str] = {}
    for key in targets:
        try:
            sources[key] = render_static_file(
                dag_spec(_config(rows[key], slug, policy), slug, policy.job if policy else None)
            )
        except StreamConfigError as exc:
            report.refused[key] = (
                f"its row does not build, so no static file can be rendered from it: "
                f"{'; '.join(str(p) for p in exc.problems)} (its original may be in {backup})"
            )
    report.streams = sorted(sources)
    if report.streams:
        state = _journal(ROLLBACK, slug, report.streams)
        _write_journal(backup, state)
        for key in report.streams:
            path = dags_folder / static_file_name(slug, key)
            if not path.exists() or path.read_text(encoding="utf-8") != sources[key]:
                write_atomic(path, sources[key])
                _step(report, f"render {path.name}", on_step)
            state["done"].append(key)
        _write_journal(backup, state)
        paused = _set_status(db_url, slug, rows, report.streams, RowStatus.PAUSED, actor)
        _step(report, f"pause {len(paused)} row(s)", on_step)
    still_active = [k for k, r in rows.items() if r.status == RowStatus.ACTIVE and k not in sources]
    if not still_active and not report.refused:
        for place, path in sorted(placed_files(dags_folder, slug).items()):  # every copy, in every bundle
            move_to_backup(path, backup if place[1] == 0 else backup / bundle_name(place[1]))
            _step(report, f"move {shown_name(place, slug)} to the backup folder", on_step)
    (backup / JOURNAL_NAME).unlink(missing_ok=True)
    return report
