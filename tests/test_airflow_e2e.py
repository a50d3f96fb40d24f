"""End to end against one real local Airflow 3 (api-server, scheduler, dag-processor), the one
the whole test session shares (tests/airflow_stack.py): the factory's DAGs through the REST API,
runs that reschedule themselves and runs that fail, paging, token renewal, Airflow going away and
coming back, read-only.

Two of its platforms: ``YellowLive`` with three manual-only streams whose simulated job is
scripted (Loop: KEEP_WORKING, KEEP_WORKING, DONE; Broken: the job's error, -1; Calm: DONE), and
``YellowPaging`` with 150 streams (more than one page of 100).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from factory import shape
from factory.errors import AirflowAuthError, AirflowUnavailable, ReadOnlyError
from factory.operations.inspection.views import StreamView
from simulators.local_airflow import LocalAirflow
from tests.airflow_stack import LIVE, PAGING, PAGING_STREAMS, service_for, wait_until
from yellowtui.services.airflow.models import DagState
from yellowtui.services.airflow.service import AirflowService
from yellowtui.services.airflow.settings import AirflowSettings
from yellowtui.services.run_state import NOT_IN_AIRFLOW, platform_run_state

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

LOOP, BROKEN, CALM = f"{LIVE}__Loop_ingestion", f"{LIVE}__Broken_ingestion", f"{LIVE}__Calm_ingestion"
RUN_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def stack(airflow_stack):
    """The session's one real Airflow (tests/airflow_stack.py)."""
    return airflow_stack


def _service(airflow: LocalAirflow, **settings) -> AirflowService:
    return service_for(airflow, **settings)


def _wait(predicate, timeout: float, what: str, interval: float = 2.0):
    return wait_until(predicate, timeout, what, interval)


def _cli(airflow: LocalAirflow, *args: str, env: dict | None = None, input: str | None = None):
    from yellowtui.cli import main

    base = {"AIRFLOW_API_URL": airflow.url, "AIRFLOW_API_USERNAME": airflow.username}
    base["AIRFLOW_API_PASSWORD"] = airflow.password or ""
    return CliRunner().invoke(main, list(args), env={**base, **(env or {})}, input=input, catch_exceptions=False)


@pytest.fixture(scope="module")
def triggered(stack):
    """Unpause and trigger Loop and Broken once, by the first test, so their runs proceed side by
    side and behind the listing, paging and token tests (the module's tests run in file order)."""
    service = _service(stack["airflow"])
    runs = {}
    for dag_id in (LOOP, BROKEN):
        assert service.set_paused(dag_id, False).is_paused is False
        runs[dag_id] = service.trigger(dag_id, {"source": "e2e"}).run_id
    return runs


# ---- listing ----------------------------------------------------------------------------------


def test_the_factorys_dags_are_listed_through_the_rest_api(stack, triggered):
    dags = _service(stack["airflow"]).list_dags(LIVE)
    assert [d.dag_id for d in dags] == sorted([LOOP, BROKEN, CALM])
    for dag in dags:
        assert dag.stream_key in ("Loop", "Broken", "Calm")
        assert not dag.is_stale and dag.last_parsed is not None and dag.last_parse_duration_s is not None
        assert dag.schedule is None or dag.schedule in ("None", "")  # manual only
        assert dag.file and dag.file.endswith(f"{LIVE}_factory_dag.py")


def test_more_dags_than_one_page_are_all_listed_with_requests_bounded_by_pages(stack):
    service = _service(stack["airflow"], page_size=100)
    service.dags(f"{PAGING}__")  # log in first; count the refresh only
    before = service.requests
    dags = service.list_dags(PAGING)
    assert len(dags) == PAGING_STREAMS and len({d.dag_id for d in dags}) == PAGING_STREAMS
    # 2 pages of DAGs + 1 page of runs (there are none): not 150 requests.
    assert service.requests - before == 3
    state = platform_run_state(service, PAGING)
    assert len(state.dags) == PAGING_STREAMS and state.requests == 2 + 1 + 1 + 1


# ---- pages fetched at once ---------------------------------------------------------------------


def test_pages_fetched_at_once_list_every_dag_once_in_order(stack):
    """Eight pages of 20, the seven after the first fetched four at a time: the same DAGs in the
    same order as one page after the other, each exactly once, in as many requests as pages."""
    airflow = stack["airflow"]
    at_once = _service(airflow, page_size=20, page_workers=4)
    one_by_one = _service(airflow, page_size=20, page_workers=1)
    for service in (at_once, one_by_one):
        service.dags(LIVE)  # log in first; count the listing only
    before = at_once.requests
    listed = [d.dag_id for d in at_once.dags(f"{PAGING}__")]
    assert at_once.requests - before == 8  # ceil(150 / 20)
    assert len(listed) == PAGING_STREAMS and listed == sorted(set(listed))
    assert listed == [d.dag_id for d in one_by_one.dags(f"{PAGING}__")]
    refreshed = at_once.list_dags(PAGING)
    assert [d.dag_id for d in refreshed] == listed and all(d.stream_key for d in refreshed)


