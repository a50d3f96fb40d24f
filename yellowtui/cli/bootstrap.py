"""``yellowtui bootstrap``: an ecosystem file to tables, rows and DAG files
(factory.operations.provisioning.bootstrap)."""

from __future__ import annotations

from pathlib import Path

import click

from factory.db import DEFAULT_CONN_ID
from factory.split import DEFAULT_STREAMS_PER_FILE, MAX_FILES
from yellowtui.cli.core import actor_option, db_option, json_option, resolve_db
from yellowtui.cli.output import dump, echo


@click.command()
@click.argument("ecosystem", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
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
@actor_option
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
@json_option
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
    from factory.errors import FactoryError, OutcomeUnknown, RetryableConflict
    from factory.operations.provisioning.bootstrap import FilesNotWritten, Split
    from factory.operations.provisioning.bootstrap import bootstrap as run_bootstrap
    from factory.operations.provisioning.ecosystem import load_ecosystem, platform_streams

    eco = load_ecosystem(ecosystem)  # an EcosystemError lists every problem (exit 1)
    if check:
        counts = {p.name: len(platform_streams(p)[0]) for p in eco.platforms}
        dump({"ok": True, "streams": counts}) if as_json else echo(
            "ok: " + ", ".join(f"{k} ({v} streams)" for k, v in counts.items())
        )
        return
    url = resolve_db(db_url)
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
    except (OutcomeUnknown, FilesNotWritten, RetryableConflict):  # each says what was committed
        raise
    except Exception as exc:  # before or inside the transaction, which rolled back
        from factory.db import redact

        raise FactoryError(f"bootstrap failed, nothing was written to {redact(url)}: {exc}") from None
    if as_json:
        dump([r.to_dict() for r in results])
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
        if r.left_untouched:
            echo(
                f"{r.platform}: left untouched {', '.join(map(repr, r.left_untouched))}: a key no DAG file or "
                "dag_id may hold (a row made by hand?); rename or delete it with `yellowtui config`"
            )
        if r.kept_files:
            echo(
                f"{r.platform}: kept {', '.join(r.kept_files)} until the DAG processor has parsed the new layout; "
                "run the same bootstrap again later to remove them"
            )

    if results and results[0].bundle_config is not None:
        from yellowtui.presenters.bundles import bundle_instructions

        echo(bundle_instructions(results[0].bundle_config))


COMMANDS = (bootstrap,)
