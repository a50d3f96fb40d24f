"""The ``yellowtui`` command line. With no command it opens the dashboard.

Every command that reads the config database takes ``--db URL`` (or ``YELLOW_DB_URL``) and
prints JSON with ``--json``, so scripts see exactly what the dashboard shows.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from factory.db import DB_URL_ENV, DEFAULT_CONN_ID
from factory.enums import RowStatus
from factory.split import DEFAULT_STREAMS_PER_FILE, MAX_FILES
from yellowtui.cli_text import cell, echo, secho
from yellowtui.cli_text import db_option as _db_option
from yellowtui.cli_text import dump as _dump
from yellowtui.cli_text import fail as _fail
from yellowtui.cli_text import write_output as _write_output

if TYPE_CHECKING:
    from yellowtui.services.config_service import ConfigService

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _require_db(db_url: str | None) -> str:
    if not db_url:
        _fail(f"no config database: pass --db URL or set {DB_URL_ENV} (try `yellowtui demo` for an embedded one)")
    from factory.db import check_url
    from factory.errors import DatabaseURLError

    url = str(db_url)
    try:
        check_url(url)
    except DatabaseURLError as exc:
        _fail(str(exc), 2)
    return url


def _service(db_url: str | None) -> ConfigService:
    from yellowtui.services.config_service import ConfigService

    return ConfigService(_require_db(db_url))


def _platforms(service: ConfigService, platform: str | None) -> list[str]:
    from factory.errors import InvalidNameError
    from factory.names import platform_slug

    available = service.platforms()  # an unreachable database is reported by _FriendlyErrors
    if platform is None:
        if not available:
            _fail(f"no platform tables (*_airflow_dsg) in {service.display_url}; run `yellowtui bootstrap` first")
        return available
    try:
        slug = platform_slug(platform)
    except InvalidNameError as exc:
        _fail(str(exc))
    if slug not in available:
        _fail(f"platform {platform!r} has no table in {service.display_url}; known: {', '.join(available) or 'none'}")
    return [slug]


class _FriendlyErrors(click.Group):
    """Turn the factory's deliberate errors (unreachable database, bad names) into one clear line."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import ArgumentError, SQLAlchemyError

        from factory.errors import FactoryError, OutcomeUnknown, RetryableConflict

        try:
            return super().invoke(ctx)
        except OutcomeUnknown as exc:
            _fail(str(exc), 4)
        except RetryableConflict as exc:
            _fail(str(exc), 3)
        except FactoryError as exc:
            _fail(str(exc), 1)
        except (SQLAlchemyError, ArgumentError) as exc:  # driver texts may quote the URL: redacted in _fail
            _fail(
                f"database error: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
                1,
            )


@click.group(cls=_FriendlyErrors, context_settings=CONTEXT, invoke_without_command=True)
@_db_option
@click.option("--theme", default=None, help="Textual theme for the dashboard (e.g. textual-dark, nord).")
@click.option(
    "--airflow",
    "airflow_url",
    metavar="URL",
    help="Airflow API server for the runs screen, e.g. http://localhost:8080 (default: $AIRFLOW_API_URL; "
    "credentials: $AIRFLOW_API_TOKEN, or $AIRFLOW_API_USERNAME and $AIRFLOW_API_PASSWORD).",
)
@click.option(
    "--read-only",
    is_flag=True,
    envvar="YELLOW_READ_ONLY",
    help="The dashboard refuses every write to Airflow (trigger, pause, clear) (or $YELLOW_READ_ONLY=1).",
)
@click.option(
    "--actor", default=None, help="Name the dashboard's applies record in the change history (default: your user name)."
)
@click.version_option(package_name="yellow-dag-factory", prog_name="yellowtui")
@click.pass_context
def main(
    ctx: click.Context,
    db_url: str | None,
    theme: str | None,
    airflow_url: str | None,
    read_only: bool,
    actor: str | None,
) -> None:
    """Observe and operate the Yellow DAG factory.

    \b
    With no command, opens the dashboard on --db / $YELLOW_DB_URL, or, with neither, on an
    embedded PostgreSQL seeded with a synthetic platform (see `yellowtui demo`).

    \b
    Examples:
      yellowtui                                   # dashboard on the embedded demo database
      yellowtui --db postgresql://u@h/db          # dashboard on your database
      yellowtui --airflow http://localhost:8080   # ... with Airflow's runs (screen 4)
      yellowtui bootstrap eco.yaml --db URL --dags-folder ./dags
      yellowtui config validate --db URL --json
      yellowtui errors --platform yellowlive
    """
    if ctx.invoked_subcommand is None:
        from yellowtui.app import run_dashboard
        from yellowtui.profile_apply import active_profile

        run_dashboard(
            db_url=db_url,
            theme=theme,
            airflow=dashboard_airflow(airflow_url, read_only),
            read_only=read_only,
            actor=actor,
            profile=active_profile(ctx),
        )


