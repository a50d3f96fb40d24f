"""The plain-data description of one stream's DAG, computed from its config.

Everything the DAG needs is decided here, as strings, numbers, lists and dicts, so that the
builder (inside Airflow) and the legacy static template (rendered as Python literals) start from
the same values, and the dashboard can show and diff them without importing Airflow. The DAG's
shape (its tasks and edges) is :mod:`factory.shape`'s; the job's command line, environment and
secrets follow DataSurface's real job (:mod:`factory.job_contract` says where each fact comes from).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from factory.fingerprint import stamped
from factory.job_contract import (
    DEFAULT_CPU,
    DEFAULT_JOB_SETTINGS,
    DEFAULT_MEMORY,
    JOB_MODULE,
    OPERATION,
    RESULT_XCOM_KEY,
    RETURN_VALUE_KEY,
    JobArguments,
    JobSettings,
    ResultFrom,
    credential_name,
    user_password_keys,
)
from factory.models import StreamConfig
from factory.names import dag_id_for, platform_slug

#: A fixed start date keeps the DAG deterministic: same config, same DAG.
START_DATE_ISO = "2025-01-01T00:00:00+00:00"
GIT_CACHE_VOLUME = "git-model-cache"


@dataclass(frozen=True)
class SecretEnv:
    """An environment variable of the job's container, read from a key of a Kubernetes secret."""

    env_var: str
    secret_name: str
    secret_key: str


@dataclass(frozen=True)
class DagSpec:
    """What one stream's ingestion DAG is made of. Plain data: safe to render and to diff."""

    dag_id: str
    platform: str
    stream_key: str
    schedule: str | None
    description: str
    tags: list[str]
    namespace: str
    image: str
    pod_name: str
    cmds: list[str]
    arguments: list[str]
    env_vars: dict[str, str]
    secrets: list[SecretEnv]
    labels: dict[str, str]
    resources: dict[str, dict[str, str]] = field(default_factory=dict)
    #: ``priority_weight`` of the job task (``weight_rule="absolute"``).
    priority_weight: int = 0
    #: PersistentVolumeClaims mounted into the pod: ``{"name", "claim_name", "mount_path"}``.
    volumes: list[dict[str, str]] = field(default_factory=list)
    #: How the job's result code comes back: ``stdout`` (its line, via pods/log) or ``xcom``.
    result_from: str = ResultFrom.STDOUT.value
    #: The XCom key ``check_result`` reads the code from.
    result_key: str = RESULT_XCOM_KEY

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pod_name(platform: str, stream_key: str) -> str:
    """A valid RFC 1123 label derived from the stream; Airflow adds a random suffix per pod."""
    name = re.sub(r"[^a-z0-9-]+", "-", f"{platform}-{stream_key}".lower()).strip("-")
    return name[:50].rstrip("-") or "ingestion"


def _label_value(value: str) -> str:
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", value)[:63]
    return value.strip("-_.") or "x"


def job_arguments(config: StreamConfig, job: JobSettings = DEFAULT_JOB_SETTINGS) -> list[str]:
    """``python -m datasurface.platforms.yellow.jobs`` arguments, as DataSurface's own DAGs pass them,
    for the job generation the platform's image holds (``job.arguments``)."""
    if job.arguments is not JobArguments.CURRENT:
        return _july_arguments(config, job)
    arguments = [
        "--platform-name",
        config.original_platform_name,
        "--store-name",
        config.store_name,
        "--operation",
        OPERATION,
        "--git-repo-path",
        job.git_repo_path,
        *_repository_arguments(config),
        "--git-platform-repo-credential-name",
        config.job_git_credential,
    ]
    if job.max_cache_age_minutes is not None:
        arguments += ["--max-cache-age-minutes", str(job.max_cache_age_minutes)]
    if job.uses_git_cache:
        arguments.append("--use-git-cache")
    if config.single_dataset:
        arguments += ["--dataset-name", config.datasets[0]]
    return arguments


def _july_arguments(config: StreamConfig, job: JobSettings) -> list[str]:
    """July 2025's command line (ingestion_stream_dag.py.j2 at c7cdb5c and db4c68f, 2025-07-17/18):
    --dataset-name right after --store-name, no credential name and no cache flags."""
    arguments = ["--platform-name", config.original_platform_name, "--store-name", config.store_name]
    if config.single_dataset:
        arguments += ["--dataset-name", config.datasets[0]]
    arguments += ["--operation", OPERATION, "--git-repo-path", job.git_repo_path]
    if job.arguments is JobArguments.JULY_2025:
        arguments += _repository_arguments(config)
    return arguments


