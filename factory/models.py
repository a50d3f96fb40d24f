"""The one model of a stream's ``config_json``, and the readable errors it produces.

The seed's example row defines the field names; we add ``schedule``, ``job_resources`` and
``schema_version``. Credentials never appear here: only the names of Kubernetes secrets.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from factory import credentials, datasurface_rows
from factory.errors import ConfigProblem, StreamConfigError
from factory.job_contract import ENV_NAME_RE
from factory.names import (
    STREAM_KEY_RE,
    is_image_reference,
    is_k8s_label,
    is_k8s_subdomain,
)

if TYPE_CHECKING:
    from factory.policy import PlatformPolicy
    from factory.rules import Rules

SCHEMA_VERSION: Literal[1] = 1
MAX_CONFIG_CHARS = 2048
#: Deepest JSON nesting a row may have; the model itself needs 3 (``$.job_resources.cpu_limit``).
MAX_JSON_DEPTH = 16
#: A cron expression must fire within this many years of now (``0 0 29 2 *`` fires every 4-8).
CRON_HORIZON_YEARS = 10
SCHEDULE_PRESETS = ("@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly")
#: DataSurface's ``IngestionType`` values (yellow_dp.py): a SQL source, or Kafka (through Kafka Connect).
INGESTION_TYPES = ("sql_source", "kafka")
#: The name July 2025's files and the seed plan give a SQL source; read as ``sql_source``.
LEGACY_INGESTION_TYPES = {"sql_snapshot": "sql_source"}
QUANTITY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$")
#: DataSurface's rule (yellow_dp.py): the model's repository is ``https://github.com/OWNER/NAME``,
#: and the job receives OWNER and NAME as two arguments.
GITHUB_URL_RE = re.compile(r"^https://github\.com/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9._-]{1,100})$")
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
GitUrl = Annotated[str, _matching(GITHUB_URL_RE, "GitHub repository URL of the form https://github.com/OWNER/NAME")]
BranchName = Annotated[str, _matching(BRANCH_RE, "git branch name")]


class JobResources(BaseModel):
    """Optional Kubernetes requests and limits for the job's container."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    cpu_request: str | None = Field(None, description="CPU request, e.g. '500m'.")
    cpu_limit: str | None = Field(None, description="CPU limit, e.g. '2'.")
    memory_request: str | None = Field(None, description="Memory request, e.g. '512Mi'.")
    memory_limit: str | None = Field(None, description="Memory limit, e.g. '2Gi'.")

    @field_validator("*")
    @classmethod
    def _quantity(cls, value: str | None) -> str | None:
        if value is not None and not QUANTITY_RE.fullmatch(value):
            raise ValueError(f"{value!r} is not a Kubernetes quantity such as '500m', '2' or '1Gi'")
        return value


