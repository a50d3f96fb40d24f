"""The one model of a stream's ``config_json``, and the readable errors it produces.

The seed's example row defines the field names; we add ``schedule``, ``job_resources`` and
``schema_version``. Credentials never appear here: only the names of Kubernetes secrets.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from factory.errors import ConfigProblem, StreamConfigError
from factory.names import (
    STREAM_KEY_RE,
    is_image_reference,
    is_k8s_label,
    is_k8s_subdomain,
)

SCHEMA_VERSION: Literal[1] = 1
MAX_CONFIG_CHARS = 2048
SCHEDULE_PRESETS = ("@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly")
INGESTION_TYPES = ("sql_snapshot", "sql_watermark", "cdc", "file_drop", "api")
QUANTITY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$")
GIT_URL_RE = re.compile(r"^(https://|ssh://|git@)[^\s'\"\\]+$")
BRANCH_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
HOSTNAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
DATASET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
PLATFORM_TEXT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")


def _matching(pattern: re.Pattern[str], what: str) -> AfterValidator:
    """A validator for a ``str`` that must match ``pattern``; the error names what was expected."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid {what}")
        return value

    return AfterValidator(check)


StreamKey = Annotated[str, _matching(STREAM_KEY_RE, "stream key (letters, digits, '_', '.', '-')")]
StoreName = Annotated[str, _matching(DATASET_RE, "store name")]
DatasetName = Annotated[str, _matching(DATASET_RE, "dataset name")]
PlatformText = Annotated[str, _matching(PLATFORM_TEXT_RE, "platform name")]
Hostname = Annotated[str, _matching(HOSTNAME_RE, "hostname")]
DatabaseName = Annotated[str, _matching(DATASET_RE, "database name")]
GitUrl = Annotated[str, _matching(GIT_URL_RE, "git URL (https://, ssh:// or git@)")]
BranchName = Annotated[str, _matching(BRANCH_RE, "git branch name")]


@lru_cache(maxsize=4096)
def _is_cron(value: str) -> bool:
    """croniter's check costs about 1 ms, most of a row's validation; a fleet shares a few
    expressions, so each distinct one is checked once per process."""
    from croniter import croniter

    return len(value.split()) == 5 and bool(croniter.is_valid(value))


