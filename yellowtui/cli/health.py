"""``yellowtui health``: is a platform's factory healthy? For any alerting system.

Exit codes are :class:`yellowtui.cli.core.ExitCode`'s health names: 0 ok, 1 warning, 2 critical,
3 unknown (the check could not run: a usage error).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from yellowtui.cli.core import ExitCode, db_option, json_option, platform_option, platform_slug, resolve_db
from yellowtui.cli.output import dump, echo
from yellowtui.presenters.safe_text import visible as _visible


@click.command("health")
@platform_option()
@db_option
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
@json_option
def health(
    platform: str, db_url: str | None, max_age: float, airflow_url: str | None, no_airflow: bool, as_json: bool
) -> None:
    """Is the platform's factory healthy? For any alerting system: exit 0 ok, 1 warning,
    2 critical (3: the check could not run), with every reason (docs/operations.md#monitoring)."""
    import os

    from factory.operations.inspection.health import check_platform
    from yellowtui.services.airflow_service import API_URL_ENV

    slug = platform_slug(platform, ExitCode.HEALTH_UNKNOWN)
    url = resolve_db(db_url, ExitCode.HEALTH_UNKNOWN)
    result = check_platform(url, slug, max_age_s=max_age)  # and this host's spool, under $YELLOW_SNAPSHOT_DIR
    if not no_airflow and (airflow_url or os.environ.get(API_URL_ENV)):
        _ask_airflow(result, slug, airflow_url)
    if as_json:
        dump(result.to_dict())
    else:
        echo(f"{slug}: {str(result.status).upper()}")
        for reason in result.reasons:
            echo(f"  {str(reason.level).upper()} {reason.check}: {_visible(reason.message)}")
        facts = result.facts
        if "last_parse_at" in facts:
            echo(
                f"  last parse {facts['last_parse_age_s']:.0f} s ago ({facts['last_parse_source']}), "
                f"{facts['dags_built']} DAG(s) from {facts['rows_read']} row(s)"
            )
    sys.exit(result.exit_code)


def _ask_airflow(result: Any, platform: str, airflow_url: str | None) -> None:
    from factory.errors import AirflowError
    from factory.layout import factory_file_name
    from factory.operations.inspection.health import airflow_findings
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


COMMANDS = (health,)
