"""From the legacy static files to config rows, and a check that both give the same DAGs.

``extract`` reads a folder of static DAG files through Airflow's own ``DagBag`` (never regular
expressions over their source), reads each ingestion DAG's config back from its operator's
fields (the inverse of :func:`factory.spec.dag_spec`), and keeps a row only when the factory's
builder, given that row, makes exactly the same DAG as Airflow serializes it. Every file it
cannot map is listed with the reason.

``compare`` sets each stream's static DAG against the DAG the factory builds from its row.

Both build the Kubernetes form of the DAG (the only one a static file has), whatever
``YELLOW_JOB_LAUNCHER`` says. Airflow is imported on first use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factory.enums import JobLauncher, RowStatus
from factory.errors import StreamConfigError
from factory.names import platform_slug, stream_key_from_dag_id
from factory.operations.migration.intended import Difference, classify, names
from factory.operations.migration.migrate_given import Given
from factory.operations.migration.migrate_read import Unmappable as _Unmappable
from factory.operations.migration.migrate_read import config_data, generation_of

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from factory.job_contract import JobSettings
    from factory.models import StreamConfig
    from factory.policy import PlatformPolicy
    from factory.store import ConfigRow

#: Written into an extract file; importers (``config import``, ``apply``) read its rows.
EXTRACT_KIND = "yellow-migrate-extract"
#: A factory file reads the database: it is never read as a static file.
FACTORY_MARK = "register_platform_dags"
#: How many differences an unmappable DAG's reason lists.
SHOWN_DIFFERENCES = 5


class Verdict:
    """What ``compare`` found for one stream."""

    IDENTICAL = "identical"  # the static DAG and the factory's DAG serialize the same
    INTENDED = "intended"  # a DataSurface static DAG differing only in named, intended ways
    DIFFERENT = "different"  # both exist and differ in what the job runs: drift (listed)
    NO_ROW = "no-row"  # a static DAG with no config row
    INVALID_ROW = "invalid-row"  # a row the factory cannot build
    NO_STATIC = "no-static-file"  # a row (not retired) with no static DAG in the folder
    UNREADABLE = "unreadable"  # a static file Airflow could not import, or a DAG of another shape


@dataclass(frozen=True)
class Unmapped:
    """A static file (or one DAG in it) that gives no row, and why."""

    file: str
    reason: str
    dag_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "dag_id": self.dag_id, "reason": self.reason}


@dataclass
class StaticDags:
    """The platform's DAGs defined by static files in one folder: dag_id -> (DAG, file name)."""

    folder: Path
    dags: dict[str, tuple[DAG, str]] = field(default_factory=dict)
    problems: list[Unmapped] = field(default_factory=list)
    files_read: int = 0


def parse_static_files(folder: Path, platform: str) -> StaticDags:
    """Parse the platform's static files in ``folder`` (``{platform}__<stream>_ingestion.py``,
    the names bootstrap gives them and the factory's skip rule looks for) with Airflow's
    ``DagBag``, one file at a time.

    A file must define exactly the dag_id its name says: the factory skips a stream by the name
    of its static file, so a file defining another dag_id would let one dag_id be defined twice.
    """
    from airflow.dag_processing.dagbag import DagBag

    from factory.layout import static_files_in
    from factory.names import dag_id_for

    slug = platform_slug(platform)
    found = StaticDags(folder)
    for key, name in sorted(static_files_in(folder, slug).items(), key=lambda item: item[1]):
        path = folder / name
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            found.problems.append(Unmapped(name, f"cannot read the file: {exc}"))
            continue
        if FACTORY_MARK in text:
            found.problems.append(Unmapped(name, "is a factory file, not a static DAG file"))
            continue
        found.files_read += 1
        bag = DagBag(str(path), safe_mode=True)
        for error in bag.import_errors.values():
            lines = [line for line in str(error).strip().splitlines() if line.strip()]
            found.problems.append(
                Unmapped(name, f"Airflow cannot import it: {lines[-1].strip() if lines else 'unknown error'}")
            )
        expected = dag_id_for(slug, key)
        for dag_id in sorted(bag.dags):
            if dag_id != expected:
                found.problems.append(Unmapped(name, f"defines dag_id {dag_id}; its name says {expected}", dag_id))
        if expected in bag.dags:
            found.dags[expected] = (bag.dags[expected], name)
        elif not bag.import_errors and not bag.dags:
            found.problems.append(Unmapped(name, f"defines no DAG (Airflow found none; expected {expected})"))
    return found


