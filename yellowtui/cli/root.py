"""The ``yellowtui`` root group: with no command it opens the dashboard.

The command groups live one per module beside this one and are added to :data:`main` in one
loop (``yellowtui/cli/__init__.py``); the context settings and the one error path are set here
only, and every group and command below inherits them.
"""

from __future__ import annotations

from typing import Any

import click

from yellowtui.cli.core import CONTEXT, ExitCode, YellowGroup, actor_option, db_option
from yellowtui.cli.output import fail
from yellowtui.profile_apply import active_profile, profile_flag


@click.group(cls=YellowGroup, context_settings=CONTEXT, invoke_without_command=True)
@profile_flag
@db_option
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
@actor_option
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
    from yellowtui.services.airflow.service import AirflowService
    from yellowtui.services.airflow.settings import API_URL_ENV, AirflowSettings

    if not url and not os.environ.get(API_URL_ENV):
        return None
    try:
        return AirflowService(AirflowSettings.from_env(url, read_only=read_only or None))
    except AirflowError as exc:
        fail(str(exc), ExitCode.USAGE)
