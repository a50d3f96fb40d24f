"""A changeset: the changes an operator staged for one platform, as data that can be saved,
reviewed and applied later, so what was reviewed is what lands.

Each change names one stream and remembers what it was based on (the row's ``updated_at`` and
content digest when it was read, or "did not exist"); :mod:`factory.operations.changes.apply` checks
that base inside the transaction. A file written by ``yellowtui config export`` loads as a changeset
of upserts whose base is each row's ``updated_at``.

Pure data and file handling: no database, no Airflow.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from factory.enums import RowStatus
from factory.errors import ChangesetFileError, ConfigProblem, InvalidNameError
from factory.models import canonical_json, json_path
from factory.names import check_stream_key, platform_slug
from factory.store import ConfigRow, RowBase

FORMAT_VERSION = 1
#: Written into every changeset file so a reader can tell it from an export at a glance.
KIND = "yellow-changeset"


class ChangeBase(BaseModel):
    """What a change was based on: the row as its author read it.

    ``{"exists": false}`` means "the stream must not exist yet"; otherwise the row must still
    have this ``updated_at`` and, when given, this content ``digest`` (see
    :func:`factory.store.content_digest`). A change without a base is applied unchecked.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    exists: bool = True
    updated_at: datetime | None = None
    digest: str | None = Field(None, pattern=r"^[0-9a-f]{16}$")

    @field_validator("updated_at")
    @classmethod
    def _utc_naive(cls, value: datetime | None) -> datetime | None:
        """The table stores ``updated_at`` as naive UTC; a zoned time is converted to match it."""
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    @model_validator(mode="after")
    def _absent_has_no_version(self) -> ChangeBase:
        if not self.exists and (self.updated_at is not None or self.digest is not None):
            raise ValueError("a base with exists=false cannot carry updated_at or digest")
        return self

    @classmethod
    def of(cls, row: ConfigRow | None) -> ChangeBase:
        """The base of a change made to ``row`` as read now (``None``: the stream does not exist)."""
        base = RowBase.of(row)
        return cls(exists=base.exists, updated_at=base.updated_at, digest=base.digest)

    def to_row_base(self) -> RowBase:
        return RowBase(exists=self.exists, updated_at=self.updated_at, digest=self.digest)


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stream_key: str = Field(description="The stream (row) this change is about.")
    base: ChangeBase | None = Field(None, description="What the change was based on; null applies it unchecked.")

    @field_validator("stream_key")
    @classmethod
    def _key(cls, value: str) -> str:
        try:
            return check_stream_key(value)
        except InvalidNameError as exc:
            raise ValueError(str(exc)) from None


class Upsert(_Change):
    """Create a stream or replace its config. ``status`` None keeps the row's status (new rows: active)."""

    op: Literal["upsert"] = "upsert"
    config: dict[str, Any] | str = Field(description="The stream's config_json, as an object or as JSON text.")
    status: RowStatus | None = None

    @field_validator("config", mode="before")
    @classmethod
    def _object_or_text(cls, value: Any) -> Any:
        if not isinstance(value, dict | str):
            raise ValueError(f"must be a JSON object or JSON text, not {type(value).__name__}")
        return value

    def config_text(self) -> str:
        """The config as text: objects in canonical form, text exactly as given."""
        return self.config if isinstance(self.config, str) else canonical_json(self.config)


class SetStatus(_Change):
    """Pause, resume (``active``) or retire an existing stream; its config stays as it is."""

    op: Literal["set_status"] = "set_status"
    status: RowStatus


class Delete(_Change):
    """Delete an existing stream's row (its history stays)."""

    op: Literal["delete"] = "delete"


Change = Annotated[Upsert | SetStatus | Delete, Field(discriminator="op")]