# ---- reading a config back from a DAG ---------------------------------------------------------


def read_row(
    dag: DAG, platform: str, given: Given | None = None, policy: PlatformPolicy | None = None
) -> tuple[StreamConfig, dict[str, str], JobSettings]:
    """The stream config a static ingestion DAG implies, where each field came from, and the
    platform job settings the file implies (see :mod:`factory.operations.migration.migrate_read`).

    Raises :class:`ValueError` naming what does not fit (its message is the reason to show).
    The result is validated, but not yet checked to run the same job: see :func:`map_dag`.
    """
    from factory.models import parse_config

    data, where, job = config_data(dag, platform, given or Given())
    try:
        config = parse_config(data, stream_key=data["stream_key"], policy=policy)
    except StreamConfigError as exc:
        raise _Unmappable(f"the config it implies is invalid: {'; '.join(str(p) for p in exc.problems)}") from None
    return config, where, job


def config_from_dag(
    dag: DAG, platform: str, policy: PlatformPolicy | None = None, given: Given | None = None
) -> StreamConfig:
    """:func:`read_row`'s config alone."""
    return read_row(dag, platform, given, policy)[0]


def factory_dag(config: StreamConfig, platform: str, job: JobSettings | None = None) -> DAG:
    """The DAG the factory builds for ``config`` with the platform's job settings, in the
    Kubernetes form a static file has."""
    from factory.builder import build_dag

    return build_dag(config, platform, launcher=JobLauncher.KUBERNETES, job=job)


def summarize(diff: dict[str, Any], limit: int = SHOWN_DIFFERENCES) -> str:
    """``dag.schedule: '@daily' -> '@hourly'; snapshot_merge_job.image: …`` (the first ``limit``)."""
    lines = [f"dag.{a['name']}: {a['old']!r} -> {a['new']!r}" for a in diff.get("dag", [])]
    for task in diff.get("tasks", []):
        if not task["args"]:
            lines.append(f"task {task['task_id']} {task['kind']}")
        lines += [f"{task['task_id']}.{a['name']}: {a['old']!r} -> {a['new']!r}" for a in task["args"]]
    more = f"; and {len(lines) - limit} more" if len(lines) > limit else ""
    return "; ".join(lines[:limit]) + more


# ---- extract ------------------------------------------------------------------------------------


@dataclass
class Extraction:
    """Rows implied by a folder of static files, and the files (or DAGs) that give none."""

    platform: str
    folder: str
    status: str
    rows: list[dict[str, str]] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    files_read: int = 0
    #: stream key -> row field -> where its value came from (file, ecosystem, a flag).
    fields_from: dict[str, dict[str, str]] = field(default_factory=dict)
    #: stream key -> the intended differences its factory DAG has (DataSurface's files only).
    intended: dict[str, list[str]] = field(default_factory=dict)
    #: The platform job settings the rows were built with, and where they came from.
    job: dict[str, Any] | None = None
    job_from: str | None = None

    def to_export(self) -> dict[str, Any]:
        """A `config export`-shaped document: ``config import`` and ``apply`` read its rows."""
        return {
            "kind": EXTRACT_KIND,
            "platform": self.platform,
            "source": self.folder,
            "rows": self.rows,
            "unmapped": [u.to_dict() for u in self.unmapped],
            "fields_from": self.fields_from,
            "intended": self.intended,
            "job": self.job,
            "job_from": self.job_from,
        }


