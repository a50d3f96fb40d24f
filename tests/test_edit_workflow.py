"""Simulate before commit in the dashboard, pressing real keys, on a real PostgreSQL.

Edit a stream (the factory checks every edit as it is typed), stage it, read the plan, apply it
in one transaction, see it in the history; a row changed underneath is a conflict that writes
nothing and shows theirs beside yours; ``n`` copies a stream into a new one.
"""

from __future__ import annotations

import json
from typing import Any

from factory import store
from factory.db import get_engine
from factory.enums import RowStatus
from factory.operations.changes.plan import Action
from factory.operations.inspection.views import StreamView
from tests.test_dashboard import loaded, screen_text, seed, wait_for
from yellowtui.app import YellowApp, make_app
from yellowtui.screens.conflict import ConflictScreen
from yellowtui.screens.edit_stream import EditStreamScreen
from yellowtui.screens.plan import PlanScreen
from yellowtui.screens.prompt import PromptScreen
from yellowtui.screens.stream_detail import StreamDetailScreen
from yellowtui.widgets.config_editor import ConfigEditor
from yellowtui.widgets.config_table import ConfigTable

SIZE = (140, 40)
ACTOR = "ops-tester"
PLATFORM = "yellowlive"


def a_valid_stream(app: YellowApp, *, not_schedule: str = "@daily") -> StreamView:
    """An active, valid stream of yellowlive whose schedule is not ``not_schedule``."""
    for view in sorted(app.rows.views, key=lambda v: v.stream_key):
        if (
            view.platform == PLATFORM
            and view.valid
            and view.status == RowStatus.ACTIVE
            and view.schedule not in (not_schedule, None)
        ):
            return view
    raise LookupError("no valid stream to edit")


def stored_row(db_url: str, key: str) -> store.ConfigRow | None:
    with get_engine(db_url).connect() as conn:
        return store.read_row(conn, PLATFORM, key)


def history(db_url: str, key: str) -> list[dict[str, Any]]:
    with get_engine(db_url).connect() as conn:
        return store.read_history(conn, PLATFORM, key, limit=50)


async def open_editor(pilot: Any, app: YellowApp, key: str) -> EditStreamScreen:
    app.open_stream(PLATFORM, key)
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, StreamDetailScreen) and app.screen.loaded is not None,
        what="the detail screen",
    )
    await pilot.press("e")
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, EditStreamScreen) and app.screen.verdict is not None,
        timeout=60,
        what="the editor's first verdict",
    )
    screen = app.screen
    assert isinstance(screen, EditStreamScreen)
    return screen


def schedule_span(editor: ConfigEditor) -> tuple[tuple[int, int], tuple[int, int]]:
    """Where the schedule's value (with its quotes) is in the editor's text."""
    for n, text in enumerate(editor.text.splitlines()):
        if text.strip().startswith('"schedule":'):
            start = text.index(":") + 2
            end = len(text.rstrip().rstrip(","))
            return (n, start), (n, end)
    raise AssertionError("no schedule line in the editor")


async def set_schedule(pilot: Any, screen: EditStreamScreen, value: str) -> None:
    """Replace the schedule's value through the editor, as typing over a selection does."""
    editor = screen.editor
    start, end = schedule_span(editor)
    editor.focus()
    editor.selection = editor.selection.__class__(start, end)
    editor.replace(json.dumps(value), start, end)
    await wait_for(
        pilot,
        lambda: screen.verdict_text == editor.text,
        timeout=30,
        what=f"the verdict for schedule {value!r}",
    )


async def plan_entry(pilot: Any, app: YellowApp, key: str, plan_key: str = "ctrl+l") -> Any:
    """Open the plan (``ctrl+l`` works in the editor too; ``5`` elsewhere) and wait for it."""
    await pilot.press(plan_key)
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, PlanScreen) and app.screen.plan is not None,
        timeout=60,
        what="the plan",
    )
    screen = app.screen
    assert isinstance(screen, PlanScreen) and screen.plan is not None
    return next(e for e in screen.plan.entries if e.stream_key == key)