class StreamConfig(BaseModel):
    """One ingestion stream: everything the builder needs to make its DAG."""

    # strict: no silent coercion (a boolean is not a port, "yes" is not a boolean, 5 is not a name).
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False, strict=True)

    schema_version: Literal[1] = Field(SCHEMA_VERSION, description="Version of this layout.")
    stream_key: StreamKey = Field(description="Store name, or store_dataset for single-dataset streams.")
    single_dataset: bool = Field(description="True when the stream ingests exactly one dataset.")
    datasets: list[DatasetName] = Field(
        min_length=1,
        max_length=200,
        description="The datasets the stream ingests (unique names; exactly one when single_dataset).",
    )
    store_name: StoreName = Field(description="The data store the datasets come from.")
    ingestion_type: Literal[INGESTION_TYPES] = Field(  # type: ignore[valid-type]
        "sql_source",
        description="sql_source or kafka (DataSurface's values; 'sql_snapshot' is read as sql_source): "
        "chooses which credentials the job receives, and tags the DAG.",
    )
    namespace_name: str = Field(description="Kubernetes namespace the job pod runs in.")
    platform_name: PlatformText = Field(
        description="The platform the stream belongs to; must name this table's platform."
    )
    original_platform_name: PlatformText = Field(description="The platform name the job's --platform-name receives.")
    postgres_hostname: Hostname = Field(description="Host of the merge database the job writes to.")
    postgres_database: DatabaseName = Field(description="Name of the merge database.")
    postgres_port: int = Field(5432, ge=1, le=65535, description="Port of the merge database.")
    postgres_credential_secret_name: str = Field(
        description="Kubernetes secret holding POSTGRES_USER and POSTGRES_PASSWORD for the merge database."
    )
    git_credential_secret_name: str = Field(description="Kubernetes secret holding the git token (key 'token').")
    git_credential_name: str | None = Field(
        None,
        description="The git credential's name in the DataSurface model (--git-platform-repo-credential-name; "
        "the job reads <name>_TOKEN); none: derived from git_credential_secret_name.",
    )
    slack_credential_secret_name: str | None = Field(
        None, description="Kubernetes secret holding a Slack webhook (key 'token'); none: no Slack."
    )
    datasurface_docker_image: str = Field(description="The job's container image, e.g. 'repo/image:1.2'.")
    git_repo_url: GitUrl = Field(description="The ecosystem model's git repository (https://, ssh:// or git@).")
    git_repo_branch: BranchName = Field("main", description="The branch of the ecosystem model to use.")
    source_credential_secret_name: str | None = Field(
        None,
        description="Kubernetes secret holding the SQL source's user and password; passed when it differs "
        "from the merge database's. None: no source credentials.",
    )
    kafka_connect_credential_secret_name: str | None = Field(
        None, description="Kubernetes secret holding Kafka Connect's api_key and api_secret (kafka streams)."
    )
    priority: int | None = Field(
        None, ge=0, le=1000000, description="The job task's priority_weight (absolute); none: 0."
    )
    schedule: str | None = Field(
        "@hourly", description="Cron expression, a preset such as '@daily', or null for manual runs."
    )
    job_resources: JobResources | None = Field(
        None, description="Kubernetes requests and limits for the job's container."
    )

    # ---- field checks -----------------------------------------------------------------

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version_is_an_integer(cls, value: Any) -> Any:
        # Literal[1] alone accepts True and 1.0 (they compare equal to 1): strict means the number 1.
        if type(value) is not int:
            raise ValueError(f"must be the integer 1 (got {_json_type(value)}; values are not converted)")
        return value

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

    @field_validator("ingestion_type", mode="before")
    @classmethod
    def _legacy_ingestion_type(cls, value: Any) -> Any:
        return LEGACY_INGESTION_TYPES.get(value, value) if isinstance(value, str) else value

    @field_validator("git_credential_name")
    @classmethod
    def _credential_name(cls, value: str | None) -> str | None:
        if value is not None and not ENV_NAME_RE.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a legal environment variable name, which DataSurface requires of a credential"
            )
        return value

    @field_validator(
        "postgres_credential_secret_name",
        "git_credential_secret_name",
        "slack_credential_secret_name",
        "source_credential_secret_name",
        "kafka_connect_credential_secret_name",
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
        problem = cron_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StreamConfig:
        if self.single_dataset and len(self.datasets) != 1:
            raise ValueError(f"single_dataset is true but {len(self.datasets)} datasets are listed")
        return self

    # ---- what the job receives ----------------------------------------------------------

    @property
    def git_repo_owner(self) -> str:
        """OWNER of ``https://github.com/OWNER/NAME`` (``--git-repo-owner``)."""
        return self._github_parts()[0]

    @property
    def git_repo_name(self) -> str:
        """NAME of ``https://github.com/OWNER/NAME`` (``--git-repo-name``)."""
        return self._github_parts()[1]

    def _github_parts(self) -> tuple[str, str]:
        match = GITHUB_URL_RE.fullmatch(self.git_repo_url)
        assert match is not None  # the field's own check guarantees it
        return match.group(1), match.group(2)

    @property
    def job_git_credential(self) -> str:
        """The git credential's name as the job knows it (``--git-platform-repo-credential-name``)."""
        from factory.job_contract import credential_name

        return self.git_credential_name or credential_name(self.git_credential_secret_name)

    # ---- serialisation ------------------------------------------------------------------

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no spaces, nulls left out. This is what the table stores."""
        return canonical_json(self.to_data())

    def to_data(self) -> dict[str, Any]:
        """The fields as JSON values, nulls left out except where null means something: a null
        ``schedule`` is "manual runs only", and leaving it out would bring back "@hourly"."""
        data = self.model_dump(mode="json", exclude_none=True)
        for name, field in type(self).model_fields.items():
            if getattr(self, name) is None and field.default is not None:
                data[name] = None
        return data


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# ---- turning raw text into a model, with readable errors -------------------------------------


_PLAIN_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def json_path(loc: tuple[Any, ...]) -> str:
    """``$.datasets[2]``; a key that is not a plain name is quoted with its control characters
    (NUL, newlines, escapes) made visible, and cut at 64 characters."""
    path = "$"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY_RE.fullmatch(part):
            path += f".{part}"
        else:
            text = str(part)
            path += f"[{text[:64] + ('…' if len(text) > 64 else '')!r}]"
    return path


@lru_cache(maxsize=1024)
def cron_problem(expression: str) -> str | None:
    """Why a 5-field cron expression is unusable (invalid, or never fires within
    :data:`CRON_HORIZON_YEARS`), or None. Cached: a platform has few distinct schedules."""
    from datetime import UTC, datetime

    from croniter import croniter

    shown = repr(expression[:80])
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        return f"{shown} is not a valid 5-field cron expression"
    try:
        start = datetime(2025, 1, 1, tzinfo=UTC)  # fixed, so the answer does not change with the clock
        croniter(expression, start, max_years_between_matches=CRON_HORIZON_YEARS).get_next(datetime)
    except Exception:
        return f"{shown} never fires (no matching date within {CRON_HORIZON_YEARS} years, e.g. 31 February)"
    return None


def problems_from(error: ValidationError, skip: frozenset[tuple[Any, ...]] = frozenset()) -> list[ConfigProblem]:
    """Readable problems; ``skip`` holds locations (and everything under them) already reported."""
    fields = sorted(StreamConfig.model_fields)
    resource_fields = sorted(JobResources.model_fields)
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if not (isinstance(part, str) and part.startswith("function-")))
        if any(loc[: len(s)] == s for s in skip):
            continue
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden" and loc:
            known = resource_fields if len(loc) > 1 and loc[0] == "job_resources" else fields
            guess = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
            message = "unknown field" + (f"; did you mean '{guess[0]}'?" if guess else "")
        elif item["type"] == "missing":
            message = "field is missing"
        elif item["type"] in _STRICT_TYPES:
            message = f"{message} (got {_json_type(item.get('input'))}; values are not converted)"
        problems.append(ConfigProblem(json_path(loc), message))
    return problems


_STRICT_TYPES = frozenset({"int_type", "bool_type", "string_type", "list_type", "model_type", "dict_type"})


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Duplicates(list[str]):
    """Keys seen twice in one JSON object, collected by :func:`_loads`."""


def _loads(raw: str) -> tuple[Any, list[str]]:
    """``json.loads`` that notes duplicate keys and refuses NaN/Infinity (not JSON)."""
    duplicates = _Duplicates()

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        data = dict(items)
        if len(data) != len(items):
            seen: set[str] = set()
            duplicates.extend(k for k, _ in items if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        return data

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    return json.loads(raw, object_pairs_hook=pairs, parse_constant=constant), duplicates


def json_depth_over(raw: str, limit: int) -> int | None:
    """The nesting depth of ``raw`` when it exceeds ``limit``, else None. Counting brackets is
    cheap; the exact walk runs only when there are more than ``limit`` of them."""
    if raw.count("[") + raw.count("{") <= limit:
        return None
    depth = deepest = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest if deepest > limit else None


def _data_depth(data: Any, limit: int, depth: int = 1) -> bool:
    """True when a dict given directly (not text) nests deeper than ``limit``."""
    if depth > limit:
        return True
    if isinstance(data, dict):
        return any(_data_depth(v, limit, depth + 1) for v in data.values())
    if isinstance(data, list):
        return any(_data_depth(v, limit, depth + 1) for v in data)
    return False


def parse_config(
    raw: str | dict[str, Any],
    stream_key: str | None = None,
    policy: PlatformPolicy | None = None,
    *,
    rules: Rules | None = None,
) -> StreamConfig:
    """Validate a row's config_json (text or dict) into a :class:`StreamConfig`: the one way
    outside data becomes a config (``tests/test_one_way_in.py`` keeps it the only one).

    Raises :class:`StreamConfigError` listing every problem with its JSON path, including the
    2048-character limit of the seed's column (with the size and the largest field), and a
    mismatch between the row's key and the ``stream_key`` inside the JSON. Hostile input
    (duplicate keys, deep nesting, huge numbers, NUL characters, credential-looking values,
    anything else) is a problem too: this raises nothing but :class:`StreamConfigError`.
    With ``rules`` (or just a ``policy``), a row that steps outside its platform, or whose
    dag_id reaches into another platform's names, is refused as well. A row in DataSurface's
    own JSON is read through :mod:`factory.datasurface_rows`.
    """
    if rules is None and policy is not None:
        from factory.rules import Rules

        rules = Rules.of(policy)
    try:
        return _parse_config(raw, stream_key, rules)
    except StreamConfigError:
        raise
    except (ValueError, TypeError, RecursionError, MemoryError) as exc:  # pathological input, never a crash
        problem = ConfigProblem("$", f"cannot be read: {type(exc).__name__}")
        raise StreamConfigError(stream_key, [problem]) from None


def _parse_config(raw: str | dict[str, Any], stream_key: str | None, rules: Rules | None) -> StreamConfig:
    """:func:`parse_config`'s checks in order: the text (or the data's depth), credentials,
    DataSurface's own form, the model, then what the model cannot see."""
    problems: list[ConfigProblem] = []
    if isinstance(raw, str):
        data = _read_text(raw, stream_key, problems)
    elif _data_depth(raw, MAX_JSON_DEPTH):
        raise StreamConfigError(stream_key, [ConfigProblem("$", f"nested deeper than {MAX_JSON_DEPTH} levels")])
    else:
        data = raw
    if not isinstance(data, dict):
        raise StreamConfigError(stream_key, [ConfigProblem("$", f"must be a JSON object, not {_json_type(data)}")])
    found = _credentials_in(raw, data)
    problems += _credential_problems(found)
    adopted = datasurface_rows.adopt(data) if datasurface_rows.looks_like(data) else None  # DataSurface's own JSON
    if adopted is not None:
        data, problems = adopted.data, problems + adopted.problems
    config = _validate_model(data, stream_key, problems, found, adopted)
    problems += _beyond_the_model(config, stream_key, rules)
    if problems:
        raise StreamConfigError(stream_key or config.stream_key, sorted(set(problems)))
    return config


