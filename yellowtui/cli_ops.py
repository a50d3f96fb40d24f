"""Operations from the command line: ``migrate`` (extract, compare, cutover, rollback, normalize),
``health`` and ``platform drop``. Thin shells over :mod:`factory.migrate`,
:mod:`factory.cutover`, :mod:`factory.normalize`, :mod:`factory.health` and :mod:`factory.drop`.

Exit codes: ``migrate`` and ``platform drop`` 0 done, 1 a difference, an unmapped file or a
refused stream, 2 usage or connection error, 3 a row changed underneath (nothing written).
``health`` 0 ok, 1 warning, 2 critical, 3 unknown (it could not run: a usage error).

:func:`register` adds the commands to the main group (two lines at the end of ``cli.py``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from factory.db import DB_URL_ENV, DEFAULT_CONN_ID
from yellowtui.cli_text import db_option as _db_option
from yellowtui.cli_text import dump as _dump
from yellowtui.cli_text import fail as _fail
from yellowtui.cli_text import json_option as _json_option
from yellowtui.presenters.safe_text import visible as _visible

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
EXIT_OK, EXIT_DIFFERENT, EXIT_USAGE, EXIT_CONFLICT = 0, 1, 2, 3
HEALTH_UNKNOWN = 3


def _platform_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--platform", "-p", required=True, help="The platform, e.g. yellowlive.")(f)


def _require_db(db_url: str | None, code: int = EXIT_USAGE) -> str:
    if not db_url:
        _fail(f"no config database: pass --db URL or set {DB_URL_ENV}", code)
    from factory.db import normalize_url

    return normalize_url(db_url)


def _slug(platform: str, code: int = EXIT_USAGE) -> str:
    from factory.errors import InvalidNameError
    from factory.names import platform_slug

    try:
        return platform_slug(platform)
    except InvalidNameError as exc:
        _fail(str(exc), code)


@contextmanager
def _airflow_logs_to_stderr() -> Iterator[None]:
    """Airflow logs a line per file its DagBag parses, to stdout: while it parses, send that to
    stderr, so stdout holds only what the command prints (JSON stays parseable)."""
    import contextlib

    os.environ.setdefault("AIRFLOW__LOGGING__NAMESPACE_LEVELS", "airflow.dag_processing=WARNING")
    with contextlib.redirect_stdout(sys.stderr):
        yield


@contextmanager
def _exit_codes(as_json: bool) -> Iterator[None]:
    """The factory's deliberate errors as one line (and, with --json, an object on stdout)."""
    from factory.errors import (
        ChangesetConflict,
        ConcurrentChangeError,
        DatabaseUnavailable,
        DatabaseURLError,
        DropError,
        FactoryError,
        MigrationError,
        UnknownPlatformError,
    )

    def fail(exc: Exception, kind: str, code: int) -> NoReturn:
        if as_json:
            _dump({"ok": False, "error": kind, "message": str(exc)})
        _fail(str(exc), code)

    try:
        yield
    except (DatabaseUnavailable, DatabaseURLError) as exc:
        fail(exc, "connection", EXIT_USAGE)
    except UnknownPlatformError as exc:
        fail(exc, "unknown-platform", EXIT_USAGE)
    except (ChangesetConflict, ConcurrentChangeError) as exc:
        fail(exc, "conflict", EXIT_CONFLICT)
    except (MigrationError, DropError) as exc:
        fail(exc, "refused", EXIT_DIFFERENT)
    except FactoryError as exc:
        fail(exc, "error", EXIT_DIFFERENT)


def _rows(db_url: str, platform: str) -> tuple[list[Any], Any]:
    from factory import store
    from factory.apply import reachable
    from factory.db import get_engine, redact
    from factory.errors import UnknownPlatformError
    from factory.policy import read_policy

    with reachable(redact(db_url)), get_engine(db_url).connect() as conn:
        if platform not in store.list_platforms(conn):
            raise UnknownPlatformError(f"platform {platform!r} has no config table in {redact(db_url)}")
        return store.read_rows(conn, platform), read_policy(conn, platform)


