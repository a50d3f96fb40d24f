"""The ecosystem file: platforms and their stores, in YAML, turned into stream configs.

A store with ``single_dataset: true`` becomes one stream per dataset (``{store}_{dataset}``);
otherwise the whole store is one stream keyed by its name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from factory.collisions import stream_problems
from factory.errors import EcosystemError, StreamConfigError
from factory.job_contract import JobSettings
from factory.models import (
    INGESTION_TYPES,
    LEGACY_INGESTION_TYPES,
    JobResources,
    StreamConfig,
    json_path,
    parse_config,
)
from factory.names import platform_slug
from factory.policy import PlatformPolicy, image_repository
from factory.rules import Rules


class StoreSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    datasets: list[str] = Field(min_length=1)
    single_dataset: bool = False
    ingestion_type: Literal[INGESTION_TYPES] = "sql_source"  # type: ignore[valid-type]
    schedule: str | None = None
    source_credential_secret: str | None = None
    job_resources: JobResources | None = None
    priority: int | None = None

    @field_validator("ingestion_type", mode="before")
    @classmethod
    def _legacy_type(cls, value: Any) -> Any:
        return LEGACY_INGESTION_TYPES.get(value, value) if isinstance(value, str) else value


class PolicySpec(BaseModel):
    """What a platform's rows may use (see :mod:`factory.policy`); a part left out defaults to
    what the platform itself uses."""

    model_config = ConfigDict(extra="forbid")

    namespaces: list[str] | None = None
    image_repositories: list[str] | None = None
    secret_names: list[str] | None = None
    secret_prefixes: list[str] = Field(default_factory=list)


class PlatformSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    original_name: str | None = None
    namespace: str
    job_image: str
    postgres_hostname: str
    postgres_database: str
    postgres_port: int = 5432
    postgres_credential_secret: str
    git_repo_url: str
    git_repo_branch: str = "main"
    git_credential_secret: str
    git_credential_name: str | None = None
    slack_credential_secret: str | None = None
    kafka_connect_credential_secret: str | None = None
    default_schedule: str | None = "@hourly"
    stores: list[StoreSpec] = Field(default_factory=list)
    policy: PolicySpec | None = None
    #: How the platform's job runs (factory.job_contract); left out: DataSurface's current generation.
    job: JobSettings = Field(default_factory=JobSettings)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        platform_slug(value)
        return value


class Ecosystem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "ecosystem"
    platforms: list[PlatformSpec] = Field(min_length=1)


def stream_payloads(platform: PlatformSpec) -> list[dict]:
    """The config_json payloads of a platform's streams, before validation."""
    payloads = []
    for store in platform.stores:
        groups = [[d] for d in store.datasets] if store.single_dataset else [store.datasets]
        for datasets in groups:
            key = f"{store.name}_{datasets[0]}" if store.single_dataset else store.name
            payload = {
                "schema_version": 1,
                "stream_key": key,
                "single_dataset": store.single_dataset,
                "datasets": datasets,
                "store_name": store.name,
                "ingestion_type": store.ingestion_type,
                "namespace_name": platform.namespace,
                "platform_name": platform.name,
                "original_platform_name": platform.original_name or platform.name,
                "postgres_hostname": platform.postgres_hostname,
                "postgres_database": platform.postgres_database,
                "postgres_port": platform.postgres_port,
                "postgres_credential_secret_name": platform.postgres_credential_secret,
                "git_credential_secret_name": platform.git_credential_secret,
                "git_credential_name": platform.git_credential_name,
                "slack_credential_secret_name": platform.slack_credential_secret,
                "datasurface_docker_image": platform.job_image,
                "git_repo_url": platform.git_repo_url,
                "git_repo_branch": platform.git_repo_branch,
                "source_credential_secret_name": store.source_credential_secret,
                "kafka_connect_credential_secret_name": (
                    platform.kafka_connect_credential_secret if store.ingestion_type == "kafka" else None
                ),
                "priority": store.priority,
                "schedule": store.schedule if store.schedule is not None else platform.default_schedule,
            }
            if store.job_resources is not None:
                payload["job_resources"] = store.job_resources.model_dump(exclude_none=True)
            payloads.append({k: v for k, v in payload.items() if v is not None})
    return payloads