def dashboard_airflow(url: str | None, read_only: bool) -> Any:
    """The dashboard's Airflow service from ``--airflow`` or ``AIRFLOW_API_URL`` (None when
    neither names one); a bad URL is one line and exit code 2."""
    import os

    from factory.errors import AirflowError
    from yellowtui.services.airflow_service import API_URL_ENV, AirflowService, AirflowSettings

    if not url and not os.environ.get(API_URL_ENV):
        return None
    try:
        return AirflowService(AirflowSettings.from_env(url, read_only=read_only or None))
    except AirflowError as exc:
        _fail(str(exc))


@main.command(context_settings=CONTEXT)
@click.option("--reset", is_flag=True, help="Delete the embedded demo database and seed it again.")
@click.option("--theme", default=None, help="Textual theme for the dashboard.")
def demo(reset: bool, theme: str | None) -> None:
    """Open the dashboard on the embedded demo database (a real PostgreSQL under your data dir)."""
    from yellowtui.app import run_dashboard

    run_dashboard(db_url=None, theme=theme, reset_demo=reset)


@main.command(context_settings=CONTEXT)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout."
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of a stream's config_json (for editors and CI)."""
    from factory.models import json_schema

    text = json.dumps(json_schema(), indent=2)
    if output:
        _write_output(output, text + "\n")
        echo(f"wrote {output}", err=True)
    else:
        echo(text)


