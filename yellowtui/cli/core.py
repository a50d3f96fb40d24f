"""What every command shares: the exit codes, the one error path, ``--db`` and the common options.

Every command module builds on this, so a code, an option or an error reads the same in every
command; nothing here prints except through :mod:`yellowtui.cli.output`.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from factory.db import DB_URL_ENV
from factory.errors import UnknownPlatformError
from yellowtui.cli.output import dump, fail

if TYPE_CHECKING:
    from yellowtui.presenters.times import Times
    from yellowtui.services.config_service import ConfigService

F = TypeVar("F", bound=Callable[..., Any])

#: The only context settings: on the root group, inherited by every group and command below it.
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
#: Where ``--json`` notes itself, so the error path can answer in JSON too.
JSON_META = "yellowtui.json"


class UnknownPlatformOption(UnknownPlatformError):
    """``--platform`` names a platform with no table: a usage error (a file naming one is bad input)."""


class ExitCode(IntEnum):
    """Every exit code of every ``yellowtui`` command (documented once, in docs/changes.md).

    ``health`` answers a monitoring system in its own terms (ok, warning, critical, unknown),
    which reuse the numbers 0-3: its names are the aliases below.
    """

    OK = 0
    #: A row, file or change is invalid, would fail to build, differs, or was refused.
    FAILED = 1
    #: Usage: a bad argument, no or a bad database URL, the database or Airflow unreachable.
    USAGE = 2
    #: A row changed underneath, or another writer at the same moment: nothing was written.
    CONFLICT = 3
    #: The connection was lost during COMMIT: it may or may not have been written.
    UNKNOWN_OUTCOME = 4
    #: ``--wait-live`` / ``wait``: applied, but not live in Airflow before the timeout.
    NOT_LIVE = 5

    HEALTH_WARNING = 1
    HEALTH_CRITICAL = 2
    HEALTH_UNKNOWN = 3


def _error_table() -> list[tuple[tuple[type[BaseException], ...], str, ExitCode]]:
    """The one mapping from the core's deliberate errors to (kind, exit code); first match wins."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from factory import errors as e

    return [
        ((e.OutcomeUnknown,), "unknown-outcome", ExitCode.UNKNOWN_OUTCOME),
        ((e.RetryableConflict,), "retry", ExitCode.CONFLICT),
        ((e.ChangesetConflict, e.ConcurrentChangeError), "conflict", ExitCode.CONFLICT),
        ((e.DatabaseUnavailable, e.DatabaseURLError), "connection", ExitCode.USAGE),
        ((UnknownPlatformOption,), "unknown-platform", ExitCode.USAGE),
        ((e.UnknownPlatformError,), "unknown-platform", ExitCode.FAILED),  # a file names it: bad input
        ((e.InvalidNameError,), "bad-name", ExitCode.USAGE),
        ((e.AirflowUnavailable, e.AirflowAuthError, e.ReadOnlyError), "airflow", ExitCode.USAGE),
        ((e.AirflowError,), "airflow", ExitCode.FAILED),
        ((e.ChangesetFileError,), "invalid-file", ExitCode.FAILED),
        ((e.ChangesetRejected,), "rejected", ExitCode.FAILED),
        ((e.MigrationError, e.DropError), "refused", ExitCode.FAILED),
        ((e.FactoryError,), "error", ExitCode.FAILED),
        ((SQLAlchemyError, ArgumentError), "database", ExitCode.FAILED),
    ]


def exit_for(exc: BaseException) -> tuple[str, ExitCode] | None:
    """(kind, exit code) of a deliberate error; None for a bug (which keeps its traceback)."""
    for classes, kind, code in _error_table():
        if isinstance(exc, classes):
            return kind, code
    return None


def message_of(exc: BaseException) -> str:
    """One line: a database driver's text is cut to its first line and named by its class."""
    from factory.errors import FactoryError, first_line

    if isinstance(exc, FactoryError):
        return str(exc).strip()
    # Named ``error``: tools/messages.py collects it for docs/troubleshooting.md.
    error = f"database error: {first_line(exc, driver=False, named=True)}"
    return error