# ---- migrate ------------------------------------------------------------------------------------


@click.group("migrate", context_settings=CONTEXT)
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
    from factory.intended import DRIFT, INTENDED

    chosen = [n.strip() for n in value.split(",") if n.strip()]
    for name in chosen:
        if name in DRIFT:
            _fail(f"--accept {name}: {name} is drift (what the job runs differs), never an intended difference")
        if name not in INTENDED:
            _fail(f"--accept {name}: unknown; the intended differences are {', '.join(INTENDED)}")
    return chosen


def _given_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Where the fields a static file does not carry come from (factory.migrate_given)."""
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


@migrate_group.command("extract", context_settings=CONTEXT)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_platform_option
@_db_option
@_given_options
@click.option(
    "--status",
    type=click.Choice(["paused", "active"]),
    default="paused",
    show_default=True,
    help="Status of the rows (paused: importing them changes nothing until cutover).",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the rows to FILE.")
@_json_option
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
    from factory.migrate import extract
    from factory.migrate_given import given_from

    slug = _slug(platform)
    names = {"postgres_host": "postgres_hostname", "postgres_port": "postgres_port"}
    with _exit_codes(as_json):
        given = given_from(ecosystem, slug, {names.get(k, k): v for k, v in flags.items()})
        policy = _rows(_require_db(db_url), slug)[1] if db_url else None
        with _airflow_logs_to_stderr():
            result = extract(folder, slug, status=status, policy=policy, given=given)
    document = result.to_export()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is not None:
        from factory.files import write_atomic

        write_atomic(output, text)
    if as_json:
        _dump({**document, "output": str(output) if output else None}) if output else click.echo(text, nl=False)
    else:
        if output is None:
            click.echo(text, nl=False)
        for item in result.unmapped:
            click.echo(f"UNMAPPED {_visible(item.file)}: {_visible(item.reason)}", err=True)
        _print_sources(result)
        click.echo(
            f"{slug}: {result.files_read} static file(s) read, {len(result.rows)} row(s) extracted, "
            f"{len(result.unmapped)} unmapped" + (f"; wrote {output}" if output else ""),
            err=True,
        )
    sys.exit(EXIT_OK if not result.unmapped else EXIT_DIFFERENT)


def _print_sources(result: Any) -> None:
    """Where the rows' fields came from, field by field, and the job settings they need."""
    sources: dict[str, set[str]] = {}
    for fields in result.fields_from.values():
        for name, where in fields.items():
            sources.setdefault(name, set()).add(where)
    not_file = {k: v for k, v in sorted(sources.items()) if v != {"file"}}
    if not_file:
        click.echo("fields not read from the files' job as such:", err=True)
        for name, where in not_file.items():
            click.echo(f"  {name}: {_visible(', '.join(sorted(where)))}", err=True)
    if result.job is not None:
        shown = ", ".join(f"{k}={v}" for k, v in result.job.items() if v is not None)
        click.echo(f"job settings: {shown} (from {_visible(result.job_from or '')})", err=True)
    intended = sorted({n for names in result.intended.values() for n in names})
    if intended:
        click.echo(f"intended differences (accept at cutover): {','.join(intended)}", err=True)


