"""Screenshots of the runs screen from REAL runs in a real local Airflow.

    python -m tools.runs_screens            # screenshots/runs.svg and screenshots/task-log.svg
    python -m tools.runs_screens --png      # also PNGs (needs rsvg-convert)
    python -m tools.runs_screens --record tests/fixtures/runs_capture.json   # and the snapshots' capture

It starts an embedded PostgreSQL and a local Airflow 3 (api-server, scheduler, dag-processor,
the local job launcher), bootstraps one small platform whose simulated jobs are scripted
(Store1: KEEP_WORKING twice then DONE, so it triggers itself twice; Store2: error code 7, so its
run fails at check_result; Store3: sleeps, so it is running when the picture is taken; the
others: DONE), unpauses and triggers them, waits for the runs, and takes the pictures through
the pilot with the dashboard connected to that Airflow. Everything is stopped afterwards.
Takes two to four minutes. The times in the pictures are the real ones of that run.

``--record`` first runs the same shots (:data:`RUNS_SHOTS`) with a dashboard whose service keeps
every answer, and writes them as the capture tests/test_snapshots.py replays (see
tools/airflow_capture.py): the snapshots are of real answers, at a fixed clock.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factory import shape
from tools.screenshots import SIZE, to_png

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from yellowtui.screens.runs import RunsScreen

PLATFORM = "yellowlive"
REPO = Path(__file__).resolve().parent.parent
STORES = ("Store1", "Store2", "Store3", "Store4", "Store5", "Orders", "Payments")
SCRIPT = {"Store1": [1, 1, 0], "Store2": 7, "Store3": {"result": 0, "sleep_s": 600}}
TIMEOUT_S = 300.0


def runs_ecosystem() -> Any:
    from factory.operations.provisioning.ecosystem import StoreSpec, parse_ecosystem
    from simulators.ecosystem import platform_spec

    live = platform_spec("YellowLive", 0, [StoreSpec(name=n, datasets=["customers", "orders"]) for n in STORES])
    return parse_ecosystem({"name": "screens", "platforms": [live.model_dump()]})


def manual_only(db_url: str) -> None:
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


async def _until(pilot: Pilot[None], condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await pilot.pause(0.2)


async def _open_dag(pilot: Pilot[None], key: str, runs: int) -> RunsScreen:
    """Screen 4, the platform's DAGs listed, ``key``'s DAG highlighted with its ``runs`` runs,
    the newest run's task instances and the first task's log read."""
    from textual.widgets import DataTable

    from yellowtui.screens.runs import RunsScreen
    from yellowtui.widgets.task_log import TaskLog

    app = pilot.app
    await _until(pilot, lambda: bool(app.platforms) and not app.rows.loading, "the rows")  # type: ignore[attr-defined]
    app.platform = PLATFORM  # type: ignore[attr-defined]
    await pilot.press("4")
    screen = app.screen
    assert isinstance(screen, RunsScreen)
    await _until(pilot, lambda: screen.state is not None and screen.state.rows_known, "Airflow's run state")
    dags = screen.query_one("#runs-dags", DataTable)
    await _until(pilot, lambda: dags.row_count == len(STORES), "the DAG table")
    dags.move_cursor(row=dags.get_row_index(_dag(key)))
    await _until(pilot, lambda: screen.dag_id == _dag(key) and len(screen.runs) == runs, f"{key}'s runs")
    await _until(pilot, lambda: len(screen.tasks) == 4, "the run's tasks")
    log = screen.query_one(TaskLog)
    await _until(pilot, lambda: bool(log.shown_lines), "the log")
    return screen


async def _settled(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.5)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def shot_runs(pilot: Pilot[None]) -> None:
    """Every DAG of the platform in its state; Store1's three runs (KEEP_WORKING, KEEP_WORKING,
    DONE), its newest run's task instances and the job's log."""
    from yellowtui.widgets.task_log import TaskLog

    screen = await _open_dag(pilot, "Store1", 3)
    log = screen.query_one(TaskLog)
    await _until(pilot, lambda: "DATASURFACE_RESULT_CODE" in log.text or "result_code" in log.text, "the job's log")
    await _settled(pilot)


async def shot_older_run(pilot: Pilot[None]) -> None:
    """Store1's oldest run selected in the runs table: its task instances (it rescheduled)."""
    from textual.widgets import DataTable

    screen = await _open_dag(pilot, "Store1", 3)
    runs = screen.query_one("#runs-runs", DataTable)
    runs.focus()
    oldest = screen.runs[-1].run_id
    runs.move_cursor(row=runs.get_row_index(oldest))
    await _until(pilot, lambda: screen.run_id == oldest and len(screen.tasks) == 4, "the oldest run's tasks")
    await _settled(pilot)


