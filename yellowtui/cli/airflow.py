"""``yellowtui runs`` and ``yellowtui airflow …``: Airflow's side of the command line, over
:mod:`yellowtui.services.airflow.service`.

Exit codes (:class:`yellowtui.cli.core.ExitCode`): 0 done; 1 not found, refused by Airflow, or
cancelled; 2 usage, connection or credentials, or a write refused by ``--read-only``. Every
error is one line on stderr; the token and password are never printed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from factory.db import DB_URL_ENV
from factory.errors import AirflowError
from yellowtui.cli.core import ExitCode, config_service, db_option, json_option, platform_option, platform_slug, times
from yellowtui.cli.output import dump, echo, fail
from yellowtui.services.airflow.models import RunState
from yellowtui.services.airflow.service import AirflowService
from yellowtui.services.airflow.settings import API_URL_ENV, PASSWORD_ENV, TOKEN_ENV, USERNAME_ENV, AirflowSettings

READ_ONLY_ENV = "YELLOW_READ_ONLY"


def _airflow_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--page-size",
        type=click.IntRange(1, 10_000),
        default=None,
        help="Items per API page (default 100, Airflow's usual maximum).",
    )(f)
    f = click.option(
        "--read-only",
        is_flag=True,
        envvar=READ_ONLY_ENV,
        help=f"Refuse every write (trigger, pause, clear) before sending anything (or ${READ_ONLY_ENV}=1).",
    )(f)
    return click.option(
        "--airflow",
        "airflow_url",
        metavar="URL",
        help=f"Airflow API server root, e.g. http://localhost:8080 (default: ${API_URL_ENV}). "
        f"Credentials: ${TOKEN_ENV}, or ${USERNAME_ENV} and ${PASSWORD_ENV}.",
    )(f)


def _service(airflow_url: str | None, read_only: bool, page_size: int | None) -> AirflowService:
    try:
        settings = AirflowSettings.from_env(airflow_url, read_only=read_only or None, page_size=page_size)
    except AirflowError as exc:
        fail(str(exc), ExitCode.USAGE)
    return AirflowService(settings)


def _local(value: datetime | None) -> str:
    return times().date_time(value)


def _short(value: datetime | None) -> str:
    return times().day_minute(value)


_RUN_GLYPHS = {"success": "✔", "failed": "✘", "running": "▶", "queued": "…"}


def _runs_cell(runs: tuple[RunState, ...] | list[RunState]) -> str:
    return " ".join(_RUN_GLYPHS.get(r.state, "?") for r in runs) or "—"


# ---- yellowtui runs ----------------------------------------------------------------------------


@click.command("runs")
@platform_option(help="The platform whose DAGs to show.")
@db_option
@_airflow_options
@json_option
def runs(
    platform: str, db_url: str | None, airflow_url: str | None, read_only: bool, page_size: int | None, as_json: bool
) -> None:
    """What Airflow is doing with a platform's DAGs (what the runs screen shows).

    \b
    For each factory DAG: paused, stale, last parsed and parse duration (Airflow's figures),
    next run, recent runs (newest first). Then Airflow's import errors for the platform's
    factory file, its DAG warnings, DAGs no active row explains, and valid active rows that
    are not in Airflow. With --db (or $YELLOW_DB_URL), rows are set against the DAGs;
    without it, Airflow's side only.
    """
    from yellowtui.services.run_state import platform_run_state

    slug = platform_slug(platform)
    service = _service(airflow_url, read_only, page_size)
    streams = config_service(db_url).streams(slug) if db_url else None
    state = platform_run_state(service, slug, streams)
    if as_json:
        dump(state.to_dict())
        return
    _print_run_state(state)


def _print_run_state(state: Any) -> None:
    from rich import box
    from rich.table import Table

    from yellowtui.cli.output import cell as Text
    from yellowtui.cli.output import console as make_console

    console = make_console(soft_wrap=False)
    table = Table(
        title=Text(f"{state.platform} in Airflow at {state.airflow_url}"), title_justify="left", box=box.SIMPLE_HEAD
    )
    table.add_column("stream", min_width=16, overflow="fold")
    for column in ("state", "parsed", "parse s", "next run", "recent runs"):
        table.add_column(column, no_wrap=True)
    for dag in state.dags:
        flag = Text("STALE", style="yellow") if dag.is_stale else Text("paused" if dag.is_paused else "active")
        table.add_row(
            Text(dag.stream_key or dag.dag_id),
            flag,
            Text(_short(dag.last_parsed)),
            Text(f"{dag.last_parse_duration_s:.2f}" if dag.last_parse_duration_s is not None else "—"),
            Text(_short(dag.next_run)),
            _runs_cell(dag.recent_runs),
        )
    console.print(table)
    for item in state.unexplained:
        console.print(Text(f"no row explains {item.dag.dag_id}: {item.reason}", style="yellow"))
    for item in state.not_in_airflow:
        console.print(Text(f"{item.stream_key}: {item.note} ({item.dag_id})", style="yellow"))
    for error in state.import_errors:
        console.print(Text(f"import error in {error.filename} at {_local(error.timestamp)}: {error.summary}", "red"))
    for warning in state.dag_warnings:
        console.print(Text(f"warning on {warning.dag_id} ({warning.warning_type}): {warning.message}", "yellow"))
    if not state.rows_known:
        console.print(Text(f"(no config database: pass --db or set {DB_URL_ENV} to set rows against DAGs)", "dim"))
    console.print(
        Text(f"{len(state.dags)} DAGs, {state.requests} requests, {state.elapsed_ms:.0f} ms", style="dim"),
    )


# ---- yellowtui airflow … -----------------------------------------------------------------------


@click.group("airflow")
def airflow_group() -> None:
    """Read and operate Airflow's DAGs: runs, tasks, logs; trigger, pause, unpause, clear.

    \b
    Writes ask for confirmation (--yes skips it) and are refused with --read-only.
    Exit codes: 0 done, 1 not found / refused by Airflow / cancelled, 2 usage, connection,
    credentials or read-only.
    """


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    try:
        confirmed = click.confirm(question, default=False, err=True)
    except click.Abort:  # end of input (a script without --yes) or ctrl-c
        confirmed = False
    if not confirmed:
        fail("cancelled; nothing was changed (pass --yes to skip the question)", ExitCode.FAILED)


def _with_service(
    airflow_url: str | None, read_only: bool, page_size: int | None, action: Callable[[AirflowService], Any]
) -> Any:
    return action(_service(airflow_url, read_only, page_size))


def _refuse_if_read_only(service_read_only: bool, what: str) -> None:
    """Refuse before asking or sending anything (the service refuses again, to be sure)."""
    if service_read_only:
        fail(f"read-only: refused to {what} (started with --read-only)", ExitCode.USAGE)


@airflow_group.command("trigger")
@click.argument("dag_id")
@click.option("--conf", "conf_text", metavar="JSON", help="The run's conf, a JSON object.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@_airflow_options
@json_option
def trigger(
    dag_id: str,
    conf_text: str | None,
    yes: bool,
    airflow_url: str | None,
    read_only: bool,
    page_size: int | None,
    as_json: bool,
) -> None:
    """Trigger a run of DAG_ID now."""
    conf: dict[str, Any] = {}
    if conf_text:
        try:
            conf = json.loads(conf_text)
        except ValueError as exc:
            fail(f"--conf is not JSON: {exc}", ExitCode.USAGE)
        if not isinstance(conf, dict):
            fail("--conf must be a JSON object such as '{\"full\": true}'", ExitCode.USAGE)
    _refuse_if_read_only(read_only, f"trigger {dag_id}")
    _confirm(f"Trigger a run of {dag_id}{' with conf ' + json.dumps(conf) if conf else ''}?", yes)
    run = _with_service(airflow_url, read_only, page_size, lambda s: s.trigger(dag_id, conf))
    if as_json:
        dump(run.to_dict())
    else:
        echo(f"triggered {run.run_id} of {dag_id} ({run.state})")


def _pause_command(paused: bool) -> click.Command:
    verb = "pause" if paused else "unpause"
    summary = f"{verb.capitalize()} DAG_ID (the scheduler {'stops' if paused else 'starts'} creating its runs)."

    @click.command(verb, help=summary)
    @click.argument("dag_id")
    @click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
    @_airflow_options
    def command(dag_id: str, yes: bool, airflow_url: str | None, read_only: bool, page_size: int | None) -> None:
        _refuse_if_read_only(read_only, f"{verb} {dag_id}")
        _confirm(f"{verb.capitalize()} {dag_id}?", yes)
        dag = _with_service(airflow_url, read_only, page_size, lambda s: s.set_paused(dag_id, paused))
        echo(f"{dag_id} is now {'paused' if dag.is_paused else 'unpaused'}")

    return command


airflow_group.add_command(_pause_command(True))  # made by one factory: registered like the others
airflow_group.add_command(_pause_command(False))


@airflow_group.command("clear")
@click.argument("dag_id")
@click.argument("run_id", required=False)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@_airflow_options
def clear(
    dag_id: str, run_id: str | None, yes: bool, airflow_url: str | None, read_only: bool, page_size: int | None
) -> None:
    """Clear the failed tasks of a run of DAG_ID so they run again (default: its newest failed run)."""
    _refuse_if_read_only(read_only, f"clear {run_id or 'the newest failed run'} of {dag_id}")
    service = _service(airflow_url, read_only, page_size)
    if run_id is None:
        failed = [r for r in service.dag_runs(dag_id, limit=100) if r.state == "failed"]
        if not failed:
            fail(f"{dag_id} has no failed run among its newest 100", ExitCode.FAILED)
        run_id = failed[0].run_id
    tasks = service.clear_failed(dag_id, run_id, dry_run=True)
    if not tasks:
        fail(f"run {run_id} of {dag_id} has no failed task to clear", ExitCode.FAILED)
    _confirm(f"Clear {', '.join(tasks)} in {run_id} of {dag_id}?", yes)
    cleared = service.clear_failed(dag_id, run_id)
    echo(f"cleared {', '.join(cleared) or 'nothing'} in {run_id} of {dag_id}")


@airflow_group.command("runs")
@click.argument("dag_id")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 10_000), help="How many, newest first.")
@_airflow_options
@json_option
def dag_runs(
    dag_id: str, limit: int, airflow_url: str | None, read_only: bool, page_size: int | None, as_json: bool
) -> None:
    """The newest runs of DAG_ID."""
    found = _with_service(airflow_url, read_only, page_size, lambda s: s.dag_runs(dag_id, limit))
    if as_json:
        dump([r.to_dict() for r in found])
        return
    for r in found:
        echo(f"{_local(r.run_after)}  {r.state:<8}  {r.run_type:<18}  {r.run_id}")
    if not found:
        echo(f"{dag_id} has no runs")


@airflow_group.command("tasks")
@click.argument("dag_id")
@click.argument("run_id")
@_airflow_options
@json_option
def task_instances(
    dag_id: str, run_id: str, airflow_url: str | None, read_only: bool, page_size: int | None, as_json: bool
) -> None:
    """The task instances of RUN_ID of DAG_ID."""
    found = _with_service(airflow_url, read_only, page_size, lambda s: s.task_instances(dag_id, run_id))
    if as_json:
        dump([t.to_dict() for t in found])
        return
    for t in found:
        duration = f"{t.duration_s:.1f}s" if t.duration_s is not None else "—"
        echo(f"{t.task_id:<24}  {t.state or 'none':<16}  try {t.try_number}  {duration}")


@airflow_group.command("log")
@click.argument("dag_id")
@click.argument("run_id")
@click.argument("task_id")
@click.option("--try", "try_number", default=1, show_default=True, type=click.IntRange(1), help="Which try.")
@_airflow_options
def task_log(
    dag_id: str,
    run_id: str,
    task_id: str,
    try_number: int,
    airflow_url: str | None,
    read_only: bool,
    page_size: int | None,
) -> None:
    """The log of TASK_ID in RUN_ID of DAG_ID."""
    text = _with_service(airflow_url, read_only, page_size, lambda s: s.task_log(dag_id, run_id, task_id, try_number))
    echo(text)


COMMANDS = (runs, airflow_group)
