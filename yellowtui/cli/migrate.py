"""``yellowtui migrate`` (extract, compare, cutover, rollback, normalize): thin shells over
:mod:`factory.operations.migration.migrate`, :mod:`factory.operations.migration.cutover` and
:mod:`factory.operations.migration.normalize`.

Exit codes (:class:`yellowtui.cli.core.ExitCode`): 0 done, 1 a difference, an unmapped file or a
refused stream, 2 usage or connection error, 3 a row changed underneath (nothing written).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from factory.db import DEFAULT_CONN_ID
from yellowtui.cli.core import (
    ExitCode,
    UnknownPlatformOption,
    actor_option,
    db_option,
    dry_run_option,
    json_option,
    platform_option,
    platform_slug,
    resolve_db,
)
from yellowtui.cli.output import dump, echo, fail, secho
from yellowtui.presenters.safe_text import visible as _visible


@contextmanager
def _airflow_logs_to_stderr() -> Iterator[None]:
    """Airflow logs a line per file its DagBag parses, to stdout: while it parses, send that to
    stderr, so stdout holds only what the command prints (JSON stays parseable)."""
    import contextlib

    os.environ.setdefault("AIRFLOW__LOGGING__NAMESPACE_LEVELS", "airflow.dag_processing=WARNING")
    with contextlib.redirect_stdout(sys.stderr):
        yield


def _rows(db_url: str, platform: str) -> tuple[list[Any], Any]:
    from factory import store
    from factory.db import get_engine, reachable, redact
    from factory.policy import read_policy

    with reachable(redact(db_url)), get_engine(db_url).connect() as conn:
        if platform not in store.list_platforms(conn):
            raise UnknownPlatformOption(f"platform {platform!r} has no config table in {redact(db_url)}")
        return store.read_rows(conn, platform), read_policy(conn, platform)


# ---- migrate ------------------------------------------------------------------------------------


@click.group("migrate")
def migrate_group() -> None:
    """Move a platform from the legacy static files to the factory, and back (docs/migration.md).

    \b
    yellowtui migrate extract DAGS --platform P -o rows.json   # static files -> rows
    yellowtui config import rows.json --platform P              # rows land paused
    yellowtui migrate compare DAGS --platform P                 # every stream identical?
    yellowtui migrate cutover --platform P --dags-folder DAGS   # static files -> factory
    yellowtui migrate rollback --platform P --dags-folder DAGS  # factory -> static files
    yellowtui migrate normalize --platform P                    # DataSurface's rows -> the factory's form
    """


def _accept_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--accept",
        "accept",
        default="",
        metavar="NAMES",
        help="Intended differences to accept, comma-separated (e.g. result-code,default-args,tags); "
        "`yellowtui migrate compare --help` lists them. Drift is never accepted.",
    )(f)


def _accepted(value: str) -> list[str]:
    """The names given to --accept, each checked: an unknown name, or drift, is a usage error."""
    from factory.operations.migration.intended import DRIFT, INTENDED

    chosen = [n.strip() for n in value.split(",") if n.strip()]
    for name in chosen:
        if name in DRIFT:
            fail(f"--accept {name}: {name} is drift (what the job runs differs), never an intended difference")
        if name not in INTENDED:
            fail(f"--accept {name}: unknown; the intended differences are {', '.join(INTENDED)}")
    return chosen


def _given_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Where the fields a static file does not carry come from
    (factory.operations.migration.migrate_given)."""
    for name, flag, kind, text in reversed(
        [
            (
                "ecosystem",
                "--ecosystem",
                click.Path(exists=True, dir_okay=False),
                "Ecosystem file whose platform gives "
                "the fields the files lack (postgres host, port, database; July 2025 files also datasets, ingestion type).",
            ),
            ("postgres_host", "--postgres-host", str, "Merge database host (overrides the ecosystem file)."),
            ("postgres_port", "--postgres-port", click.IntRange(1, 65535), "Merge database port."),
            ("postgres_database", "--postgres-database", str, "Merge database name."),
            ("git_repo_url", "--git-repo-url", str, "https://github.com/OWNER/NAME, for files that do not name it."),
            ("git_repo_branch", "--git-repo-branch", str, "The model's branch, for files that do not name it."),
            (
                "ingestion_type",
                "--ingestion-type",
                click.Choice(["sql_source", "kafka"]),
                "For files that do not "
                "record it (July 2025); a Kafka Connect or SQL source credential in the file says it otherwise.",
            ),
        ]
    ):
        f = click.option(flag, name, type=kind, default=None, help=text)(f)
    return f