class _FailingPageProxy:
    """Forwards every request to the real Airflow, except the page at one offset, answered with
    HTTP 503: one of several pages in flight fails."""

    def __init__(self, upstream: str, failing_offset: int):
        import threading
        import urllib.error
        import urllib.request
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        proxy = self
        self.failed = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _forward(self) -> None:
                if f"offset={failing_offset}&" in self.path + "&":
                    proxy.failed += 1
                    body = b'{"detail": "injected failure"}'
                    self.send_response(503)
                else:
                    length = int(self.headers.get("Content-Length") or 0)
                    data = self.rfile.read(length) if length else None
                    headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                    request = urllib.request.Request(upstream + self.path, data=data, headers=headers)
                    request.method = self.command
                    try:
                        with urllib.request.urlopen(request, timeout=30) as resp:
                            status, body = resp.status, resp.read()
                    except urllib.error.HTTPError as exc:
                        status, body = exc.code, exc.read()
                    self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_one_failing_page_among_pages_fetched_at_once_is_one_clear_error(stack):
    airflow = stack["airflow"]
    proxy = _FailingPageProxy(airflow.url, failing_offset=60)
    try:
        service = _service(airflow, url=proxy.url, page_size=20, page_workers=4, retries=1, backoff_s=0.05)
        service.dags(LIVE)  # logged in
        before = service.requests
        with pytest.raises(AirflowUnavailable) as caught:
            service.dags(f"{PAGING}__")
        message = str(caught.value)
        assert "HTTP 503" in message and "injected failure" in message and "\n" not in message
        assert proxy.failed == 2  # the failing page, retried once; never more than the pages
        assert service.requests - before <= 8 + 1
        # Without the failing page (straight to Airflow) the same listing succeeds.
        assert len(_service(airflow, page_size=20, page_workers=4).dags(f"{PAGING}__")) == PAGING_STREAMS
    finally:
        proxy.close()


# ---- auth ----------------------------------------------------------------------------------------


def _signed(airflow: LocalAirflow, **claims) -> str:
    """A token signed with the stack's own JWT secret (so only its claims can be wrong)."""
    import jwt

    now = int(time.time())
    payload = {"sub": "admin", "role": "admin", "teams": [], "jti": "e2e", "aud": "apache-airflow"}
    payload |= {"iat": now - 3600, "nbf": now - 3600, "exp": now - 60} | claims
    return jwt.encode(payload, airflow.jwt_secret, algorithm="HS512", headers={"kid": "not-used"})


def test_an_expired_token_is_renewed_with_username_and_password(stack):
    airflow = stack["airflow"]
    expired = _signed(airflow)
    service = _service(airflow, token=expired)
    assert len(service.list_dags(LIVE)) == 3  # renewed before sending: the token's exp had passed
    assert service.renewals == 1
    unknown_expiry = _service(airflow, token=expired)
    unknown_expiry.transport._token_expiry = None  # as if exp could not be read: Airflow's 401 must trigger the renewal
    assert len(unknown_expiry.list_dags(LIVE)) == 3 and unknown_expiry.renewals == 1
    revoked = _service(airflow, token="eyJhbGciOiJIUzUxMiJ9.e30.bm90LWEtc2lnbmF0dXJl")
    assert len(revoked.list_dags(LIVE)) == 3 and revoked.renewals == 1


def test_an_expired_token_alone_is_reported_clearly(stack):
    airflow = stack["airflow"]
    expired = _signed(airflow)
    service = AirflowService(AirflowSettings(url=airflow.url, token=expired))
    with pytest.raises(AirflowAuthError) as caught:
        service.list_dags(LIVE)
    message = str(caught.value)
    assert "expired or revoked" in message and "AIRFLOW_API_TOKEN" in message and expired not in message
    result = _cli(airflow, "runs", "--platform", LIVE, env={"AIRFLOW_API_TOKEN": expired, "AIRFLOW_API_PASSWORD": ""})
    assert result.exit_code == 2 and "expired or revoked" in result.output and expired not in result.output
    valid = _signed(airflow, exp=int(time.time()) + 600)
    assert len(AirflowService(AirflowSettings(url=airflow.url, token=valid)).list_dags(LIVE)) == 3


# ---- runs -------------------------------------------------------------------------------------


def _finished_runs(service: AirflowService, dag_id: str, count: int):
    runs = service.dag_runs(dag_id, limit=10)
    return runs if len(runs) >= count and all(r.finished for r in runs) else None


