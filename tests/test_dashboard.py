"""The dashboard driven through Textual's pilot, pressing real keys, on a real PostgreSQL.

Every test seeds its own fresh database (the ``db_url`` fixture) with the synthetic ecosystem
from ``simulators`` plus broken rows, opens the app through ``make_app`` (what ``yellowtui``
runs) and checks what the screens hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.widgets import DataTable

from simulators.ecosystem import generate_ecosystem, seed_database
from yellowtui.app import make_app
from yellowtui.presenters.json_paths import config_lines, locate
from yellowtui.screens.errors import ErrorsScreen
from yellowtui.screens.stream_detail import StreamDetailScreen
from yellowtui.screens.timing import TimingScreen
from yellowtui.widgets.config_table import ConfigTable
from yellowtui.widgets.config_view import ConfigView
from yellowtui.widgets.db_banner import DatabaseBanner
from yellowtui.widgets.timing_chart import TimingChart

SIZE = (120, 36)
SEED = 9  # its broken rows: a cron, a typo, an image, a secret, an ingestion type, text that is not JSON


def seed(db_url: str, streams: int = 40, bad: int = 3) -> dict[str, Any]:
    return seed_database(db_url, generate_ecosystem(2, streams, SEED), bad=bad, seed=SEED)


def broken_streams(summary: dict[str, Any]) -> set[tuple[str, str]]:
    return {(platform, key) for platform, info in summary["platforms"].items() for key in info["bad"]}


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        await pilot.pause(0.05)
    await pilot.pause()


async def loaded(pilot: Any) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: not app.rows.loading and bool(app.rows), what="rows to load")


def screen_text(app: Any) -> str:
    """Everything on screen as plain text (the SVG export, tags stripped)."""
    import html
    import re

    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


async def test_filter_narrows_the_table_as_you_type(db_url: str) -> None:
    seed(db_url)
    app = make_app(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = app.screen.query_one(ConfigTable)
        total = table.shown_count
        assert total == 86  # 2 platforms x (40 streams + 3 broken)
        await pilot.press("slash", *"broken")
        await pilot.pause()
        assert table.shown_count == 6
        assert all("broken" in row.stream_key.lower() for row in table.visible_rows)
        await pilot.press(*"0001")
        await pilot.pause()
        assert {row.stream_key for row in table.visible_rows} == {"Broken0001_typo", "Broken0001_cron"}
        # A column-qualified term: only one platform's rows.
        await pilot.press(*["backspace"] * 10, *"platform:forensic broken")
        await pilot.pause()
        assert {(r.platform, r.stream_key) for r in table.visible_rows} == {
            ("yellowforensic", f"Broken000{i}_{k}") for i, k in ((1, "cron"), (2, "secret"), (3, "ingestion"))
        }
        await pilot.press("enter", "escape")  # back to the table, then clear the filter
        await pilot.pause()
        assert table.shown_count == total
        await pilot.press("f")  # status filter: active
        assert table.status_filter == "active"
        assert table.shown_count == table.counts.active == total
        await pilot.press("f", "f", "f")  # paused, retired, invalid
        assert table.status_filter == "invalid"
        assert table.shown_count == 6 and all(not r.valid for r in table.visible_rows)
        await pilot.press("f", "f")  # failing, all
        assert table.status_filter == "all"
        await pilot.press("s")  # sort by the next column (platform)
        assert table.sort_label.startswith("Platform")
        platforms = [r.platform for r in table.visible_rows]
        assert platforms == sorted(platforms)
        await pilot.press("S")
        assert [r.platform for r in table.visible_rows] == sorted(platforms, reverse=True)
        header = screen_text(app)
        assert "showing 86 of 86 rows" in header and "6 invalid" in header


async def test_broken_row_shows_its_error_at_the_json_path(db_url: str) -> None:
    seed(db_url)
    app = make_app(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"Broken0001_cron", "enter", "enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, StreamDetailScreen) and app.screen.loaded is not None,
            what="the detail screen",
        )
        screen = app.screen
        assert (screen.platform, screen.stream_key) == ("yellowforensic", "Broken0001_cron")
        view = screen.query_one(ConfigView)
        assert [(m.path, m.exact) for m in view.marked] == [("$.schedule", True)]
        line = view.marked[0].line
        assert view.text.lines[line].text.strip().startswith('"schedule": "61 * * * *"')
        text = screen_text(app)
        assert "◀ $.schedule: '61 * * * *' is not a valid 5-field cron expression" in text
        assert f"line {line + 1}" in text
        # The DAG tab says no DAG is built; the history tab has the row's insert.
        await pilot.press("d")
        assert "No DAG" in str(screen.query_one("#dag-tree").root.label)
        await pilot.press("h")
        assert screen.query_one("#history-table").row_count >= 1
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, StreamDetailScreen)


def test_a_missing_field_is_marked_on_its_parent() -> None:
    """The JSON-path locator, on the kinds of problem that have no line of their own."""
    text = config_lines('{"a": {"b": [1, 2, 3]}, "c": "x"}')
    assert [line.text for line in text.lines][:3] == ["{", '  "a": {', '    "b": [']
    assert locate(text, "$.a.b[2]") == (5, True)
    assert locate(text, "$.a.missing") == (1, False)
    assert locate(text, "$.gone") == (0, False)
    raw = config_lines('{"a": "unterminated')
    index, exact = locate(raw, "$")
    assert exact and raw.lines[index].error_column is not None and not raw.is_json


async def test_errors_screen_lists_exactly_the_broken_streams(db_url: str) -> None:
    summary = seed(db_url)
    app = make_app(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("2")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorsScreen) and app.screen.errors, what="errors")
        screen = app.screen
        assert screen.listed_streams == broken_streams(summary)
        text = screen_text(app)
        assert "6 error(s) in 6 stream(s)" in text
        # Newest first: the groups are ordered by their newest error.
        tree = screen.query_one("#errors-tree")
        newest = [group.children[0].data for group in tree.root.children]
        stamps = [next(e.recorded_at for e in screen.errors if (e.platform, e.stream_key) == key) for key in newest]
        assert stamps == sorted(stamps, reverse=True)
        # The cursor starts on the newest error's stream; Enter opens it.
        await pilot.press("down", "up", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StreamDetailScreen), what="detail")
        assert (app.screen.platform, app.screen.stream_key) in broken_streams(summary)
        await pilot.press("escape", "p")  # back, then one platform only
        await pilot.pause()
        assert {p for p, _ in app.screen.listed_streams} == {app.platform}


async def test_timing_screen_shows_recorded_parses(db_url: str, snapshot_dir: Any) -> None:
    """Real parse reports from the factory's loader; then the parse loop adds one live."""
    from factory.loader import load_platform

    seed(db_url, streams=20, bad=1)
    for _ in range(2):
        load_platform("yellowforensic", url=db_url, conn_id=None, dag_id=None, snapshot_dir=snapshot_dir)
    app = make_app(db_url, poll_interval=0.5, parse_interval=0.5)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("3")
        await wait_for(pilot, lambda: isinstance(app.screen, TimingScreen) and app.screen.reports, what="reports")
        screen = app.screen
        assert screen.platform == "yellowforensic"
        assert [r.source for r in screen.reports] == ["database-unchanged", "database"]
        assert screen.query_one("#parses-table").row_count == 2
        assert len(screen.query_one(TimingChart).reports) == 2
        text = screen_text(app)
        assert "2 parses" in text and "unchanged" in text and "database" in text
        assert "Slowest streams" in text
        # `l` runs the simulated DAG processor against this database: a process per parse, here
        # forked from the session's warm parent, as Airflow's DAG processor forks one per file.
        await pilot.press("l")
        assert screen.loop_running
        await wait_for(pilot, lambda: len(screen.reports) >= 3, timeout=90, what="a live parse report")
        await pilot.press("l")
        assert not screen.loop_running
        app.stop_background()


