"""The last-known-good snapshot: validated configs on local disk, written atomically.

It serves twice: when the database is unreachable the factory builds from it, and when the
database's fingerprint is unchanged the factory reuses it instead of re-reading and
re-validating every row (Airflow's DAG processor parses each file in a fresh process, so an
in-memory cache would not survive between parses). It holds configs only: what the parse
reports last recorded lives in :mod:`factory.reports`, so writing a report never rewrites it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from factory.files import write_atomic
from factory.job_contract import DEFAULT_JOB_SETTINGS, JobSettings
from factory.models import JobResources, StreamConfig, canonical_json
from factory.names import platform_slug
from factory.split import Layout, part_suffix

FORMAT_VERSION = 1


def snapshot_dir(directory: Path | None = None) -> Path:
    """``directory``, else the ``snapshot_dir`` setting (``YELLOW_SNAPSHOT_DIR``)."""
    if directory is not None:
        return directory
    from factory.settings import settings

    return settings().snapshot_dir


def snapshot_path(platform: str, directory: Path | None = None, file_index: int = 0, bundle: int = 0) -> Path:
    """``{platform}.json``; split file ``i`` (i > 0) keeps its own share in ``{platform}.part{i}.json``,
    and its copy in bundle ``j`` > 0 in ``{platform}.part{i}.bundle{j}.json``."""
    return snapshot_dir(directory) / f"{platform_slug(platform)}{part_suffix(file_index, bundle)}.json"


@dataclass
class Snapshot:
    """Validated configs by stream key, the errors of rows that had none, and the fingerprint."""

    platform: str
    fingerprint: str | None
    written_at: str
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Rows that are not OK: an error, or STALE when ``configs`` still holds their last good config.
    errors: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    #: Which of the platform's split files this is the share of, and the layout it was read under.
    file_index: int = 0
    layout: Layout = field(default_factory=Layout)
    bundle: int = 0
    #: The platform's job settings the configs were built with (empty: DataSurface's defaults),
    #: so an outage builds the same DAGs as the database would.
    job: dict[str, Any] = field(default_factory=dict)

    def job_settings(self) -> JobSettings:
        """The stored job settings; unreadable ones give the defaults (the snapshot must serve)."""
        try:
            return JobSettings.model_validate(self.job) if self.job else DEFAULT_JOB_SETTINGS
        except ValueError:
            return DEFAULT_JOB_SETTINGS

    def config(self, stream_key: str) -> StreamConfig | None:
        data = self.configs.get(stream_key)
        return trusted_config(data) if data is not None else None

    def holds(self, stream_key: str, digest: str) -> bool:
        """True when this snapshot has a good config for ``stream_key`` from exactly this config_json."""
        return self.hashes.get(stream_key) == digest and stream_key in self.configs and stream_key not in self.errors


@dataclass
class LastGood:
    """A platform's snapshot, read from disk at most once per load, and only if asked for.

    A full parse asks before it reads the database (to compare fingerprints); a worker asks only
    when the database fails or its row is invalid, so its path does not grow with the platform.
    """

    platform: str
    directory: Path | None = None
    file_index: int = 0
    bundle: int = 0

    @property
    def path(self) -> Path:
        return snapshot_path(self.platform, self.directory, self.file_index, self.bundle)

    @cached_property
    def snapshot(self) -> Snapshot | None:
        return read_snapshot(self.platform, self.directory, self.file_index, self.bundle)


def trusted_config(data: dict[str, Any]) -> StreamConfig:
    """Rebuild a config that was validated before it was written, without validating again."""
    values = dict(data)
    if isinstance(values.get("job_resources"), dict):
        values["job_resources"] = JobResources.model_construct(**values["job_resources"])
    defaults = {name: f.default for name, f in StreamConfig.model_fields.items() if not f.is_required()}
    return StreamConfig.model_construct(**{**defaults, **values})


def read_snapshot(
    platform: str, directory: Path | None = None, file_index: int = 0, bundle: int = 0
) -> Snapshot | None:
    """The snapshot, or None when there is none or it cannot be read (never raises)."""
    path = snapshot_path(platform, directory, file_index, bundle)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT_VERSION:
            return None
        return Snapshot(
            platform=data["platform"],
            fingerprint=data.get("fingerprint"),
            written_at=data.get("written_at", ""),
            configs=data.get("configs", {}),
            errors=data.get("errors", {}),
            hashes=data.get("hashes", {}),
            file_index=file_index,
            bundle=bundle,
            layout=Layout.from_dict(data["layout"]) if "layout" in data else Layout(),
            job=data.get("job") or {},
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_snapshot(snapshot: Snapshot, directory: Path | None = None) -> Path:
    """Write atomically (temp file + rename) so a reader never sees half a snapshot."""
    path = snapshot_path(snapshot.platform, directory, snapshot.file_index, snapshot.bundle)
    snapshot.written_at = datetime.now(UTC).isoformat(timespec="seconds")
    payload = {
        "format": FORMAT_VERSION,
        "platform": snapshot.platform,
        "fingerprint": snapshot.fingerprint,
        "written_at": snapshot.written_at,
        "configs": snapshot.configs,
        "errors": snapshot.errors,
        "hashes": snapshot.hashes,
    }
    if snapshot.layout != Layout():
        payload["layout"] = snapshot.layout.to_dict()
    if snapshot.job:
        payload["job"] = snapshot.job
    write_atomic(path, canonical_json(payload))
    return path
