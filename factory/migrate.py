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
from factory.shape import JOB_TASK_ID, TASKS

if TYPE_CHECKING:
    from airflow.sdk import DAG

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
    DIFFERENT = "different"  # both exist and differ (the differences are listed)
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


class _Unmappable(ValueError):
    """This DAG does not have the ingestion DAG's shape; the message says where."""


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


def _env(env_vars: Any) -> dict[str, str]:
    """The job's environment: a dict, or a list of ``V1EnvVar`` (older providers)."""
    if isinstance(env_vars, dict):
        return {str(k): str(v) for k, v in env_vars.items()}
    found = {}
    for item in env_vars or []:
        if getattr(item, "value_from", None) is None:
            found[str(item.name)] = str(item.value)
    return found


def config_from_dag(dag: DAG, platform: str, policy: PlatformPolicy | None = None) -> StreamConfig:
    """The stream config a static ingestion DAG implies (the inverse of :func:`factory.spec.dag_spec`).

    Raises :class:`ValueError` naming what does not fit (its message is the reason to show).
    The result is validated, but not yet checked to rebuild the same DAG: see :func:`map_dag`.
    """
    from factory.models import parse_config

    slug = platform_slug(platform)
    key = stream_key_from_dag_id(slug, dag.dag_id)
    if key is None:
        raise _Unmappable(f"dag_id {dag.dag_id} is not of the form {slug}__<stream>_ingestion")
    expected = sorted(t.task_id for t in TASKS)
    if sorted(dag.task_ids) != expected:
        raise _Unmappable(f"its tasks {sorted(dag.task_ids)} are not the ingestion DAG's {expected}")
    job: Any = dag.get_task(JOB_TASK_ID)
    if type(job).__name__ != "KubernetesPodOperator":
        raise _Unmappable(f"{JOB_TASK_ID} is a {type(job).__name__}, not a KubernetesPodOperator")
    env = _env(job.env_vars)
    secrets = {s.deploy_target: s.secret for s in job.secrets or [] if s.deploy_type == "env"}

    def var(name: str) -> str:
        if name not in env:
            raise _Unmappable(f"the job has no environment variable {name}")
        return env[name]

    def secret(target: str) -> str:
        if target not in secrets:
            raise _Unmappable(f"the job has no secret mounted as {target}")
        return str(secrets[target])

    schedule = dag.schedule
    if schedule is not None and not isinstance(schedule, str):
        raise _Unmappable(f"its schedule is a {type(schedule).__name__}, not a cron expression or preset")
    port = var("DATASURFACE_POSTGRES_PORT")
    if not port.isdigit():
        raise _Unmappable(f"DATASURFACE_POSTGRES_PORT is {port!r}, not a port number")
    data: dict[str, Any] = {
        "schema_version": 1,
        "stream_key": var("DATASURFACE_STREAM_KEY"),
        "single_dataset": "--dataset-name" in list(job.arguments or []),
        "datasets": var("DATASURFACE_DATASETS").split(","),
        "store_name": var("DATASURFACE_STORE_NAME"),
        "ingestion_type": var("DATASURFACE_INGESTION_TYPE"),
        "namespace_name": job.namespace,
        "platform_name": var("DATASURFACE_PLATFORM_NAME"),
        "original_platform_name": var("DATASURFACE_ORIGINAL_PLATFORM_NAME"),
        "postgres_hostname": var("DATASURFACE_POSTGRES_HOSTNAME"),
        "postgres_database": var("DATASURFACE_POSTGRES_DATABASE"),
        "postgres_port": int(port),
        "postgres_credential_secret_name": secret("DATASURFACE_POSTGRES_USER"),
        "git_credential_secret_name": secret("DATASURFACE_GIT_TOKEN"),
        "datasurface_docker_image": job.image,
        "git_repo_url": var("DATASURFACE_GIT_REPO_URL"),
        "git_repo_branch": var("DATASURFACE_GIT_REPO_BRANCH"),
        "schedule": schedule,
    }
    if "DATASURFACE_SLACK_WEBHOOK" in secrets:
        data["slack_credential_secret_name"] = secret("DATASURFACE_SLACK_WEBHOOK")
    if "DATASURFACE_SOURCE_USER" in secrets:
        data["source_credential_secret_name"] = secret("DATASURFACE_SOURCE_USER")
    resources = _resources(job.container_resources)
    if resources:
        data["job_resources"] = resources
    try:
        return parse_config(data, stream_key=key, policy=policy)
    except StreamConfigError as exc:
        raise _Unmappable(f"the config it implies is invalid: {'; '.join(str(p) for p in exc.problems)}") from None