@migrate_group.command("compare", context_settings=CONTEXT)
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_platform_option
@_db_option
@click.option("--streams", "-s", multiple=True, help="Only these stream keys (repeatable).")
@_accept_option
@_json_option
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
    from factory.migrate import compare

    chosen = _accepted(accept)
    slug = _slug(platform)
    url = _require_db(db_url)
    with _exit_codes(as_json):
        rows, policy = _rows(url, slug)
        with _airflow_logs_to_stderr():
            result = compare(folder, slug, rows, policy=policy, streams=list(streams) or None)
    if as_json:
        _dump(result.to_dict())
    else:
        for v in result.verdicts:
            mark = "=" if v.identical else "~" if v.accepted(chosen) else "≠"
            click.echo(f"{mark} {_visible(v.stream_key)}  {v.verdict}" + (f"  {_visible(v.file)}" if v.file else ""))
            if v.named and not v.drift:
                click.echo(f"    intended: {', '.join(v.intended)}")
            elif v.differences:
                if v.drift:
                    click.echo(
                        f"    drift: {', '.join(v.drift)}"
                        + (f"; intended: {', '.join(v.intended)}" if v.intended else "")
                    )
                for arg in v.differences.get("dag", []):
                    click.echo(
                        f"    dag.{_visible(arg['name'])}: {_visible(repr(arg['old']))} -> {_visible(repr(arg['new']))}"
                    )
                for task in v.differences.get("tasks", []):
                    click.echo(f"    task {_visible(task['task_id'])} {task['kind']}")
                    for arg in task["args"]:
                        click.echo(
                            f"      {_visible(arg['name'])}: {_visible(repr(arg['old']))} -> {_visible(repr(arg['new']))}"
                        )
            elif v.detail and not v.identical:
                click.echo(f"    {_visible(v.detail)}")
        counts = ", ".join(f"{n} {k}" for k, n in result.counts().items()) or "no streams"
        click.echo(f"{slug}: {counts}")
    sys.exit(EXIT_OK if result.accepted(chosen) and result.verdicts else EXIT_DIFFERENT)


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
        _dump(report.to_dict())
        return
    if report.resumed:
        click.echo(f"resuming an unfinished {report.operation}")
    for step in report.steps:
        click.echo(f"  {_visible(step)}")
    for key, names in sorted(getattr(report, "accepted", {}).items()):
        click.echo(f"  accepted for {_visible(key)}: {', '.join(names)}")
    for key, reason in sorted(report.refused.items()):
        click.secho(f"REFUSED {_visible(key)}: {_visible(reason)}", fg="red", err=True)
    verb = "moved to the factory" if report.operation == "cutover" else "given back to static files"
    click.echo(
        f"{report.platform}: {len(report.streams)} stream(s) {verb}, {len(report.refused)} refused"
        f"{'' if report.steps else ' (nothing left to do)'}; backup folder {report.backup_dir}"
    )


@migrate_group.command("cutover", context_settings=CONTEXT)
@_platform_option
@click.option("--streams", "-s", multiple=True, help="Only these stream keys (default: every static file with a row).")
@_folders
@_db_option
@click.option("--conn-id", default=DEFAULT_CONN_ID, show_default=True, help="Connection id in the factory file.")
@click.option("--actor", default=None, help="Name recorded in the change history (default: your user name).")
@click.option(
    "--allow-different", is_flag=True, help="Also cut over streams whose static DAG differs from the factory's."
)
@_accept_option
@_json_option
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
    from factory.cutover import cutover

    chosen = _accepted(accept)
    slug = _slug(platform)
    url = _require_db(db_url)
    with _exit_codes(as_json), _airflow_logs_to_stderr():
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
    sys.exit(EXIT_OK if report.ok else EXIT_DIFFERENT)


@migrate_group.command("rollback", context_settings=CONTEXT)
@_platform_option
@click.option("--streams", "-s", multiple=True, help="Only these stream keys (default: every active row).")
@_folders
@_db_option
@click.option("--actor", default=None, help="Name recorded in the change history (default: your user name).")
@_json_option
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
    from factory.cutover import rollback

    slug = _slug(platform)
    url = _require_db(db_url)
    with _exit_codes(as_json):
        report = rollback(url, slug, dags_folder, streams=list(streams) or None, backup_dir=backup_dir, actor=actor)
    _print_report(report, as_json)
    sys.exit(EXIT_OK if report.ok else EXIT_DIFFERENT)