def _read_text(raw: str, stream_key: str | None, problems: list[ConfigProblem]) -> Any:
    """The JSON in a row's text. Too long and repeated keys are added to ``problems``; too deep
    or not JSON raises at once."""
    if len(raw) > MAX_CONFIG_CHARS:
        problems.append(ConfigProblem("$", f"config_json is {len(raw)} characters; the limit is {MAX_CONFIG_CHARS}"))
    deepest = json_depth_over(raw, MAX_JSON_DEPTH)
    if deepest is not None:
        problems.append(ConfigProblem("$", f"JSON is nested {deepest} levels deep; the limit is {MAX_JSON_DEPTH}"))
        raise StreamConfigError(stream_key, problems)
    try:
        data, duplicates = _loads(raw)
    except json.JSONDecodeError as exc:
        reason = exc.msg.removesuffix(" at")
        problem = ConfigProblem("$", f"not valid JSON: {reason} (line {exc.lineno}, column {exc.colno})")
        raise StreamConfigError(stream_key, [problem]) from None
    except (ValueError, RecursionError) as exc:  # NaN, a number too long to convert, ...
        text = str(exc) if "JSON number" in str(exc) else type(exc).__name__
        raise StreamConfigError(stream_key, [ConfigProblem("$", f"not valid JSON: {text}")]) from None
    for key in sorted(set(duplicates)):
        shown = repr(key) if _PLAIN_KEY_RE.fullmatch(key) else "a key"
        problems.append(ConfigProblem("$", f"duplicate key {shown}: JSON objects must not repeat a key"))
    return data


