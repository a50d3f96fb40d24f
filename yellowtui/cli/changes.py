"""Changing streams from the command line: simulate, apply, and single-stream changes.

Every command here is a thin shell over the factory's headless core
(:mod:`factory.operations.changes.changeset`, :mod:`factory.operations.changes.plan`,
:mod:`factory.operations.changes.apply`), the same calls the dashboard makes; exit codes are
:class:`yellowtui.cli.core.ExitCode`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from yellowtui.cli.core import (
    ExitCode,
    actor_option,
    db_option,
    dry_run_option,
    json_option,
    platform_option,
    platform_slug,
    resolve_db,
)
from yellowtui.cli.live import AirflowChoice, airflow_options, wait_options
from yellowtui.cli.output import dump, fail, print_or_write, safe
from yellowtui.presenters.safe_text import visible

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from factory.errors import ChangesetConflict
    from factory.operations.changes.apply import ApplyResult
    from factory.operations.changes.changeset import Changeset
    from factory.operations.changes.plan import Plan, PlanEntry
    from yellowtui.presenters.plan_view import Line

#: Show a progress bar when at least this many streams are simulated (and stderr is a terminal).
PROGRESS_FROM = 500

_DONE = {"insert": "inserted", "update": "updated", "status": "status changed", "delete": "deleted"}


def _console(stderr: bool = False) -> Console:
    from yellowtui.cli.output import console

    return console(stderr=stderr)


def _load(files: tuple[Path, ...], platform: str | None) -> Changeset | None:
    """Load FILEs (changesets or `config export` files) and lay each over the one before."""
    from factory.operations.changes.changeset import load_changeset

    merged: Changeset | None = None
    for path in files:
        loaded = load_changeset(path, platform)
        merged = loaded if merged is None else merged.overlaid(loaded)
    return merged


# ---- printing a plan -----------------------------------------------------------------------


#: How the command line styles each role of :mod:`yellowtui.presenters.plan_view`.
_ROLE_STYLE = {
    "": "",
    "strong": "bold",
    "muted": "dim",
    "create": "green",
    "change": "yellow",
    "remove": "red",
    "fails": "bold red",
    "added": "green",
    "removed": "red",
    "changed": "yellow",
    "problem": "red",
    "warning": "yellow",
}


def _line(*parts: tuple[str, str] | str) -> Text:
    """A line of literal text (nothing from data is read as markup), with optional styles."""
    from rich.text import Text

    line = Text()
    for part in parts:
        if isinstance(part, tuple):
            line.append(visible(safe(part[0])), style=part[1])
        else:
            line.append(visible(safe(part)))
    return line


def _text(line: Line) -> Text:
    """A presenter line as Rich text: literal, styled by role."""
    from rich.text import Text

    text = Text()
    for span in line:
        text.append(visible(safe(span.text)), style=_ROLE_STYLE[span.role])
    return text


def _entry_lines(entry: PlanEntry) -> Iterator[Text]:
    from yellowtui.presenters.plan_view import entry_lines

    for line in entry_lines(entry):
        yield _text(line)


def _print_plan(plan: Plan, console: Console, *, header: str) -> None:
    console.print(_line(header))
    shown = plan.changes
    if shown:
        console.print()
    for entry in shown:
        for line in _entry_lines(entry):
            console.print(line)
    console.print()
    style = "bold red" if not plan.builds else "bold"
    console.print(_line((plan.summary(), style)))


def _print_conflict(exc: ChangesetConflict, console: Console) -> None:
    from yellowtui.presenters.plan_view import conflict_lines

    console.print(_line(("conflict: ", "bold red"), str(exc)))
    for c in exc.conflicts:
        for line in conflict_lines(c):
            console.print(_text(line))
    console.print(_line("nothing was written; reload or re-export, review, and apply again (or --force)"))


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


# ---- running a changeset ------------------------------------------------------------------------


def _apply(
    db_url: str | None,
    changeset: Changeset,
    *,
    actor: str | None,
    dry_run: bool,
    force: bool,
    as_json: bool,
    source: str,
    live: LiveOptions | None = None,
) -> NoReturn:
    """Apply (or dry-run) ``changeset``, print the outcome, exit with the documented code.

    Once written, a parse of each factory file holding a changed stream is requested, and with
    ``--wait-live`` the command waits for them (:mod:`yellowtui.cli.live`; its exit codes)."""
    from factory.errors import ChangesetConflict
    from factory.operations.changes.apply import apply_changeset

    url = resolve_db(db_url)
    if live is not None and live.wait_live and not dry_run:
        live.airflow.service(required=True)  # no Airflow to wait for: say so before writing anything
    try:
        result = apply_changeset(url, changeset, actor=actor, force=force, dry_run=dry_run)
    except ChangesetConflict as exc:
        if as_json:
            dump(exc.to_dict())
        else:
            _print_conflict(exc, _console(stderr=True))
        sys.exit(ExitCode.CONFLICT)
    code, after, lines = ExitCode.OK, dict[str, Any](), list[str]()
    if not result.dry_run and live is not None:
        from yellowtui.cli.live import after_apply

        code, after, lines = after_apply(
            url,
            result.platform,
            result.written,
            live.airflow,
            wait_live=live.wait_live,
            timeout_s=live.timeout_s,
            as_json=as_json,
        )
    if as_json:
        dump({"ok": True, "source": source, **result.to_dict(), **after})
        sys.exit(code)
    console = _console()
    _print_plan(result.plan, console, header=f"{result.platform}: changes from {source}")
    console.print(_line(_applied(result)))
    for line in lines:
        console.print(_line(line))
    sys.exit(code)


def _applied(result: ApplyResult) -> str:
    counts: dict[str, int] = {}
    for op in result.written.values():
        counts[_DONE[str(op)]] = counts.get(_DONE[str(op)], 0) + 1
    done = ", ".join(f"{n} {op}" for op, n in sorted(counts.items())) or "no row changes"
    forced = f"; forced over {len(result.forced)} stale base(s)" if result.forced else ""
    if result.dry_run:
        return f"Dry run: would write {done}{forced}; nothing was written."
    return f"Applied as {result.actor}: {done}{forced}."


@dataclass(frozen=True)
class LiveOptions:
    """What to do in Airflow after an apply: where it is, read-only, and whether to wait."""

    airflow: AirflowChoice
    wait_live: bool = False
    timeout_s: float = 120.0


def _live_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--airflow``, ``--read-only``, ``--wait-live`` and ``--timeout``, gathered into ``live``."""
    import functools

    @functools.wraps(f)
    def wrapper(
        *args: Any, airflow_url: str | None, read_only: bool, wait_live: bool, timeout_s: float, **kwargs: Any
    ) -> Any:
        live = LiveOptions(AirflowChoice(airflow_url, read_only), wait_live, timeout_s)
        return f(*args, live=live, **kwargs)

    return airflow_options(wait_options(wrapper))