@migrate_group.command("normalize", context_settings=CONTEXT)
@_platform_option
@_db_option
@click.option("--actor", default=None, help="Name recorded in the change history (default: your user name).")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")
@_json_option
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
    from factory.apply import reachable
    from factory.db import get_engine, redact
    from factory.errors import ChangesetConflict, OutcomeUnknown, RetryableConflict, UnknownPlatformError
    from factory.normalize import apply_normalize, plan_normalize
    from factory.store import list_platforms

    slug = _slug(platform)
    url = _require_db(db_url)
    applied = None
    with _exit_codes(as_json):
        with reachable(redact(url)), get_engine(url).connect() as conn:
            if slug not in list_platforms(conn):
                raise UnknownPlatformError(f"platform {slug!r} has no config table in {redact(url)}")
            result = plan_normalize(conn, slug, actor=actor)
        if not as_json:
            _print_normalization(result)
        if result.changeset.changes and result.dags_unchanged and not dry_run:
            try:
                applied = apply_normalize(url, result, actor=actor)
            except ChangesetConflict as exc:
                if as_json:
                    _dump({**exc.to_dict(), "normalize": result.to_dict()})
                _fail(f"{exc}; nothing was written: run the same command again", EXIT_CONFLICT)
            except (OutcomeUnknown, RetryableConflict) as exc:
                _fail(str(exc), 4 if isinstance(exc, OutcomeUnknown) else EXIT_CONFLICT)
    done = EXIT_OK if result.dags_unchanged and not result.left else EXIT_DIFFERENT
    if as_json:
        written = {k: str(v) for k, v in applied.written.items()} if applied else {}
        _dump({"ok": done == EXIT_OK, "dry_run": dry_run, "written": written, **result.to_dict()})
    elif not result.dags_unchanged:
        click.secho("REFUSED: a rewrite would change a DAG (see the plan); nothing was written", fg="red", err=True)
    elif applied is not None:
        click.echo(f"Applied as {applied.actor}: {len(applied.written)} row(s) rewritten.")
    elif result.changeset.changes:
        click.echo(f"Dry run: would rewrite {len(result.changeset.changes)} row(s); nothing was written.")
    sys.exit(done)


def _print_normalization(result: Any) -> None:
    """Each rewrite with its renamed and dropped keys, each row left as it is, then the plan's summary."""
    entries = {e.stream_key: e for e in result.plan.entries}
    click.echo(
        f"{result.platform}: {len(result.rewrites)} row(s) in DataSurface's form to rewrite, "
        f"{len(result.left)} that do not validate, {result.other} other row(s) left alone"
    )
    for r in result.rewrites:
        entry = entries.get(r.stream_key)
        same = entry is not None and entry.action.value == "unchanged" and not entry.problems
        verdict = "DAG unchanged" if same else f"DAG {entry.action.value if entry else 'unknown'}"
        click.echo(f"~ {_visible(r.stream_key)} ({_visible(r.status)}): {verdict}")
        for old, new in r.renamed.items():
            click.echo(f"    {old} -> {new}")
        if r.dropped:
            click.echo(f"    dropped: {_visible(', '.join(r.dropped))}")
    for key, problems in result.left.items():
        click.secho(f"! {_visible(key)}: does not validate; left as it is", fg="red")
        for p in problems:
            click.secho(f"    {_visible(p.path)}: {_visible(p.message)}", fg="red")
    click.echo(result.plan.summary())


# ---- health -------------------------------------------------------------------------------------