def _credentials_in(raw: str | dict[str, Any], data: dict[str, Any]) -> dict[tuple[str | int, ...], str]:
    """Where the data holds something that looks like a credential, and what (the text is
    checked cheaply first: most rows hold none)."""
    may_hold = raw is data or credentials.text_may_hold_credential(raw)  # type: ignore[arg-type]
    return dict(credentials.scan(data)) if may_hold else {}


def _credential_problems(found: dict[tuple[str | int, ...], str]) -> list[ConfigProblem]:
    """Credentials first: a value that looks like one is named by its field and never echoed,
    so the field's own checks (whose messages quote the value) are skipped for it."""
    return [
        ConfigProblem(
            json_path(loc[:-1] if kind == credentials.KEY_KIND else loc),
            f"holds {kind}; a row must never carry a credential: put it in a Kubernetes secret "
            "and name the secret instead",
        )
        for loc, kind in found.items()
    ]


def _validate_model(
    data: dict[str, Any],
    stream_key: str | None,
    problems: list[ConfigProblem],
    found: dict[tuple[str | int, ...], str],
    adopted: datasurface_rows.Adopted | None,
) -> StreamConfig:
    """The model from ``data``; when it does not validate, every problem so far and the model's
    (at the row's own paths, credentials skipped) are raised together."""
    try:
        return StreamConfig.model_validate(data)
    except ValidationError as exc:
        if adopted is None:
            problems = problems + problems_from(exc, skip=frozenset(found))
        else:
            problems = problems + adopted.located(problems_from(exc, skip=adopted.model_locs(found)))
        raise StreamConfigError(_shown_key(stream_key or _key_of(data)), sorted(set(problems))) from None


def _beyond_the_model(config: StreamConfig, stream_key: str | None, rules: Rules | None) -> list[ConfigProblem]:
    """What the model cannot see: the stored size, the row's own key, the platform's ``rules``."""
    problems: list[ConfigProblem] = []
    size_problem = oversize_problem(config)
    if size_problem:
        problems.append(size_problem)
    if stream_key is not None and config.stream_key != stream_key:
        problems.append(ConfigProblem("$.stream_key", f"is {config.stream_key!r} but the row's key is {stream_key!r}"))
    if rules is not None:
        problems += rules.problems(config, stream_key or config.stream_key)
    return problems


def _shown_key(key: str | None) -> str | None:
    """A stream key from inside the JSON, shown only if it is a valid key (it may be anything)."""
    return key if key is not None and STREAM_KEY_RE.fullmatch(key) else None


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