def platform_policy(platform: PlatformSpec) -> PlatformPolicy:
    """The platform's policy: its ``policy:`` section, each part left out derived from the
    platform itself (its namespace, its job image's repository, the secrets it names)."""
    given = platform.policy or PolicySpec()
    own_secrets = [
        platform.postgres_credential_secret,
        platform.git_credential_secret,
        platform.slack_credential_secret,
        platform.kafka_connect_credential_secret,
        *(s.source_credential_secret for s in platform.stores),
    ]
    secret_names = given.secret_names
    if secret_names is None and not given.secret_prefixes:
        secret_names = [s for s in own_secrets if s]
    return PlatformPolicy(
        platform=platform_slug(platform.name),
        namespaces=tuple(given.namespaces if given.namespaces is not None else [platform.namespace]),
        image_repositories=tuple(
            given.image_repositories if given.image_repositories is not None else [image_repository(platform.job_image)]
        ),
        secret_names=tuple(dict.fromkeys(secret_names)) if secret_names is not None else None,
        secret_prefixes=tuple(given.secret_prefixes),
        job=platform.job,
    )


def platform_streams(platform: PlatformSpec) -> tuple[list[StreamConfig], list[str]]:
    """Validated configs of a platform's streams, and every problem found (with its path)."""
    configs: list[StreamConfig] = []
    problems: list[str] = []
    seen: set[str] = set()
    rules = Rules.of(platform_policy(platform))
    for payload in stream_payloads(platform):
        key = payload["stream_key"]
        where = f"platform {platform.name}, stream {key}"
        if key in seen:
            problems.append(f"{where}: the stream key is produced twice")
            continue
        seen.add(key)
        try:
            configs.append(parse_config(payload, key, rules=rules))
        except StreamConfigError as exc:  # the model, size, credentials, policy and key rules at once
            problems += [f"{where}: {p}" for p in exc.problems]
    return configs, problems


def dag_id_clashes(eco: Ecosystem) -> list[str]:
    """dag_ids that two streams of the ecosystem would both define, within or across platforms,
    and streams whose dag_id reaches into another platform's names (see :mod:`factory.collisions`)."""
    pairs = [(platform_slug(p.name), payload["stream_key"]) for p in eco.platforms for payload in stream_payloads(p)]
    return [
        f"platform {platform}, stream {key}: {problem}"
        for (platform, key), found in sorted(stream_problems(pairs).items())
        for problem in found
    ]


def load_ecosystem(path: str | Path) -> Ecosystem:
    """Parse and validate an ecosystem YAML file; every problem is reported at once."""
    import yaml

    source = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            raise EcosystemError(source, [f"the file is {size:,} bytes; at most {MAX_FILE_BYTES:,} are read"])
        raw = Path(path).read_bytes()
        if b"\x00" in raw:
            raise EcosystemError(source, ["a binary file, not YAML text"])
        text = raw.decode("utf-8")
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None and _expanded_size(node) > MAX_YAML_NODES:
                raise EcosystemError(
                    source, [f"the YAML expands to more than {MAX_YAML_NODES:,} values (an alias bomb?); refused"]
                )
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except OSError as exc:
        raise EcosystemError(source, [f"cannot read the file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise EcosystemError(source, [f"not UTF-8 text (byte {exc.start})"]) from None
    except yaml.YAMLError as exc:
        raise EcosystemError(source, [f"not valid YAML: {exc}"]) from None
    except RecursionError:
        raise EcosystemError(source, ["the YAML is nested too deeply"]) from None
    return parse_ecosystem(data, source)


#: An ecosystem file larger than this is refused before it is read.
MAX_FILE_BYTES = 16 * 1024 * 1024
#: At most this many values once aliases are expanded (a billion-laughs file has 10^9).
MAX_YAML_NODES = 1_000_000


def _expanded_size(root: object) -> int:
    """How many values the YAML graph holds with every alias expanded, computed once per node
    (aliases share node objects), stopping as soon as it passes the limit."""
    import yaml

    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(node: object) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in visiting:  # a recursive alias: refuse by size
            return MAX_YAML_NODES + 1
        visiting.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += size(child)
                if total > MAX_YAML_NODES:
                    break
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k) + size(v)
                if total > MAX_YAML_NODES:
                    break
        visiting.discard(key)
        sizes[key] = total
        return total

    return size(root)


def parse_ecosystem(data: object, source: str = "ecosystem") -> Ecosystem:
    try:
        eco = Ecosystem.model_validate(data)
    except ValidationError as exc:
        raise EcosystemError(
            source,
            [
                f"{json_path(tuple(e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors(include_url=False)
            ],
        ) from None
    problems: list[str] = []
    slugs: dict[str, str] = {}
    for platform in eco.platforms:
        slug = platform_slug(platform.name)
        if slug in slugs:
            problems.append(f"platform {platform.name}: same table name as platform {slugs[slug]} ({slug})")
        slugs[slug] = platform.name
        problems += platform_streams(platform)[1]
    problems += dag_id_clashes(eco)
    if problems:
        raise EcosystemError(source, problems)
    return eco