@main.command(context_settings=CONTEXT)
@click.argument("ecosystem", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_db_option
@click.option("--dags-folder", type=click.Path(file_okay=False, path_type=Path), help="Where to write the DAG file(s).")
@click.option(
    "--static", is_flag=True, help="Render the legacy per-stream files instead of one factory file per platform."
)
@click.option(
    "--conn-id",
    default=DEFAULT_CONN_ID,
    show_default=True,
    help="Airflow connection id the factory file reads the config database from.",
)
@click.option("--actor", default=None, help="Name recorded in the change history (default: your user name).")
@click.option(
    "--files",
    type=click.IntRange(1, MAX_FILES),
    default=None,
    help="Split each platform over exactly this many factory files (default: from --streams-per-file).",
)
@click.option(
    "--streams-per-file",
    type=click.IntRange(1),
    default=DEFAULT_STREAMS_PER_FILE,
    show_default=True,
    help="Without --files: one factory file per this many streams; a platform at or under it keeps one file.",
)
@click.option(
    "--bundles",
    type=click.IntRange(1, 64),
    default=None,
    help="Spread each platform's factory files over this many DAG bundles, one DAG processor each "
    "(default: keep each platform's; docs/operations.md).",
)
@click.option(
    "--force-split",
    is_flag=True,
    help="Change the file or bundle count even while the previous change is still being handed over.",
)
@click.option("--check", is_flag=True, help="Validate the ecosystem file only; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def bootstrap(
    ecosystem: Path,
    db_url: str | None,
    dags_folder: Path | None,
    static: bool,
    conn_id: str,
    actor: str | None,
    files: int | None,
    streams_per_file: int,
    force_split: bool,
    bundles: int | None,
    check: bool,
    as_json: bool,
) -> None:
    """Create tables, write rows and render DAG files from an ECOSYSTEM YAML file.

    Everything is validated first; then all platforms are written in one transaction, and
    the files only after it commits. Unchanged rows are not rewritten; streams that left the
    file are marked retired, never deleted.

    A platform with more streams than --streams-per-file is split over several factory files
    that Airflow parses in parallel (docs/operations.md, "Very large platforms"). Changing the
    count hands streams over without a gap; files no longer needed are removed by the next
    bootstrap once the DAG processor has parsed the new layout. --bundles B spreads the files over
    B DAG bundles and prints Airflow's dag_bundle_config_list and one dag-processor per bundle.
    """
    from factory.bootstrap import FilesNotWritten, Split
    from factory.bootstrap import bootstrap as run_bootstrap
    from factory.ecosystem import load_ecosystem, platform_streams
    from factory.errors import EcosystemError, OutcomeUnknown, RetryableConflict

    try:
        eco = load_ecosystem(ecosystem)
    except EcosystemError as exc:
        _fail(str(exc), 1)
    if check:
        counts = {p.name: len(platform_streams(p)[0]) for p in eco.platforms}
        _dump({"ok": True, "streams": counts}) if as_json else echo(
            "ok: " + ", ".join(f"{k} ({v} streams)" for k, v in counts.items())
        )
        return
    url = _require_db(db_url)
    try:
        results = run_bootstrap(
            eco,
            url,
            dags_folder,
            static=static,
            conn_id=conn_id,
            actor=actor,
            split=Split(files, streams_per_file, force_split, bundles),
        )
    except (OutcomeUnknown, FilesNotWritten, RetryableConflict) as exc:  # never "nothing was written"
        _fail(str(exc), 4 if isinstance(exc, OutcomeUnknown) else 3 if isinstance(exc, RetryableConflict) else 1)
    except Exception as exc:
        from factory.db import redact

        _fail(f"bootstrap failed, nothing was written to {redact(url)}: {exc}", 1)
    if as_json:
        _dump([r.to_dict() for r in results])
        return
    for r in results:
        rows = r.summary
        echo(
            f"{r.platform}: table {'created' if r.table_created else 'adopted'}; rows "
            f"{len(rows['inserted'])} inserted, {len(rows['updated'])} updated, "
            f"{len(rows['unchanged'])} unchanged, {len(rows['retired'])} retired; "
            f"{len(r.files)} file(s) written" + (f" to {dags_folder}" if dags_folder else "")
        )
        if r.layout.files > 1 or r.layout.moving:
            echo(f"{r.platform}: split over {r.layout.files} factory file(s) (layout generation {r.layout.generation})")
        if r.removed_files:
            echo(f"{r.platform}: removed {', '.join(r.removed_files)}")
        if r.kept_files:
            echo(
                f"{r.platform}: kept {', '.join(r.kept_files)} until the DAG processor has parsed the new layout; "
                "run the same bootstrap again later to remove them"
            )
    if results and results[0].bundle_config is not None:
        from yellowtui.presenters.bundles import bundle_instructions

        echo(bundle_instructions(results[0].bundle_config))


@main.group(context_settings=CONTEXT)
def config() -> None:
    """Read, validate, export and import config rows."""


@config.command("list", context_settings=CONTEXT)
@_db_option
@click.option("--platform", "-p", help="Only this platform (default: all).")
@click.option("--status", type=click.Choice([s.value for s in RowStatus]), help="Only rows with this status.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def config_list(db_url: str | None, platform: str | None, status: str | None, as_json: bool) -> None:
    """List config rows with their validity and last build outcome."""
    service = _service(db_url)
    views = [v for p in _platforms(service, platform) for v in service.streams(p, status=status)]
    if as_json:
        _dump([v.to_dict() for v in views])
        return
    from rich.table import Table

    from yellowtui.cli_text import console

    table = Table("platform", "stream", "status", "type", "schedule", "datasets", "valid", "last build", "updated")
    for v in views:
        table.add_row(
            cell(v.platform),
            cell(v.stream_key),
            cell(v.status),
            cell(v.ingestion_type or "?"),
            cell(v.schedule or "-"),
            cell(v.dataset_count or "?"),
            cell("yes") if v.valid else cell("NO", "red"),
            cell(v.last_outcome or "-"),
            cell(f"{v.updated_at:%Y-%m-%d %H:%M}" if v.updated_at else "-"),
        )
    console(soft_wrap=False).print(table)
    echo(f"{len(views)} row(s), {sum(not v.valid for v in views)} invalid")


@config.command("show", context_settings=CONTEXT)
@click.argument("stream_key")
@_db_option
@click.option("--platform", "-p", required=True, help="The stream's platform.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def config_show(stream_key: str, db_url: str | None, platform: str, as_json: bool) -> None:
    """Show one row: its config, its problems, the DAG it builds and its history."""
    from factory.datasurface_rows import carried, warnings_for
    from factory.models import parse_config
    from factory.spec import dag_spec

    service = _service(db_url)
    (slug,) = _platforms(service, platform)
    view = service.stream(slug, stream_key)
    if view is None:
        _fail(f"no stream {stream_key!r} on platform {slug}", 1)
    spec = dag_spec(parse_config(view.config_json, stream_key), slug).to_dict() if view.valid else None
    history = service.history(slug, stream_key)
    warnings = warnings_for(carried(view.config_json))
    data = {
        **view.to_dict(),
        "warnings": [w.to_dict() for w in warnings],
        "config": json.loads(view.config_json) if view.valid else view.config_json,
        "dag": spec,
        "history": history,
    }
    if as_json:
        _dump(data)
        return
    echo(f"{slug} / {stream_key}  status={view.status}  valid={'yes' if view.valid else 'NO'}")
    for p in view.problems:
        secho(f"  {p['path']}: {p['message']}", fg="red")
    for w in warnings:
        secho(f"  {w.path}: {w.message}", fg="yellow")
    echo(json.dumps(data["config"], indent=2) if view.valid else view.config_json)
    if spec:
        from factory import shape

        echo(f"DAG {spec['dag_id']}: {shape.summary()}")
        echo(f"  image {spec['image']} in namespace {spec['namespace']}, schedule {spec['schedule']}")
    echo(f"{len(history)} change(s) in history")


@config.command("export", context_settings=CONTEXT)
@_db_option
@click.option("--platform", "-p", required=True, help="The platform to export.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout."
)
def config_export(db_url: str | None, platform: str, output: Path | None) -> None:
    """Export every row of a platform as JSON (the input of `config import`)."""
    service = _service(db_url)
    (slug,) = _platforms(service, platform)
    rows = service.export(slug)
    text = json.dumps({"platform": slug, "rows": rows}, indent=2, ensure_ascii=False)
    if output:
        _write_output(output, text + "\n")
        echo(f"exported {len(rows)} row(s) to {output}", err=True)
    else:
        echo(text)


@config.command("import", context_settings=CONTEXT)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_db_option
@click.option("--platform", "-p", required=True, help="The platform to import into.")
@click.option("--actor", default=None, help="Name recorded in the change history.")
@click.option("--dry-run", is_flag=True, help="Validate only.")
@click.option("--force", is_flag=True, help="Write even where a row changed since the file was exported.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def config_import(
    file: Path, db_url: str | None, platform: str, actor: str | None, dry_run: bool, force: bool, as_json: bool
) -> None:
    """Import rows from FILE (as written by `config export`): all valid and written, or none.

    Each exported row is based on its updated_at: if someone changed it since the export, nothing
    is written and the command exits 3 (unless --force), as `yellowtui apply` does. Rows not in
    the file are left alone. Exits 1 when any row is invalid or outside the platform's policy.
    """
    from factory.apply import apply_changeset
    from factory.changeset import load_changeset
    from factory.errors import ChangesetConflict, ChangesetFileError, ChangesetRejected, InvalidNameError
    from factory.names import platform_slug
    from factory.plan import RowOp

    try:
        slug = platform_slug(platform)
    except InvalidNameError as exc:
        _fail(str(exc))
    url = _require_db(db_url)

    def invalid(problems: dict[str, list[str]]) -> NoReturn:
        if as_json:
            _dump({"ok": False, "problems": problems, "written": {}})
        else:
            for key, found in problems.items():
                for p in found:
                    secho(f"{key}: {p}", fg="red", err=True)
            echo("nothing was written", err=True)
        sys.exit(1)

    try:
        changeset = load_changeset(file, slug)
    except ChangesetFileError as exc:
        invalid({str(file): [str(p) for p in exc.problems]})
    service = _service(url)
    if not dry_run and slug not in service.platforms():
        service.ensure_platform(slug)  # import may start a platform, as it always could
    try:
        result = apply_changeset(url, changeset, actor=actor, force=force, dry_run=dry_run)
    except ChangesetRejected as exc:
        invalid({key: [str(p) for p in found] for key, found in exc.problems.items()})
    except ChangesetConflict as exc:
        if as_json:
            _dump(exc.to_dict())
        else:
            for c in exc.conflicts:
                secho(f"{c.stream_key}: {c.reason}", fg="red", err=True)
            echo(f"conflict: {exc}; export again, or pass --force", err=True)
        sys.exit(3)
    if dry_run:
        outcome: dict[str, Any] = {
            "ok": True,
            "problems": {},
            "written": {},
            "dry_run": True,
            "rows": len(changeset.changes),
        }
    else:
        written: dict[str, list[str]] = {"inserted": [], "updated": [], "unchanged": []}
        for change in changeset.changes:
            op = result.written.get(change.stream_key)
            kind = "inserted" if op is RowOp.INSERT else "unchanged" if op is None else "updated"
            written[kind].append(change.stream_key)
        outcome = {"ok": True, "problems": {}, "written": written, "forced": result.forced}
    if as_json:
        _dump(outcome)
    else:
        echo(
            "valid; nothing written (dry run)"
            if dry_run
            else ", ".join(f"{len(v)} {k}" for k, v in outcome["written"].items())
        )


@config.command("validate", context_settings=CONTEXT)
@_db_option
@click.option("--platform", "-p", help="Only this platform (default: all).")
@click.option("--all-statuses", is_flag=True, help="Also validate paused and retired rows.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def config_validate(db_url: str | None, platform: str | None, all_statuses: bool, as_json: bool) -> None:
    """Validate rows; print every problem; exit 1 when any row is invalid.

    Rows with a status outside active/paused/retired are always checked (they build nothing,
    silently, until fixed), and so are dag_ids that would collide across all platforms. A row in
    DataSurface's own form is read through its mapping (docs/configuration.md): WARN names the
    keys it carries unused, which alone never fails it (`yellowtui migrate normalize` drops them).
    """
    from factory.datasurface_rows import carried, warnings_for
    from factory.views import clashes_of

    service = _service(db_url)
    known_inactive = () if all_statuses else (RowStatus.PAUSED, RowStatus.RETIRED)
    views = [v for p in _platforms(service, platform) for v in service.streams(p) if v.status not in known_inactive]
    for view, problems in clashes_of(service.streams() if platform else views, views):
        view.valid = False
        view.problems += [p for p in problems if p not in view.problems]
    bad = [v for v in views if not v.valid]
    kept = [(v, keys) for v in views if (keys := carried(v.config_json))]
    if as_json:
        _dump(
            {
                "checked": len(views),
                "invalid": len(bad),
                "problems": [{"platform": v.platform, "stream_key": v.stream_key, "problems": v.problems} for v in bad],
                "warned": len(kept),
                "warnings": [
                    {
                        "platform": v.platform,
                        "stream_key": v.stream_key,
                        "carried": keys,
                        "warnings": [w.to_dict() for w in warnings_for(keys)],
                    }
                    for v, keys in kept
                ],
            }
        )
    else:
        for v in bad:
            for p in v.problems:
                echo(f"FAIL {v.platform}/{v.stream_key} {p['path']}: {p['message']}")
        for v, keys in kept:
            echo(
                f"WARN {v.platform}/{v.stream_key} in DataSurface's form, {len(keys)} key(s) carried unused: "
                + ", ".join(w.path.removeprefix("$.") for w in warnings_for(keys))
            )
        echo(f"{len(views)} row(s) checked, {len(bad)} invalid" + (f", {len(kept)} with warnings" if kept else ""))
    sys.exit(1 if bad else 0)


@main.command(context_settings=CONTEXT)
@_db_option
@click.option("--platform", "-p", help="Only this platform (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def errors(db_url: str | None, platform: str | None, as_json: bool) -> None:
    """Per-stream errors: validation problems and the latest parse's build errors."""
    service = _service(db_url)
    found = [e for p in _platforms(service, platform) for e in service.errors(p)]
    if as_json:
        _dump([e.to_dict() for e in found])
        return
    for e in found:
        echo(f"{e.platform}/{e.stream_key} [{e.source}] {e.path}: {e.message}")
    echo(f"{len(found)} error(s) in {len({(e.platform, e.stream_key) for e in found})} stream(s)")


@main.command(context_settings=CONTEXT)
@_db_option
@click.option("--platform", "-p", required=True, help="The platform whose parses to show.")
@click.option("--limit", default=20, show_default=True, help="How many reports, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def parses(db_url: str | None, platform: str, limit: int, as_json: bool) -> None:
    """Recent parse reports: when, where, source (database or snapshot) and time per phase."""
    service = _service(db_url)
    (slug,) = _platforms(service, platform)
    reports = service.parses(slug, limit=limit)
    if as_json:
        _dump(reports)
        return
    from rich.table import Table

    from factory.enums import Source
    from yellowtui.cli_text import console
    from yellowtui.presenters.timing import file_label, is_split, split_summary

    split = is_split(reports)
    table = Table(
        *(("file",) if split else ()),
        "parsed at",
        "host",
        "mode",
        "source",
        "rows",
        "dags",
        "errors",
        "load ms",
        "validate ms",
        "build ms",
        "total ms",
    )
    for r in reports:
        table.add_row(
            *((cell(file_label(r)),) if split else ()),
            f"{r['parsed_at']:%Y-%m-%d %H:%M:%S}",
            cell(r["host"]),
            cell(r["mode"]),
            cell(r["source"]) if r["source"] != Source.SNAPSHOT else cell("snapshot", "yellow"),
            cell(r["rows_read"]),
            cell(r["dags_built"]),
            cell(r["errors"]),
            f"{r['load_ms']:.1f}",
            f"{r['validate_ms']:.1f}",
            f"{r['build_ms']:.1f}",
            f"{r['total_ms']:.1f}",
        )
    console(soft_wrap=False).print(table)
    if (files := split_summary(reports)) is not None:
        echo(f"{slug}, latest parse of each file: {files}")


@main.command(context_settings=CONTEXT)
@click.option("--platform", "-p", required=True, help="The platform whose tables to lock down.")
@click.option("--factory-role", default=None, help="Role of the factory file in Airflow (default: PLATFORM_factory).")
@click.option(
    "--operator-role", default=None, help="Role of people and tools changing rows (default: PLATFORM_operator)."
)
@click.option("--owner-role", default=None, help="Role owning tables and history (default: PLATFORM_owner).")
@click.option(
    "--kubernetes",
    "k8s_namespace",
    default=None,
    metavar="NAMESPACE",
    help="Print the Kubernetes Role and RoleBinding the job's pods need in NAMESPACE instead of SQL.",
)
@click.option(
    "--service-account", default="airflow-worker", show_default=True, help="With --kubernetes: Airflow's account."
)
@click.option(
    "--xcom-sidecar",
    is_flag=True,
    help="With --kubernetes: also pods/exec, for a platform whose job writes XCom (result_from: xcom).",
)
def grants(
    platform: str,
    factory_role: str | None,
    operator_role: str | None,
    owner_role: str | None,
    k8s_namespace: str | None,
    service_account: str,
    xcom_sidecar: bool,
) -> None:
    """Print the SQL giving three roles least privilege on a platform's tables.

    \b
    factory:  read rows and policy, write parse reports and build outcomes
    operator: change rows; read history, reports and policy
    owner:    everything; the only role that can alter, truncate or delete history
    History is append-only for everyone but the owner, records TRUNCATE, and names the
    session's login user unless a trusted writer sets yellow.actor (see docs/security.md).

    \b
    With --kubernetes NAMESPACE: the Role the job's pods need instead. DataSurface's job
    prints its result, which is read through pods/log: no pods/exec (the XCom sidecar's).
    """
    from factory.errors import InvalidNameError
    from factory.grants import Roles, grants_sql

    if k8s_namespace is not None:
        from factory.job_contract import ResultFrom
        from factory.k8s_rbac import pod_role_manifest
        from factory.names import platform_slug

        try:
            mode = ResultFrom.XCOM if xcom_sidecar else ResultFrom.STDOUT
            echo(
                pod_role_manifest(k8s_namespace, service_account, mode, f"{platform_slug(platform)}-ingestion"),
                nl=False,
            )
        except ValueError as exc:
            _fail(str(exc), 2)
        return
    try:
        defaults = Roles.defaults(platform)
        roles = Roles(
            factory_role or defaults.factory, operator_role or defaults.operator, owner_role or defaults.owner
        )
        echo(grants_sql(platform, roles), nl=False)
    except InvalidNameError as exc:
        _fail(str(exc), 2)


# Airflow (runs, airflow trigger|pause|unpause|clear|...) and changing streams (simulate, apply,
# config set|pause|resume|retire|delete) live in their own modules.
from yellowtui.cli_airflow import register as _register_airflow_commands  # noqa: E402
from yellowtui.cli_changes import register as _register_changes  # noqa: E402
from yellowtui.cli_live import register as _register_live  # noqa: E402
from yellowtui.cli_ops import register as _register_ops  # noqa: E402
from yellowtui.cli_profiles import register as _register_profiles  # noqa: E402

_register_airflow_commands(main)
_register_changes(main, config)
_register_ops(main)  # migrate, health, platform drop
_register_live(main)  # live, wait
_register_profiles(main)  # --profile, profiles list|show|check, completion, serve (last: completes every command)


if __name__ == "__main__":  # pragma: no cover
    main()