class JobResources(BaseModel):
    """Optional Kubernetes requests and limits for the job's container."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu_request: str | None = None
    cpu_limit: str | None = None
    memory_request: str | None = None
    memory_limit: str | None = None

    @field_validator("*")
    @classmethod
    def _quantity(cls, value: str | None) -> str | None:
        if value is not None and not QUANTITY_RE.fullmatch(value):
            raise ValueError(f"{value!r} is not a Kubernetes quantity such as '500m', '2' or '1Gi'")
        return value


class StreamConfig(BaseModel):
    """One ingestion stream: everything the builder needs to make its DAG."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    schema_version: Literal[1] = Field(SCHEMA_VERSION, description="Version of this layout.")
    stream_key: StreamKey = Field(description="Store name, or store_dataset for single-dataset streams.")
    single_dataset: bool = Field(description="True when the stream ingests exactly one dataset.")
    datasets: list[DatasetName] = Field(min_length=1, max_length=200)
    store_name: StoreName
    ingestion_type: Literal[INGESTION_TYPES] = "sql_snapshot"  # type: ignore[valid-type]
    namespace_name: str = Field(description="Kubernetes namespace the job pod runs in.")
    platform_name: PlatformText
    original_platform_name: PlatformText
    postgres_hostname: Hostname
    postgres_database: DatabaseName
    postgres_port: int = Field(5432, ge=1, le=65535)
    postgres_credential_secret_name: str
    git_credential_secret_name: str
    slack_credential_secret_name: str | None = None
    datasurface_docker_image: str
    git_repo_url: GitUrl
    git_repo_branch: BranchName = "main"
    source_credential_secret_name: str | None = None
    schedule: str | None = Field(
        "@hourly", description="Cron expression, a preset such as '@daily', or null for manual runs."
    )
    job_resources: JobResources | None = None

    # ---- field checks -----------------------------------------------------------------

    @field_validator("datasets")
    @classmethod
    def _datasets(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("dataset names must be unique")
        return value

    @field_validator("namespace_name")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not is_k8s_label(value):
            raise ValueError(f"{value!r} is not a valid Kubernetes namespace (lower-case RFC 1123 label)")
        return value

    @field_validator(
        "postgres_credential_secret_name",
        "git_credential_secret_name",
        "slack_credential_secret_name",
        "source_credential_secret_name",
    )
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value is not None and not is_k8s_subdomain(value):
            raise ValueError(f"{value!r} is not a valid Kubernetes secret name (lower-case RFC 1123 subdomain)")
        return value

    @field_validator("datasurface_docker_image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not is_image_reference(value):
            raise ValueError(f"{value!r} is not a valid container image reference such as 'repo/image:1.2'")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is None or value in SCHEDULE_PRESETS:
            return value
        if value.startswith("@"):
            raise ValueError(f"{value!r} is not a preset; use one of {', '.join(SCHEDULE_PRESETS)}")
        if not _is_cron(value):
            raise ValueError(f"{value!r} is not a valid 5-field cron expression")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StreamConfig:
        if self.single_dataset and len(self.datasets) != 1:
            raise ValueError(f"single_dataset is true but {len(self.datasets)} datasets are listed")
        return self

    # ---- serialisation ------------------------------------------------------------------

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no spaces, nulls left out. This is what the table stores."""
        return canonical_json(self.to_data())

    def to_data(self) -> dict[str, Any]:
        """The fields as JSON values, nulls left out except where null means something: a null
        ``schedule`` is "manual runs only", and leaving it out would bring back "@hourly"."""
        fields = type(self).model_fields
        return {k: v for k, v in self.model_dump(mode="json").items() if v is not None or fields[k].default is not None}


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# ---- turning raw text into a model, with readable errors -------------------------------------


def json_path(loc: tuple[Any, ...]) -> str:
    path = "$"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def problems_from(error: ValidationError) -> list[ConfigProblem]:
    fields = sorted(StreamConfig.model_fields)
    resource_fields = sorted(JobResources.model_fields)
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if not (isinstance(part, str) and part.startswith("function-")))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden" and loc:
            known = resource_fields if len(loc) > 1 and loc[0] == "job_resources" else fields
            guess = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
            message = "unknown field" + (f"; did you mean '{guess[0]}'?" if guess else "")
        elif item["type"] == "missing":
            message = "field is missing"
        problems.append(ConfigProblem(json_path(loc), message))
    return problems


def parse_config(raw: str | dict[str, Any], stream_key: str | None = None) -> StreamConfig:
    """Validate a row's config_json (text or dict) into a :class:`StreamConfig`.

    Raises :class:`StreamConfigError` listing every problem with its JSON path, including the
    2048-character limit of the seed's column (with the size and the largest field), and a
    mismatch between the row's key and the ``stream_key`` inside the JSON.
    """
    problems: list[ConfigProblem] = []
    if isinstance(raw, str):
        if len(raw) > MAX_CONFIG_CHARS:
            problems.append(
                ConfigProblem("$", f"config_json is {len(raw)} characters; the limit is {MAX_CONFIG_CHARS}")
            )
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise StreamConfigError(
                stream_key,
                [
                    ConfigProblem(
                        "$", f"not valid JSON: {exc.msg.removesuffix(' at')} (line {exc.lineno}, column {exc.colno})"
                    )
                ],
            ) from None
    else:
        data = raw
    if not isinstance(data, dict):
        raise StreamConfigError(stream_key, [ConfigProblem("$", f"must be a JSON object, not {type(data).__name__}")])
    try:
        config = StreamConfig.model_validate(data)
    except ValidationError as exc:
        raise StreamConfigError(stream_key or _key_of(data), problems + problems_from(exc)) from None
    size_problem = oversize_problem(config)
    if size_problem:
        problems.append(size_problem)
    if stream_key is not None and config.stream_key != stream_key:
        problems.append(ConfigProblem("$.stream_key", f"is {config.stream_key!r} but the row's key is {stream_key!r}"))
    if problems:
        raise StreamConfigError(stream_key or config.stream_key, sorted(set(problems)))
    return config


def oversize_problem(config: StreamConfig) -> ConfigProblem | None:
    """The 2048-character limit, measured on the canonical JSON that would be stored."""
    text = config.to_json()
    if len(text) <= MAX_CONFIG_CHARS:
        return None
    dumped = config.model_dump(mode="json", exclude_none=True)
    largest = max(dumped, key=lambda k: len(canonical_json(dumped[k])))
    return ConfigProblem(
        "$",
        f"serialized config is {len(text)} characters, over the {MAX_CONFIG_CHARS} the table holds; "
        f"the largest field is '{largest}' ({len(canonical_json(dumped[largest]))} characters)",
    )


def _key_of(data: dict[str, Any]) -> str | None:
    key = data.get("stream_key")
    return key if isinstance(key, str) else None


def json_schema() -> dict[str, Any]:
    """JSON Schema of ``config_json`` for editors and CI."""
    schema = StreamConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Yellow ingestion stream config_json"
    schema["description"] = StreamConfig.__doc__
    return schema
