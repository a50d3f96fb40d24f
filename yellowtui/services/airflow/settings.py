"""Where Airflow is and how to talk to it.

The environment holds four variables, ``AIRFLOW_API_URL``, ``AIRFLOW_API_TOKEN``,
``AIRFLOW_API_USERNAME`` and ``AIRFLOW_API_PASSWORD``, read by pydantic-settings
(:class:`AirflowEnv`), as :mod:`factory.settings` reads the factory's. Everything else (timeouts,
retries, paging) comes from the caller: :class:`AirflowSettings` built directly reads nothing
from the environment, so a test or a tool gets exactly what it passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from factory.errors import AirflowError
from factory.redact import display_url

ENV_PREFIX = "AIRFLOW_API_"
API_URL_ENV = f"{ENV_PREFIX}URL"
TOKEN_ENV = f"{ENV_PREFIX}TOKEN"
USERNAME_ENV = f"{ENV_PREFIX}USERNAME"
PASSWORD_ENV = f"{ENV_PREFIX}PASSWORD"
#: Airflow's default ``[api] maximum_page_limit``: asking for more gets this many anyway.
DEFAULT_PAGE_SIZE = 100


class AirflowEnv(BaseSettings):
    """What the environment says about Airflow. An empty variable counts as unset."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", frozen=True)

    url: str = ""
    token: str | None = Field(default=None, repr=False)
    username: str | None = None
    password: str | None = Field(default=None, repr=False)

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> AirflowEnv:
        """From the process environment, or only from ``environ`` when given (a profile's values)."""
        if environ is None:
            return cls()
        given = {
            name: environ[f"{ENV_PREFIX}{name.upper()}"]
            for name in cls.model_fields
            if environ.get(f"{ENV_PREFIX}{name.upper()}")
        }
        return _AirflowEnvGiven(**given)


class _AirflowEnvGiven(AirflowEnv):
    """:class:`AirflowEnv` from its arguments alone: the process environment is not consulted."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@dataclass(frozen=True)
class AirflowSettings:
    """Where Airflow is and how to talk to it. The token and password never appear in ``repr``."""

    url: str
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 15.0
    page_size: int = DEFAULT_PAGE_SIZE
    retries: int = 2
    backoff_s: float = 0.5
    read_only: bool = False
    #: How many recent runs :meth:`AirflowService.list_dags` keeps per DAG.
    runs_per_dag: int = 5
    #: Pages fetched at once once the first page has said how many there are (1: one by one).
    page_workers: int = 4
    #: Every this many refreshes of a platform, :meth:`AirflowService.list_dags` reads all the
    #: recent runs again (forgetting deleted ones); in between, only the runs changed since the
    #: previous refresh. 1: always all.
    full_runs_every: int = 12

    @classmethod
    def from_env(
        cls, url: str | None = None, *, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> AirflowSettings:
        """Settings from ``url`` (e.g. ``--airflow``) or ``AIRFLOW_API_URL``, credentials from
        ``AIRFLOW_API_TOKEN`` or ``AIRFLOW_API_USERNAME``/``AIRFLOW_API_PASSWORD``; ``overrides``
        that are not None replace the defaults.

        Raises :class:`AirflowError` when no server is named or the URL is not http(s).
        """
        env = AirflowEnv.read(environ)
        url = (url or env.url or "").strip()
        if not url:
            raise AirflowError(f"no Airflow server: pass --airflow URL or set {API_URL_ENV}")
        if not _is_http_url(url):
            raise AirflowError(f"Airflow URL {display_url(url)!r} is not an http(s) URL such as http://host:8080")
        values: dict[str, Any] = {
            "url": url.rstrip("/"),
            "token": env.token,
            "username": env.username,
            "password": env.password,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def display_url(self) -> str:
        return display_url(self.url)

    @property
    def can_login(self) -> bool:
        return bool(self.username and self.password)


def _is_http_url(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False