# ---- commands -----------------------------------------------------------------------------------


@click.command()
@db_option
@platform_option(help="The platform to simulate.")
@click.option(
    "--with",
    "with_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A changeset or `config export` file to lay over the rows (repeatable; later files win).",
)
@click.option("--all", "all_entries", is_flag=True, help="With --json, list unchanged streams too.")
@json_option
def simulate(db_url: str | None, platform: str, with_files: tuple[Path, ...], all_entries: bool, as_json: bool) -> None:
    """Build every active row offline, with the changes in FILEs laid over them, and print the plan.

    Uses the factory's own validation and builder, as Airflow will. Writes nothing.
    Exit 0 when everything builds, 1 when anything would fail to build, 2 on usage or
    connection errors.
    """
    from factory.db import get_engine, reachable, redact
    from factory.operations.changes.plan import simulate as run_simulation
    from factory.store import list_platforms

    url = resolve_db(db_url)
    slug = platform_slug(platform)
    changeset = _load(with_files, slug)
    with reachable(redact(url)), get_engine(url).connect() as conn:
        if slug not in list_platforms(conn):
            fail(f"platform {slug!r} has no table in {redact(url)}", ExitCode.USAGE)
        with _progress(enabled=not as_json) as progress:
            plan = run_simulation(conn, slug, changeset, progress=progress)
    if as_json:
        dump({**plan.to_dict(all_entries=all_entries), "with": [str(f) for f in with_files]})
    else:
        source = f" with {', '.join(str(f) for f in with_files)}" if with_files else ""
        active = sum(1 for e in plan.entries if e.old_status == "active" or e.new_status == "active")
        _print_plan(
            plan,
            _console(),
            header=f"{slug}: {active} stream(s) simulated{source} in {plan.total_ms / 1000:.1f} s",
        )
    sys.exit(ExitCode.OK if plan.builds else ExitCode.FAILED)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr for long simulations; nothing when piped or with --json."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("building DAGs"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=_console(stderr=True),
        transient=True,
    )
    task = bar.add_task("build", total=None)

    def update(done: int, total: int) -> None:
        if total >= PROGRESS_FROM:
            if not bar.live.is_started:
                bar.start()
            bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if bar.live.is_started:
            bar.stop()


