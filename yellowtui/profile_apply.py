"""Apply the selected profile to a ``yellowtui`` command, in one place: the root's ``--profile``.

Order of precedence: flags > environment > profile > defaults, made by click itself
(``click.core.Parameter.consume_value``: command line, then ``envvar``, then the context's
``default_map``, then the default):

- settings the commands read from the environment (``YELLOW_DB_URL``, ``YELLOW_READ_ONLY``,
  ``AIRFLOW_API_URL`` and its credentials) are filled from the profile where the environment does
  not set them, for the command's lifetime only (restored when the root context closes), so
  every command, present or future, sees them exactly as if they had been exported;
- settings with no environment variable (``--actor``, ``--theme``, ``--platform``) go in the
  context's ``default_map``, which click hands down to every subcommand by name.

``--profile`` is eager, so click processes it before every other option of the root command
(``click.core.iter_params_for_processing``) and they already see the profile.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import click

from yellowtui.profiles import PROFILE_ENV, Profile, ProfileError, load_profiles, read_secret_file

META_KEY = "yellowtui.profile"
#: Options with no environment variable that a profile gives a default to, by parameter name.
_DEFAULTS = {"actor": "actor", "theme": "theme", "platform": "platform"}


def environment_for(profile: Profile, environ: Mapping[str, str], *, only_missing: bool = True) -> dict[str, str]:
    """The environment variables the profile fills: only those ``environ`` does not set already
    (``only_missing=False``: all of them, as ``profiles check`` tests the profile itself)."""
    from factory.db import DB_URL_ENV
    from yellowtui.services.airflow.settings import API_URL_ENV, PASSWORD_ENV, TOKEN_ENV, USERNAME_ENV

    wanted: dict[str, str | None] = {
        DB_URL_ENV: profile.resolved_db_url(environ),
        "YELLOW_READ_ONLY": "1" if profile.read_only else None,
        API_URL_ENV: profile.airflow_url,
        USERNAME_ENV: profile.airflow_username
        or (environ.get(profile.airflow_username_env) if profile.airflow_username_env else None),
    }
    # A secret is read only when the environment does not already hold one.
    if not (only_missing and environ.get(TOKEN_ENV)):
        if profile.airflow_token_env:
            wanted[TOKEN_ENV] = environ.get(profile.airflow_token_env)
        elif profile.airflow_token_file:
            wanted[TOKEN_ENV] = read_secret_file(profile.airflow_token_file)
    if not (only_missing and environ.get(PASSWORD_ENV)):
        if profile.airflow_password_env:
            wanted[PASSWORD_ENV] = environ.get(profile.airflow_password_env)
        elif profile.airflow_password_file:
            wanted[PASSWORD_ENV] = read_secret_file(profile.airflow_password_file)
    return {k: v for k, v in wanted.items() if v and not (only_missing and environ.get(k))}


def default_map_for(command: click.Command, profile: Profile) -> dict[str, Any]:
    """click's nested ``default_map`` giving every command's ``--actor``/``--theme``/``--platform``
    the profile's value (walked at run time, so commands registered later are covered too)."""
    values = {param: getattr(profile, field) for param, field in _DEFAULTS.items() if getattr(profile, field)}
    out: dict[str, Any] = {p.name: values[p.name] for p in command.params if p.name in values}
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            if child := default_map_for(sub, profile):
                out[name] = child
    return out


def _apply(ctx: click.Context, _param: click.Parameter, name: str | None) -> Profile | None:
    from yellowtui.cli.output import fail

    if ctx.resilient_parsing:  # shell completion: attach the completers, and never exit
        from yellowtui.completion import install_completers

        install_completers(ctx.command)
    try:
        profile = load_profiles().select(name)
        added = environment_for(profile, os.environ) if profile else {}
    except ProfileError as exc:
        if ctx.resilient_parsing:
            return None
        fail(str(exc), 2)
    ctx.meta[META_KEY] = profile
    if profile is None:
        return None
    os.environ.update(added)
    ctx.call_on_close(lambda: [os.environ.pop(k, None) for k in added])
    ctx.default_map = {**default_map_for(ctx.command, profile), **(ctx.default_map or {})}
    return profile


def profile_option() -> click.Option:
    """The root command's ``--profile NAME`` (or ``$YELLOW_PROFILE``; ``default`` when the file has one)."""
    return click.Option(
        ["--profile", "profile_name"],
        envvar=PROFILE_ENV,
        metavar="NAME",
        is_eager=True,
        expose_value=False,
        callback=_apply,
        help=f"Profile from the config file (or ${PROFILE_ENV}; default: the 'default' profile if there is one). "
        "See `yellowtui profiles list`.",
    )


def profile_flag(f: Any) -> Any:
    """``--profile NAME`` as a decorator of the root group (the same option as :func:`profile_option`)."""
    option = profile_option()
    params = getattr(f, "__click_params__", None)
    if params is None:
        params = f.__click_params__ = []
    params.append(option)
    return f


def active_profile(ctx: click.Context | None = None) -> Profile | None:
    """The profile the running command uses (None: none). ``ctx.meta`` is shared by every context."""
    ctx = ctx or click.get_current_context(silent=True)
    return None if ctx is None else ctx.meta.get(META_KEY)
