"""Regenerate an SVG of every dashboard screen into ``screenshots/``.

    python -m tools.screenshots                 # all screens, 120x36, into ./screenshots
    python -m tools.screenshots --png           # also PNGs (needs rsvg-convert)
    python -m tools.screenshots streams errors  # only these

It starts its own embedded PostgreSQL (deleted afterwards), seeds it with the deterministic
synthetic ecosystem (two platforms, broken rows included), and freezes every timestamp, build
time and parse report to fixed values, with the app's clock frozen too, so two runs give the
same pictures. The snapshot tests (tests/test_snapshots.py) use the same seed and steps.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from factory.enums import Outcome, RowStatus, Source
from yellowtui.rows import COLUMN_INDEX
from yellowtui.widgets.config_table import ConfigTable

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from yellowtui.app import YellowApp
    from yellowtui.screens.edit_stream import EditStreamScreen

FROZEN_NOW = datetime(2025, 6, 2, 12, 0, 0)
STREAMS_PER_PLATFORM = 120
BAD_ROWS = 3
SEED = 9
SIZE = (120, 36)
LABEL = "embedded PostgreSQL · yellowtui_screens (deterministic screenshot data)"
#: One report every 30 s before FROZEN_NOW; the sources tell a story: full reads, reuse, rows
#: edited, an outage served from the snapshot, recovery.
PARSE_REPORTS = 48
OUTAGE = (30, 33)  # report indexes (oldest = 0) that came from the snapshot
FULL_READS = (0, 12, 34, 41)


def frozen_clock() -> datetime:
    return FROZEN_NOW


# ---- the deterministic database ---------------------------------------------------------------


def seed_frozen(
    url: str, *, streams_per_platform: int = STREAMS_PER_PLATFORM, bad: int = BAD_ROWS, seed: int = SEED
) -> dict[str, Any]:
    """Seed ``url`` (an empty database) and freeze everything time- or machine-dependent."""
    from simulators.ecosystem import generate_ecosystem, seed_database

    eco = generate_ecosystem(2, streams_per_platform, seed)
    summary = seed_database(url, eco, bad=bad, seed=seed)
    freeze(url, sorted(summary["platforms"]))
    return summary


def freeze(url: str, platforms: list[str]) -> None:
    """Fixed timestamps, a little change history, recorded build outcomes and parse reports."""
    import json

    from sqlalchemy import delete, select, update

    from factory import store
    from factory.db import get_engine
    from factory.errors import StreamConfigError
    from factory.models import parse_config
    from factory.tables import platform_tables

    engine = get_engine(url)
    with engine.begin() as conn:
        for p_index, platform in enumerate(platforms):
            rng = random.Random(f"screens:{platform}")
            t = platform_tables(platform)
            rows = store.read_rows(conn, platform)
            # An operator paused one stream and changed another's schedule (history + status).
            valid = [r for r in rows if not r.stream_key.startswith("Broken")]
            store.write_row(
                conn, platform, valid[3].stream_key, valid[3].config_json, RowStatus.PAUSED, actor="ops-alice"
            )
            edited = json.loads(valid[5].config_json)
            edited["schedule"] = "*/10 * * * *"
            store.write_row(
                conn,
                platform,
                valid[5].stream_key,
                json.dumps(edited, sort_keys=True, separators=(",", ":")),
                RowStatus.ACTIVE,
                actor="ops-bob",
            )
            rows = store.read_rows(conn, platform)
            base = datetime(2025, 5, 20, 9, 0) + timedelta(hours=p_index)
            for i, row in enumerate(rows):
                created = base + timedelta(minutes=i)
                updated = (
                    created if not row.stream_key.startswith("Broken") else FROZEN_NOW - timedelta(hours=2, minutes=i)
                )
                conn.execute(
                    update(t.dsg)
                    .where(t.dsg.c.stream_key == row.stream_key)
                    .values(created_at=created, updated_at=updated)
                )
            for i, hist in enumerate(conn.execute(select(t.history.c.id).order_by(t.history.c.id)).scalars().all()):
                conn.execute(
                    update(t.history)
                    .where(t.history.c.id == hist)
                    .values(changed_at=base + timedelta(minutes=i), changed_by="bootstrap")
                )
            # The two operator edits happened yesterday afternoon.
            last_two = conn.execute(select(t.history.c.id).order_by(t.history.c.id.desc()).limit(2)).scalars().all()
            for n, hist in enumerate(sorted(last_two)):
                conn.execute(
                    update(t.history)
                    .where(t.history.c.id == hist)
                    .values(changed_at=FROZEN_NOW - timedelta(hours=20 - n), changed_by=("ops-alice", "ops-bob")[n])
                )
            for i, row in enumerate(rows):
                if row.stream_key.startswith("Broken") and row.status == RowStatus.ACTIVE:
                    conn.execute(
                        update(t.history)
                        .where(t.history.c.stream_key == row.stream_key)
                        .values(changed_at=FROZEN_NOW - timedelta(hours=2, minutes=i), changed_by="ops-carol")
                    )
            # Outcomes as the factory records them after the last parse.
            conn.execute(delete(t.builds))
            last_parse = FROZEN_NOW - timedelta(seconds=30)
            for row in rows:
                if row.status != RowStatus.ACTIVE:
                    continue
                try:
                    parse_config(row.config_json, stream_key=row.stream_key)
                    outcome, error, ms = Outcome.OK.value, None, round(rng.uniform(0.55, 1.4), 3)
                except StreamConfigError as exc:
                    outcome, error, ms = Outcome.ERROR.value, str(exc), 0.0
                conn.execute(
                    t.builds.insert().values(
                        stream_key=row.stream_key,
                        outcome=outcome,
                        error=error,
                        build_ms=ms,
                        config_hash="0" * 16,
                        parse_id=PARSE_REPORTS,
                        recorded_at=last_parse,
                    )
                )
            conn.execute(delete(t.parses))
            active = sum(r.status == RowStatus.ACTIVE for r in rows)
            broken = sum(r.status == RowStatus.ACTIVE and r.stream_key.startswith("Broken") for r in rows)
            for i in range(PARSE_REPORTS):
                at = FROZEN_NOW - timedelta(seconds=30 * (PARSE_REPORTS - i))
                if OUTAGE[0] <= i <= OUTAGE[1]:
                    source, rows_read, validate = Source.SNAPSHOT.value, 0, rng.uniform(2.5, 4.0)
                elif i in FULL_READS:
                    source, rows_read, validate = Source.DATABASE.value, active, rng.uniform(30, 42)
                else:
                    source, rows_read, validate = Source.UNCHANGED.value, 0, rng.uniform(2.5, 4.0)
                load = rng.uniform(3, 7) if source != Source.SNAPSHOT else rng.uniform(1.5, 2.5)
                build = rng.uniform(150, 190) + (35 if i in FULL_READS else 0)
                conn.execute(
                    t.parses.insert().values(
                        id=i + 1,
                        parsed_at=at,
                        host="airflow-dag-processor-0",
                        pid=4100 + i,
                        mode="full",
                        source=source,
                        source_detail="config database unreachable; snapshot used"
                        if source == Source.SNAPSHOT
                        else None,
                        rows_read=rows_read,
                        dags_built=active - broken,
                        errors=broken,
                        reused=0 if rows_read else active - broken,
                        load_ms=load,
                        validate_ms=validate,
                        build_ms=build,
                        total_ms=load + validate + build,
                    )
                )


# ---- the shots --------------------------------------------------------------------------------


def yellow(pilot: Pilot[None]) -> YellowApp:
    """The pilot's app, typed as the dashboard it is."""
    return cast("YellowApp", pilot.app)


