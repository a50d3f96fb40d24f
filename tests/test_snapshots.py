"""SVG snapshots of every screen at a fixed size, on deterministic data.

The database is seeded by :func:`tools.screenshots.seed_frozen` (fixed timestamps, build
times and parse reports) and the app's clock is frozen, so the pictures only change when the
dashboard does. The steps are the ones ``python -m tools.screenshots`` uses. The runs screen
replays a capture of a real Airflow's answers (tests/fixtures/runs_capture.json) with the steps
of ``python -m tools.runs_screens``.

    pytest tests/test_snapshots.py --snapshot-update    # accept new pictures (look at them first)
"""

from __future__ import annotations

import time
from datetime import UTC
from pathlib import Path

import pytest

from tools.airflow_capture import ReplayAirflowService, captured_at, load_capture
from tools.runs_screens import RUNS_SHOTS, RunsShot
from tools.screenshots import SHOTS, SIZE, Shot, screenshot_app, seed_frozen

#: The command palette searches asynchronously and its results arrive in batches: it is in the
#: screenshots, not in the snapshot comparisons.
SNAPSHOTS = [s for s in SHOTS if s.name != "command-palette"]


@pytest.fixture(scope="module")
def frozen_url(pg) -> str:
    url = pg.create_database("snapshots_frozen")
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        seeded = bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    if not seeded:
        seed_frozen(url)
    return url


@pytest.mark.parametrize("shot", SNAPSHOTS, ids=[s.name for s in SNAPSHOTS])
def test_screen(snap_compare, frozen_url: str, shot: Shot) -> None:
    assert snap_compare(screenshot_app(frozen_url, theme=shot.theme), terminal_size=shot.size, run_before=shot.steps)


# ---- the runs screen (4), replaying real Airflow answers ---------------------------------------

#: Recorded from real runs in a local Airflow by ``python -m tools.runs_screens --record``.
RUNS_CAPTURE = Path(__file__).resolve().parent / "fixtures" / "runs_capture.json"
RUNS_LABEL = "embedded PostgreSQL · yellowtui_runs · Airflow replayed from a recorded capture"


@pytest.fixture(scope="module")
def runs_url(pg, tmp_path_factory) -> str:
    """The config rows of the platform the capture was recorded from (the same ecosystem)."""
    from factory.operations.provisioning.bootstrap import bootstrap
    from tools.runs_screens import manual_only, runs_ecosystem

    url = pg.create_database(f"snapshots_runs_{time.monotonic_ns()}")
    bootstrap(runs_ecosystem(), url, tmp_path_factory.mktemp("runs-dags"))
    manual_only(url)
    return url


@pytest.mark.parametrize("shot", RUNS_SHOTS, ids=[s.name for s in RUNS_SHOTS])
def test_runs_screen(snap_compare, runs_url: str, shot: RunsShot) -> None:
    """Several DAGs in mixed states, a selected run's task instances, a task's log: Airflow's
    recorded answers at the capture's own clock, so relative times never drift."""
    capture = load_capture(RUNS_CAPTURE)
    app = screenshot_app(
        runs_url,
        airflow=ReplayAirflowService(capture),
        clock=lambda: captured_at(capture),
        display_tz=UTC,
        display_label=RUNS_LABEL,
        airflow_interval=2.0,
    )
    assert snap_compare(app, terminal_size=SIZE, run_before=shot.steps)
