"""``yellowtui platform drop``: export a platform's rows, history and policy, then drop its tables."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from yellowtui.cli.core import ExitCode, db_option, json_option, platform_slug, resolve_db
from yellowtui.cli.output import dump, echo, fail


@click.group("platform")
def platform_group() -> None:
    """Whole-platform operations."""


@platform_group.command("drop")
@click.argument("platform")
@db_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Export file (default: ./PLATFORM-dropped-TIMESTAMP.json).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
def platform_drop(platform: str, db_url: str | None, output: Path | None, yes: bool, as_json: bool) -> None:
    """Export PLATFORM's rows, history and policy to a file, then drop all its tables.

    Asks you to type the platform's name unless --yes. If the export cannot be written,
    nothing is dropped. Restore the rows with `yellowtui config import FILE --platform P`.
    """
    from factory.operations.provisioning.drop import default_export_path, drop_platform

    slug = platform_slug(platform)
    url = resolve_db(db_url)
    path = output or default_export_path(slug)
    if not yes:
        if not sys.stdin.isatty():
            fail("refusing to drop without confirmation: pass --yes", ExitCode.USAGE)
        typed = click.prompt(
            f"This drops every table of platform {slug} (rows, history, reports) after exporting them to {path}.\n"
            f"Type the platform's name to go ahead",
            default="",
            show_default=False,
        )
        if typed.strip().lower() != slug:
            fail("not confirmed; nothing was dropped", ExitCode.FAILED)
    result = drop_platform(url, slug, path)
    if as_json:
        dump(result.to_dict())
    else:
        echo(
            f"{slug}: exported {result.rows} row(s) and {result.history} history entr(y/ies) to {result.export_path}; "
            f"dropped {', '.join(result.tables)}"
        )
        echo(
            f"{slug}: now remove its factory file(s) from the dags folder (yellow-N/...: from that DAG bundle's "
            f"folder): {', '.join(result.factory_files)}"
        )


COMMANDS = (platform_group,)