@click.command("apply")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@db_option
@platform_option(required=False, help="The platform (default: the one the file names).")
@actor_option
@dry_run_option
@click.option("--force", is_flag=True, help="Write even where a row changed since the file was based on it.")
@_live_options
@json_option
def apply_command(
    file: Path,
    db_url: str | None,
    platform: str | None,
    actor: str | None,
    dry_run: bool,
    force: bool,
    as_json: bool,
    live: LiveOptions,
) -> None:
    """Apply a changeset or `config export` FILE in one transaction: all of it, or nothing.

    Each change is checked against what it was based on (an export's rows: their updated_at);
    if any row changed underneath, nothing is written and the command exits 3 naming the
    streams (--force writes anyway). Rows absent from an export are left alone. Exit 1 when a
    change would not validate or build.

    Then asks Airflow to parse the factory files of the changed streams (not with --read-only;
    a refused request does not fail the apply). --wait-live waits until they are live:
    exit 0 live, 1 failed to build, 5 not live in time, 2 Airflow unreachable.
    """
    changeset = _load((file,), platform)
    assert changeset is not None
    _apply(db_url, changeset, actor=actor, dry_run=dry_run, force=force, as_json=as_json, source=str(file), live=live)


@click.command("schema")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout."
)
def changeset_schema(output: Path | None) -> None:
    """Print the JSON Schema of a changeset file (for editors and CI)."""
    from factory.operations.changes.changeset import changeset_json_schema

    print_or_write(json.dumps(changeset_json_schema(), indent=2), output)


@click.group("changeset")
def changeset_group() -> None:
    """The changeset file format (see docs/changes.md)."""


changeset_group.add_command(changeset_schema)


# ---- single-stream changes ---------------------------------------------------------------------


def _current_row(db_url: str | None, platform: str, stream_key: str) -> tuple[str, str, Any]:
    """(url, slug, the stream's row or None), read now: the base of a single-stream change."""
    from factory.db import get_engine, reachable, redact
    from factory.store import list_platforms, read_row

    url = resolve_db(db_url)
    slug = platform_slug(platform)
    with reachable(redact(url)), get_engine(url).connect() as conn:
        if slug not in list_platforms(conn):
            fail(f"platform {slug!r} has no table in {redact(url)}", ExitCode.USAGE)
        return url, slug, read_row(conn, slug, stream_key)


def _set_path(data: Any, path: str, value: Any, where: str) -> None:
    """Set ``value`` at a JSON path such as ``schedule``, ``$.job_resources.cpu_limit`` or ``datasets[1]``."""
    import re

    parts = [p for p in re.split(r"\.|(\[\d+\])", path.removeprefix("$").lstrip(".")) if p]
    if not parts:
        fail(f"{where}: empty path", ExitCode.USAGE)
    target = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        index = int(part[1:-1]) if part.startswith("[") else None
        if index is not None:
            if not isinstance(target, list) or not -len(target) <= index <= len(target):
                fail(f"{where}: {path!r}: no list index {index} there", ExitCode.FAILED)
            if last:
                if index == len(target):
                    target.append(value)
                else:
                    target[index] = value
                return
            target = target[index]
        else:
            if not isinstance(target, dict):
                fail(f"{where}: {path!r}: {part!r} is not inside an object", ExitCode.FAILED)
            if last:
                target[part] = value
                return
            target = target.setdefault(part, {})