@migrate_group.command("extract")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@platform_option()
@db_option
@_given_options
@click.option(
    "--status",
    type=click.Choice(["paused", "active"]),
    default="paused",
    show_default=True,
    help="Status of the rows (paused: importing them changes nothing until cutover).",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the rows to FILE.")
@json_option
def migrate_extract(
    folder: Path,
    platform: str,
    db_url: str | None,
    ecosystem: str | None,
    status: str,
    output: Path | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Read the platform's static DAG files in FOLDER through Airflow and write the config rows
    they imply, in the `config export` format (`config import` and `apply` read it).

    Reads our own static files (bootstrap --static) and those DataSurface rendered in July 2025.
    Every field comes from the file where the file has it; the postgres host, port and database
    (in no static file) and what July's files lack come from --ecosystem FILE or the flags, never
    guessed: "fields_from" in the output says where each came from, and a field found nowhere is
    the file's reason in the list of unmapped files.

    A row is written only when the factory, given it, runs the same job (our files: exactly the
    same DAG; DataSurface's: only intended differences, listed by name under "intended"). Job
    settings a file needs (e.g. July's secret keys username/password => secret_keys: plain) are
    under "job". With --db, rows and job settings are checked against the platform's stored policy.

    \b
    yellowtui migrate extract DAGS -p yellowlive --ecosystem eco.yaml -o rows.json
    yellowtui migrate extract DAGS -p yellowlive --postgres-host pg --postgres-port 5432 \\
        --postgres-database merge --ingestion-type sql_source
    """
    from factory.operations.migration.migrate import extract
    from factory.operations.migration.migrate_given import given_from

    slug = platform_slug(platform)
    names = {"postgres_host": "postgres_hostname", "postgres_port": "postgres_port"}
    given = given_from(ecosystem, slug, {names.get(k, k): v for k, v in flags.items()})
    policy = _rows(resolve_db(db_url), slug)[1] if db_url else None
    with _airflow_logs_to_stderr():
        result = extract(folder, slug, status=status, policy=policy, given=given)
    document = result.to_export()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is not None:
        from factory.files import write_atomic

        write_atomic(output, text)
    if as_json:
        dump({**document, "output": str(output) if output else None}) if output else echo(text, nl=False)
    else:
        if output is None:
            echo(text, nl=False)
        for item in result.unmapped:
            echo(f"UNMAPPED {_visible(item.file)}: {_visible(item.reason)}", err=True)
        _print_sources(result)
        echo(
            f"{slug}: {result.files_read} static file(s) read, {len(result.rows)} row(s) extracted, "
            f"{len(result.unmapped)} unmapped" + (f"; wrote {output}" if output else ""),
            err=True,
        )
    sys.exit(ExitCode.OK if not result.unmapped else ExitCode.FAILED)


def _print_sources(result: Any) -> None:
    """Where the rows' fields came from, field by field, and the job settings they need."""
    sources: dict[str, set[str]] = {}
    for fields in result.fields_from.values():
        for name, where in fields.items():
            sources.setdefault(name, set()).add(where)
    not_file = {k: v for k, v in sorted(sources.items()) if v != {"file"}}
    if not_file:
        echo("fields not read from the files' job as such:", err=True)
        for name, where in not_file.items():
            echo(f"  {name}: {_visible(', '.join(sorted(where)))}", err=True)
    if result.job is not None:
        shown = ", ".join(f"{k}={v}" for k, v in result.job.items() if v is not None)
        echo(f"job settings: {shown} (from {_visible(result.job_from or '')})", err=True)
    intended = sorted({n for names in result.intended.values() for n in names})
    if intended:
        echo(f"intended differences (accept at cutover): {','.join(intended)}", err=True)


@migrate_group.command("compare")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@platform_option()
@db_option
@click.option("--streams", "-s", multiple=True, help="Only these stream keys (repeatable).")
@_accept_option
@json_option
def migrate_compare(
    folder: Path, platform: str, db_url: str | None, streams: tuple[str, ...], accept: str, as_json: bool
) -> None:
    """Each stream's static DAG in FOLDER against the DAG the factory builds from its row, through
    Airflow's serializer: a verdict per stream and every difference, each named.

    \b
    Verdicts: identical, intended (a DataSurface static file differing only in the ways below),
    different (drift: arguments, image, command, namespace, schedule, credentials, environment,
    shape, other), no-row, invalid-row, no-static-file, unreadable.

    \b
    Intended differences (names for --accept here and at cutover):
      result-code      July read the result from the task's log file; the factory reads the
                       DATASURFACE_RESULT_CODE line through pods/log (do_xcom_push=False)
      default-args     owner datasurface, email_on_failure, retry_delay, ... against owner yellow
      tags             ['datasurface','ingestion',P,S] against ['yellow',P,ingestion_type]
      description      DataSurface's against the factory's text
      max-active-runs  Airflow's default 16 against 1
      slack-channel    the literal DATASURFACE_SLACK_CHANNEL (the job does not read it)
      platform-env     DATASURFACE_PLATFORM_NAME: the dag_id's platform against the original name
      resources        requests only against requests and limits (256Mi/100m by default)
      pod-settings     pod name, labels, the empty git-workspace volume, priority weight
      reschedule-conf  conf {'triggered_by': 'reschedule'} on the reschedule trigger
      order            order of arguments or environment variables

    Exit 0 when every stream is identical or differs only in intended ways named by --accept;
    1 otherwise. --json for scripts: per stream "intended", "drift" and "named" (each difference
    with its name, where, and both values).
    """
    from factory.operations.migration.migrate import compare

    chosen = _accepted(accept)
    slug = platform_slug(platform)
    url = resolve_db(db_url)
    rows, policy = _rows(url, slug)
    with _airflow_logs_to_stderr():
        result = compare(folder, slug, rows, policy=policy, streams=list(streams) or None)
    if as_json:
        dump(result.to_dict())
    else:
        for v in result.verdicts:
            mark = "=" if v.identical else "~" if v.accepted(chosen) else "≠"
            echo(f"{mark} {_visible(v.stream_key)}  {v.verdict}" + (f"  {_visible(v.file)}" if v.file else ""))
            if v.named and not v.drift:
                echo(f"    intended: {', '.join(v.intended)}")
            elif v.differences:
                if v.drift:
                    echo(
                        f"    drift: {', '.join(v.drift)}"
                        + (f"; intended: {', '.join(v.intended)}" if v.intended else "")
                    )
                for arg in v.differences.get("dag", []):
                    echo(
                        f"    dag.{_visible(arg['name'])}: {_visible(repr(arg['old']))} -> {_visible(repr(arg['new']))}"
                    )
                for task in v.differences.get("tasks", []):
                    echo(f"    task {_visible(task['task_id'])} {task['kind']}")
                    for arg in task["args"]:
                        echo(
                            f"      {_visible(arg['name'])}: {_visible(repr(arg['old']))} -> {_visible(repr(arg['new']))}"
                        )
            elif v.detail and not v.identical:
                echo(f"    {_visible(v.detail)}")
        counts = ", ".join(f"{n} {k}" for k, n in result.counts().items()) or "no streams"
        echo(f"{slug}: {counts}")
    sys.exit(ExitCode.OK if result.accepted(chosen) and result.verdicts else ExitCode.FAILED)


def _folders(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--backup-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where static files are moved (default: <dags folder>.yellow-backup/<platform>, beside it).",
    )(f)
    return click.option(
        "--dags-folder",
        required=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Airflow's dags folder holding the platform's files.",
    )(f)


def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        dump(report.to_dict())
        return
    if report.resumed:
        echo(f"resuming an unfinished {report.operation}")
    for step in report.steps:
        echo(f"  {_visible(step)}")
    for key, names in sorted(getattr(report, "accepted", {}).items()):
        echo(f"  accepted for {_visible(key)}: {', '.join(names)}")
    for key, reason in sorted(report.refused.items()):
        secho(f"REFUSED {_visible(key)}: {_visible(reason)}", fg="red", err=True)
    verb = "moved to the factory" if report.operation == "cutover" else "given back to static files"
    echo(
        f"{report.platform}: {len(report.streams)} stream(s) {verb}, {len(report.refused)} refused"
        f"{'' if report.steps else ' (nothing left to do)'}; backup folder {report.backup_dir}"
    )


@migrate_group.command("cutover")
@platform_option()
@click.option("--streams", "-s", multiple=True, help="Only these stream keys (default: every static file with a row).")
@_folders
@db_option
@click.option("--conn-id", default=DEFAULT_CONN_ID, show_default=True, help="Connection id in the factory file.")
@actor_option
@click.option(
    "--allow-different", is_flag=True, help="Also cut over streams whose static DAG differs from the factory's."
)
@_accept_option
@json_option
def migrate_cutover(
    platform: str,
    streams: tuple[str, ...],
    dags_folder: Path,
    backup_dir: Path | None,
    db_url: str | None,
    conn_id: str,
    actor: str | None,
    allow_different: bool,
    accept: str,
    as_json: bool,
) -> None:
    """Activate the rows, render the factory file, move the static files to the backup folder.

    dag_ids stay the same, so run history continues. At no moment do two files define one
    dag_id: the factory skips a stream while its static file is still in the dags folder.
    Idempotent; after a crash, run it again to finish.

    A stream is refused when its static DAG differs from the factory's: drift always (unless
    --allow-different), and a DataSurface static file's intended differences unless each is named
    in --accept (e.g. --accept result-code,default-args,tags; see `migrate compare --help`).
    """
    from factory.operations.migration.cutover import cutover

    chosen = _accepted(accept)
    slug = platform_slug(platform)
    url = resolve_db(db_url)
    with _airflow_logs_to_stderr():
        report = cutover(
            url,
            slug,
            dags_folder,
            streams=list(streams) or None,
            backup_dir=backup_dir,
            conn_id=conn_id,
            actor=actor,
            allow_different=allow_different,
            accept=chosen,
        )
    _print_report(report, as_json)
    sys.exit(ExitCode.OK if report.ok else ExitCode.FAILED)


@migrate_group.command("rollback")
@platform_option()
@click.option("--streams", "-s", multiple=True, help="Only these stream keys (default: every active row).")
@_folders
@db_option
@actor_option
@json_option
def migrate_rollback(
    platform: str,
    streams: tuple[str, ...],
    dags_folder: Path,
    backup_dir: Path | None,
    db_url: str | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """Render the static files back from the rows (byte for byte what the legacy template makes),
    then pause those rows; with no active row left, the factory file goes to the backup folder.

    Idempotent; after a crash, run it again to finish.
    """
    from factory.operations.migration.cutover import rollback

    slug = platform_slug(platform)
    url = resolve_db(db_url)
    report = rollback(url, slug, dags_folder, streams=list(streams) or None, backup_dir=backup_dir, actor=actor)
    _print_report(report, as_json)
    sys.exit(ExitCode.OK if report.ok else ExitCode.FAILED)


@migrate_group.command("normalize")
@platform_option()
@db_option
@actor_option
@dry_run_option
@json_option
def migrate_normalize(platform: str, db_url: str | None, actor: str | None, dry_run: bool, as_json: bool) -> None:
    """Rewrite the rows DataSurface wrote (its own JSON) in the factory's canonical form.

    \b
    yellowtui migrate normalize --platform P --dry-run   # the plan: each row's renamed and dropped keys
    yellowtui migrate normalize --platform P             # the plan, then one conflict-checked transaction

    Such rows already build as they are; the rewrite changes only their text, and every DAG stays
    exactly the same (the plan checks it, else nothing is written). A row that does not validate
    is left as it is and listed (exit 1). A row changed since it was read: nothing is written,
    exit 3. DataSurface rewrites the whole table each time it runs: normalize once it no longer
    does (docs/migration.md).
    """
    from factory.db import get_engine, reachable, redact
    from factory.errors import ChangesetConflict
    from factory.operations.migration.normalize import apply_normalize, plan_normalize
    from factory.store import list_platforms

    slug = platform_slug(platform)
    url = resolve_db(db_url)
    applied = None
    with reachable(redact(url)), get_engine(url).connect() as conn:
        if slug not in list_platforms(conn):
            raise UnknownPlatformOption(f"platform {slug!r} has no config table in {redact(url)}")
        result = plan_normalize(conn, slug, actor=actor)
    if not as_json:
        _print_normalization(result)
    if result.changeset.changes and result.dags_unchanged and not dry_run:
        try:
            applied = apply_normalize(url, result, actor=actor)
        except ChangesetConflict as exc:
            if as_json:
                dump({**exc.to_dict(), "normalize": result.to_dict()})
            fail(f"{exc}; nothing was written: run the same command again", ExitCode.CONFLICT)
    done = ExitCode.OK if result.dags_unchanged and not result.left else ExitCode.FAILED
    if as_json:
        written = {k: str(v) for k, v in applied.written.items()} if applied else {}
        dump({"ok": done == ExitCode.OK, "dry_run": dry_run, "written": written, **result.to_dict()})
    elif not result.dags_unchanged:
        secho("REFUSED: a rewrite would change a DAG (see the plan); nothing was written", fg="red", err=True)
    elif applied is not None:
        echo(f"Applied as {applied.actor}: {len(applied.written)} row(s) rewritten.")
    elif result.changeset.changes:
        echo(f"Dry run: would rewrite {len(result.changeset.changes)} row(s); nothing was written.")
    sys.exit(done)


def _print_normalization(result: Any) -> None:
    """Each rewrite with its renamed and dropped keys, each row left as it is, then the plan's summary."""
    entries = {e.stream_key: e for e in result.plan.entries}
    echo(
        f"{result.platform}: {len(result.rewrites)} row(s) in DataSurface's form to rewrite, "
        f"{len(result.left)} that do not validate, {result.other} other row(s) left alone"
    )
    for r in result.rewrites:
        entry = entries.get(r.stream_key)
        same = entry is not None and entry.action.value == "unchanged" and not entry.problems
        verdict = "DAG unchanged" if same else f"DAG {entry.action.value if entry else 'unknown'}"
        echo(f"~ {_visible(r.stream_key)} ({_visible(r.status)}): {verdict}")
        for old, new in r.renamed.items():
            echo(f"    {old} -> {new}")
        if r.dropped:
            echo(f"    dropped: {_visible(', '.join(r.dropped))}")
    for key, problems in result.left.items():
        secho(f"! {_visible(key)}: does not validate; left as it is", fg="red")
        for p in problems:
            secho(f"    {_visible(p.path)}: {_visible(p.message)}", fg="red")
    echo(result.plan.summary())


COMMANDS = (migrate_group,)
