"""The dashboard under a profile: its name and colour on every screen, read-only unmissable and enforced."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from textual.color import Color

from tests.test_dashboard import SIZE, loaded, screen_text, seed, wait_for
from tools.screenshots import SHOTS, screenshot_app, seed_frozen
from yellowtui.app import make_app
from yellowtui.profiles import Profile
from yellowtui.widgets.profile_bar import ProfileBar

PROD = Profile(name="prod", read_only=True, colour="red", timezone="Europe/Dublin", platform="yellowlive")


async def test_the_profile_and_read_only_are_on_every_screen(db_url: str) -> None:
    seed(db_url, streams=10, bad=1)
    app = make_app(db_url, profile=PROD)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        for key in ("1", "2", "3", "4"):
            await pilot.press(key)
            await pilot.pause()
            bar = app.screen.query_one(ProfileBar)
            assert bar.display and bar.region.y == 0, f"screen {key}: the profile bar is the first line"
            shown = screen_text(app)
            assert "profile prod" in shown and "READ-ONLY · nothing can be written" in shown
            assert "profile prod" in str(bar.render())
            assert bar.styles.background == Color.parse("red")
        assert app.platform == "yellowlive" and app.title == "yellowtui · prod"


async def test_without_a_profile_nothing_changes(db_url: str) -> None:
    seed(db_url, streams=5, bad=0)
    app = make_app(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert not app.screen.query_one(ProfileBar).display


async def test_read_only_refuses_apply_on_the_plan_screen(db_url: str) -> None:
    seed(db_url, streams=5, bad=0)
    app = make_app(db_url, profile=Profile(name="prod", read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        view = next(v for v in app.rows.views if v.status == "active")
        app.stage_status(view, "pause")
        await pilot.press("5")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "PlanScreen", what="the plan screen")
        await pilot.press("a")
        await pilot.pause()
        assert type(app.screen).__name__ == "PlanScreen", "no confirmation is offered"
        assert any("Read-only" in (n.title or "") for n in app._notifications)
        assert len(app.pending.of(view.platform)) == 1, "the staged change is kept"
    engine = create_engine(db_url)
    with engine.connect() as conn:
        status = conn.execute(
            text(f"SELECT status FROM {view.platform}_airflow_dsg WHERE stream_key = :k"), {"k": view.stream_key}
        ).scalar()
    engine.dispose()
    assert status == "active"
    with pytest.raises(PermissionError):
        app.changes.apply(app.pending.changeset(view.platform, created_by="x"))


@pytest.fixture(scope="module")
def frozen_url(pg) -> str:
    url = pg.create_database("snapshots_profile")
    seed_frozen(url)
    return url


def test_streams_screen_under_a_read_only_production_profile(snap_compare, frozen_url: str) -> None:
    shot = SHOTS[0]
    app = screenshot_app(frozen_url, theme=shot.theme, profile=Profile(name="prod", read_only=True, colour="red"))
    assert snap_compare(app, terminal_size=shot.size, run_before=shot.steps)