def test_keep_working_reschedules_itself_and_ends_done(stack, triggered):
    service = _service(stack["airflow"])
    runs = _wait(lambda: _finished_runs(service, LOOP, 3), RUN_TIMEOUT_S, "Loop's three runs")
    runs = sorted(runs, key=lambda r: r.run_after)
    assert [r.state for r in runs] == ["success"] * 3
    assert runs[0].run_id == triggered[LOOP] and runs[0].conf == {"source": "e2e"}
    assert [r.run_type for r in runs[1:]] == ["operator_triggered"] * 2  # reschedule_immediately's runs
    states = [{t.task_id: t.state for t in service.task_instances(LOOP, r.run_id)} for r in runs]
    for keep_working in states[:2]:
        assert keep_working[shape.RESCHEDULE_TASK_ID] == "success" and keep_working[shape.WAIT_TASK_ID] == "skipped"
    assert states[2][shape.WAIT_TASK_ID] == "success" and states[2][shape.RESCHEDULE_TASK_ID] == "skipped"
    # The simulated job ran with DataSurface's real arguments and credential names, and its
    # DATASURFACE_RESULT_CODE line (not an XCom file) decided each branch.
    first = service.task_log(LOOP, runs[0].run_id, shape.JOB_TASK_ID, 1)
    last = service.task_log(LOOP, runs[2].run_id, shape.JOB_TASK_ID, 1)
    assert "DATASURFACE_RESULT_CODE=1" in first and "DATASURFACE_RESULT_CODE=0" in last
    for argument in ("--git-repo-owner", "--git-repo-name", "--git-platform-repo-credential-name"):
        assert argument in first


def test_the_jobs_error_fails_the_run_with_the_jobs_message(stack, triggered):
    """DataSurface's job prints DATASURFACE_RESULT_CODE=-1 and exits 1: the job task fails with
    its message, and nothing after it runs."""
    service = _service(stack["airflow"])
    runs = _wait(lambda: _finished_runs(service, BROKEN, 1), RUN_TIMEOUT_S, "Broken's run")
    assert [r.state for r in runs] == ["failed"]
    states = {t.task_id: t.state for t in service.task_instances(BROKEN, runs[0].run_id)}
    assert states[shape.JOB_TASK_ID] == "failed" and states[shape.CHECK_TASK_ID] == "upstream_failed"
    assert states[shape.RESCHEDULE_TASK_ID] != "success" and states[shape.WAIT_TASK_ID] != "success"
    log = service.task_log(BROKEN, runs[0].run_id, shape.JOB_TASK_ID, 1)
    assert "DATASURFACE_RESULT_CODE=-1" in log and "the merge failed" in log


def test_read_only_refuses_every_write_and_changes_nothing(stack, triggered):
    airflow = stack["airflow"]
    service = _service(airflow)
    runs_before = [r.run_id for r in service.dag_runs(CALM)]
    paused_before = service.dag(CALM).is_paused
    for args in (
        ["airflow", "trigger", CALM, "--yes"],
        ["airflow", "pause", CALM, "--yes"],
        ["airflow", "unpause", CALM, "--yes"],
        ["airflow", "clear", BROKEN, "--yes"],
    ):
        result = _cli(airflow, *args, "--read-only")
        assert result.exit_code == 2, (args, result.output)
        assert "read-only: refused" in result.output and "Traceback" not in result.output
    result = _cli(airflow, "airflow", "trigger", CALM, "--yes", env={"YELLOW_READ_ONLY": "1"})
    assert result.exit_code == 2
    with pytest.raises(ReadOnlyError):
        service.with_settings(read_only=True).trigger(CALM)
    assert [r.run_id for r in service.dag_runs(CALM)] == runs_before
    assert service.dag(CALM).is_paused == paused_before


def test_cli_clears_the_failed_run_after_confirmation(stack, triggered):
    airflow = stack["airflow"]
    service = _service(airflow)
    _wait(lambda: _finished_runs(service, BROKEN, 1), RUN_TIMEOUT_S, "Broken's run")
    declined = _cli(airflow, "airflow", "clear", BROKEN, input="n\n")
    assert declined.exit_code == 1 and "cancelled" in declined.output
    assert service.dag_runs(BROKEN)[0].state == "failed"
    result = _cli(airflow, "airflow", "clear", BROKEN, "--yes")
    assert result.exit_code == 0, result.output
    assert shape.JOB_TASK_ID in result.output  # the failed task is cleared to run again
    assert service.dag_runs(BROKEN)[0].state in ("queued", "running", "failed")


# ---- what the runs screen shows -----------------------------------------------------------------


def _view(key: str, status: str = "active", valid: bool = True) -> StreamView:
    return StreamView(LIVE, key, status, "{}", None, None, valid=valid)