async def test_timing_screen_shows_each_file_of_a_split_platform(db_url: str, snapshot_dir: Any) -> None:
    from factory.db import get_engine
    from factory.loader import load_platform
    from factory.split import write_layout

    seed(db_url, streams=20, bad=0)
    with get_engine(db_url).begin() as conn:
        write_layout(conn, "yellowforensic", 2, actor="test")
    built = [
        len(load_platform("yellowforensic", url=db_url, conn_id=None, snapshot_dir=snapshot_dir, file_index=i).dags)
        for i in (0, 1)
    ]
    assert all(built) and sum(built) == 20
    app = make_app(db_url, poll_interval=0.5)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("3")
        await wait_for(pilot, lambda: isinstance(app.screen, TimingScreen) and app.screen.reports, what="reports")
        assert app.screen.platform == "yellowforensic"
        text = screen_text(app)
        assert "2 files: 20 DAGs, slowest file" in text
        table = app.screen.query_one("#parses-table", DataTable)
        assert sorted(str(table.get_row_at(i)[-1]) for i in range(table.row_count)) == ["0", "1"]
        app.stop_background()


async def test_database_outage_is_survived(pg: Any, db_url: str) -> None:
    """The database goes away (a proxy refuses every connection) and comes back."""
    from sqlalchemy.engine import make_url

    from factory import store
    from factory.db import get_engine
    from simulators.fault_proxy import start_proxy

    seed(db_url)
    proxy = start_proxy(pg.socket_path)
    try:
        proxied = (
            make_url(db_url).set(host="127.0.0.1", port=proxy.port, query={}).render_as_string(hide_password=False)
        )
        app = make_app(proxied, poll_interval=0.3)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot)
            table = app.screen.query_one(ConfigTable)
            rows = table.shown_count
            banner = app.screen.query_one(DatabaseBanner)
            assert not banner.has_class("-down")

            proxy.refuse()
            await wait_for(pilot, lambda: not app.health.online, what="the outage to be noticed")
            assert banner.has_class("-down")
            assert "Database unreachable" in screen_text(app)
            assert table.shown_count == rows  # the last data stays
            # Screens opened during the outage do not crash either.
            await pilot.press("2", "3", "1")
            await pilot.pause(0.5)

            # Meanwhile someone adds a row (directly, not through the proxy).
            with get_engine(db_url).begin() as conn:
                first = store.read_rows(conn, "yellowlive")[0]
                store.write_row(
                    conn,
                    "yellowlive",
                    "AddedDuringOutage",
                    first.config_json.replace(f'"stream_key":"{first.stream_key}"', '"stream_key":"AddedDuringOutage"'),
                    actor="test",
                )

            proxy.pass_through()
            await wait_for(pilot, lambda: app.health.online, what="the database to come back")
            await wait_for(pilot, lambda: table.shown_count == rows + 1, what="the new row after reconnecting")
            assert not banner.has_class("-down")
    finally:
        proxy.stop()