class Changeset(BaseModel):
    """Changes for one platform, at most one per stream, applied in one transaction or not at all."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1] = 1
    kind: Literal["yellow-changeset"] = "yellow-changeset"
    platform: str = Field(description="The platform slug, e.g. 'yellowlive'.")
    description: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    changes: list[Change] = Field(default_factory=list)

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        try:
            return platform_slug(value)
        except InvalidNameError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _one_change_per_stream(self) -> Changeset:
        seen: set[str] = set()
        for change in self.changes:
            if change.stream_key in seen:
                raise ValueError(f"stream {change.stream_key!r} has more than one change; merge them into one")
            seen.add(change.stream_key)
        return self

    def by_key(self) -> dict[str, Upsert | SetStatus | Delete]:
        return {c.stream_key: c for c in self.changes}

    def overlaid(self, other: Changeset) -> Changeset:
        """This changeset with ``other``'s changes on top (a stream changed in both takes ``other``'s)."""
        if other.platform != self.platform:
            raise ValueError(f"cannot overlay a changeset for {other.platform} on one for {self.platform}")
        merged = {**self.by_key(), **other.by_key()}
        return self.model_copy(update={"changes": [merged[k] for k in sorted(merged)]})

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False) + "\n"

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")


def new_changeset(
    platform: str, changes: list[Upsert | SetStatus | Delete] | None = None, *, created_by: str | None = None
) -> Changeset:
    """A changeset stamped with its author and the time, as the dashboard and the CLI make them."""
    return Changeset(
        platform=platform, changes=list(changes or []), created_by=created_by, created_at=datetime.now(UTC)
    )


def edit_of(row: ConfigRow | None, stream_key: str, config: dict[str, Any] | str) -> Upsert:
    """An upsert of ``config`` based on ``row`` as it was read (``None``: a new stream)."""
    return Upsert(stream_key=stream_key, config=config, base=ChangeBase.of(row))


# ---- files -------------------------------------------------------------------------------


_CHANGESET = TypeAdapter(Changeset)


def changeset_json_schema() -> dict[str, Any]:
    """JSON Schema of a changeset file, for editors and CI (``yellowtui changeset schema``)."""
    schema = Changeset.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Yellow changeset"
    schema["description"] = (
        "Changes to one platform's stream config rows, applied in one transaction or not at all. See docs/changes.md."
    )
    return schema


def parse_changeset(data: Any, source: str = "changeset", platform: str | None = None) -> Changeset:
    """A changeset from parsed JSON: a changeset document, or an export (``{"platform", "rows"}``
    or a bare list of rows). Raises :class:`ChangesetFileError` naming ``source`` and every
    problem's JSON path. ``platform`` (e.g. from ``--platform``) fills in or must match the file's.
    """
    if isinstance(data, dict) and "changes" in data:
        try:
            changeset = _CHANGESET.validate_python(data)
        except ValidationError as exc:
            raise ChangesetFileError(source, _problems(exc)) from None
    elif isinstance(data, list) or (isinstance(data, dict) and "rows" in data):
        changeset = _from_export(data, source, platform)
    else:
        found = type(data).__name__ if not isinstance(data, dict) else "an object without 'changes' or 'rows'"
        raise ChangesetFileError(
            source,
            [ConfigProblem("$", f"expected a changeset (with 'changes') or a `config export` file, found {found}")],
        )
    if platform is not None:
        try:
            wanted = platform_slug(platform)
        except InvalidNameError as exc:
            raise ChangesetFileError(source, [ConfigProblem("$.platform", str(exc))]) from None
        if changeset.platform != wanted:
            raise ChangesetFileError(
                source,
                [ConfigProblem("$.platform", f"the file is for platform {changeset.platform!r}, not {wanted!r}")],
            )
    return changeset


#: A changeset or export file larger than this is refused before it is read (10,000 rows of
#: 2,048 characters, escaped, fit well inside).
MAX_FILE_BYTES = 64 * 1024 * 1024


def load_changeset(path: str | Path, platform: str | None = None) -> Changeset:
    """Read a changeset or `config export` file; see :func:`parse_changeset`."""
    source = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            raise ChangesetFileError(
                source, [ConfigProblem("$", f"the file is {size:,} bytes; at most {MAX_FILE_BYTES:,} are read")]
            )
        raw = Path(path).read_bytes()
        if b"\x00" in raw:
            raise ChangesetFileError(source, [ConfigProblem("$", "a binary file, not JSON text")])
        text = raw.decode("utf-8")
    except OSError as exc:
        raise ChangesetFileError(source, [ConfigProblem("$", f"cannot read the file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise ChangesetFileError(source, [ConfigProblem("$", f"not UTF-8 text (byte {exc.start})")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ChangesetFileError(
            source, [ConfigProblem("$", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")]
        ) from None
    except (RecursionError, ValueError) as exc:  # nesting too deep; a number too long to convert
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
        raise ChangesetFileError(source, [ConfigProblem("$", f"not usable JSON: {reason}")]) from None
    return parse_changeset(data, source, platform)


def _from_export(data: Any, source: str, platform: str | None) -> Changeset:
    """Rows of a `config export` file as upserts; each row's ``updated_at`` (and ``digest``, if
    present) is its base, so applying an export after someone else changed a row is a conflict.
    A row without ``updated_at`` was not exported: it is applied unchecked, like `config import`."""
    rows = data.get("rows") if isinstance(data, dict) else data
    file_platform = data.get("platform") if isinstance(data, dict) else None
    problems: list[ConfigProblem] = []
    if not isinstance(rows, list):
        problems.append(ConfigProblem("$.rows", "must be a list of rows"))
        rows = []
    chosen = file_platform if isinstance(file_platform, str) else platform
    if chosen is None:
        problems.append(ConfigProblem("$.platform", "the file names no platform; pass --platform"))
    changes: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        where = f"$.rows[{i}]" if isinstance(data, dict) else f"$[{i}]"
        if not isinstance(row, dict):
            problems.append(ConfigProblem(where, f"must be an object, not {type(row).__name__}"))
            continue
        if "config_json" not in row:
            problems.append(ConfigProblem(f"{where}.config_json", "field is missing"))
            continue
        change: dict[str, Any] = {
            "op": "upsert",
            "stream_key": row.get("stream_key"),
            "config": row["config_json"],
            "status": row.get("status", RowStatus.ACTIVE),
        }
        if "updated_at" in row:
            change["base"] = {"exists": True, "updated_at": row["updated_at"], "digest": row.get("digest")}
        changes.append(change)
    if problems:
        raise ChangesetFileError(source, problems)
    try:
        return _CHANGESET.validate_python({"platform": chosen, "changes": changes})
    except ValidationError as exc:
        raise ChangesetFileError(source, _problems(exc, rows_key="rows" if isinstance(data, dict) else None)) from None


_TAGS = ("upsert", "set_status", "delete")


def _problems(error: ValidationError, rows_key: str | Literal[False] | None = False) -> list[ConfigProblem]:
    """Pydantic's errors as JSON paths into the file, the union's tag dropped from the path.

    For an export file (``rows_key`` not False) paths point at the file's rows and fields, not
    at the changeset they were turned into.
    """
    problems = []
    for item in error.errors(include_url=False):
        loc: list[Any] = list(item["loc"])
        if len(loc) >= 3 and loc[0] == "changes" and loc[2] in _TAGS:
            del loc[2]
        message = item["msg"].removeprefix("Value error, ")
        kind = item["type"]
        if kind == "union_tag_not_found":
            loc, message = [*loc, "op"], f"field is missing: one of {', '.join(_TAGS)}"
        elif kind == "union_tag_invalid":
            loc, message = [*loc, "op"], f"is {item['input'].get('op')!r}; use one of {', '.join(_TAGS)}"
        elif kind == "missing":
            message = "field is missing"
        elif kind == "extra_forbidden":
            message = "unknown field"
        if rows_key is not False and loc and loc[0] == "changes":
            loc = ([rows_key] if rows_key else []) + [_EXPORT_NAMES.get(str(p), p) for p in loc[1:] if p != "base"]
        problems.append(ConfigProblem(json_path(tuple(loc)), message))
    return sorted(set(problems))


#: A changeset field and the `config export` field it came from.
_EXPORT_NAMES = {"config": "config_json"}
