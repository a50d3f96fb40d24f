"""Change to live, against the session's real local Airflow 3 (tests/airflow_stack.py).

Its own platform, ``YellowChange`` (four streams), is bootstrapped into the stack's config
database and dags folder, so the other Airflow modules' platforms are left as they are. The
stack has no scheduled re-parse to speak of (``min_file_process_interval`` 600 s; Airflow's
default is 30 s): what becomes live here does so through the parses that were asked for.

What an operator sees: a change is ``pending parse`` then ``live``; ``apply --wait-live`` asks
Airflow to parse the file and returns long before a scheduled parse would come; a broken row is
``failed to build`` while Airflow keeps its last good config; a retired row is reported until
Airflow drops it; Airflow stopping during a wait is exit 2 with one clear line; ``--read-only``
sends no parse request; no password or token is ever printed.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from click.testing import CliRunner

from tests.airflow_stack import FAST_CLEANUP, service_for, wait_until
from yellowtui.services.config_service import ConfigService
from yellowtui.services.live_state import LiveStatus
from yellowtui.services.live_wait import STALE_DAG_THRESHOLD_ENV, read_live

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

PLATFORM = "yellowchange"
STREAMS = ("Alpha", "Beta", "Gamma", "Delta")
#: Airflow's default ``min_file_process_interval``: a scheduled parse may take this long to come.
DEFAULT_PARSE_INTERVAL_S = 30


@pytest.fixture(scope="module")
def change(airflow_stack):
    """``YellowChange`` bootstrapped beside the stack's platforms, every DAG listed and live."""
    from factory.operations.provisioning.bootstrap import bootstrap
    from factory.operations.provisioning.ecosystem import StoreSpec, parse_ecosystem
    from simulators.ecosystem import platform_spec

    spec = platform_spec("YellowChange", 3, [StoreSpec(name=n, datasets=["orders"]) for n in STREAMS])
    eco = parse_ecosystem({"name": "change", "platforms": [spec.model_dump()]})
    config_url = airflow_stack["config_url"]
    bootstrap(eco, config_url, airflow_stack["root"] / "dags")
    airflow = airflow_stack["airflow"]
    config = ConfigService(config_url)
    service = service_for(airflow)
    wait_until(
        lambda: all(s.status is LiveStatus.LIVE for s in read_live(config, service, PLATFORM, runs=False).streams),
        240,
        "YellowChange's DAGs to be live",
    )
    return {**airflow_stack, "config": config}


def _cli(stack, *args: str, env: dict | None = None):
    from yellowtui.cli import main

    airflow = stack["airflow"]
    base = {
        "AIRFLOW_API_URL": airflow.url,
        "AIRFLOW_API_USERNAME": airflow.username,
        "AIRFLOW_API_PASSWORD": airflow.password or "",
        "YELLOW_DB_URL": stack["config_url"],
        "YELLOW_READ_ONLY": "",
        # Where yellowtui runs, the stack's stale_dag_threshold (as an operator sets it beside Airflow's).
        STALE_DAG_THRESHOLD_ENV: FAST_CLEANUP[STALE_DAG_THRESHOLD_ENV],
    }
    result = CliRunner().invoke(main, list(args), env={**base, **(env or {})}, catch_exceptions=False)
    assert airflow.password and airflow.password not in result.output, "the password was printed"
    assert "eyJ" not in result.output, "a JWT was printed"
    assert "Traceback" not in result.output
    return result


def _write_sql(stack, key: str, *, status: str | None = None, **changes) -> None:
    """A change made another way than apply (as with psql): no parse is requested."""
    from factory import store
    from factory.db import get_engine

    with get_engine(stack["config_url"]).begin() as conn:
        row = store.read_row(conn, PLATFORM, key)
        config = {**json.loads(row.config_json), **changes}
        store.write_row(conn, PLATFORM, key, json.dumps(config, sort_keys=True), status or row.status, actor="psql")


