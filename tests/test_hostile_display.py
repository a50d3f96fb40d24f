"""Text from data is shown, never obeyed (issue 10, item 1).

A real PostgreSQL where every text field the dashboard and the command line show holds hostile
text: Rich/Textual markup (styles, ``@click`` actions, links), terminal escape sequences (clear
screen, OSC 8 hyperlinks, title changes), bidi overrides, zero-width characters, NUL and C1
controls. Stream keys must pass the key pattern, so the hostile text sits in config values,
unknown field names, status, not-JSON config text, history actors (``SET LOCAL yellow.actor``)
and changed-field names, parse-report texts and build errors.

Every screen (1, 2, 3, the stream detail's tabs, help, the command palette) is visited with the
real pilot; its rendered output must hold the markup literally, no raw control character, and the
app must not have quit or acted. Every CLI command, with and without ``--json``, must print no
raw control character (only escapes) and markup literally.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from factory.db import get_engine
from simulators.ecosystem import generate_ecosystem, seed_database
from tests.test_dashboard import loaded, wait_for
from yellowtui.app import make_app
from yellowtui.cli import main
from yellowtui.presenters.safe_text import json_visible, visible

#: Markup that would style, act (quit the app) or link if it were interpreted.
MARKUP = "[bold red]x[/]"
CLICK = "[@click=app.quit]boom[/]"
LINK = "[link=https://evil.example]x[/link]"
#: Control characters and sequences that would act on a terminal or hide text.
CONTROLS = ("\x1b[2J", "\x1b]8;;http://x\x07", "\x1b]0;owned\x07", "\u202e", "\x00", "\u200b", "\x9b", "\x08", "\r")
HOSTILE = MARKUP + CLICK + LINK + "".join(CONTROLS)
#: What a PostgreSQL text column can hold (no NUL); JSON values carry the NUL as an escape.
STORED = HOSTILE.replace("\x00", "")
#: Characters that must never reach the terminal raw.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069]")

PLATFORM = "yellowlive"


def hostile_config(key: str, base: dict[str, Any]) -> dict[str, Any]:
    """A seeded row's config with hostile text in values and in an unknown field's name."""
    return {
        **base,
        "stream_key": key,
        "schedule": "x" + HOSTILE,
        "namespace_name": HOSTILE,
        CLICK + "\x1b[2J": 1,  # an unknown field whose name is hostile
        "datasets": [HOSTILE],
    }


def seed_hostile(db_url: str) -> None:
    """One clean platform plus hostile rows, history, parse reports and build errors."""
    seed_database(db_url, generate_ecosystem(1, 3, 5))
    engine = get_engine(db_url)
    dsg = f"{PLATFORM}_airflow_dsg"
    with engine.begin() as conn:
        base = json.loads(conn.execute(text(f"SELECT config_json FROM {dsg} LIMIT 1")).scalar_one())
        conn.execute(text("SELECT set_config('yellow.actor', :a, true)"), {"a": "actor" + STORED})
        rows = [
            ("Hostile_values", json.dumps(hostile_config("Hostile_values", base), ensure_ascii=False), "active"),
            ("Hostile_text", "not json " + STORED, "active"),
            ("Hostile_status", json.dumps({"stream_key": "Hostile_status"}), (CLICK + "\x1b[2J\u202e")[:50]),
        ]
        for key, config, status in rows:
            conn.execute(
                text(
                    f"INSERT INTO {dsg} (stream_key, config_json, status, created_at, updated_at) "
                    "VALUES (:k, :c, :s, now(), now())"
                ),
                {"k": key, "c": config, "s": status},
            )
        # A history entry whose changed-field names and actor are hostile.
        changed = {**hostile_config("Hostile_values", base), LINK + "\u202e": 2}
        conn.execute(
            text(f"UPDATE {dsg} SET config_json = :c, updated_at = now() WHERE stream_key = 'Hostile_values'"),
            {"c": json.dumps(changed, ensure_ascii=False)},
        )
        clean = STORED
        conn.execute(
            text(
                f"INSERT INTO {dsg}_parse (parsed_at, host, pid, mode, source, source_detail, rows_read, dags_built,"
                " errors, reused, load_ms, validate_ms, build_ms, total_ms) VALUES (timezone('UTC', now()), :h, 1,"
                " :m, :s, :d, 3, 1, 2, 0, 1.0, 1.0, 1.0, 3.0)"
            ),
            {"h": ("host" + clean)[:255], "m": clean[:20], "s": clean[:20], "d": clean},
        )
        for key in ("Hostile_values", "Hostile_status", "Hostile_text"):
            conn.execute(
                text(
                    f"INSERT INTO {dsg}_build (stream_key, outcome, error, build_ms, recorded_at)"
                    " VALUES (:k, 'error', :e, 1.0, timezone('UTC', now()))"
                    " ON CONFLICT (stream_key) DO UPDATE SET error = EXCLUDED.error"
                ),
                {"k": key, "e": "error " + clean},
            )


def rendered(app: Any) -> tuple[str, str]:
    """(the SVG screenshot's text, the compositor's lines): what would reach the terminal."""
    svg = app.export_screenshot()
    shown = html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")
    strips = app.screen._compositor.render_strips()
    lines = "\n".join("".join(segment.text for segment in strip) for strip in strips)
    return shown, lines


def assert_safe(app: Any, where: str, *, expect: tuple[str, ...] = ()) -> str:
    shown, lines = rendered(app)
    for out in (shown, lines):
        raw = FORBIDDEN.search(out.replace("\n", ""))
        assert raw is None, f"{where}: raw control character {raw.group()!r} reached the terminal"
    flat = lines.replace("\n", "")
    for literal in expect:
        assert literal in flat or literal in shown.replace("\n", ""), f"{where}: {literal!r} not shown literally"
    assert app.is_running, f"{where}: the app quit"
    return flat


SCREENS_VISITED = 8


async def test_every_screen_shows_hostile_text_literally(db_url: str) -> None:
    seed_hostile(db_url)
    app = make_app(db_url)
    async with app.run_test(size=(220, 50)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: len(list(app.rows.views)) >= 6, what="hostile rows")
        # 1: streams, filtered to the hostile rows (status cells hold markup and escapes)
        await pilot.press("slash", *"hostile", "enter")
        await pilot.pause(0.3)
        assert_safe(app, "streams", expect=("[@clic", "x[bold red]x"))  # cells are cut at the column width
        # the detail of the row with hostile values: config, problems, DAG, history
        await wait_for(pilot, lambda: bool(app.screen.query("ConfigTable")), what="table")
        from yellowtui.screens.stream_detail import StreamDetailScreen

        for key in ("Hostile_values", "Hostile_text", "Hostile_status"):
            app.open_stream(PLATFORM, key)
            await wait_for(pilot, lambda: isinstance(app.screen, StreamDetailScreen), what="detail")
            await wait_for(pilot, lambda: app.screen.loaded is not None, what="detail loaded")
            await pilot.pause(0.2)
            assert_safe(app, f"detail {key} config", expect=("[bold red]x[/]",) if key != "Hostile_status" else ())
            await pilot.press("d")
            await pilot.pause(0.2)
            assert_safe(app, f"detail {key} DAG")
            await pilot.press("h")
            await pilot.pause(0.2)
            history = assert_safe(app, f"detail {key} history")
            if key == "Hostile_values":
                assert "actor[bold red]x[/]" in history  # the actor, literally
                assert "\\u202e" in history or "\\x1b" in history
            await pilot.press("escape")
            await pilot.pause(0.1)
        # 2: errors (build errors, unknown status, problems)
        await pilot.press("2")
        await pilot.pause(0.5)
        assert_safe(app, "errors", expect=("[@click=app.quit]boom[/]\\x1b[2J\\u202e",))
        # 3: timing (parse reports with hostile texts)
        await pilot.press("3")
        await pilot.pause(0.5)
        assert_safe(app, "timing")
        # help, and the command palette listing hostile statuses as hit help
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        assert_safe(app, "help")
        await pilot.press("escape", "1")
        await pilot.pause(0.2)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"hostile_st")
        await pilot.pause(0.5)
        assert_safe(app, "command palette")
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.is_running


def cli_commands(db_url: str, export: str) -> list[list[str]]:
    db = ["--db", db_url]
    return [
        ["config", "list", *db],
        ["config", "list", *db, "--json"],
        ["config", "show", "Hostile_values", "-p", PLATFORM, *db],
        ["config", "show", "Hostile_values", "-p", PLATFORM, *db, "--json"],
        ["config", "show", "Hostile_text", "-p", PLATFORM, *db],
        ["config", "show", "Hostile_status", "-p", PLATFORM, *db, "--json"],
        ["config", "validate", *db],
        ["config", "validate", *db, "--json", "--all-statuses"],
        ["config", "export", "-p", PLATFORM, *db],
        ["errors", *db],
        ["errors", *db, "--json"],
        ["parses", "-p", PLATFORM, *db],
        ["parses", "-p", PLATFORM, *db, "--json"],
        ["simulate", "-p", PLATFORM, *db],
        ["simulate", "-p", PLATFORM, *db, "--json", "--all"],
        ["simulate", "-p", PLATFORM, *db, "--with", export],
        ["apply", export, *db, "--dry-run"],
        ["apply", export, *db, "--dry-run", "--json"],
        ["config", "pause", "Hostile_values", "-p", PLATFORM, *db, "--dry-run"],
        ["config", "show", "No" + "\x1b[2J", "-p", PLATFORM, *db],
        ["config", "show", "x", "-p", "[bold]p\x1b[2J", *db],
    ]


def test_every_cli_command_prints_hostile_text_literally(db_url: str, tmp_path: Any) -> None:
    seed_hostile(db_url)
    with get_engine(db_url).connect() as conn:
        base = json.loads(conn.execute(text(f"SELECT config_json FROM {PLATFORM}_airflow_dsg LIMIT 1")).scalar_one())
    export = tmp_path / "hostile.json"
    change = {
        "platform": PLATFORM,
        "changes": [{"op": "upsert", "stream_key": "Hostile_new", "config": hostile_config("Hostile_new", base)}],
    }
    export.write_text(json.dumps(change), encoding="utf-8")
    runner = CliRunner()
    commands = cli_commands(db_url, str(export))
    for args in commands:
        result = runner.invoke(main, args, catch_exceptions=False)
        where = " ".join(a if "postgresql" not in a else "URL" for a in args)
        assert result.exit_code in (0, 1, 2, 3), f"{where}: exit {result.exit_code}"
        for name, out in (("stdout", result.stdout), ("stderr", result.stderr)):
            raw = FORBIDDEN.search(out.replace("\n", "").replace("\t", ""))
            assert raw is None, f"{where}: raw {raw.group()!r} in {name}"
            assert "Traceback" not in out, where
        if "--json" in args and result.exit_code == 0:
            json.loads(result.stdout)  # still valid JSON: the escapes are JSON escapes
    # markup is printed literally by the human-readable commands
    out = runner.invoke(main, ["config", "show", "Hostile_status", "-p", PLATFORM, "--db", db_url]).stdout
    assert "status=[@click=app.quit]boom[/]\\x1b[2J\\u202e" in out
    shown = runner.invoke(main, ["config", "show", "Hostile_text", "-p", PLATFORM, "--db", db_url]).stdout
    assert "[bold red]x[/]" in shown and "\\x1b[2J" in shown


CLI_CASES = 21


@pytest.mark.parametrize("value", [HOSTILE, *CONTROLS, "\ud800", "\u2066x\u2069", "é日本 plain", "a\tb\nc"])
def test_visible_escapes_every_control(value: str) -> None:
    shown = visible(value)
    assert FORBIDDEN.search(shown) is None and "\n" not in shown and "\ud800" not in shown
    # markup stays as typed
    if value == HOSTILE:
        assert MARKUP in shown
    # readable text is untouched
    assert visible("é日本 plain") == "é日本 plain"
    # JSON escapes round-trip to the same data
    assert json.loads(json_visible(json.dumps(value, ensure_ascii=False))) == value


#: Every password the suite uses, and secret shapes that must never be screenshotted.
TEST_PASSWORDS = ("Hx7-Pw%40rd%3A99", "Hx7-Pw@rd:99", "s3cret-never-shown", "grants-test-pw-7Qx", "hunter2")
SECRET_PATTERNS = re.compile(
    r"ghp_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}"
    r"|AIza[0-9A-Za-z_-]{35}|sk-[A-Za-z0-9]{20,}|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.|postgres(?:ql)?(?:\+\w+)?://[^:/@\s]+:(?!\*\*\*)[^@\s]+@"
)


def test_no_screenshot_or_snapshot_holds_a_credential() -> None:
    """Every SVG in screenshots/ and tests/__snapshots__/ (the suite's snapshot tests write them):
    no test password, no secret-shaped text, no raw control character."""
    root = Path(__file__).resolve().parent.parent
    files = sorted([*root.glob("screenshots/*.svg"), *root.glob("tests/__snapshots__/**/*.svg")])
    assert len(files) >= 16
    for path in files:
        svg = path.read_text(encoding="utf-8")
        shown = html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")
        for password in TEST_PASSWORDS:
            assert password not in svg and password not in shown, path.name
        found = SECRET_PATTERNS.search(shown)
        assert found is None, f"{path.name}: {found.group()[:12]}…"
        assert FORBIDDEN.search(shown.replace("\n", "")) is None, path.name