def _repository_arguments(config: StreamConfig) -> list[str]:
    """The model's repository: OWNER and NAME of ``https://github.com/OWNER/NAME``, and the branch."""
    return [
        "--git-repo-owner",
        config.git_repo_owner,
        "--git-repo-name",
        config.git_repo_name,
        "--git-repo-branch",
        config.git_repo_branch,
    ]


def job_secrets(config: StreamConfig, job: JobSettings = DEFAULT_JOB_SETTINGS) -> list[SecretEnv]:
    """The job's credentials, each an environment variable filled from a Kubernetes secret's key.

    The variable is ``<credential>_USER`` / ``_PASSWORD`` / ``_TOKEN`` / ``_API_KEY`` /
    ``_API_SECRET``, the names DataSurface's ``KubernetesEnvVarsCredentialStore`` reads.
    """

    def user_password(secret: str) -> list[SecretEnv]:
        name = credential_name(secret)
        user_key, password_key = user_password_keys(secret, job.secret_keys)
        return [SecretEnv(f"{name}_USER", secret, user_key), SecretEnv(f"{name}_PASSWORD", secret, password_key)]

    merge = config.postgres_credential_secret_name
    secrets = user_password(merge)
    secrets.append(SecretEnv(f"{config.job_git_credential}_TOKEN", config.git_credential_secret_name, "token"))
    if config.slack_credential_secret_name:  # July 2025's files passed Slack's token; later ones do not
        slack = config.slack_credential_secret_name
        secrets.append(SecretEnv(f"{credential_name(slack)}_TOKEN", slack, "token"))
    source = config.source_credential_secret_name
    if config.ingestion_type == "sql_source" and source and source != merge:
        secrets += user_password(source)
    kafka = config.kafka_connect_credential_secret_name
    if config.ingestion_type == "kafka" and kafka:
        name = credential_name(kafka)
        secrets += [
            SecretEnv(f"{name}_API_KEY", kafka, "api_key"),
            SecretEnv(f"{name}_API_SECRET", kafka, "api_secret"),
        ]
    return secrets


def job_resources(config: StreamConfig) -> dict[str, dict[str, str]]:
    """Requests and limits: the stream's own, else DataSurface's defaults (256Mi, 100m)."""
    r = config.job_resources
    return {
        "requests": {
            "cpu": (r.cpu_request if r else None) or DEFAULT_CPU,
            "memory": (r.memory_request if r else None) or DEFAULT_MEMORY,
        },
        "limits": {
            "cpu": (r.cpu_limit if r else None) or DEFAULT_CPU,
            "memory": (r.memory_limit if r else None) or DEFAULT_MEMORY,
        },
    }


def dag_spec(config: StreamConfig, platform: str, job: JobSettings | None = None) -> DagSpec:
    """The DAG the builder makes for ``config`` on ``platform``, as plain data. ``job`` holds the
    platform's job settings (its stored policy's); None: DataSurface's current defaults. The
    description ends with the spec's fingerprint (:mod:`factory.fingerprint`), so Airflow's DAG
    list tells which config it serves."""
    return stamped(_unstamped_spec(config, platform, job or DEFAULT_JOB_SETTINGS))


def _unstamped_spec(config: StreamConfig, platform: str, job: JobSettings) -> DagSpec:
    slug = platform_slug(platform)
    dag_id = dag_id_for(platform, config.stream_key)
    env_vars = {
        "DATASURFACE_PLATFORM_NAME": config.original_platform_name,
        "DATASURFACE_NAMESPACE": config.namespace_name,
    }
    volumes = []
    if job.git_cache_claim:
        volumes.append({"name": GIT_CACHE_VOLUME, "claim_name": job.git_cache_claim, "mount_path": job.git_repo_path})
    stdout = job.result_from is ResultFrom.STDOUT
    return DagSpec(
        dag_id=dag_id,
        platform=slug,
        stream_key=config.stream_key,
        schedule=config.schedule,
        description=f"Ingestion of {config.store_name} ({', '.join(config.datasets)[:200]}) on {config.platform_name}",
        tags=["yellow", slug, config.ingestion_type],
        namespace=config.namespace_name,
        image=config.datasurface_docker_image,
        pod_name=_pod_name(slug, config.stream_key),
        cmds=["python", "-m", JOB_MODULE],
        arguments=job_arguments(config, job),
        env_vars=env_vars,
        secrets=job_secrets(config, job),
        labels={
            "app.kubernetes.io/part-of": "yellow-dag-factory",
            "yellow/platform": _label_value(slug),
            "yellow/stream": _label_value(config.stream_key),
        },
        resources=job_resources(config),
        priority_weight=config.priority or 0,
        volumes=volumes,
        result_from=job.result_from.value,
        result_key=RESULT_XCOM_KEY if stdout else RETURN_VALUE_KEY,
    )