def _field_value(text: str) -> Any:
    """JSON when it parses (numbers, true, null, lists, quoted strings), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@click.command("set")
@click.argument("stream_key")
@db_option
@platform_option(help="The stream's platform.")
@click.option(
    "--file",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A JSON file holding the stream's whole config (creates the stream if it is new).",
)
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="PATH=VALUE",
    help="Set one field of the stored config, e.g. schedule=@daily, job_resources.cpu_limit=2, datasets[0]=orders "
    "(VALUE is JSON when it parses, else text; repeatable).",
)
@actor_option
@dry_run_option
@_live_options
@json_option
def config_set(
    stream_key: str,
    db_url: str | None,
    platform: str,
    config_file: Path | None,
    fields: tuple[str, ...],
    actor: str | None,
    dry_run: bool,
    as_json: bool,
    live: LiveOptions,
) -> None:
    """Replace STREAM_KEY's config from --file, or change some of its fields with --field.

    A one-change changeset, based on the row as read now: validated and built by the factory's
    builder before anything is written, and conflict-checked like `yellowtui apply`.
    """
    from factory.operations.changes.changeset import edit_of, new_changeset

    if (config_file is None) == (not fields):
        fail("give either --file F or one or more --field PATH=VALUE", ExitCode.USAGE)
    url, slug, row = _current_row(db_url, platform, stream_key)
    if config_file is not None:
        try:
            config: Any = json.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"{config_file}: cannot read the file: {exc}", ExitCode.FAILED)
        except ValueError as exc:
            fail(f"{config_file}: not valid JSON: {exc}", ExitCode.FAILED)
        if not isinstance(config, dict):
            fail(f"{config_file}: must hold the stream's config as a JSON object", ExitCode.FAILED)
        source = str(config_file)
    else:
        if row is None:
            fail(f"no stream {stream_key!r} on platform {slug}; create it with --file", ExitCode.FAILED)
        config = _json_or_text(row.config_json)
        if not isinstance(config, dict):
            fail(
                f"stream {stream_key!r}: the stored config is not a JSON object; replace it with --file",
                ExitCode.FAILED,
            )
        for item in fields:
            path, sep, value = item.partition("=")
            if not sep or not path:
                fail(f"--field {item!r}: expected PATH=VALUE", ExitCode.USAGE)
            _set_path(config, path.strip(), _field_value(value), f"--field {item!r}")
        source = "--field " + " ".join(fields)
    changeset = new_changeset(slug, [edit_of(row, stream_key, config)], created_by=actor)
    _apply(url, changeset, actor=actor, dry_run=dry_run, force=False, as_json=as_json, source=source, live=live)


def _status_command(name: str, status: str | None, summary: str) -> click.Command:
    """``config pause|resume|retire|delete KEY``: a one-change changeset based on the row as read now."""

    @click.command(name, help=summary)
    @click.argument("stream_key")
    @db_option
    @platform_option(help="The stream's platform.")
    @actor_option
    @dry_run_option
    @_live_options
    @json_option
    def command(
        stream_key: str,
        db_url: str | None,
        platform: str,
        actor: str | None,
        dry_run: bool,
        as_json: bool,
        live: LiveOptions,
    ) -> None:
        from factory.operations.changes.changeset import ChangeBase, Delete, SetStatus, new_changeset

        url, slug, row = _current_row(db_url, platform, stream_key)
        if row is None:
            fail(f"no stream {stream_key!r} on platform {slug}; nothing to {name}", ExitCode.FAILED)
        base = ChangeBase.of(row)
        change = (
            Delete(stream_key=stream_key, base=base)
            if status is None
            else SetStatus(stream_key=stream_key, status=status, base=base)  # type: ignore[arg-type]
        )
        changeset = new_changeset(slug, [change], created_by=actor)
        _apply(
            url,
            changeset,
            actor=actor,
            dry_run=dry_run,
            force=False,
            as_json=as_json,
            source=f"config {name}",
            live=live,
        )

    return command


STATUS_COMMANDS = (
    _status_command("pause", "paused", "Pause STREAM_KEY: its row stays, its DAG goes until it is resumed."),
    _status_command("resume", "active", "Resume STREAM_KEY: make it active so its DAG is built again."),
    _status_command("retire", "retired", "Retire STREAM_KEY: no longer wanted; its row and history stay."),
    _status_command("delete", None, "Delete STREAM_KEY's row (the history table keeps what it held)."),
)


#: Top-level commands of this module; ``config set|pause|resume|retire|delete`` join the config group.
COMMANDS = (simulate, apply_command, changeset_group)
CONFIG_COMMANDS = (config_set, *STATUS_COMMANDS)
