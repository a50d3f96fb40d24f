"""The screenshots of an applied change going live, from a real local Airflow::

    python -m tools.live_screens [--out screenshots]

Starts an embedded PostgreSQL and a local Airflow with one small platform, opens the dashboard
on it, stages a schedule change, applies it from the plan screen (``5``, ``a``, ``y``) and saves
the plan screen while Airflow still serves the old config (``change-pending.svg``) and once it
serves the new one (``change-live.svg``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PLATFORM = "yellowshots"
STREAMS = ("Store1", "Store2", "Orders")


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def _shots(config_url: str, service: Any, out: Path, label: str) -> list[Path]:
    from factory import store
    from factory.db import get_engine
    from factory.operations.changes.changeset import edit_of
    from yellowtui.app import make_app
    from yellowtui.screens.plan import PlanScreen
    from yellowtui.services.live_state import LiveStatus

    app = make_app(config_url, airflow=service, airflow_interval=2.0, display_label=label)
    written = []
    async with app.run_test(size=(120, 32)) as pilot:
        while PLATFORM not in app.platforms:
            await pilot.pause(0.2)
        app.platform = PLATFORM
        with get_engine(config_url).connect() as conn:
            row = store.read_row(conn, PLATFORM, "Store1")
        assert row is not None
        app.stage(PLATFORM, edit_of(row, "Store1", {**json.loads(row.config_json), "schedule": "0 6 * * *"}))
        await pilot.press("5")
        while not (isinstance(app.screen, PlanScreen) and app.screen.plan is not None):
            await pilot.pause(0.2)
        screen = app.screen
        await pilot.press("a")
        while app.screen.__class__.__name__ != "ConfirmScreen":
            await pilot.pause(0.1)
        await pilot.press("y")
        shot = {LiveStatus.PENDING: "change-pending", LiveStatus.LIVE: "change-live"}
        deadline = time.monotonic() + 120
        while shot and time.monotonic() < deadline:
            live = screen.live
            status = live.streams[0].status if live is not None and live.streams else None
            if status in shot:
                await pilot.pause(0.3)  # let the panel draw
                name = shot.pop(status)
                app.save_screenshot(f"{name}.svg", str(out))
                written.append(out / f"{name}.svg")
            await pilot.pause(0.1)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.live_screens", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="output folder (default: ./screenshots)")
    args = parser.parse_args(argv)
    from factory.db import dispose_engines
    from factory.operations.provisioning.bootstrap import bootstrap
    from factory.operations.provisioning.ecosystem import StoreSpec, parse_ecosystem
    from simulators.ecosystem import platform_spec
    from simulators.local_airflow import LocalAirflow
    from simulators.postgres import start_postgres
    from yellowtui.services.airflow_service import AirflowService, AirflowSettings
    from yellowtui.services.config_service import ConfigService
    from yellowtui.services.live_state import LiveStatus
    from yellowtui.services.live_wait import read_live

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="yellowtui-live-screens-"))
    server = start_postgres(work / "pgdata", delete_on_stop=True)
    airflow: LocalAirflow | None = None
    try:
        config_url = server.create_database("yellowtui_live")
        spec = platform_spec("YellowShots", 0, [StoreSpec(name=n, datasets=["orders"]) for n in STREAMS])
        bootstrap(parse_ecosystem({"name": "shots", "platforms": [spec.model_dump()]}), config_url, work / "dags")
        airflow = LocalAirflow(
            work / "airflow",
            server.create_database("yellowtui_live_airflow"),
            work / "dags",
            env={"YELLOW_DB_URL": config_url},
            log=_log,
        )
        _log("starting a local Airflow …")
        airflow.start()
        service = AirflowService(AirflowSettings(url=airflow.url, username=airflow.username, password=airflow.password))
        config = ConfigService(config_url)
        deadline = time.monotonic() + 300
        while not all(s.status is LiveStatus.LIVE for s in read_live(config, service, PLATFORM, runs=False).streams):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the DAGs were not live in time; see {airflow.log_dir}")
            time.sleep(2)
        label = "embedded PostgreSQL · yellowtui_live · a local Airflow"
        for path in asyncio.run(_shots(config_url, service, args.out, label)):
            _log(f"wrote {path}  (from a real local Airflow)")
    finally:
        if airflow is not None:
            _log("stopping the local Airflow …")
            airflow.stop()
        dispose_engines()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
