"""``yellowtui live`` and ``yellowtui wait``, and what ``apply`` does after it wrote: is the
change live in Airflow yet?

- ``live`` prints each stream's sync status (live, pending parse, failed to build, ...) beside
  its health (the last run's state), from one list of the platform's DAGs.
- After an apply, a parse of each factory file holding a changed stream is requested
  (:mod:`yellowtui.services.parse_request`); never with ``--read-only``, and a refused request
  never fails the apply.
- ``wait`` and ``apply --wait-live`` look every half second until every changed stream is live
  or gone as asked.

Exit codes of ``wait`` and ``apply --wait-live`` (:class:`yellowtui.cli.core.ExitCode`): 0 all
live (or gone, as asked); 1 a stream failed to build (named, with its problem); 5 not live in
time (the pending streams named, with what Airflow last parsed and when); 2 Airflow unreachable
or not configured, or usage.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from factory.errors import AirflowError, FactoryError
from yellowtui.cli.core import ExitCode, config_service, db_option, json_option, platform_option, platform_slug
from yellowtui.cli.output import cell, dump, echo, fail
from yellowtui.services.airflow.settings import API_URL_ENV, PASSWORD_ENV, TOKEN_ENV, USERNAME_ENV

if TYPE_CHECKING:
    from factory.split import Layout
    from yellowtui.services.airflow.service import AirflowService
    from yellowtui.services.config_service import ConfigService
    from yellowtui.services.live_state import PlatformLive
    from yellowtui.services.live_wait import WaitResult
    from yellowtui.services.parse_request import ParseRequests

READ_ONLY_ENV = "YELLOW_READ_ONLY"
DEFAULT_TIMEOUT_S = 120.0

_STYLE = {
    "live": "green",
    "pending parse": "yellow",
    "failed to build": "bold red",
    "still in Airflow": "yellow",
    "not in Airflow": "dim",
    "unknown": "dim",
}


def airflow_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--airflow URL`` and ``--read-only``, as the other Airflow commands spell them."""
    f = click.option(
        "--read-only",
        is_flag=True,
        envvar=READ_ONLY_ENV,
        help=f"Send Airflow nothing, not even a parse request (or ${READ_ONLY_ENV}=1).",
    )(f)
    return click.option(
        "--airflow",
        "airflow_url",
        metavar="URL",
        help=f"Airflow API server root (default: ${API_URL_ENV}). Credentials: ${TOKEN_ENV}, "
        f"or ${USERNAME_ENV} and ${PASSWORD_ENV}.",
    )(f)


