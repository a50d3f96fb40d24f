"""``yellowtui demo``: the dashboard on an embedded, seeded PostgreSQL; ``--airflow`` adds a real
local Airflow on it."""

from __future__ import annotations

import os
import sys

import click

from yellowtui.demo import STREAMS_PER_PLATFORM
from yellowtui.services.airflow.service import AirflowService
from yellowtui.services.airflow.settings import AirflowSettings

READ_ONLY_ENV = "YELLOW_READ_ONLY"


@click.command()
@click.option("--reset", is_flag=True, help="Delete the embedded demo database and seed it again.")
@click.option(
    "--streams",
    type=click.IntRange(1, 20_000),
    default=None,
    metavar="N",
    help=f"Streams per platform when the demo is seeded (its first run, or with --reset); default {STREAMS_PER_PLATFORM}. "
    "Fewer start Airflow sooner on a small machine; more show the factory at scale.",
)
@click.option("--theme", default=None, help="Textual theme for the dashboard.")
@click.option(
    "--airflow",
    "with_airflow",
    is_flag=True,
    help="Also start a real local Airflow on the demo database (stopped on exit).",
)
@click.option(
    "--read-only",
    "read_only",
    is_flag=True,
    envvar=READ_ONLY_ENV,
    help="With --airflow: the dashboard refuses every write to Airflow.",
)
def demo(reset: bool, streams: int | None, theme: str | None, with_airflow: bool, read_only: bool) -> None:
    """Open the dashboard on the embedded demo database (a real PostgreSQL under your data dir)."""
    if with_airflow:
        run_demo_with_airflow(reset=reset, theme=theme, read_only=read_only, streams=streams)
        return
    from yellowtui.app import run_dashboard

    run_dashboard(db_url=None, theme=theme, reset_demo=reset, demo_streams=streams)


def run_demo_with_airflow(
    reset: bool = False, theme: str | None = None, read_only: bool = False, streams: int | None = None
) -> None:
    """The demo database, a real local Airflow on it (local job launcher), then the dashboard.

    The Airflow's URL and login are put in ``AIRFLOW_API_URL``/``_USERNAME``/``_PASSWORD`` of
    this process, where :meth:`AirflowSettings.from_env` (and so the runs screen) finds them.
    Airflow is stopped when the dashboard exits.
    """
    from simulators.local_airflow import PASSWORDS_FILE, LocalAirflow
    from yellowtui.demo import open_demo

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    with open_demo(reset=reset, log=log, streams_per_platform=streams) as demo:
        metadata_url = demo.server.create_database("yellowtui_airflow")
        script = demo.home / "job-script.json"
        if not script.exists():
            script.write_text("{}\n", encoding="utf-8")  # every job answers DONE until edited
        airflow = LocalAirflow(
            demo.home / "airflow-local",
            metadata_url,
            demo.dags_folder,
            env={"YELLOW_DB_URL": demo.url, "YELLOW_JOB_SCRIPT": str(script)},
            log=log,
        )
        log("Starting a local Airflow (api-server, scheduler, dag-processor) …")
        airflow.start()
        try:
            os.environ.update(airflow.credentials_env())
            log(
                f"Airflow: {airflow.url}  user {airflow.username}, password in {airflow.home / PASSWORDS_FILE}; "
                f"job script {script}. Try: yellowtui runs --platform yellowlive"
            )
            from yellowtui.app import make_app

            service = AirflowService(AirflowSettings.from_env(read_only=read_only or None))
            app = make_app(
                demo.url,
                theme=theme,
                dags_folder=demo.dags_folder,
                parse_env=demo.parse_env,
                display_label=f"{demo.label} · Airflow {airflow.url}",
                airflow=service,
                read_only=read_only,
            )
            try:
                app.run()
            finally:
                app.stop_background()
        finally:
            log("Stopping the local Airflow …")
            airflow.stop()


COMMANDS = (demo,)
