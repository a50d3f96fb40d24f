"""The plain-data description of one stream's DAG, computed from its config.

Everything the DAG needs is decided here, as strings, numbers, lists and dicts, so that the
builder (inside Airflow) and the legacy static template (rendered as Python literals) start from
the same values, and the dashboard can show and diff them without importing Airflow. The DAG's
shape (its tasks and edges) is :mod:`factory.shape`'s.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from factory.fingerprint import stamped
from factory.models import StreamConfig
from factory.names import dag_id_for, platform_slug

#: A fixed start date keeps the DAG deterministic: same config, same DAG.
START_DATE_ISO = "2025-01-01T00:00:00+00:00"
JOB_MODULE = "datasurface.platforms.yellow.jobs"


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pod_name(platform: str, stream_key: str) -> str:
    """A valid RFC 1123 label derived from the stream; Airflow adds a random suffix per pod."""
    name = re.sub(r"[^a-z0-9-]+", "-", f"{platform}-{stream_key}".lower()).strip("-")
    return name[:50].rstrip("-") or "ingestion"


def _label_value(value: str) -> str:
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", value)[:63]
    return value.strip("-_.") or "x"


def dag_spec(config: StreamConfig, platform: str) -> DagSpec:
    """The DAG the builder makes for ``config`` on ``platform``, as plain data; its description
    ends with the spec's fingerprint (:mod:`factory.fingerprint`), so Airflow's DAG list tells
    which config it serves."""
    return stamped(_unstamped_spec(config, platform))


def _unstamped_spec(config: StreamConfig, platform: str) -> DagSpec:
    slug = platform_slug(platform)
    dag_id = dag_id_for(platform, config.stream_key)
    env_vars = {
        "DATASURFACE_PLATFORM_NAME": config.platform_name,
        "DATASURFACE_ORIGINAL_PLATFORM_NAME": config.original_platform_name,
        "DATASURFACE_STORE_NAME": config.store_name,
        "DATASURFACE_STREAM_KEY": config.stream_key,
        "DATASURFACE_DATASETS": ",".join(config.datasets),
        "DATASURFACE_INGESTION_TYPE": config.ingestion_type,
        "DATASURFACE_POSTGRES_HOSTNAME": config.postgres_hostname,
        "DATASURFACE_POSTGRES_PORT": str(config.postgres_port),
        "DATASURFACE_POSTGRES_DATABASE": config.postgres_database,
        "DATASURFACE_GIT_REPO_URL": config.git_repo_url,
        "DATASURFACE_GIT_REPO_BRANCH": config.git_repo_branch,
    }
    secrets = [
        SecretEnv("DATASURFACE_POSTGRES_USER", config.postgres_credential_secret_name, "POSTGRES_USER"),
        SecretEnv("DATASURFACE_POSTGRES_PASSWORD", config.postgres_credential_secret_name, "POSTGRES_PASSWORD"),
        SecretEnv("DATASURFACE_GIT_TOKEN", config.git_credential_secret_name, "token"),
    ]
    if config.slack_credential_secret_name:
        secrets.append(SecretEnv("DATASURFACE_SLACK_WEBHOOK", config.slack_credential_secret_name, "token"))
    if config.source_credential_secret_name:
        secrets += [
            SecretEnv("DATASURFACE_SOURCE_USER", config.source_credential_secret_name, "USER"),
            SecretEnv("DATASURFACE_SOURCE_PASSWORD", config.source_credential_secret_name, "PASSWORD"),
        ]
    arguments = [
        "--operation",
        "snapshot-merge",
        "--platform-name",
        config.original_platform_name,
        "--store-name",
        config.store_name,
        "--git-repo-url",
        config.git_repo_url,
        "--git-repo-branch",
        config.git_repo_branch,
    ]
    if config.single_dataset:
        arguments += ["--dataset-name", config.datasets[0]]
    resources: dict[str, dict[str, str]] = {}
    if config.job_resources is not None:
        r = config.job_resources
        requests = {k: v for k, v in (("cpu", r.cpu_request), ("memory", r.memory_request)) if v}
        limits = {k: v for k, v in (("cpu", r.cpu_limit), ("memory", r.memory_limit)) if v}
        resources = {k: v for k, v in (("requests", requests), ("limits", limits)) if v}
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
        arguments=arguments,
        env_vars=env_vars,
        secrets=secrets,
        labels={
            "app.kubernetes.io/part-of": "yellow-dag-factory",
            "yellow/platform": _label_value(slug),
            "yellow/stream": _label_value(config.stream_key),
        },
        resources=resources,
    )