async def settle(pilot: Pilot[None], timeout: float = 15.0) -> None:
    """Wait until the rows are loaded and every worker in flight has posted its message."""
    app = yellow(pilot)
    deadline = time.monotonic() + timeout
    while (app.rows.loading or not app.rows) and time.monotonic() < deadline:
        if not app.health.online and not app.rows.loading:
            break
        await pilot.pause(0.05)
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def first_broken(app: YellowApp, kind: str = "") -> tuple[str, str]:
    for v in app.rows.views:
        if not v.valid and v.status == RowStatus.ACTIVE and kind in v.stream_key:
            return v.platform, v.stream_key
    raise LookupError(f"no broken row matching {kind!r}")


def edited_stream(app: YellowApp) -> tuple[str, str]:
    """A stream whose config an operator changed (it has an 'update' in its history)."""
    for v in sorted(app.rows.views, key=lambda v: (v.platform, v.stream_key)):
        if v.schedule == "*/10 * * * *" and v.valid:
            return v.platform, v.stream_key
    raise LookupError("no edited stream")


async def shot_streams(pilot: Pilot[None]) -> None:
    await settle(pilot)


async def shot_streams_filtered(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("slash", *"order", "enter")  # filter, then back to the table
    await pilot.press("f")  # status: active only
    table = yellow(pilot).screen.query_one(ConfigTable)
    for _ in COLUMN_INDEX:  # s: the next column, until build ms
        if table.sort_column == COLUMN_INDEX["build_ms"]:
            break
        await pilot.press("s")
    await pilot.press("S")  # slowest first
    await settle(pilot)


async def _open_detail(pilot: Pilot[None], platform: str, key: str, tab: str) -> None:
    await settle(pilot)
    yellow(pilot).open_stream(platform, key)
    await pilot.pause()
    await settle(pilot)
    await pilot.press({"config": "c", "dag": "d", "history": "h"}[tab])
    await settle(pilot)


async def shot_detail_broken(pilot: Pilot[None]) -> None:
    await settle(pilot)
    platform, key = first_broken(yellow(pilot), "_cron")
    await _open_detail(pilot, platform, key, "config")


async def shot_detail_notjson(pilot: Pilot[None]) -> None:
    await settle(pilot)
    try:
        platform, key = first_broken(yellow(pilot), "_notjson")
    except LookupError:
        platform, key = first_broken(yellow(pilot), "_array")
    await _open_detail(pilot, platform, key, "config")


async def shot_detail_dag(pilot: Pilot[None]) -> None:
    await settle(pilot)
    platform, key = edited_stream(yellow(pilot))
    await _open_detail(pilot, platform, key, "dag")


async def shot_detail_history(pilot: Pilot[None]) -> None:
    await settle(pilot)
    platform, key = edited_stream(yellow(pilot))
    await _open_detail(pilot, platform, key, "history")


async def shot_errors(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


async def shot_timing(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)


async def shot_help(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await settle(pilot)


async def shot_palette(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("ctrl+p")
    await pilot.pause(0.2)
    await pilot.press(*"broken")
    await pilot.pause(0.5)
    await settle(pilot)


async def until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the screen did not get there in time")
        await pilot.pause(0.05)
    await pilot.pause()


async def _editor(pilot: Pilot[None], platform: str, key: str) -> EditStreamScreen:
    from yellowtui.screens.edit_stream import EditStreamScreen

    app = yellow(pilot)
    app.open_editor(platform, key)
    await until(pilot, lambda: isinstance(app.screen, EditStreamScreen) and app.screen.verdict is not None)
    screen = cast("EditStreamScreen", app.screen)
    screen.editor.cursor_blink = False  # a blinking cursor would make two runs differ
    return screen


async def _set_field(pilot: Pilot[None], screen: EditStreamScreen, field: str, value: Any) -> None:
    """Replace a top-level field's value in the editor, as typing over it does."""
    import json

    editor = screen.editor
    for n, text in enumerate(editor.text.splitlines()):
        if text.strip().startswith(f'"{field}":'):
            start, end = (n, text.index(":") + 2), (n, len(text.rstrip().rstrip(",")))
            editor.replace(json.dumps(value), start, end)
            editor.move_cursor(start)
            break
    await until(pilot, lambda: screen.verdict_text == editor.text)
    await settle(pilot)


async def shot_edit_problem(pilot: Pilot[None]) -> None:
    await settle(pilot)
    platform, key = edited_stream(yellow(pilot))
    screen = await _editor(pilot, platform, key)
    await _set_field(pilot, screen, "schedule", "every day")


async def shot_edit_dag_diff(pilot: Pilot[None]) -> None:
    await settle(pilot)
    platform, key = edited_stream(yellow(pilot))
    screen = await _editor(pilot, platform, key)
    await _set_field(pilot, screen, "schedule", "@daily")
    await pilot.press("f5")
    await settle(pilot)


async def _stage_examples(pilot: Pilot[None]) -> str:
    """Stage a schedule edit, a pause, a new stream and an edit that does not build; the platform."""
    import json

    from factory.operations.changes.changeset import ChangeBase, Upsert
    from yellowtui.pending import status_change

    await settle(pilot)
    app = yellow(pilot)
    platform, key = edited_stream(app)
    views = sorted((v for v in app.rows.views if v.platform == platform and v.valid), key=lambda v: v.stream_key)
    screen = await _editor(pilot, platform, key)
    await _set_field(pilot, screen, "schedule", "@daily")
    await pilot.press("ctrl+s")
    app.pop_screen()
    to_pause = next(v for v in views if v.status == RowStatus.ACTIVE and v.stream_key != key)
    app.stage(platform, status_change(to_pause, "pause"))
    template = json.loads(to_pause.config_json)
    new = {**template, "stream_key": "NewStore", "store_name": "NewStore"}
    app.stage(platform, Upsert(stream_key="NewStore", config=new, base=ChangeBase.of(None)))
    broken = {**template, "stream_key": "Onboarding", "store_name": "Onboarding"}
    del broken["datasets"]
    app.stage(platform, Upsert(stream_key="Onboarding", config=broken, base=ChangeBase.of(None)))
    app.clear_notifications()  # "Staged ..." toasts: their timing would differ from run to run
    await settle(pilot)
    return platform


async def shot_plan(pilot: Pilot[None]) -> None:
    from textual.widgets import OptionList

    from yellowtui.screens.plan import PlanScreen

    platform = await _stage_examples(pilot)
    app = yellow(pilot)
    app.action_plan(platform)
    await until(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.plan is not None)
    screen = cast("PlanScreen", app.screen)
    change = next(i for i, e in enumerate(screen.shown) if e.action == "change")
    screen.query_one("#plan-entries", OptionList).highlighted = change  # its config and DAG diff
    await settle(pilot)


async def shot_conflict(pilot: Pilot[None]) -> None:
    """Stage an edit, let someone else change the row, apply: theirs beside yours. Writes to the
    database: never run it on the database other shots use."""
    import json

    from factory import store
    from factory.db import get_engine
    from yellowtui.screens.conflict import ConflictScreen
    from yellowtui.screens.plan import PlanScreen

    await settle(pilot)
    app = yellow(pilot)
    platform, key = edited_stream(app)
    screen = await _editor(pilot, platform, key)
    await _set_field(pilot, screen, "schedule", "@daily")
    await pilot.press("ctrl+s")
    app.pop_screen()
    view = app.find_view(platform, key)
    assert view is not None
    theirs = {**json.loads(view.config_json), "schedule": "0 4 * * *"}
    with get_engine(app.service.db_url).begin() as conn:
        store.write_row(conn, platform, key, json.dumps(theirs), RowStatus.ACTIVE, actor="ops-dana")
    app.action_plan(platform)
    await until(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.plan is not None)
    await pilot.press("a")
    await until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen")
    await pilot.press("y")
    await until(pilot, lambda: isinstance(app.screen, ConflictScreen))
    await settle(pilot)


@dataclass(frozen=True)
class Shot:
    name: str
    description: str
    steps: Callable[[Pilot[None]], Awaitable[None]]
    size: tuple[int, int] = SIZE
    theme: str | None = None


SHOTS: tuple[Shot, ...] = (
    Shot("streams", "Streams: every config row, counts in the header", shot_streams),
    Shot("streams-filtered", "Streams filtered by 'order', active only, slowest build first", shot_streams_filtered),
    Shot("stream-detail-problems", "A broken row: its problem marked at its JSON path", shot_detail_broken),
    Shot("stream-detail-not-json", "A row that is not a JSON object", shot_detail_notjson),
    Shot("stream-detail-dag", "The DAG the factory builds from a row", shot_detail_dag),
    Shot("stream-detail-history", "A row's change history", shot_detail_history),
    Shot("errors", "Errors grouped by cause, newest first", shot_errors),
    Shot("timing", "Parse timing: load / validate / build per parse, snapshot parses marked", shot_timing),
    Shot(
        "edit-problem", "Editing a stream: the factory's problem at its JSON path, its line tinted", shot_edit_problem
    ),
    Shot("edit-dag-diff", "Editing a stream: the DAG diff, task.argument: old -> new", shot_edit_dag_diff),
    Shot("plan", "The plan of the staged changes: create, change, remove, fails", shot_plan),
    Shot("help", "Keys of every screen", shot_help),
    Shot("command-palette", "Command palette: jump to a stream", shot_palette),
    Shot("streams-80x24", "Streams at 80x24", shot_streams, (80, 24)),
    Shot("stream-detail-problems-80x24", "A broken row at 80x24", shot_detail_broken, (80, 24)),
    Shot("errors-80x24", "Errors at 80x24", shot_errors, (80, 24)),
    Shot("timing-80x24", "Timing at 80x24", shot_timing, (80, 24)),
    Shot("timing-large", "Timing at 200x50", shot_timing, (200, 50)),
    Shot(
        "stream-detail-problems-light",
        "A broken row in the textual-light theme",
        shot_detail_broken,
        theme="textual-light",
    ),
    Shot("errors-nord", "Errors in the nord theme", shot_errors, theme="nord"),
)


#: Not in SHOTS (the snapshot tests' list): it changes a row of its database.
CONFLICT = Shot("conflict", "A conflict on apply: theirs beside yours, nothing written", shot_conflict)


def screenshot_app(url: str, **kwargs: Any) -> YellowApp:
    """The app as every screenshot (and snapshot test) runs it: frozen clock, fixed label."""
    from yellowtui.app import make_app

    kwargs.setdefault("clock", frozen_clock)
    kwargs.setdefault("display_label", LABEL)
    kwargs.setdefault("poll_interval", 2.0)
    kwargs.setdefault("actor", "ops-alice")
    kwargs.setdefault("show_timings", False)  # build times differ from run to run
    return make_app(url, **kwargs)


async def take(shot: Shot, url: str, out_dir: Path, **app_kwargs: Any) -> Path:
    app = screenshot_app(url, theme=shot.theme, **app_kwargs)
    path = out_dir / f"{shot.name}.svg"
    async with app.run_test(size=shot.size) as pilot:
        await shot.steps(pilot)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        app.save_screenshot(path.name, str(out_dir))
    return path


async def take_database_down(url: str, socket_path: str, out_dir: Path) -> Path:
    """The banner: the app reads through a fault proxy that then refuses every connection."""
    from simulators.fault_proxy import start_proxy

    proxy = start_proxy(socket_path)
    try:
        proxied = proxy_url(url, proxy.port)
        app = screenshot_app(proxied, poll_interval=0.5)
        path = out_dir / "database-down.svg"
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            proxy.refuse()
            deadline = time.monotonic() + 10
            while app.health.online and time.monotonic() < deadline:
                await pilot.pause(0.1)
            await pilot.pause(0.2)
            app.save_screenshot(path.name, str(out_dir))
        return path
    finally:
        proxy.stop()


def proxy_url(url: str, port: int) -> str:
    """``url`` (an embedded server's socket URL) pointed at a loopback proxy port instead."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(host="127.0.0.1", port=port, query={}).render_as_string(hide_password=False)


def to_png(svg: Path) -> Path | None:
    """PNG beside the SVG with rsvg-convert (spaces kept as spaces so text lines up)."""
    if shutil.which("rsvg-convert") is None:
        return None
    text = svg.read_text(encoding="utf-8").replace("<svg ", '<svg xml:space="preserve" ', 1).replace("&#160;", " ")
    png = svg.with_suffix(".png")
    with tempfile.NamedTemporaryFile("w", suffix=".svg", delete=False, encoding="utf-8") as handle:
        handle.write(text)
    try:
        subprocess.run(["rsvg-convert", handle.name, "-o", str(png)], check=True)
    finally:
        Path(handle.name).unlink(missing_ok=True)
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.screenshots",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", help="only these shots (default: all): " + ", ".join(s.name for s in SHOTS))
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="output folder (default: ./screenshots)")
    parser.add_argument("--png", action="store_true", help="also write a PNG of each SVG (needs rsvg-convert)")
    args = parser.parse_args(argv)
    from simulators.postgres import start_postgres

    extra = {"database-down", CONFLICT.name}
    wanted = set(args.names) or {s.name for s in SHOTS} | extra
    unknown = wanted - {s.name for s in SHOTS} - extra
    if unknown:
        parser.error(f"unknown shot(s): {', '.join(sorted(unknown))}")
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="yellowtui-screens-"))
    server = start_postgres(work / "pgdata", delete_on_stop=True)
    try:
        url = server.create_database("yellowtui_screens")
        seed_frozen(url)
        written = []
        for shot in SHOTS:
            if shot.name in wanted:
                written.append(asyncio.run(take(shot, url, args.out)))
                print(f"wrote {written[-1]}  ({shot.description})", file=sys.stderr)
        if "database-down" in wanted:
            written.append(asyncio.run(take_database_down(url, server.socket_path, args.out)))
            print(f"wrote {written[-1]}  (the database went away: banner, last data kept)", file=sys.stderr)
        if CONFLICT.name in wanted:  # it writes to its database: give it one of its own
            conflict_url = server.create_database("yellowtui_conflict")
            seed_frozen(conflict_url)
            written.append(asyncio.run(take(CONFLICT, conflict_url, args.out)))
            print(f"wrote {written[-1]}  ({CONFLICT.description})", file=sys.stderr)
        if args.png:
            for svg in written:
                png = to_png(svg)
                if png is None:
                    print("rsvg-convert not found: no PNGs", file=sys.stderr)
                    break
    finally:
        from factory.db import dispose_engines

        dispose_engines()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
