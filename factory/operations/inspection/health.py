"""Is a platform's factory healthy? One verdict for any alerting system, with its reasons.

``ok`` (exit 0), ``warning`` (exit 1) or ``critical`` (exit 2), from what the factory recorded in
the database (its latest parse report and each stream's latest build) and, when the caller
also asked Airflow, from what Airflow shows (:func:`airflow_findings`; the factory never calls
Airflow's API itself, ``yellowtui health`` does).

============================  ========  ===================================================
check                          level     when
============================  ========  ===================================================
``database-unreachable``       critical  the config database cannot be reached or read in time
``unknown-platform``           critical  the database has no config table for the platform
``never-parsed``               critical  no parse report at all: the factory file never ran
``parse-too-old``              critical  the newest report is older than ``max_age_s``
``no-dags``                    critical  the latest parse read rows but built no DAG
``built-from-snapshot``        warning   a parse within ``max_age_s`` could not read the database,
                                         or reports wait in this host's spool file
``stream-errors``              warning   streams whose latest build is an error (no DAG)
``stale-builds``               warning   streams built from their last good config
``migration-unfinished``       warning   streams skipped: their static file is still there
``airflow-import-error``       critical  Airflow holds an import error for the factory file
``airflow-missing-dags``       warning   DAGs the factory built that Airflow does not list
                               critical  ... when Airflow lists none of them
``airflow-unreachable``        warning   Airflow was asked but could not answer
============================  ========  ===================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factory.enums import Outcome, Source
from factory.errors import first_line
from factory.names import dag_id_for, platform_slug

if TYPE_CHECKING:
    from factory.records import ParseReport

DEFAULT_MAX_AGE_S = 900
#: How many stream keys a reason names before it says "and N more".
SHOWN_KEYS = 5


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def exit_code(self) -> int:
        return {Level.OK: 0, Level.WARNING: 1, Level.CRITICAL: 2}[self]


@dataclass(frozen=True)
class Reason:
    level: Level
    check: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"level": str(self.level), "check": self.check, "message": self.message}


@dataclass
class Health:
    """The verdict (the worst of its reasons) and what it was judged from."""

    platform: str
    reasons: list[Reason] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    #: Stream keys whose latest build gave a DAG (ok or stale): what Airflow should list.
    built: list[str] = field(default_factory=list)

    @property
    def status(self) -> Level:
        levels = {r.level for r in self.reasons}
        for level in (Level.CRITICAL, Level.WARNING):
            if level in levels:
                return level
        return Level.OK

    @property
    def exit_code(self) -> int:
        return self.status.exit_code

    def add(self, level: Level, check: str, message: str) -> None:
        self.reasons.append(Reason(level, check, message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "status": str(self.status),
            "exit_code": self.exit_code,
            "reasons": [r.to_dict() for r in self.reasons],
            "facts": self.facts,
        }


def _keys(keys: list[str]) -> str:
    shown = ", ".join(keys[:SHOWN_KEYS])
    return shown + (f" and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else "")


def check_platform(
    db_url: str,
    platform: str,
    *,
    max_age_s: float = DEFAULT_MAX_AGE_S,
    now: datetime | None = None,
    snapshot_dir: Path | None = None,
) -> Health:
    """The factory's side of the platform's health, from its tables and, on a DAG processor's
    host, its spool of reports not yet written (never raises for an unreachable database: that
    is a critical reason)."""
    from factory.db import redact, run_bounded

    slug = platform_slug(platform)
    now = now or datetime.now(UTC)
    health = Health(slug, facts={"max_age_s": max_age_s})
    _judge_spool(health, snapshot_dir)
    try:
        found = run_bounded(db_url, lambda conn: _read(conn, slug, now - timedelta(seconds=max_age_s)))
    except Exception as exc:
        health.add(
            Level.CRITICAL,
            "database-unreachable",
            f"the config database {redact(db_url)} cannot be read: {first_line(exc, named=True, redact=True)}",
        )
        return health
    if found is None:
        health.add(Level.CRITICAL, "unknown-platform", f"platform {slug!r} has no config table in {redact(db_url)}")
        return health
    report, builds, active, from_snapshot, files = found
    health.facts["active_rows"] = active
    _judge_report(health, report, max_age_s, now)
    _judge_files(health, files, max_age_s, now)
    if from_snapshot is not None and not any(r.check == "built-from-snapshot" for r in health.reasons):
        when = from_snapshot.parsed_at.replace(tzinfo=UTC)
        health.add(
            Level.WARNING,
            "built-from-snapshot",
            f"a parse at {when:%Y-%m-%d %H:%M:%S} UTC could not read the config database and built from the "
            f"snapshot: {from_snapshot.source_detail or 'no detail'}",
        )
    _judge_builds(health, builds)
    return health


def _judge_spool(health: Health, directory: Path | None) -> None:
    """Reports spooled on this host wait for the database: the factory here is on its snapshot."""
    from factory.reports import spooled_files, spooled_reports

    for index in spooled_files(health.platform, directory):
        path, spooled = spooled_reports(health.platform, directory, index)
        if spooled:
            latest = spooled[-1]
            health.add(
                Level.WARNING,
                "built-from-snapshot",
                f"{len(spooled)} parse report(s) wait in {path}: parses on this host could not reach the config "
                f"database and built from the snapshot ({latest.get('source_detail') or 'no detail'})",
            )


def _judge_files(
    health: Health, files: dict[tuple[int, int], datetime | None], max_age_s: float, now: datetime
) -> None:
    """A split platform: every one of its files must have parsed lately, not only some; a file in
    DAG bundle j > 0 is parsed only by that bundle's DAG processor, so the reason names it."""
    from factory.bundles import bundle_name

    if len(files) < 2:
        return
    health.facts["files"] = len(files)
    bundles = {b for _, b in files}
    if len(bundles) > 1:
        health.facts["bundles"] = len(bundles)
    for (index, bundle), parsed_at in sorted(files.items()):
        where = (
            f" in bundle {bundle_name(bundle)} (is `airflow dag-processor -B {bundle_name(bundle)}` running?)"
            if len(bundles) > 1
            else ""
        )
        if parsed_at is None:
            health.add(
                Level.CRITICAL,
                "never-parsed",
                f"factory file {index} of platform {health.platform}{where} has no parse report: "
                "is it in the dags folder?",
            )
            continue
        age = (now - parsed_at.replace(tzinfo=UTC)).total_seconds()
        if age > max_age_s:
            health.add(
                Level.CRITICAL,
                "parse-too-old",
                f"factory file {index}{where} last parsed {age:.0f} s ago, older than the {max_age_s:g} s threshold: "
                "its share of the DAGs is not being updated (a timeout? see Airflow's import errors)",
            )