async def test_break_fix_stage_plan_apply_and_see_history(db_url: str) -> None:
    seed(db_url)
    app = make_app(db_url, actor=ACTOR)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        view = a_valid_stream(app)
        key, old_schedule = view.stream_key, view.schedule
        editor_screen = await open_editor(pilot, app, key)
        assert editor_screen.verdict is not None and editor_screen.verdict.builds
        assert editor_screen.editor.marked == frozenset()

        # Break it: the problem appears at its JSON path, on the schedule's line.
        await set_schedule(pilot, editor_screen, "every day")
        verdict = editor_screen.verdict
        assert verdict is not None and not verdict.builds
        assert [p.path for p in verdict.problems] == ["$.schedule"]
        line, _ = schedule_span(editor_screen.editor)[0]
        assert editor_screen.editor.marked == frozenset({line})
        text = screen_text(app)
        assert "$.schedule" in text and "does not build" in text
        assert f"line {line + 1}" in text

        # Stage it: the plan says it fails; the staged count is in the status bar.
        await pilot.press("ctrl+s")
        assert len(app.pending.of(PLATFORM)) == 1
        assert "1 staged change (yellowlive)" in screen_text(app)
        entry = await plan_entry(pilot, app, key)
        assert entry.action is Action.FAILS and entry.touched
        assert [p.path for p in entry.problems] == ["$.schedule"]
        assert "fails to build" in screen_text(app)

        # Back to the editor; fix it: the DAG diff shows the timetable change.
        await pilot.press("escape")
        assert app.screen is editor_screen
        await set_schedule(pilot, editor_screen, "@daily")
        verdict = editor_screen.verdict
        assert verdict is not None and verdict.builds and verdict.action is Action.CHANGE
        assert verdict.dag_diff is not None
        changed = {a.name for a in verdict.dag_diff.dag}
        assert any(name.startswith("timetable") for name in changed), changed
        assert [(c.path, c.old, c.new) for c in verdict.json_diff] == [("$.schedule", old_schedule, "@daily")]
        assert editor_screen.editor.marked == frozenset()
        await pilot.press("f5")
        await pilot.pause()
        text = screen_text(app)
        assert "timetable" in text and "task.argument: old -> new" in text

        # Stage again (the one staged change is replaced, keeping its base); the plan says change.
        await pilot.press("ctrl+s")
        assert len(app.pending.of(PLATFORM)) == 1
        entry = await plan_entry(pilot, app, key)
        assert entry.action is Action.CHANGE
        assert "~ $.schedule" in screen_text(app)

        # Apply, confirmed: the row changed, the history has it with the actor.
        before = len(history(db_url, key))
        await pilot.press("a")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen", what="the confirmation")
        assert ACTOR in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.pending, timeout=30, what="the apply")
        row = stored_row(db_url, key)
        assert row is not None and json.loads(row.config_json)["schedule"] == "@daily"
        entries = history(db_url, key)
        assert len(entries) == before + 1
        assert entries[0]["changed_by"] == ACTOR and entries[0]["action"] == "update"

        # Back through the editor (nothing unstaged: no question) to the stream's History tab.
        await pilot.press("escape")
        assert app.screen is editor_screen
        await pilot.press("escape")
        detail = app.screen
        assert isinstance(detail, StreamDetailScreen)
        await wait_for(
            pilot,
            lambda: (
                detail.loaded is not None and detail.loaded.view is not None and detail.loaded.view.schedule == "@daily"
            ),
            what="the detail to reload",
        )
        await pilot.press("h")
        await pilot.pause()
        text = screen_text(app)
        assert ACTOR in text and "schedule" in text


