"""``yellowtui config``: read, validate, export, import and change config rows."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from factory.enums import RowStatus
from yellowtui.cli.changes import CONFIG_COMMANDS
from yellowtui.cli.core import (
    ExitCode,
    actor_option,
    config_service,
    db_option,
    json_option,
    platform_option,
    platform_slug,
    platforms,
    resolve_db,
    times,
)
from yellowtui.cli.output import cell, dump, echo, fail, secho, write_output

if TYPE_CHECKING:
    from factory.errors import ChangesetConflict
    from factory.operations.changes.apply import ApplyResult
    from factory.operations.changes.changeset import Changeset


@click.group()
def config() -> None:
    """Read, validate, export and import config rows."""


@config.command("list")
@db_option
@platform_option(required=False)
@click.option("--status", type=click.Choice([s.value for s in RowStatus]), help="Only rows with this status.")
@json_option
def config_list(db_url: str | None, platform: str | None, status: str | None, as_json: bool) -> None:
    """List config rows with their validity and last build outcome."""
    service = config_service(db_url)
    views = [v for p in platforms(service, platform) for v in service.streams(p, status=status)]
    if as_json:
        dump([v.to_dict() for v in views])
        return
    from rich.table import Table

    from yellowtui.cli.output import console

    table = Table("platform", "stream", "status", "type", "schedule", "datasets", "valid", "last build", "updated")
    when = times()
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
            cell(when.date_minute(v.updated_at, missing="-")),
        )
    console(soft_wrap=False).print(table)
    echo(f"{len(views)} row(s), {sum(not v.valid for v in views)} invalid")


@config.command("show")
@click.argument("stream_key")
@db_option
@platform_option(help="The stream's platform.")
@json_option
def config_show(stream_key: str, db_url: str | None, platform: str, as_json: bool) -> None:
    """Show one row: its config, its problems, the DAG it builds and its history."""
    from factory.datasurface_rows import carried, warnings_for
    from factory.models import parse_config
    from factory.spec import dag_spec

    service = config_service(db_url)
    (slug,) = platforms(service, platform)
    view = service.stream(slug, stream_key)
    if view is None:
        fail(f"no stream {stream_key!r} on platform {slug}", ExitCode.FAILED)
    spec = dag_spec(parse_config(view.config_json, stream_key), slug).to_dict() if view.valid else None
    history = service.history(slug, stream_key)
    warnings = warnings_for(carried(view.config_json))
    data = {
        **view.to_dict(),
        "warnings": [w.to_dict() for w in warnings],
        "config": json.loads(view.config_json) if view.valid else view.config_json,
        "dag": spec,
        "history": [h.to_dict() for h in history],
    }
    if as_json:
        dump(data)
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


@config.command("history")
@click.argument("stream_key")
@db_option
@platform_option(help="The stream's platform.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1), help="How many entries, newest first.")
@json_option
def config_history(stream_key: str, db_url: str | None, platform: str, limit: int, as_json: bool) -> None:
    """STREAM_KEY's change history, newest first: who (the actor a trusted writer named, else the
    database user) and the database user who really made each change (docs/security.md)."""
    service = config_service(db_url)
    (slug,) = platforms(service, platform)
    history = service.history(slug, stream_key, limit=limit)
    if as_json:
        dump([h.to_dict() for h in history])
        return
    echo(f"{'changed at':<19}  {'action':<8}  {'by':<20}  {'db user':<20}  status")
    when = times()
    for h in history:
        old, new = h.old_status, h.new_status
        status = new if old in (None, new) else f"{old} -> {new}"
        echo(
            f"{when.date_time(h.changed_at)}  {h.action:<8}  {h.changed_by:<20}  {h.db_user or '-':<20}  {status or ''}"
        )
    if not history:
        echo(f"no history for {stream_key!r} on platform {slug}")


@config.command("export")
@db_option
@platform_option(help="The platform to export.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout."
)
def config_export(db_url: str | None, platform: str, output: Path | None) -> None:
    """Export every row of a platform as JSON (the input of `config import`)."""
    service = config_service(db_url)
    (slug,) = platforms(service, platform)
    rows = service.export(slug)
    text = json.dumps({"platform": slug, "rows": rows}, indent=2, ensure_ascii=False)
    if output:
        write_output(output, text + "\n")
        echo(f"exported {len(rows)} row(s) to {output}", err=True)
    else:
        echo(text)


@config.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@platform_option(help="The platform to import into.")
@actor_option
@click.option("--dry-run", is_flag=True, help="Validate only.")
@click.option("--force", is_flag=True, help="Write even where a row changed since the file was exported.")
@json_option
def config_import(
    file: Path, db_url: str | None, platform: str, actor: str | None, dry_run: bool, force: bool, as_json: bool
) -> None:
    """Import rows from FILE (as written by `config export`): all valid and written, or none.

    Each exported row is based on its updated_at: if someone changed it since the export, nothing
    is written and the command exits 3 (unless --force), as `yellowtui apply` does. Rows not in
    the file are left alone. Exits 1 when any row is invalid or outside the platform's policy.
    """
    from factory.errors import ChangesetConflict, ChangesetFileError, ChangesetRejected
    from factory.operations.changes.apply import apply_changeset
    from factory.operations.changes.changeset import load_changeset

    slug = platform_slug(platform)
    url = resolve_db(db_url)
    try:
        changeset = load_changeset(file, slug)
    except ChangesetFileError as exc:
        _import_invalid({str(file): [str(p) for p in exc.problems]}, as_json=as_json)
    service = config_service(url)
    if not dry_run and slug not in service.platforms():
        service.ensure_platform(slug)  # import may start a platform, as it always could
    try:
        result = apply_changeset(url, changeset, actor=actor, force=force, dry_run=dry_run)
    except ChangesetRejected as exc:
        _import_invalid({key: [str(p) for p in found] for key, found in exc.problems.items()}, as_json=as_json)
    except ChangesetConflict as exc:
        _import_conflict(exc, as_json=as_json)
    outcome = _import_outcome(changeset, result, dry_run=dry_run)
    if as_json:
        dump(outcome)
    else:
        echo(
            "valid; nothing written (dry run)"
            if dry_run
            else ", ".join(f"{len(v)} {k}" for k, v in outcome["written"].items())
        )


def _import_invalid(problems: dict[str, list[str]], *, as_json: bool) -> NoReturn:
    """Every problem of every row (as JSON, or one red line each); nothing written: exit 1."""
    if as_json:
        dump({"ok": False, "problems": problems, "written": {}})
    else:
        for key, found in problems.items():
            for p in found:
                secho(f"{key}: {p}", fg="red", err=True)
        echo("nothing was written", err=True)
    sys.exit(ExitCode.FAILED)


def _import_conflict(exc: ChangesetConflict, *, as_json: bool) -> NoReturn:
    """Rows changed since the export, each named; nothing written: exit 3."""
    if as_json:
        dump(exc.to_dict())
    else:
        for c in exc.conflicts:
            secho(f"{c.stream_key}: {c.reason}", fg="red", err=True)
        echo(f"conflict: {exc}; export again, or pass --force", err=True)
    sys.exit(ExitCode.CONFLICT)


def _import_outcome(changeset: Changeset, result: ApplyResult, *, dry_run: bool) -> dict[str, Any]:
    """What the import reports: how many rows a dry run checked, else each row's stream key as
    inserted, updated or unchanged."""
    from factory.operations.changes.plan import RowOp

    if dry_run:
        return {"ok": True, "problems": {}, "written": {}, "dry_run": True, "rows": len(changeset.changes)}
    written: dict[str, list[str]] = {"inserted": [], "updated": [], "unchanged": []}
    for change in changeset.changes:
        op = result.written.get(change.stream_key)
        kind = "inserted" if op is RowOp.INSERT else "unchanged" if op is None else "updated"
        written[kind].append(change.stream_key)
    return {"ok": True, "problems": {}, "written": written, "forced": result.forced}


@config.command("validate")
@db_option
@platform_option(required=False)
@click.option("--all-statuses", is_flag=True, help="Also validate paused and retired rows.")
@json_option
def config_validate(db_url: str | None, platform: str | None, all_statuses: bool, as_json: bool) -> None:
    """Validate rows; print every problem; exit 1 when any row is invalid.

    Rows with a status outside active/paused/retired are always checked (they build nothing,
    silently, until fixed), and so are dag_ids that would collide across all platforms. A row in
    DataSurface's own form is read through its mapping (docs/configuration.md): WARN names the
    keys it carries unused, which alone never fails it (`yellowtui migrate normalize` drops them).
    """
    from factory.datasurface_rows import carried, warnings_for
    from factory.operations.inspection.views import clashes_of

    service = config_service(db_url)
    known_inactive = () if all_statuses else (RowStatus.PAUSED, RowStatus.RETIRED)
    views = [v for p in platforms(service, platform) for v in service.streams(p) if v.status not in known_inactive]
    for view, problems in clashes_of(service.streams() if platform else views, views):
        view.valid = False
        view.problems += [p for p in problems if p not in view.problems]
    bad = [v for v in views if not v.valid]
    kept = [(v, keys) for v in views if (keys := carried(v.config_json))]
    if as_json:
        dump(
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
    sys.exit(ExitCode.FAILED if bad else ExitCode.OK)


# Single-stream changes (`config set|pause|resume|retire|delete`) are changesets: their commands
# live with simulate and apply (yellowtui.cli.changes) and belong to this group.
for _command in CONFIG_COMMANDS:
    config.add_command(_command)

COMMANDS = (config,)