def fail_with(exc: BaseException, kind: str, code: ExitCode, *, as_json: bool) -> NoReturn:
    """The one error path: with ``--json`` an object on stdout, always one redacted line on stderr."""
    message = message_of(exc)
    if as_json:
        data: dict[str, Any] = {"ok": False, "error": kind, "message": message}
        problems = getattr(exc, "problems", None)
        if isinstance(problems, dict):  # problems per stream key
            data["problems"] = {k: [p.to_dict() for p in v] for k, v in problems.items()}
        elif isinstance(problems, list) and all(hasattr(p, "to_dict") for p in problems):
            data["problems"] = [p.to_dict() for p in problems]
        if getattr(exc, "source", None) is not None:
            data["file"] = exc.source  # type: ignore[attr-defined]
        dump(data)
    fail(message, code)


class YellowGroup(click.Group):
    """The root group: every error a command lets through leaves here, mapped once."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            found = exit_for(exc)
            if found is None:
                raise
            fail_with(exc, *found, as_json=bool(ctx.meta.get(JSON_META)))


# ---- times for people --------------------------------------------------------------------------


def times() -> Times:
    """How a command shows times to people: in its profile's time zone, else the machine's.
    ``--json`` output never uses it (its times stay ISO 8601 UTC)."""
    from yellowtui.presenters.times import Times
    from yellowtui.profile_apply import active_profile

    profile = active_profile()
    return Times(profile.zone if profile is not None else None)


# ---- --db ------------------------------------------------------------------------------------


def resolve_db(db_url: str | None, code: ExitCode = ExitCode.USAGE) -> str:
    """The one check of ``--db`` / ``$YELLOW_DB_URL``: given, parseable, PostgreSQL, a port in
    range; the URL normalized, or one redacted line and ``code``."""
    from factory.db import check_url
    from factory.errors import DatabaseURLError

    if not db_url:
        fail(f"no config database: pass --db URL or set {DB_URL_ENV} (try `yellowtui demo` for an embedded one)", code)
    try:
        return check_url(str(db_url))
    except DatabaseURLError as exc:
        fail(str(exc), code)


def platform_slug(platform: str, code: ExitCode = ExitCode.USAGE) -> str:
    """The platform's slug, or one line and ``code`` for a name that cannot be a table name."""
    from factory.errors import InvalidNameError
    from factory.names import platform_slug as slug

    try:
        return slug(platform)
    except InvalidNameError as exc:
        fail(str(exc), code)


# ---- the options every command spells the same way ----------------------------------------------


def db_option(f: F) -> F:
    """``--db URL`` (default ``$YELLOW_DB_URL``)."""
    return click.option(
        "--db",
        "db_url",
        envvar=DB_URL_ENV,
        metavar="URL",
        help=f"Config database, e.g. postgresql://user@host/db (default: ${DB_URL_ENV}).",
    )(f)


def _note_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta[JSON_META] = value
    return value


def json_option(f: F) -> F:
    """``--json``: print JSON; errors too are then an object on stdout."""
    return click.option("--json", "as_json", is_flag=True, callback=_note_json, help="Print JSON.")(f)


def platform_option(*, required: bool = True, help: str | None = None) -> Callable[[F], F]:
    """``--platform/-p``: required (one platform) or optional (default: all)."""
    text = help or ("The platform, e.g. yellowlive." if required else "Only this platform (default: all).")

    def decorate(f: F) -> F:
        return click.option("--platform", "-p", required=required, help=text)(f)

    return decorate


def actor_option(f: F) -> F:
    """``--actor NAME``: the actor the history records (honoured for trusted writers only)."""
    return click.option(
        "--actor",
        default=None,
        help="Name recorded in the change history (default: your user name; a trusted writer's "
        "claim is kept beside the database user, see docs/security.md).",
    )(f)


def dry_run_option(f: F) -> F:
    return click.option("--dry-run", is_flag=True, help="Check and print the plan; write nothing.")(f)


# ---- the config database's platforms -------------------------------------------------------------


def config_service(db_url: str | None) -> ConfigService:
    """The read side of the config database at ``--db`` (checked once, here)."""
    from yellowtui.services.config_service import ConfigService

    return ConfigService(resolve_db(db_url))


def platforms(service: ConfigService, platform: str | None) -> list[str]:
    """``[platform's slug]`` when it has a table, or every platform's when ``platform`` is None."""
    available = service.platforms()  # an unreachable database takes the one error path
    if platform is None:
        if not available:
            fail(f"no platform tables (*_airflow_dsg) in {service.display_url}; run `yellowtui bootstrap` first")
        return available
    slug = platform_slug(platform)
    if slug not in available:
        fail(f"platform {platform!r} has no table in {service.display_url}; known: {', '.join(available) or 'none'}")
    return [slug]