@click.command("health", context_settings=CONTEXT)
@_platform_option
@_db_option
@click.option(
    "--max-age",
    type=click.FloatRange(min=1),
    default=900,
    show_default=True,
    metavar="S",
    help="Critical when the last parse is older than S seconds (a few min_file_process_interval).",
)
@click.option("--airflow", "airflow_url", metavar="URL", help="Also ask Airflow (default: $AIRFLOW_API_URL if set).")
@click.option("--no-airflow", is_flag=True, help="Do not ask Airflow even if AIRFLOW_API_URL is set.")
@_json_option
def health(
    platform: str, db_url: str | None, max_age: float, airflow_url: str | None, no_airflow: bool, as_json: bool
) -> None:
    """Is the platform's factory healthy? For any alerting system: exit 0 ok, 1 warning,
    2 critical (3: the check could not run), with every reason (docs/operations.md#monitoring)."""
    import os

    from factory.health import check_platform
    from yellowtui.services.airflow_service import API_URL_ENV

    slug = _slug(platform, HEALTH_UNKNOWN)
    url = _require_db(db_url, HEALTH_UNKNOWN)
    result = check_platform(url, slug, max_age_s=max_age)  # and this host's spool, under $YELLOW_SNAPSHOT_DIR
    if not no_airflow and (airflow_url or os.environ.get(API_URL_ENV)):
        _ask_airflow(result, slug, airflow_url)
    if as_json:
        _dump(result.to_dict())
    else:
        click.echo(f"{slug}: {str(result.status).upper()}")
        for reason in result.reasons:
            click.echo(f"  {str(reason.level).upper()} {reason.check}: {_visible(reason.message)}")
        facts = result.facts
        if "last_parse_at" in facts:
            click.echo(
                f"  last parse {facts['last_parse_age_s']:.0f} s ago ({facts['last_parse_source']}), "
                f"{facts['dags_built']} DAG(s) from {facts['rows_read']} row(s)"
            )
    sys.exit(result.exit_code)


def _ask_airflow(result: Any, platform: str, airflow_url: str | None) -> None:
    from factory.errors import AirflowError
    from factory.health import airflow_findings
    from factory.layout import factory_file_name
    from yellowtui.services.airflow_service import AirflowService, AirflowSettings

    file_name = factory_file_name(platform)
    try:
        service = AirflowService(AirflowSettings.from_env(airflow_url, read_only=True))
        errors = [(e.filename, e.summary) for e in service.import_errors(factory_of=platform)]
        listed = {d.dag_id for d in service.dags(f"{platform}__") if not d.is_stale}
    except AirflowError as exc:
        airflow_findings(result, factory_file=file_name, error=str(exc))
        return
    airflow_findings(result, factory_file=file_name, import_errors=errors, listed_dag_ids=listed)


# ---- platform drop ------------------------------------------------------------------------------


@click.group("platform", context_settings=CONTEXT)
def platform_group() -> None:
    """Whole-platform operations."""


@platform_group.command("drop", context_settings=CONTEXT)
@click.argument("platform")
@_db_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Export file (default: ./PLATFORM-dropped-TIMESTAMP.json).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_json_option
def platform_drop(platform: str, db_url: str | None, output: Path | None, yes: bool, as_json: bool) -> None:
    """Export PLATFORM's rows, history and policy to a file, then drop all its tables.

    Asks you to type the platform's name unless --yes. If the export cannot be written,
    nothing is dropped. Restore the rows with `yellowtui config import FILE --platform P`.
    """
    from factory.drop import default_export_path, drop_platform

    slug = _slug(platform)
    url = _require_db(db_url)
    path = output or default_export_path(slug)
    if not yes:
        if not sys.stdin.isatty():
            _fail("refusing to drop without confirmation: pass --yes", EXIT_USAGE)
        typed = click.prompt(
            f"This drops every table of platform {slug} (rows, history, reports) after exporting them to {path}.\n"
            f"Type the platform's name to go ahead",
            default="",
            show_default=False,
        )
        if typed.strip().lower() != slug:
            _fail("not confirmed; nothing was dropped", EXIT_DIFFERENT)
    with _exit_codes(as_json):
        result = drop_platform(url, slug, path)
    if as_json:
        _dump(result.to_dict())
    else:
        click.echo(
            f"{slug}: exported {result.rows} row(s) and {result.history} history entr(y/ies) to {result.export_path}; "
            f"dropped {', '.join(result.tables)}"
        )
        click.echo(
            f"{slug}: now remove its factory file(s) from the dags folder (yellow-N/...: from that DAG bundle's "
            f"folder): {', '.join(result.factory_files)}"
        )


def register(main: click.Group) -> None:
    """Add ``migrate``, ``health`` and ``platform`` to the ``yellowtui`` group."""
    main.add_command(migrate_group)
    main.add_command(health)
    main.add_command(platform_group)