def _resources(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    requests = dict(getattr(value, "requests", None) or {})
    limits = dict(getattr(value, "limits", None) or {})
    found = {
        "cpu_request": requests.get("cpu"),
        "memory_request": requests.get("memory"),
        "cpu_limit": limits.get("cpu"),
        "memory_limit": limits.get("memory"),
    }
    return {k: str(v) for k, v in found.items() if v is not None}


def factory_dag(config: StreamConfig, platform: str) -> DAG:
    """The DAG the factory builds for ``config``, in the Kubernetes form a static file has."""
    from factory.builder import build_dag

    return build_dag(config, platform, launcher=JobLauncher.KUBERNETES)


def differences(static: DAG, built: DAG) -> dict[str, Any] | None:
    """Airflow-serialized differences between two DAGs (None when there are none)."""
    from factory.dag_diff import diff_dags

    found = diff_dags(static, built)
    return None if found.empty else found.to_dict()


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

    def to_export(self) -> dict[str, Any]:
        """A `config export`-shaped document: ``config import`` and ``apply`` read its rows."""
        return {
            "kind": EXTRACT_KIND,
            "platform": self.platform,
            "source": self.folder,
            "rows": self.rows,
            "unmapped": [u.to_dict() for u in self.unmapped],
        }


def extract(
    folder: Path, platform: str, *, status: str = RowStatus.PAUSED, policy: PlatformPolicy | None = None
) -> Extraction:
    """The config rows the platform's static files in ``folder`` imply.

    A row is kept only when the factory, given it, builds exactly the static DAG (serialized by
    Airflow); anything else is listed in ``unmapped`` with the reason. Rows carry ``status``
    (paused by default: importing them changes nothing until ``migrate cutover``).
    """
    slug = platform_slug(platform)
    static = parse_static_files(folder, slug)
    result = Extraction(slug, str(folder), str(status), unmapped=list(static.problems), files_read=static.files_read)
    for dag_id in sorted(static.dags):
        dag, file_name = static.dags[dag_id]
        try:
            config = map_dag(dag, slug, policy)
        except _Unmappable as exc:
            result.unmapped.append(Unmapped(file_name, str(exc), dag_id))
            continue
        except Exception as exc:  # a DAG of an unexpected make: listed, never the end of the extract
            result.unmapped.append(Unmapped(file_name, f"cannot be read back: {type(exc).__name__}: {exc}", dag_id))
            continue
        result.rows.append({"stream_key": config.stream_key, "status": str(status), "config_json": config.to_json()})
    return result


def map_dag(dag: DAG, platform: str, policy: PlatformPolicy | None = None) -> StreamConfig:
    """:func:`config_from_dag`, checked: the factory's DAG from that config must equal ``dag``."""
    config = config_from_dag(dag, platform, policy)
    diff = differences(dag, factory_dag(config, platform))
    if diff is not None:
        raise _Unmappable(f"the factory would build a different DAG from the config it implies: {summarize(diff)}")
    return config


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

    @property
    def identical(self) -> bool:
        return self.verdict == Verdict.IDENTICAL

    def to_dict(self) -> dict[str, Any]:
        return {
            "stream_key": self.stream_key,
            "verdict": self.verdict,
            "dag_id": self.dag_id,
            "file": self.file,
            "status": self.status,
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
                diff = differences(found[0], factory_dag(config, slug))
                if diff is not None:
                    verdict.verdict, verdict.differences, verdict.detail = Verdict.DIFFERENT, diff, summarize(diff)
        result.verdicts.append(verdict)
    result.verdicts.sort(key=lambda v: v.stream_key)
    return result
