"""Reports for people and scripts: ``errors``, ``parses`` and ``schema``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from yellowtui.cli.core import config_service, db_option, json_option, platform_option, platforms, times
from yellowtui.cli.output import cell, dump, echo, print_or_write


@click.command()
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout."
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of a stream's config_json (for editors and CI)."""
    from factory.models import json_schema

    print_or_write(json.dumps(json_schema(), indent=2), output)


@click.command()
@db_option
@platform_option(required=False)
@json_option
def errors(db_url: str | None, platform: str | None, as_json: bool) -> None:
    """Per-stream errors: validation problems and the latest parse's build errors."""
    service = config_service(db_url)
    found = [e for p in platforms(service, platform) for e in service.errors(p)]
    if as_json:
        dump([e.to_dict() for e in found])
        return
    for e in found:
        echo(f"{e.platform}/{e.stream_key} [{e.source}] {e.path}: {e.message}")
    echo(f"{len(found)} error(s) in {len({(e.platform, e.stream_key) for e in found})} stream(s)")


@click.command()
@db_option
@platform_option(help="The platform whose parses to show.")
@click.option("--limit", default=20, show_default=True, help="How many reports, newest first.")
@json_option
def parses(db_url: str | None, platform: str, limit: int, as_json: bool) -> None:
    """Recent parse reports: when, where, source (database or snapshot) and time per phase."""
    service = config_service(db_url)
    (slug,) = platforms(service, platform)
    reports = service.parses(slug, limit=limit)
    if as_json:
        dump([r.to_dict() for r in reports])
        return
    from rich.table import Table

    from factory.enums import Source
    from yellowtui.cli.output import console
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
    when = times()
    for r in reports:
        table.add_row(
            *((cell(file_label(r)),) if split else ()),
            when.date_time(r.parsed_at),
            cell(r.host),
            cell(r.mode),
            cell(r.source) if r.source != Source.SNAPSHOT else cell("snapshot", "yellow"),
            cell(r.rows_read),
            cell(r.dags_built),
            cell(r.errors),
            f"{r.load_ms:.1f}",
            f"{r.validate_ms:.1f}",
            f"{r.build_ms:.1f}",
            f"{r.total_ms:.1f}",
        )
    console(soft_wrap=False).print(table)
    if (files := split_summary(reports)) is not None:
        echo(f"{slug}, latest parse of each file: {files}")


COMMANDS = (schema, errors, parses)
