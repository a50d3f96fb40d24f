"""``yellowtui profiles list|show|check``, and the one call that adds profiles, completion and
``serve`` to the root command (:func:`register`)."""

from __future__ import annotations

import os
import sys

import click

from yellowtui.cli.output import echo, fail, secho
from yellowtui.profile_apply import active_profile, environment_for
from yellowtui.profiles import Profile, ProfileError, ProfileFile, load_profiles

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _file() -> ProfileFile:
    try:
        return load_profiles()
    except ProfileError as exc:
        fail(str(exc), 2)


def _db_label(profile: Profile) -> str:
    from factory.db import redact

    if profile.db_url:
        return redact(profile.db_url)
    return f"${profile.db_url_env}" if profile.db_url_env else "-"


@click.group("profiles", context_settings=CONTEXT)
def profiles_group() -> None:
    """Named environments (dev, staging, prod) from the config file; select with --profile NAME."""


@profiles_group.command("list", context_settings=CONTEXT)
def profiles_list() -> None:
    """Every profile: its database, its Airflow, read-only or not; `*` marks the one in use."""
    found = _file()
    current = active_profile()
    if not found.profiles:
        echo(f"no profiles in {found.path}" + ("" if found.exists else " (no such file)"))
        return
    for name, p in sorted(found.profiles.items()):
        mark = "*" if current is not None and current.name == name else " "
        mode = "read-only" if p.read_only else "read-write"
        echo(f"{mark} {name:<14} {mode:<10} db {_db_label(p)}  airflow {p.airflow_url or '-'}")
    echo(f"from {found.path}")


@profiles_group.command("show", context_settings=CONTEXT)
@click.argument("name")
def profiles_show(name: str) -> None:
    """One profile's settings; secrets only by where they come from, never their values."""
    try:
        profile = _file().select(name)
    except ProfileError as exc:
        fail(str(exc), 2)
    assert profile is not None
    echo(f"[profiles.{name}]")
    for key, value in profile.describe():
        echo(f"{key} = {_db_label(profile) if key == 'db_url' else value}")
    echo(f"# from {_file().path}")


@profiles_group.command("check", context_settings=CONTEXT)
@click.argument("name", required=False)
def profiles_check(name: str | None) -> None:
    """Connect to the profile's database and Airflow: one line each; exit 1 when one fails.

    NAME defaults to the profile in use (--profile, $YELLOW_PROFILE, or `default`). Only the
    profile's own settings are checked, not the environment's.
    """
    try:
        profile = _file().select(name) if name else active_profile()
        if profile is None:
            fail("no profile to check: name one, or pass --profile NAME (see `yellowtui profiles list`)", 2)
        values = environment_for(profile, os.environ, only_missing=False)
    except ProfileError as exc:
        fail(str(exc), 2)
    from yellowtui.profile_check import check_airflow, check_database

    results = [check_database(profile, values), check_airflow(profile, values)]
    for ok, line in results:
        secho(line, fg=None if ok else "red")
    sys.exit(0 if all(ok for ok, _ in results) else 1)


def _commands() -> list[click.Command]:
    from yellowtui.cli.serve import serve
    from yellowtui.completion import completion_command

    return [profiles_group, completion_command, serve]


#: Registered on the root group like every other group's (yellowtui/cli/__init__.py).
COMMANDS = _commands()