async def test_a_row_changed_underneath_is_a_conflict_and_nothing_is_written(db_url: str) -> None:
    seed(db_url)
    app = make_app(db_url, actor=ACTOR)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        view = a_valid_stream(app)
        key = view.stream_key
        editor_screen = await open_editor(pilot, app, key)
        await set_schedule(pilot, editor_screen, "@daily")
        await pilot.press("ctrl+s")

        # Someone else changes the same row behind the dashboard's back.
        theirs = json.loads(view.config_json)
        theirs["schedule"] = "0 4 * * *"
        with get_engine(db_url).begin() as conn:
            store.write_row(conn, PLATFORM, key, json.dumps(theirs), RowStatus.ACTIVE, actor="someone-else")
        before = history(db_url, key)

        entry = await plan_entry(pilot, app, key)
        assert entry.stale  # the plan already warns: based on an older row
        await pilot.press("a")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen", what="the confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictScreen), timeout=30, what="the conflict view")
        text = screen_text(app)
        assert "theirs (now in the database)" in text and "yours (staged)" in text
        assert key in text and '"0 4 * * *"' in text and '"@daily"' in text
        assert "nothing was written" in text

        # Nothing written: theirs stands, no history entry of ours.
        row = stored_row(db_url, key)
        assert row is not None and json.loads(row.config_json)["schedule"] == "0 4 * * *"
        assert history(db_url, key) == before
        assert len(app.pending.of(PLATFORM)) == 1

        # Rebase onto theirs: the plan is made again and no longer stale; now the apply lands.
        await pilot.press("r")
        plan_screen = app.screen
        assert isinstance(plan_screen, PlanScreen)
        await wait_for(
            pilot,
            lambda: (
                plan_screen.plan is not None
                and not next(e for e in plan_screen.plan.entries if e.stream_key == key).stale
            ),
            timeout=30,
            what="the rebased plan",
        )
        await pilot.press("a")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen", what="the confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.pending, timeout=30, what="the apply")
        row = stored_row(db_url, key)
        assert row is not None and json.loads(row.config_json)["schedule"] == "@daily"
        assert history(db_url, key)[0]["changed_by"] == ACTOR


async def test_new_stream_from_a_copy_and_a_staged_pause(db_url: str) -> None:
    seed(db_url)
    app = make_app(db_url, actor=ACTOR)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = app.screen.query_one(ConfigTable)
        await pilot.press("slash", *"platform:live", "enter")
        await pilot.pause()
        source = table.current_row
        assert source is not None and source.platform == PLATFORM

        # n: a new stream's key is asked for (a taken key is refused), then the editor opens on a copy.
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="the key prompt")
        await pilot.press(*source.stream_key, "enter")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        assert "exists on yellowlive" in screen_text(app)
        await pilot.press(*["backspace"] * len(source.stream_key), *"Copied1", "enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, EditStreamScreen) and app.screen.verdict is not None,
            timeout=60,
            what="the new stream's editor",
        )
        editor_screen = app.screen
        assert isinstance(editor_screen, EditStreamScreen) and editor_screen.is_new
        assert json.loads(editor_screen.editor.text)["stream_key"] == "Copied1"
        verdict = editor_screen.verdict
        assert verdict is not None and verdict.builds and verdict.action is Action.CREATE, verdict
        await pilot.press("ctrl+s", "escape")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "StreamsScreen", what="the streams")

        # P on the source stream stages a pause (a remove in the plan); u unstages it again.
        await pilot.press("P")
        assert len(app.pending.of(PLATFORM)) == 2
        entry = await plan_entry(pilot, app, "Copied1", plan_key="5")
        assert entry.action is Action.CREATE and str(entry.row_op) == "insert"
        plan_screen = app.screen
        assert isinstance(plan_screen, PlanScreen) and plan_screen.plan is not None
        paused = next(e for e in plan_screen.plan.entries if e.stream_key == source.stream_key)
        assert paused.action is Action.REMOVE and paused.new_status == "paused"
        options = [e.stream_key for e in plan_screen.shown]
        await pilot.press(*["down"] * options.index(source.stream_key))
        await pilot.press("u")
        assert [c.stream_key for c in app.pending.of(PLATFORM)] == ["Copied1"]

        await pilot.press("a")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen", what="the confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.pending, timeout=30, what="the apply")
        row = stored_row(db_url, "Copied1")
        assert row is not None and row.status == RowStatus.ACTIVE
        source_row = stored_row(db_url, source.stream_key)
        assert source_row is not None and source_row.status == RowStatus.ACTIVE
        assert history(db_url, "Copied1")[0]["changed_by"] == ACTOR