def test_run_state_sets_rows_against_dags(stack, triggered):
    """Rows come from the caller: Calm has no row, Broken's row is paused, Ghost is not in Airflow."""
    service = _service(stack["airflow"])
    rows = [_view("Loop"), _view("Broken", status="paused"), _view("Ghost"), _view("Invalid", valid=False)]
    state = platform_run_state(service, LIVE, rows)
    assert [d.dag_id for d in state.dags] == [LOOP]
    assert {u.dag.dag_id: u.reason for u in state.unexplained} == {
        BROKEN: "its row is paused",
        CALM: "no config row has this stream key",
    }
    assert [(m.stream_key, m.note) for m in state.not_in_airflow] == [("Ghost", NOT_IN_AIRFLOW)]
    assert state.import_errors == () and state.rows_known


def test_runs_json_shape(stack, triggered):
    airflow = stack["airflow"]
    result = _cli(airflow, "runs", "--platform", LIVE, "--json", "--db", stack["config_url"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {
        "platform", "airflow", "fetched_at", "factory_file", "rows_known", "requests", "elapsed_ms",
        "dags", "unexplained", "not_in_airflow", "import_errors", "dag_warnings", "live",
    }  # fmt: skip
    # Each stream's live status, from the same pages: Airflow serves every row's current config.
    assert {s["stream_key"]: s["live"] for s in data["live"]} == {"Loop": "live", "Broken": "live", "Calm": "live"}
    assert data["platform"] == LIVE and data["rows_known"] and data["factory_file"] == f"{LIVE}_factory_dag.py"
    assert {d["dag_id"] for d in data["dags"]} == {LOOP, BROKEN, CALM}
    assert data["unexplained"] == [] and data["not_in_airflow"] == []
    dag = next(d for d in data["dags"] if d["dag_id"] == LOOP)
    # Every field but the file token (it lets its holder ask Airflow to parse the file), plus the
    # fingerprint of the config Airflow serves.
    assert set(dag) == set(DagState.__dataclass_fields__) - {"file_token"} | {"fingerprint"}
    assert dag["stream_key"] == "Loop" and dag["is_paused"] is False and isinstance(dag["last_parsed"], str)
    assert dag["recent_runs"] and set(dag["recent_runs"][0]) >= {"run_id", "state", "run_type", "run_after"}
    assert data["requests"] == 5  # login, one page each of DAGs, runs, import errors and warnings
    table = _cli(airflow, "runs", "--platform", LIVE, "--db", stack["config_url"])
    assert table.exit_code == 0 and "Loop" in table.output


def test_stack_logs_are_where_the_docs_say(stack):
    logs = Path(stack["airflow"].log_dir)
    assert {p.name for p in logs.glob("*.log")} >= {"api-server.log", "scheduler.log", "dag-processor.log"}


def test_a_refresh_between_full_reads_shows_what_a_full_read_shows(stack, triggered):
    """After the first refresh, one asks Airflow only for the runs changed since the previous
    one and merges them into the runs it kept: a new run shows first, and the whole picture is
    the one a fresh full read gives."""
    airflow = stack["airflow"]
    _wait(lambda: _finished_runs(_service(airflow), BROKEN, 1), RUN_TIMEOUT_S, "Broken's run")
    _wait(lambda: _finished_runs(_service(airflow), LOOP, 3), RUN_TIMEOUT_S, "Loop's runs")
    service = _service(airflow)
    service.list_dags(LIVE)  # the full read
    new_run = service.trigger(CALM).run_id  # Calm is paused: the run stays queued
    between = {d.dag_id: [(r.run_id, r.state) for r in d.recent_runs] for d in service.list_dags(LIVE)}
    full = {d.dag_id: [(r.run_id, r.state) for r in d.recent_runs] for d in _service(airflow).list_dags(LIVE)}
    assert between[CALM][0] == (new_run, "queued")
    assert between == full


# ---- Airflow going away: last, once the runs above have finished ---------------------------------


def test_airflow_stopped_mid_session_is_one_clear_error_then_recovers(stack):
    airflow = stack["airflow"]
    service = _service(airflow, retries=1, backoff_s=0.2)
    assert len(service.list_dags(LIVE)) == 3
    airflow.stop_component("api-server")
    try:
        with pytest.raises(AirflowUnavailable) as caught:
            service.list_dags(LIVE)
        assert "cannot reach Airflow" in str(caught.value) and "\n" not in str(caught.value)
        result = _cli(airflow, "runs", "--platform", LIVE)
        assert result.exit_code == 2 and result.output.count("\n") == 1 and "Traceback" not in result.output
    finally:
        airflow.start_component("api-server")
        airflow.wait_healthy(120)
    assert len(service.list_dags(LIVE)) == 3  # the same service, the same token: it just works again
