"""SVG snapshots of every screen at a fixed size, on deterministic data.

The database is seeded by :func:`tools.screenshots.seed_frozen` (fixed timestamps, build
times and parse reports) and the app's clock is frozen, so the pictures only change when the
dashboard does. The steps are the ones ``python -m tools.screenshots`` uses.

    pytest tests/test_snapshots.py --snapshot-update    # accept new pictures (look at them first)
"""

from __future__ import annotations

import pytest

from tools.screenshots import SHOTS, Shot, screenshot_app, seed_frozen

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