def extract(
    folder: Path,
    platform: str,
    *,
    status: str = RowStatus.PAUSED,
    policy: PlatformPolicy | None = None,
    given: Given | None = None,
) -> Extraction:
    """The config rows the platform's static files in ``folder`` imply.

    A row is kept only when the factory, given it, runs the same job (our own files: builds exactly
    the static DAG, serialized by Airflow; DataSurface's: differs only in intended ways,
    :mod:`factory.operations.migration.intended`); anything else is listed in ``unmapped`` with the
    reason. Rows carry ``status`` (paused by default: importing them changes nothing until
    ``migrate cutover``).
    """
    slug = platform_slug(platform)
    static = parse_static_files(folder, slug)
    result = Extraction(slug, str(folder), str(status), unmapped=list(static.problems), files_read=static.files_read)
    for dag_id in sorted(static.dags):
        dag, file_name = static.dags[dag_id]
        try:
            mapped = map_dag(dag, slug, policy, given)
        except _Unmappable as exc:
            result.unmapped.append(Unmapped(file_name, str(exc), dag_id))
            continue
        except Exception as exc:  # a DAG of an unexpected make: listed, never the end of the extract
            result.unmapped.append(Unmapped(file_name, f"cannot be read back: {type(exc).__name__}: {exc}", dag_id))
            continue
        key = mapped.config.stream_key
        result.rows.append({"stream_key": key, "status": str(status), "config_json": mapped.config.to_json()})
        result.fields_from[key] = mapped.fields_from
        if mapped.intended:
            result.intended[key] = mapped.intended
        result.job, result.job_from = mapped.job.to_dict(), mapped.job_from
    return result


@dataclass
class Mapped:
    """A static DAG read back: its row, where each field came from, the job settings it was
    built with (and their source), and the intended differences left."""

    config: StreamConfig
    fields_from: dict[str, str]
    job: JobSettings
    job_from: str
    intended: list[str]


def job_settings(implied: JobSettings, policy: PlatformPolicy | None, given: Given | None) -> tuple[JobSettings, str]:
    """The platform's job settings: its stored policy's, else the ecosystem file's ``job:``
    section, else what the files imply."""
    if policy is not None:
        return policy.job, "the platform's stored policy (--db)"
    if given is not None and given.job is not None:
        return given.job, f"the ecosystem file's job: section ({given.ecosystem_source})"
    return implied, "the static files"


def _settings_mismatch(implied: JobSettings, used: JobSettings, source: str) -> str | None:
    have, want = used.to_dict(), implied.to_dict()
    wrong = [f"{k}: {want[k]} (here {have[k]})" for k in sorted(want) if want[k] != have[k]]
    if not wrong:
        return None
    return (
        f"the file needs the platform job settings {', '.join(wrong)}, from {source}; set them in the "
        "platform's job: section of the ecosystem file and run bootstrap (docs/migration.md)"
    )


def map_dag(dag: DAG, platform: str, policy: PlatformPolicy | None = None, given: Given | None = None) -> Mapped:
    """:func:`read_row`, checked: the factory's DAG from that row must run the same job."""
    config, where, implied = read_row(dag, platform, given, policy)
    used, source = job_settings(implied, policy, given)
    mismatch = _settings_mismatch(implied, used, source)
    if mismatch:
        raise _Unmappable(mismatch)
    found = differences_of(dag, factory_dag(config, platform, used))
    if found is None:
        return Mapped(config, where, used, source, [])
    diff, named = found
    drift = [d for d in named if not d.intended]
    if drift:
        if generation_of(dag) == "yellow":
            shown = summarize(diff.to_dict())
        else:
            shown = "; ".join(f"{d.name} at {d.where}: {d.old!r} -> {d.new!r}" for d in drift[:SHOWN_DIFFERENCES])
        raise _Unmappable(f"the factory would build a different DAG from the config it implies: {shown}")
    return Mapped(config, where, used, source, names(named, intended=True))


def differences_of(static: DAG, built: DAG) -> tuple[Any, list[Difference]] | None:
    """The serialized differences between a static DAG and the factory's, each named."""
    from factory.operations.changes.dag_diff import diff_dags

    diff = diff_dags(static, built)
    if diff.empty:
        return None
    return diff, classify(diff, generation_of(static) or "", static)


# ---- compare ------------------------------------------------------------------------------------


