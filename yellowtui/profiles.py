"""Profiles: named environments (dev, staging, prod) in one TOML file, as Harlequin and k9s keep them.

A profile names where things are and how to reach them, never a secret: the database URL has no
password (or the URL comes from an environment variable), Airflow's token or password comes from
an environment variable or a file. A file holding a secret inline is refused with its line named,
and the value is never repeated. This module only reads and checks the file; applying a profile
to a command is :mod:`yellowtui.profile_apply`'s job.

The file is ``config.toml`` in platformdirs' ``user_config_dir("yellowtui")``
(``$XDG_CONFIG_HOME/yellowtui/config.toml`` on Linux, platformdirs' ``unix.py``), or
``$YELLOW_CONFIG``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CONFIG_ENV = "YELLOW_CONFIG"
PROFILE_ENV = "YELLOW_PROFILE"
DEFAULT_PROFILE = "default"

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_COLOUR_RE = re.compile(r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-z]{3,20})$")
#: Keys that may name a secret's *place*: an environment variable or a file, never its value.
_INDIRECT_SUFFIXES = ("_env", "_file")


class ProfileError(ValueError):
    """The profile file cannot be used, or names no such profile. The text never quotes a secret."""


class Profile(BaseModel):
    """One ``[profiles.NAME]`` table. Every field is optional: a profile may only set a colour."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(default="", exclude=True)
    db_url: str | None = None
    db_url_env: str | None = None
    airflow_url: str | None = None
    airflow_token_env: str | None = None
    airflow_token_file: str | None = None
    airflow_username: str | None = None
    airflow_username_env: str | None = None
    airflow_password_env: str | None = None
    airflow_password_file: str | None = None
    read_only: bool = False
    actor: str | None = None
    timezone: str | None = None
    theme: str | None = None
    platform: str | None = None
    colour: str | None = None

    @field_validator("db_url_env", "airflow_token_env", "airflow_username_env", "airflow_password_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME_RE.match(value):
            raise ValueError("must be the NAME of an environment variable (letters, digits, _)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            from zoneinfo import ZoneInfo

            try:
                ZoneInfo(value)
            except (ValueError, KeyError, OSError):
                raise ValueError("is not an IANA time zone such as Europe/Dublin or UTC") from None
        return value

    @field_validator("colour")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None and not _COLOUR_RE.match(value):
            raise ValueError("must be a colour name (red) or #rgb / #rrggbb")
        return value

    @field_validator("airflow_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as http://airflow:8080")
        return value

    def resolved_db_url(self, environ: Mapping[str, str]) -> str | None:
        """The database URL: ``db_url``, else the variable ``db_url_env`` names (None: neither)."""
        if self.db_url:
            return self.db_url
        return environ.get(self.db_url_env) or None if self.db_url_env else None

    @property
    def zone(self) -> Any:
        """The display time zone (a ``ZoneInfo``), None for the machine's."""
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone) if self.timezone else None

    def describe(self) -> list[tuple[str, str]]:
        """(key, TOML value) for ``profiles show``: the keys set, and read_only always."""
        data = self.model_dump(exclude_defaults=True)
        data["read_only"] = self.read_only
        return [(k, "true" if v is True else "false" if v is False else f'"{v}"') for k, v in data.items()]


@dataclass(frozen=True)
class ProfileFile:
    """The parsed file: its path and its profiles by name (empty when there is no file)."""

    path: Path
    profiles: dict[str, Profile]
    exists: bool

    def select(self, name: str | None) -> Profile | None:
        """``name`` (from ``--profile`` or ``$YELLOW_PROFILE``), else ``default`` if the file has
        one, else None. A name the file lacks is a :class:`ProfileError` listing those it has."""
        if name is None:
            return self.profiles.get(DEFAULT_PROFILE)
        if name not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none"
            where = str(self.path) if self.exists else f"{self.path} (no such file)"
            raise ProfileError(f"no profile {name!r} in {where}; profiles: {known}")
        return self.profiles[name]


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$YELLOW_CONFIG``, else ``config.toml`` in platformdirs' user config folder."""
    env = os.environ if environ is None else environ
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("yellowtui")) / "config.toml"


def load_profiles(path: Path | None = None) -> ProfileFile:
    """Read and check the profile file; a missing file is no profiles, not an error."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ProfileFile(path, {}, exists=False)
    except OSError as exc:
        raise ProfileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return ProfileFile(path, parse_profiles(text, path), exists=True)


def parse_profiles(text: str, path: Path) -> dict[str, Profile]:
    """Profiles from the file's text: secrets refused first (by line), then TOML, then each table."""
    refuse_inline_secrets(text, path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"profiles"})
    if unknown:
        raise ProfileError(f"{path}: unknown top-level key(s) {', '.join(unknown)}; profiles go in [profiles.NAME]")
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ProfileError(f"{path}: 'profiles' must be tables, [profiles.NAME]")
    profiles: dict[str, Profile] = {}
    for name, table in tables.items():
        if not _NAME_RE.match(name):
            raise ProfileError(f"{path}: profile name {name!r}: letters, digits, '.', '_' and '-' only")
        if not isinstance(table, dict):
            raise ProfileError(f"{path}: profiles.{name} must be a table")
        try:
            profiles[name] = Profile(name=name, **table)
        except ValidationError as exc:
            # Never exc's own text: pydantic quotes the input value.
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))} {e['msg']}" for e in exc.errors())
            raise ProfileError(f"{path}: [profiles.{name}]: {problems}") from None
    return profiles


_ASSIGN_RE = re.compile(r"^\s*(?P<key>[A-Za-z0-9_\-\"'.]+)\s*=\s*(?P<value>.*)$")


def refuse_inline_secrets(text: str, path: Path) -> None:
    """Refuse a password or token written in the file, naming the line and the key, never the value.

    Line by line, so the line can be named (``tomllib`` keeps no positions): a secret-named key
    (``password``, ``airflow_token``...) that is not a ``*_env``/``*_file`` indirection, a URL with
    a password or a secret query parameter, and any value that looks like a credential (the
    detector :mod:`factory.credentials` applies to config rows).
    """
    from factory.credentials import credential_kind
    from factory.redact import is_secret_name, url_secrets

    for number, line in enumerate(text.splitlines(), start=1):
        match = _ASSIGN_RE.match(line)
        if not match or line.lstrip().startswith("#"):
            continue
        key = match["key"].strip("\"'").rsplit(".", 1)[-1]
        try:
            value = tomllib.loads(f"v = {match['value']}")["v"]
        except tomllib.TOMLDecodeError:
            value = None
        why = None
        if is_secret_name(key) and not key.endswith(_INDIRECT_SUFFIXES):
            why = f"{key} holds a secret"
        elif isinstance(value, str) and not key.endswith(_INDIRECT_SUFFIXES):
            if "://" in value and url_secrets(value):
                why = f"{key} is a URL with a password or token in it"
            elif kind := credential_kind(value):
                why = f"{key} looks like a credential ({kind})"
        if why:
            raise ProfileError(
                f"{path}, line {number}: {why}; a profile never holds a secret: name an environment "
                f"variable ({key.removesuffix('_url')}_env) or a file (*_file) instead"
            )


def read_secret_file(path: str) -> str:
    """The first line of a token or password file (``~`` expanded); the error names the file only."""
    target = Path(path).expanduser()
    try:
        return target.read_text(encoding="utf-8").splitlines()[0].strip() if target.stat().st_size else ""
    except OSError as exc:
        raise ProfileError(f"cannot read the secret file {target}: {exc.strerror or exc}") from None
