"""The factory's settings: one model, read from ``YELLOW_*`` environment variables once per process.

Airflow's own variables (``AIRFLOW_CONN_*``, ``_AIRFLOW_PARSING_CONTEXT_DAG_ID``) stay Airflow's;
``AIRFLOW_HOME`` is read only to place the snapshots by default.

A value that cannot be used (``YELLOW_DB_CONNECT_TIMEOUT=abc``) falls back to its default with
a warning naming the variable: this runs inside every Airflow parse, and a typo in a timeout
must not cost a platform its DAGs. The warnings stay on the settings as ``problems``.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from factory.enums import JobLauncher

log = logging.getLogger("yellow.factory")

ENV_PREFIX = "YELLOW_"


def _default_snapshot_dir() -> Path:
    home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return Path(home) / "yellow_snapshots"


class FactorySettings(BaseSettings):
    """Every setting the factory reads; the README's configuration table lists the same."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    #: The config database; when unset, the factory file uses its Airflow connection.
    db_url: str | None = Field(
        default=None,
        description="The config database, e.g. postgresql://user@host/db; unset: the factory file's Airflow connection.",
    )
    #: Seconds to wait for a connection (well inside Airflow's 30 s dagbag_import_timeout).
    db_connect_timeout: int = Field(default=3, gt=0, description="Seconds to wait for a database connection.")
    #: Server-side limit per statement, in milliseconds.
    db_statement_timeout_ms: int = Field(
        default=5000, gt=0, description="Server-side limit per statement, in milliseconds."
    )
    #: Where last-known-good snapshots, spooled reports and recorded outcomes live.
    snapshot_dir: Path = Field(
        default_factory=_default_snapshot_dir,
        description="Where snapshots, spooled parse reports and recorded outcomes live "
        "(default $AIRFLOW_HOME/yellow_snapshots, else ~/airflow/yellow_snapshots).",
    )
    #: Where the ingestion job runs: a Kubernetes pod, or a local process (tests, demo).
    job_launcher: JobLauncher = Field(
        default=JobLauncher.KUBERNETES, description="Where snapshot_merge_job runs: kubernetes (a pod) or local."
    )
    #: The local job's command line (the spec's arguments follow); empty: the simulated job.
    local_job_command: str = Field(
        default="", description="The local job's command line; empty: python -m simulators.job."
    )
    _problems: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("job_launcher", mode="before")
    @classmethod
    def _launcher(cls, value: Any) -> Any:
        """``Local`` and `` local `` mean local; an empty value means the default."""
        if isinstance(value, str):
            return value.strip().lower() or JobLauncher.KUBERNETES
        return value

    @property
    def problems(self) -> tuple[str, ...]:
        """Values that could not be used and fell back to their defaults, one line each."""
        return self._problems

    @property
    def read_deadline_s(self) -> float:
        """How long one bounded database call may take in all: connecting, two statements, a margin.

        The statement timeout is enforced by the server, so it cannot help when the server or
        the network hangs in the middle of a reply; this client-side deadline does.
        """
        return self.db_connect_timeout + 2 * self.db_statement_timeout_ms / 1000.0 + 1.0


def env_name(field: str) -> str:
    """``db_url`` -> ``YELLOW_DB_URL``."""
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings() -> FactorySettings:
    """Read the environment now; unusable values fall back to their defaults (see the module doc)."""
    try:
        return FactorySettings()
    except ValidationError as exc:
        problems = tuple(_problem(e) for e in exc.errors())
        for line in problems:
            log.warning("%s", line)
        # Arguments outrank the environment: each unusable variable is overridden by its default.
        defaults = {
            name: FactorySettings.model_fields[name].get_default(call_default_factory=True)
            for name in {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        }
        fallback = FactorySettings(**defaults)
        fallback._problems = problems
        return fallback


def _problem(error: Any) -> str:
    field = str(error["loc"][0]) if error["loc"] else "?"
    default = FactorySettings.model_fields[field].get_default(call_default_factory=True)
    value = os.environ.get(env_name(field), "")
    return f"{env_name(field)}={value!r} is not usable ({error['msg']}); using the default {default}"


@cache
def settings() -> FactorySettings:
    """The settings, read once per process."""
    return load_settings()


def reset_settings() -> None:
    """Forget the cached settings, so the next :func:`settings` call reads the environment again."""
    settings.cache_clear()