@dataclass
class StreamVerdict:
    stream_key: str
    verdict: str
    dag_id: str | None = None
    file: str | None = None
    status: str | None = None
    differences: dict[str, Any] | None = None
    detail: str | None = None
    #: Each difference with its name and whether it is intended (factory.operations.migration.intended).
    named: list[Difference] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.verdict == Verdict.IDENTICAL

    @property
    def intended(self) -> list[str]:
        return names(self.named, intended=True)

    @property
    def drift(self) -> list[str]:
        return names(self.named, intended=False)

    def accepted(self, accept: Iterable[str]) -> bool:
        """Identical, or only intended differences, every one of them in ``accept``."""
        return self.identical or (self.verdict == Verdict.INTENDED and set(self.intended) <= set(accept))

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream_key": self.stream_key,
            "verdict": self.verdict,
            "dag_id": self.dag_id,
            "file": self.file,
            "status": self.status,
            "intended": self.intended,
            "drift": self.drift,
            "named": [d.to_dict() for d in self.named],
            "differences": self.differences,
            "detail": self.detail,
        }


@dataclass
class Comparison:
    platform: str
    folder: str
    verdicts: list[StreamVerdict] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return all(v.identical for v in self.verdicts)

    def accepted(self, accept: Iterable[str]) -> bool:
        """Every stream identical or differing only in intended ways named in ``accept``."""
        return all(v.accepted(accept) for v in self.verdicts)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for v in self.verdicts:
            counts[v.verdict] = counts.get(v.verdict, 0) + 1
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "folder": self.folder,
            "identical": self.identical,
            "intended": sorted({n for v in self.verdicts for n in v.intended}),
            "counts": self.counts(),
            "streams": [v.to_dict() for v in self.verdicts],
        }


def compare(
    folder: Path,
    platform: str,
    rows: Iterable[ConfigRow],
    *,
    policy: PlatformPolicy | None = None,
    streams: Iterable[str] | None = None,
) -> Comparison:
    """Each stream's static DAG in ``folder`` against the DAG the factory builds from its row.

    Rows are compared whatever their status (a row imported paused is compared before cutover),
    except retired ones, which are expected to have no static file. ``streams`` limits the
    comparison to those keys.
    """
    from factory.models import parse_config

    slug = platform_slug(platform)
    wanted = set(streams) if streams is not None else None
    static = parse_static_files(folder, slug)
    by_key = {r.stream_key: r for r in rows if wanted is None or r.stream_key in wanted}
    result = Comparison(slug, str(folder))
    static_by_key: dict[str, tuple[DAG, str]] = {}
    for dag_id, (dag, file_name) in static.dags.items():
        key = stream_key_from_dag_id(slug, dag_id)
        if key is not None and (wanted is None or key in wanted):
            static_by_key[key] = (dag, file_name)
    for problem in static.problems:
        key = stream_key_from_dag_id(slug, problem.dag_id or problem.file.removesuffix(".py"))
        if wanted is None or key in wanted:
            result.verdicts.append(
                StreamVerdict(
                    key or problem.file, Verdict.UNREADABLE, problem.dag_id, problem.file, detail=problem.reason
                )
            )
    for key in sorted(set(by_key) | set(static_by_key)):
        row = by_key.get(key)
        found = static_by_key.get(key)
        verdict = StreamVerdict(key, Verdict.IDENTICAL, status=row.status if row else None)
        if found is not None:
            verdict.dag_id, verdict.file = found[0].dag_id, found[1]
        if row is None:
            verdict.verdict, verdict.detail = Verdict.NO_ROW, "a static DAG with no config row (run migrate extract)"
        elif found is None:
            if row.status == RowStatus.RETIRED:
                continue
            verdict.verdict, verdict.detail = Verdict.NO_STATIC, "a config row with no static DAG in the folder"
        else:
            try:
                config = parse_config(row.config_json, stream_key=key, policy=policy)
            except StreamConfigError as exc:
                verdict.verdict = Verdict.INVALID_ROW
                verdict.detail = "; ".join(str(p) for p in exc.problems)
            else:
                found_diff = differences_of(found[0], factory_dag(config, slug, policy.job if policy else None))
                if found_diff is not None:
                    diff, verdict.named = found_diff[0].to_dict(), found_diff[1]
                    verdict.differences, verdict.detail = diff, summarize(diff)
                    verdict.verdict = Verdict.DIFFERENT if verdict.drift else Verdict.INTENDED
                    if verdict.drift:
                        verdict.detail = f"drift: {', '.join(verdict.drift)}; {verdict.detail}"
        result.verdicts.append(verdict)
    result.verdicts.sort(key=lambda v: v.stream_key)
    return result