def _changeset(stack, tmp_path, key: str, **changes):
    from factory import store
    from factory.db import get_engine
    from factory.operations.changes.changeset import edit_of, new_changeset

    with get_engine(stack["config_url"]).connect() as conn:
        row = store.read_row(conn, PLATFORM, key)
    path = tmp_path / f"{key}.json"
    new_changeset(PLATFORM, [edit_of(row, key, {**json.loads(row.config_json), **changes})]).save(path)
    return path


def _status(stack, key: str) -> LiveStatus:
    return read_live(stack["config"], service_for(stack["airflow"]), PLATFORM, [key], runs=False).streams[0].status


def _parse_requests(stack) -> int:
    """Parse requests Airflow received: its audit log records each ``PUT /parseDagFile``."""
    from sqlalchemy import text

    from factory.db import get_engine

    with get_engine(stack["airflow"].db_url).connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM log WHERE event = 'reparse_dag_file'")).scalar_one())


def test_a_change_is_pending_parse_then_live(change):
    _write_sql(change, "Alpha", schedule="0 3 * * *")
    assert _status(change, "Alpha") is LiveStatus.PENDING
    result = _cli(change, "wait", "--platform", PLATFORM, "--stream", "Alpha", "--timeout", "90")
    assert result.exit_code == 0, result.output
    assert _status(change, "Alpha") is LiveStatus.LIVE
    shown = _cli(change, "live", "--platform", PLATFORM, "--json")
    data = {s["stream_key"]: s for s in json.loads(shown.output)["streams"]}
    assert data["Alpha"]["live"] == "live"
    assert data["Alpha"]["served_fingerprint"] == data["Alpha"]["wanted_fingerprint"]


def test_apply_wait_live_returns_well_before_a_scheduled_parse(change, tmp_path):
    before = _parse_requests(change)
    path = _changeset(change, tmp_path, "Beta", schedule="15 4 * * *")
    started = time.monotonic()
    result = _cli(change, "apply", str(path), "--wait-live", "--timeout", "60", "--json")
    took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [f["sent"] for f in data["parse_requests"]["files"]] == [True]
    assert data["parse_requests"]["files"][0]["file"] == "yellowchange_factory_dag.py"
    assert {s["stream_key"]: s["live"] for s in data["live"]["streams"]} == {"Beta": "live"}
    waited = data["wait"]["elapsed_s"]
    print(f"\napply --wait-live: {took:.1f} s in all, {waited:.1f} s from the parse request to live")
    # A generous bound on a shared, loaded machine: without the request, a scheduled parse may
    # take up to Airflow's default 30 s to come (the benchmark measures the real difference).
    assert waited < DEFAULT_PARSE_INTERVAL_S, f"live {waited:.1f} s after the parse request"
    assert _parse_requests(change) > before


def test_read_only_sends_no_parse_request_and_says_so(change, tmp_path):
    path = _changeset(change, tmp_path, "Delta", schedule="20 5 * * *")
    before = _parse_requests(change)
    result = _cli(change, "apply", str(path), "--read-only")
    assert result.exit_code == 0, result.output
    assert "--read-only: no parse request sent" in result.output
    time.sleep(2)  # an audit log entry is written while the request is answered: give it time anyway
    assert _parse_requests(change) == before


def test_a_broken_row_fails_to_build_while_airflow_keeps_its_last_good_config(change):
    from factory.validation import config_hash
    from yellowtui.services.parse_request import request_parses

    service = service_for(change["airflow"])
    good = read_live(change["config"], service, PLATFORM, ["Gamma"], runs=False).streams[0]
    assert good.status is LiveStatus.LIVE
    _write_sql(change, "Gamma", datasets=[])
    result = _cli(change, "wait", "--platform", PLATFORM, "--stream", "Gamma", "--timeout", "60")
    assert result.exit_code == 1, result.output
    assert "failed to build: Gamma" in result.output and "$.datasets" in result.output
    assert good.served in result.output  # the last good config Airflow still runs, by fingerprint
    # After the factory's own parse of the broken row, Airflow still serves the last good DAG.
    assert request_parses(service, PLATFORM, ["Gamma"]).all_sent

    def recorded():
        view = change["config"].stream(PLATFORM, "Gamma")
        return view is not None and view.last_config_hash == config_hash(view.config_json)

    wait_until(recorded, 90, "the factory's parse to record Gamma's failure", interval=1.0)
    after = read_live(change["config"], service, PLATFORM, ["Gamma"], runs=False).streams[0]
    assert after.status is LiveStatus.FAILED
    assert after.served == good.served and "$.datasets" in (after.problem or "")