_Read = tuple["ParseReport | None", list[Any], int, "ParseReport | None", dict[tuple[int, int], datetime | None]]


def _read(conn: Any, platform: str, since: datetime) -> _Read | None:
    from sqlalchemy import func, select

    from factory import store
    from factory.enums import RowStatus
    from factory.operations.inspection.views import parse_columns
    from factory.records import ParseReport
    from factory.split import read_layout
    from factory.tables import platform_tables

    if platform not in store.list_platforms(conn):
        return None
    tables = platform_tables(platform)
    parses = tables.parses
    columns = parse_columns(conn, platform)
    latest = conn.execute(select(*columns).order_by(parses.c.parsed_at.desc(), parses.c.id.desc()).limit(1)).first()
    builds = list(conn.execute(select(tables.builds.c.stream_key, tables.builds.c.outcome)))
    active = conn.execute(
        select(func.count()).select_from(tables.dsg).where(tables.dsg.c.status == RowStatus.ACTIVE)
    ).scalar_one()
    from_snapshot = conn.execute(
        select(*columns)
        .where(parses.c.source == Source.SNAPSHOT, parses.c.parsed_at >= since.astimezone(UTC).replace(tzinfo=None))
        .order_by(parses.c.parsed_at.desc())
        .limit(1)
    ).first()
    layout = read_layout(conn, platform, confirmations=False)
    files: dict[tuple[int, int], datetime | None] = {}
    if layout.files > 1 or layout.bundles > 1:
        # Each file at its home place: a file in bundle j is parsed only by bundle j's DAG processor.
        files = dict.fromkeys(layout.homes())
        place = (
            (parses.c.file_index, parses.c.bundle) if "bundle" in {c.name for c in columns} else (parses.c.file_index,)
        )
        last = select(*place, func.max(parses.c.parsed_at)).group_by(*place)
        for *key, at in conn.execute(last):
            index, bundle = int(key[0]), int(key[1]) if len(key) > 1 else 0
            if (index, bundle) in files:
                files[(index, bundle)] = at
    return (
        ParseReport.from_row(latest._mapping) if latest is not None else None,
        builds,
        int(active),
        ParseReport.from_row(from_snapshot._mapping) if from_snapshot is not None else None,
        files,
    )