def wait_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--wait-live`` and ``--timeout S`` for the commands that apply changes."""
    f = click.option(
        "--timeout",
        "timeout_s",
        type=click.FloatRange(0),
        default=DEFAULT_TIMEOUT_S,
        show_default=True,
        help="With --wait-live: seconds to wait before exit 5.",
    )(f)
    return click.option(
        "--wait-live",
        is_flag=True,
        help="After applying, wait until every changed stream is live in Airflow (or gone, if removed).",
    )(f)


@dataclass(frozen=True)
class AirflowChoice:
    """The Airflow options of one command: where, and whether it may be written to."""

    url: str | None = None
    read_only: bool = False

    def service(self, *, required: bool) -> AirflowService | None:
        """The service, or None when no Airflow is named (exit 2 if ``required``); a bad URL is exit 2."""
        import os

        from yellowtui.services.airflow.service import AirflowService
        from yellowtui.services.airflow.settings import AirflowSettings

        if not self.url and not os.environ.get(API_URL_ENV):
            if required:
                fail(f"no Airflow server: pass --airflow URL or set {API_URL_ENV}", ExitCode.USAGE)
            return None
        try:
            return AirflowService(AirflowSettings.from_env(self.url, read_only=self.read_only or None))
        except AirflowError as exc:
            fail(str(exc), ExitCode.USAGE)


# ---- printing ----------------------------------------------------------------------------------


def print_live(state: PlatformLive, *, stderr: bool = False) -> None:
    """A table: stream, live status, last run (health), and why."""
    from rich import box
    from rich.table import Table

    from yellowtui.cli.output import console as make_console

    console = make_console(stderr=stderr, soft_wrap=False)
    where = f" in Airflow at {state.airflow_url}" if state.airflow_url else ""
    table = Table(title=cell(f"{state.platform}{where}"), title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("stream", min_width=12, overflow="fold")
    table.add_column("live", no_wrap=True)
    table.add_column("last run", no_wrap=True)
    table.add_column("why", overflow="fold")
    for s in state.streams:
        why = f"{s.problem}; {s.detail}" if s.problem else s.detail
        table.add_row(
            cell(s.stream_key), cell(str(s.status), _STYLE.get(str(s.status), "")), cell(s.last_run or "—"), cell(why)
        )
    console.print(table)
    if state.reason:
        console.print(cell(f"unknown: {state.reason}", "red"))


def _summary(state: PlatformLive) -> str:
    counts: dict[str, int] = {}
    for s in state.streams:
        counts[str(s.status)] = counts.get(str(s.status), 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def _progress(enabled: bool) -> Callable[[PlatformLive, float], None] | None:
    """One line on stderr per change of the counts, on a terminal only."""
    if not enabled or not sys.stderr.isatty():
        return None
    last: list[str] = [""]

    def show(state: PlatformLive, elapsed: float) -> None:
        line = _summary(state)
        if line != last[0]:
            last[0] = line
            echo(f"  {elapsed:5.1f} s  {line}", err=True)

    return show


def _outcome(result: WaitResult) -> tuple[ExitCode, list[str]]:
    """The exit code of a wait, and the lines that say why."""
    from yellowtui.services.live_state import LiveStatus

    state = result.state
    if result.unreachable:
        return ExitCode.USAGE, [f"unknown: {state.reason}"]
    failed = [s for s in state.streams if s.status is LiveStatus.FAILED]
    pending = [s for s in state.streams if not s.settled]
    lines = [f"failed to build: {s.stream_key}: {s.problem} ({s.detail})" for s in failed]
    if result.timed_out:
        lines += [f"not live after {result.elapsed_s:.0f} s: {s.stream_key}: {s.status}: {s.detail}" for s in pending]
    if failed:
        return ExitCode.FAILED, lines
    if result.timed_out and pending:
        return ExitCode.NOT_LIVE, lines
    return ExitCode.OK, [f"live after {result.elapsed_s:.1f} s: {_summary(state)}"]


def run_wait(
    config: ConfigService,
    airflow: AirflowService,
    platform: str,
    keys: Iterable[str] | None,
    timeout_s: float,
    *,
    progress: bool,
    refresh: bool = True,
    layout: Layout | None = None,
) -> tuple[WaitResult, ExitCode, list[str]]:
    """Wait for ``keys`` (every stream when None) of ``platform``; the result, exit code and lines.
    ``refresh`` asks for a parse again when one ended without the change (never when read-only)."""
    from yellowtui.services.live_wait import ParseAgain, read_live, wait_live

    wanted = None if keys is None else sorted(set(keys))
    again = ParseAgain(airflow, platform, layout) if refresh and not airflow.settings.read_only else None
    result = wait_live(
        lambda: read_live(config, airflow, platform, wanted, runs=False),
        timeout_s=timeout_s,
        progress=_progress(progress),
        after_look=again,
    )
    code, lines = _outcome(result)
    return result, code, lines


def after_apply(
    db_url: str,
    platform: str,
    changed: Iterable[str],
    choice: AirflowChoice,
    *,
    wait_live: bool,
    timeout_s: float,
    as_json: bool,
) -> tuple[ExitCode, dict[str, Any], list[str]]:
    """What ``apply`` does once the rows are written: request parses, and wait if asked.

    Returns the exit code (0 unless waiting failed), data for ``--json`` and lines to print.
    Never raises for Airflow: the apply is done, whatever Airflow says."""
    from yellowtui.services.parse_request import request_parses

    changed = sorted(set(changed))
    service = choice.service(required=wait_live)
    config = config_service(db_url)
    layout = None
    # Unread, a split platform's layout costs only new streams' files: the others are in Airflow.
    with contextlib.suppress(FactoryError):
        layout = config.layout(platform)
    requests: ParseRequests = request_parses(service, platform, changed, layout=layout)
    data: dict[str, Any] = {"parse_requests": requests.to_dict()}
    lines = requests.lines() if changed and (service is not None or wait_live) else []
    if not wait_live or service is None or not changed:
        return ExitCode.OK, data, lines
    result, code, waited = run_wait(config, service, platform, changed, timeout_s, progress=not as_json, layout=layout)
    data["live"] = result.state.to_dict()
    data["wait"] = {"exit_code": code, "timed_out": result.timed_out, "elapsed_s": round(result.elapsed_s, 2)}
    return code, data, lines + waited


# ---- commands ----------------------------------------------------------------------------------


@click.command("live")
@platform_option(help="The platform whose streams to show.")
@click.option("--stream", "-s", "streams", multiple=True, metavar="KEY", help="Only this stream (repeatable).")
@db_option
@airflow_options
@json_option
def live(
    platform: str, streams: tuple[str, ...], db_url: str | None, airflow_url: str | None, read_only: bool, as_json: bool
) -> None:
    """Is each stream's config live in Airflow? Sync status beside health (the last run).

    \b
    live              Airflow serves the DAG built from the row's current config
    pending parse     the row changed; Airflow still serves the DAG from an older config
    failed to build   the row does not build; Airflow keeps the last good config (named)
    not in Airflow    no DAG (paused, retired or deleted; or a new stream not parsed yet)
    still in Airflow  paused, retired or deleted, but Airflow still has the DAG
    unknown           Airflow not configured or not answering (exit 2)
    """
    from yellowtui.services.live_wait import read_live

    slug = platform_slug(platform)
    config = config_service(db_url)
    service = AirflowChoice(airflow_url, read_only).service(required=False)
    state = read_live(config, service, slug, streams or None)
    if as_json:
        dump(state.to_dict())
    else:
        print_live(state)
    sys.exit(ExitCode.USAGE if state.reason else ExitCode.OK)


@click.command("wait")
@platform_option(help="The platform to wait for.")
@click.option("--stream", "-s", "streams", multiple=True, metavar="KEY", help="Only this stream (repeatable).")
@db_option
@airflow_options
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(0),
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    help="Seconds to wait before exit 5.",
)
@click.option("--no-refresh", is_flag=True, help="Do not request a parse of the pending streams' files first.")
@json_option
def wait(
    platform: str,
    streams: tuple[str, ...],
    db_url: str | None,
    airflow_url: str | None,
    read_only: bool,
    timeout_s: float,
    no_refresh: bool,
    as_json: bool,
) -> None:
    """Wait until the platform's streams (or --stream KEYs) are live in Airflow, or gone if removed.

    For changes made any other way than `apply` (SQL, another operator). First requests a parse
    of the files of the streams not yet settled (not with --read-only or --no-refresh).
    Exit 0 all live; 1 a stream failed to build; 5 not live in time; 2 Airflow unreachable or usage.
    """
    from yellowtui.services.live_wait import read_live
    from yellowtui.services.parse_request import request_parses

    slug = platform_slug(platform)
    config = config_service(db_url)
    service = AirflowChoice(airflow_url, read_only).service(required=True)
    assert service is not None
    keys = sorted(set(streams)) or None
    layout = config.layout(slug)
    if not no_refresh:
        first = read_live(config, service, slug, keys, runs=False)
        unsettled = [s.stream_key for s in first.streams if not s.settled]
        if unsettled and not first.reason:
            sent = request_parses(service, slug, unsettled, layout=layout)
            if not as_json:
                for line in sent.lines():
                    echo(line, err=True)
    result, code, lines = run_wait(
        config, service, slug, keys, timeout_s, progress=not as_json, refresh=not no_refresh, layout=layout
    )
    if as_json:
        dump({**result.state.to_dict(), "exit_code": code, "timed_out": result.timed_out})
    else:
        print_live(result.state)
        for line in lines:
            echo(line, err=code != ExitCode.OK)
    sys.exit(code)


COMMANDS = (live, wait)