def test_a_retired_row_is_reported_until_airflow_drops_it(change):
    _write_sql(change, "Delta", status="retired")
    assert _status(change, "Delta") is LiveStatus.STILL_IN_AIRFLOW
    # Airflow deactivates a DAG its file dropped only at a parse ending stale_dag_threshold after
    # the DAG's last parse, checked every parsing_cleanup_interval (50 s and 60 s by default, 5 s
    # in the test stack): wait asks for that parse once the threshold has passed, so the retired
    # DAG goes without waiting for a scheduled parse (none comes within the timeout here).
    result = _cli(change, "wait", "--platform", PLATFORM, "--stream", "Delta", "--timeout", "300")
    assert result.exit_code == 0, result.output
    assert _status(change, "Delta") is LiveStatus.NOT_IN_AIRFLOW


def test_airflow_stopped_during_a_wait_is_unknown_and_exit_2(change):
    airflow = change["airflow"]
    airflow.stop_component("dag-processor")  # nothing parses: the wait is still waiting when the API goes
    _write_sql(change, "Alpha", schedule="45 1 * * *")
    outcome: dict = {}

    def waiting():
        outcome["result"] = _cli(
            change, "wait", "--platform", PLATFORM, "--stream", "Alpha", "--no-refresh", "--timeout", "120", "--json"
        )

    thread = threading.Thread(target=waiting)
    thread.start()
    time.sleep(1.5)
    airflow.stop_component("api-server")
    try:
        thread.join(120)
        assert not thread.is_alive()
    finally:
        airflow.start_component("api-server")
        airflow.start_component("dag-processor")
        airflow.wait_healthy(120)
    result = outcome["result"]
    assert result.exit_code == 2, result.output
    data = json.loads(result.output)
    assert data["streams"][0]["live"] == "unknown"
    assert "cannot reach Airflow" in data["reason"]


async def test_the_dashboard_follows_an_applied_change_from_pending_to_live(change):
    """``a`` on the plan screen: the applied stream shows pending parse, then live, and stays on
    screen until it has settled."""
    from factory import store
    from factory.db import get_engine
    from factory.operations.changes.changeset import edit_of
    from tests.test_dashboard import SIZE, screen_text, wait_for
    from yellowtui.app import make_app
    from yellowtui.screens.plan import PlanScreen

    app = make_app(change["config_url"], airflow=service_for(change["airflow"]), airflow_interval=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: PLATFORM in app.platforms, what="the platforms")
        app.platform = PLATFORM
        with get_engine(change["config_url"]).connect() as conn:
            row = store.read_row(conn, PLATFORM, "Alpha")
        app.stage(PLATFORM, edit_of(row, "Alpha", {**json.loads(row.config_json), "schedule": "30 2 * * *"}))
        await pilot.press("5")
        await wait_for(
            pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.plan is not None, 60, "the plan"
        )
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        await pilot.press("a")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen", what="the confirmation")
        await pilot.press("y")
        seen: list[str] = []
        deadline = time.monotonic() + 90
        while not (screen.live is not None and screen.live.settled):
            assert time.monotonic() < deadline, f"not settled in time; seen {seen}"
            if screen.live is not None:
                status = str(screen.live.streams[0].status)
                if not seen or seen[-1] != status:
                    seen.append(status)
            await pilot.pause(0.2)
        assert seen[0] == "pending parse" and screen.live.streams[0].status is LiveStatus.LIVE
        text = screen_text(app)
        assert "every change has settled in Airflow" in text and "✔ live" in text and "Alpha" in text
