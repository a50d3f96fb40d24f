"""The last-known-good snapshot: validated configs on local disk, written atomically.

It serves twice: when the database is unreachable the factory builds from it, and when the
database's fingerprint is unchanged the factory reuses it instead of re-reading and
re-validating every row (Airflow's DAG processor parses each file in a fresh process, so an
in-memory cache would not survive between parses).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factory.models import JobResources, StreamConfig, canonical_json
from factory.names import platform_slug

SNAPSHOT_DIR_ENV = "YELLOW_SNAPSHOT_DIR"
FORMAT_VERSION = 1


def snapshot_dir() -> Path:
    """``$YELLOW_SNAPSHOT_DIR``, else ``$AIRFLOW_HOME/yellow_snapshots``, else ``~/airflow/...``."""
    if os.environ.get(SNAPSHOT_DIR_ENV):
        return Path(os.environ[SNAPSHOT_DIR_ENV])
    home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return Path(home) / "yellow_snapshots"


def snapshot_path(platform: str, directory: Path | None = None) -> Path:
    return (directory or snapshot_dir()) / f"{platform_slug(platform)}.json"


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
    #: Outcomes last recorded in the build table, so reports write only what changed.
    recorded: dict[str, str] = field(default_factory=dict)

    def config(self, stream_key: str) -> StreamConfig | None:
        data = self.configs.get(stream_key)
        return trusted_config(data) if data is not None else None


def trusted_config(data: dict[str, Any]) -> StreamConfig:
    """Rebuild a config that was validated before it was written, without validating again."""
    values = dict(data)
    if isinstance(values.get("job_resources"), dict):
        values["job_resources"] = JobResources.model_construct(**values["job_resources"])
    defaults = {name: f.default for name, f in StreamConfig.model_fields.items() if not f.is_required()}
    return StreamConfig.model_construct(**{**defaults, **values})


def read_snapshot(platform: str, directory: Path | None = None) -> Snapshot | None:
    """The snapshot, or None when there is none or it cannot be read (never raises)."""
    path = snapshot_path(platform, directory)
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
            recorded=data.get("recorded", {}),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_snapshot(snapshot: Snapshot, directory: Path | None = None) -> Path:
    """Write atomically (temp file + rename) so a reader never sees half a snapshot."""
    path = snapshot_path(snapshot.platform, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    snapshot.written_at = datetime.now(UTC).isoformat(timespec="seconds")
    payload = {
        "format": FORMAT_VERSION,
        "platform": snapshot.platform,
        "fingerprint": snapshot.fingerprint,
        "written_at": snapshot.written_at,
        "configs": snapshot.configs,
        "errors": snapshot.errors,
        "hashes": snapshot.hashes,
        "recorded": snapshot.recorded,
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(canonical_json(payload))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