def _judge_report(health: Health, report: ParseReport | None, max_age_s: float, now: datetime) -> None:
    if report is None:
        health.add(
            Level.CRITICAL,
            "never-parsed",
            f"no parse report for platform {health.platform}: the factory file has not been parsed "
            "(is it in the dags folder, and is the DAG processor running?)",
        )
        return
    parsed_at = report.parsed_at.replace(tzinfo=UTC)
    age = (now - parsed_at).total_seconds()
    health.facts.update(
        {
            "last_parse_at": parsed_at.isoformat(),
            "last_parse_age_s": round(age, 1),
            "last_parse_source": report.source,
            "last_parse_host": report.host,
            "last_parse_total_ms": report.total_ms,
            "dags_built": report.dags_built,
            "rows_read": report.rows_read,
        }
    )
    if age > max_age_s:
        health.add(
            Level.CRITICAL,
            "parse-too-old",
            f"the last parse was {age:.0f} s ago (at {parsed_at:%Y-%m-%d %H:%M:%S} UTC on {report.host}), "
            f"older than the {max_age_s:g} s threshold: the DAG processor is not parsing the factory file",
        )
    if report.rows_read > 0 and report.dags_built == 0:
        health.add(Level.CRITICAL, "no-dags", f"the last parse read {report.rows_read} row(s) but built no DAG")
    if report.source == Source.SNAPSHOT:
        health.add(
            Level.WARNING,
            "built-from-snapshot",
            f"the last parse could not read the config database and built from the snapshot: {report.source_detail or ''}".rstrip(
                ": "
            ),
        )


def _judge_builds(health: Health, builds: list[Any]) -> None:
    by_outcome: dict[str, list[str]] = {}
    for row in builds:
        by_outcome.setdefault(row.outcome, []).append(row.stream_key)
    for keys in by_outcome.values():
        keys.sort()
    health.built = sorted(by_outcome.get(Outcome.OK, []) + by_outcome.get(Outcome.STALE, []))
    health.facts["streams"] = {k: len(v) for k, v in sorted(by_outcome.items())}
    if errors := by_outcome.get(Outcome.ERROR):
        health.add(
            Level.WARNING,
            "stream-errors",
            f"{len(errors)} stream(s) build no DAG: {_keys(errors)} (yellowtui errors --platform {health.platform})",
        )
    if stale := by_outcome.get(Outcome.STALE):
        health.add(
            Level.WARNING,
            "stale-builds",
            f"{len(stale)} stream(s) are built from their last good config because their row is invalid: {_keys(stale)}",
        )
    if skipped := by_outcome.get(Outcome.SKIPPED):
        health.add(
            Level.WARNING,
            "migration-unfinished",
            f"{len(skipped)} stream(s) are still defined by their static file (finish or roll back the cutover): "
            f"{_keys(skipped)}",
        )


def airflow_findings(
    health: Health,
    *,
    factory_file: str,
    import_errors: list[tuple[str, str]] | None = None,
    listed_dag_ids: set[str] | None = None,
    error: str | None = None,
) -> None:
    """Add what Airflow shows: ``import_errors`` as (file name, summary) for the factory file,
    ``listed_dag_ids`` the platform's DAGs Airflow lists (not stale); ``error`` when Airflow
    could not be asked."""
    if error is not None:
        health.add(Level.WARNING, "airflow-unreachable", f"Airflow could not be checked: {error}")
        return
    for filename, summary in import_errors or []:
        health.add(Level.CRITICAL, "airflow-import-error", f"Airflow cannot import {filename}: {summary}")
    if listed_dag_ids is None or not health.built:
        return
    expected = {dag_id_for(health.platform, key): key for key in health.built}
    missing = sorted(key for dag_id, key in expected.items() if dag_id not in listed_dag_ids)
    health.facts["airflow_dags"] = len(set(expected) & listed_dag_ids)
    health.facts["factory_file"] = factory_file
    if missing:
        level = Level.CRITICAL if len(missing) == len(expected) else Level.WARNING
        health.add(
            level,
            "airflow-missing-dags",
            f"{len(missing)} of {len(expected)} DAG(s) the factory built are not (or no longer) in Airflow: {_keys(missing)}",
        )