async def test_command_palette_jumps_to_a_stream(db_url: str) -> None:
    seed(db_url)
    app = make_app(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Broken0002_secret")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StreamDetailScreen), what="the detail screen")
        assert app.screen.stream_key == "Broken0002_secret"


async def test_password_never_reaches_the_screen(db_url: str) -> None:
    """A URL with a password (the local socket trusts us, so any password connects): the status
    bar shows which database, with the password hidden."""
    from sqlalchemy.engine import make_url

    password = "s3cret-never-shown"
    with_password = make_url(db_url).set(password=password).render_as_string(hide_password=False)
    seed(db_url, streams=5, bad=0)
    app = make_app(with_password)
    async with app.run_test(size=(200, 30)) as pilot:
        await loaded(pilot)
        text = screen_text(app)
        assert "***" in text and password not in text


def test_dag_preview_uses_the_platforms_stored_job_settings(db_url: str, example_ecosystem) -> None:
    """A platform whose job is the July 2025 generation with plain secret keys: the detail's DAG
    shows the arguments and credential keys that job reads, as the factory builds them."""
    from factory.job_contract import JobArguments, JobSettings, SecretKeys
    from factory.models import parse_config
    from factory.operations.provisioning.bootstrap import bootstrap
    from factory.spec import dag_spec
    from yellowtui.presenters.dag_preview import preview_dag
    from yellowtui.services.config_service import ConfigService

    job = JobSettings(secret_keys=SecretKeys.PLAIN, arguments=JobArguments.JULY_2025)
    platform = example_ecosystem.platforms[0]
    eco = example_ecosystem.model_copy(update={"platforms": [platform.model_copy(update={"job": job})]})
    bootstrap(eco, db_url, None)
    service = ConfigService(db_url)
    view = service.streams(platform.name)[0]
    preview = preview_dag(platform.name, view.stream_key, view.config_json, service.policy(platform.name))
    assert preview.spec is not None
    built = dag_spec(parse_config(view.config_json), platform.name, job)
    assert preview.spec.arguments == built.arguments
    assert "--git-platform-repo-credential-name" not in preview.spec.arguments
    assert {s.secret_key for s in preview.spec.secrets} == {s.secret_key for s in built.secrets}
    default = preview_dag(platform.name, view.stream_key, view.config_json)
    assert default.spec is not None and default.spec.arguments != preview.spec.arguments


def test_dag_preview_matches_the_builder(sample_config: dict) -> None:
    """The task graph the dashboard shows is the one the real builder makes (Airflow imported)."""
    import json

    from factory.builder import build_dag
    from factory.models import parse_config
    from yellowtui.presenters.dag_preview import preview_dag

    config = parse_config(sample_config)
    dag = build_dag(config, "yellowlive")
    preview = preview_dag("yellowlive", config.stream_key, json.dumps(sample_config))
    assert preview.spec is not None and preview.spec.dag_id == dag.dag_id
    shown = {t.task_id: (t.operator, set(t.downstream)) for t in preview.tasks}
    built = {t.task_id: (type(t).__name__, set(t.downstream_task_ids)) for t in dag.tasks}
    assert shown == built
    job = dag.get_task("snapshot_merge_job")
    assert job.image == preview.spec.image
    built_refs = {(e.name, e.value_from.secret_key_ref.name) for e in job.env_vars if e.value_from is not None}
    assert built_refs == {(s.env_var, s.secret_name) for s in preview.spec.secrets}
