"""Screenshots of the runs screen from REAL runs in a real local Airflow.

    python -m tools.runs_screens            # screenshots/runs.svg and screenshots/task-log.svg
    python -m tools.runs_screens --png      # also PNGs (needs rsvg-convert)

It starts an embedded PostgreSQL and a local Airflow 3 (api-server, scheduler, dag-processor,
the local job launcher), bootstraps one small platform whose simulated jobs are scripted
(Store1: KEEP_WORKING twice then DONE, so it triggers itself twice; Store2: error code 7, so its
run fails at check_result; Store3: sleeps, so it is running when the picture is taken; the
others: DONE), unpauses and triggers them, waits for the runs, and takes the pictures through
the pilot with the dashboard connected to that Airflow. Everything is stopped afterwards.
Takes two to four minutes. The times in the pictures are the real ones of that run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from factory import shape
from tools.screenshots import SIZE, to_png

PLATFORM = "yellowlive"
STORES = ("Store1", "Store2", "Store3", "Store4", "Store5", "Orders", "Payments")
SCRIPT = {"Store1": [1, 1, 0], "Store2": 7, "Store3": {"result": 0, "sleep_s": 600}}
TIMEOUT_S = 300.0


def _ecosystem() -> Any:
    from factory.ecosystem import StoreSpec, parse_ecosystem
    from simulators.ecosystem import platform_spec

    live = platform_spec("YellowLive", 0, [StoreSpec(name=n, datasets=["customers", "orders"]) for n in STORES])
    return parse_ecosystem({"name": "screens", "platforms": [live.model_dump()]})


def _manual_only(db_url: str) -> None:
    from factory import store
    from factory.db import get_engine

    with get_engine(db_url).begin() as conn:
        for row in store.read_rows(conn, PLATFORM):
            config = json.loads(row.config_json)
            config["schedule"] = None
            store.write_row(conn, PLATFORM, row.stream_key, json.dumps(config, sort_keys=True), row.status, actor="ops")


def _wait(predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(2)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def _dag(key: str) -> str:
    return f"{PLATFORM}__{key}_ingestion"


async def _take(app: Any, out_dir: Path) -> list[Path]:
    from textual.widgets import DataTable

    from yellowtui.screens.runs import RunsScreen
    from yellowtui.widgets.task_log import TaskLog

    async def until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            await pilot.pause(0.2)

    written = []
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: bool(app.platforms) and not app.rows.loading, "the rows")
        app.platform = PLATFORM
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        await until(lambda: screen.state is not None and screen.state.rows_known, "Airflow's run state")
        dags = screen.query_one("#runs-dags", DataTable)
        await until(lambda: dags.row_count == len(STORES), "the DAG table")
        # runs.svg: Store1's three runs (KEEP_WORKING, KEEP_WORKING, DONE), its newest run's
        # task instances and the job's log.
        dags.move_cursor(row=dags.get_row_index(_dag("Store1")))
        await until(lambda: len(screen.runs) == 3, "Store1's runs")
        await until(lambda: len(screen.tasks) == 4, "the run's tasks")
        log = screen.query_one(TaskLog)
        await until(lambda: "result_code" in log.text, "the job's log")
        await pilot.pause(0.5)
        app.save_screenshot("runs.svg", str(out_dir))
        written.append(out_dir / "runs.svg")
        # task-log.svg: Store2's failed run, its failed check_result and that task's log.
        dags.move_cursor(row=dags.get_row_index(_dag("Store2")))
        await until(lambda: len(screen.tasks) == 4 and screen.dag_id == _dag("Store2"), "Store2's tasks")
        tasks = screen.query_one("#runs-tasks", DataTable)
        tasks.focus()
        tasks.move_cursor(row=tasks.get_row_index(shape.CHECK_TASK_ID))
        await until(lambda: "result code" in log.text.lower() or "7" in log.text, "check_result's log")
        await pilot.pause(0.5)
        app.save_screenshot("task-log.svg", str(out_dir))
        written.append(out_dir / "task-log.svg")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.runs_screens", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="output folder (default: ./screenshots)")
    parser.add_argument("--png", action="store_true", help="also write a PNG of each SVG (needs rsvg-convert)")
    args = parser.parse_args(argv)
    from factory.bootstrap import bootstrap
    from simulators.local_airflow import LocalAirflow
    from simulators.postgres import start_postgres
    from yellowtui.app import make_app
    from yellowtui.services.airflow_service import AirflowService, AirflowSettings

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="yellowtui-runs-screens-"))
    server = start_postgres(work / "pgdata", delete_on_stop=True)
    airflow: LocalAirflow | None = None
    try:
        config_url = server.create_database("yellowtui_runs")
        bootstrap(_ecosystem(), config_url, work / "dags")
        _manual_only(config_url)
        script = work / "job-script.json"
        script.write_text(json.dumps(SCRIPT), encoding="utf-8")
        airflow = LocalAirflow(
            work / "airflow",
            server.create_database("yellowtui_runs_airflow"),
            work / "dags",
            env={
                "YELLOW_DB_URL": config_url,
                "YELLOW_JOB_SCRIPT": str(script),
                # The job's command line shows in the task log: keep the picture free of this
                # machine's interpreter path (the local Airflow puts its venv first on PATH).
                "YELLOW_LOCAL_JOB_COMMAND": "python -m simulators.job",
            },
            log=log,
        )
        log("starting a local Airflow …")
        airflow.start()
        service = AirflowService(AirflowSettings(url=airflow.url, username=airflow.username, password=airflow.password))
        _wait(lambda: len(service.list_dags(PLATFORM)) == len(STORES), "the DAGs")
        for key in ("Store1", "Store2", "Store3", "Store4", "Orders"):
            service.set_paused(_dag(key), False)
            service.trigger(_dag(key), {"source": "screenshots"} if key == "Store1" else None)
        log("waiting for the runs …")
        _wait(lambda: [r.state for r in service.dag_runs(_dag("Store1"))] == ["success"] * 3, "Store1's runs")
        _wait(lambda: [r.state for r in service.dag_runs(_dag("Store2"))] == ["failed"], "Store2's failed run")
        _wait(lambda: all(r.finished for r in service.dag_runs(_dag("Orders"))), "Orders' run")
        app = make_app(
            config_url,
            airflow=service,
            airflow_interval=2.0,
            display_label=f"embedded PostgreSQL · yellowtui_runs · Airflow {airflow.url}",
        )
        written = asyncio.run(_take(app, args.out))
        for path in written:
            log(f"wrote {path}  (from real runs in a local Airflow)")
            if args.png and to_png(path) is None:
                log("rsvg-convert not found: no PNGs")
    finally:
        if airflow is not None:
            log("stopping the local Airflow …")
            airflow.stop()
        from factory.db import dispose_engines

        dispose_engines()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