async def shot_task_log(pilot: Pilot[None]) -> None:
    """Store2's failed run: its failed check_result highlighted and that task's log."""
    from textual.widgets import DataTable

    from yellowtui.widgets.task_log import TaskLog

    screen = await _open_dag(pilot, "Store2", 1)
    tasks = screen.query_one("#runs-tasks", DataTable)
    tasks.focus()
    tasks.move_cursor(row=tasks.get_row_index(shape.CHECK_TASK_ID))
    log = screen.query_one(TaskLog)
    shown = (_dag("Store2"), screen.run_id, shape.CHECK_TASK_ID, 1)
    await _until(pilot, lambda: log.shown_key == shown and bool(log.shown_lines), "check_result's log")
    await _settled(pilot)


@dataclass(frozen=True)
class RunsShot:
    name: str
    steps: Callable[[Pilot[None]], Awaitable[None]]


#: The pictures of screen 4: the screenshots (runs.svg, task-log.svg) and the snapshot tests.
RUNS_SHOTS = (
    RunsShot("runs", shot_runs),
    RunsShot("runs-older-run", shot_older_run),
    RunsShot("task-log", shot_task_log),
)
SCREENSHOTS = ("runs", "task-log")


async def _take(make: Callable[[], Any], out_dir: Path, names: tuple[str, ...]) -> list[Path]:
    """Run each shot in a fresh app from ``make``; save the ones named in ``names``."""
    written = []
    for shot in RUNS_SHOTS:
        app = make()
        async with app.run_test(size=SIZE) as pilot:
            await shot.steps(pilot)
            if shot.name in names:
                app.save_screenshot(f"{shot.name}.svg", str(out_dir))
                written.append(out_dir / f"{shot.name}.svg")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.runs_screens", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="output folder (default: ./screenshots)")
    parser.add_argument("--png", action="store_true", help="also write a PNG of each SVG (needs rsvg-convert)")
    parser.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="also record Airflow's answers to the shots as a capture the snapshot tests replay "
        "(tests/fixtures/runs_capture.json)",
    )
    args = parser.parse_args(argv)
    from factory.operations.provisioning.bootstrap import bootstrap
    from simulators.local_airflow import LocalAirflow
    from simulators.postgres import start_postgres
    from tools.airflow_capture import REPLAY_URL, RecordingAirflowService, save_capture
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
        bootstrap(runs_ecosystem(), config_url, work / "dags")
        manual_only(config_url)
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
        label = f"embedded PostgreSQL · yellowtui_runs · Airflow {airflow.url}"
        if args.record:
            recorder = RecordingAirflowService(service.settings)
            asyncio.run(
                _take(
                    lambda: make_app(config_url, airflow=recorder, airflow_interval=2.0, display_label=label), work, ()
                )
            )
            # The temporary folder, the checkout and the port differ from run to run and machine
            # to machine: the capture names none of them.
            scrub = {
                str(work): "/tmp/yellowtui-runs",
                str(REPO): "/opt/yellow",
                airflow.url: REPLAY_URL,
                f":{airflow.port}": ":8080",
            }
            save_capture(args.record, recorder.answers, datetime.now(UTC), scrub)
            log(f"wrote {args.record} ({len(recorder.answers)} answers from a local Airflow)")
        written = asyncio.run(
            _take(
                lambda: make_app(config_url, airflow=service, airflow_interval=2.0, display_label=label),
                args.out,
                SCREENSHOTS,
            )
        )
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
