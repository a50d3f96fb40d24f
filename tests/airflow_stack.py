"""One real local Airflow 3 (api-server, scheduler, dag-processor) for the whole test session,
shared by every module that needs it: starting one costs most of a minute, so it is started
once, on first use, and stopped (and proven gone) as soon as the next test does not need it.

One stack, on one pytest-xdist worker (:data:`XDIST_GROUP`), not one per group of modules: on two
cores the suite is CPU-bound (both cores about 95% busy from start to end, measured), and with
two stacks (each re-parsing every file every 15 s then) the parallel part took 486 s against
394 s with one, from clean clones. The stack parses a file when it is new or asked for, not on
a schedule (:data:`FAST_CLEANUP`). Airflow's stale-DAG clean-up runs every few seconds
here instead of every minute (its defaults are timing, not behaviour: ``[dag_processor]
stale_dag_threshold`` 50 s and ``[scheduler] parsing_cleanup_interval`` 60 s,
``airflow/config_templates/config.yml``), so a test of a retired row waits seconds, not minutes.

Three platforms, every stream manual-only (only the tests create runs) and its simulated job
scripted:

- ``YellowLive`` (the service's end-to-end tests): Loop (KEEP_WORKING, KEEP_WORKING, DONE),
  Broken (the job's own error: it prints -1 and exits 1, as DataSurface's job does), Calm (DONE);
- ``YellowPaging``: 150 streams, more than one page of 100;
- ``YellowRuns`` (the runs screen's tests): Again (KEEP_WORKING, then DONE), Fails (error
  code 7), Still (DONE; the read-only test checks nothing changes it), Slow (sleeps, then DONE).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from simulators.local_airflow import LocalAirflow, group_members
from yellowtui.services.airflow.service import AirflowService
from yellowtui.services.airflow.settings import AirflowSettings

LIVE, PAGING, RUNS = "yellowlive", "yellowpaging", "yellowruns"
PAGING_STREAMS = 150
LIVE_STREAMS = ("Loop", "Broken", "Calm")
RUNS_STREAMS = ("Again", "Fails", "Still", "Slow")
JOB_SCRIPT = {
    "Loop": [1, 1, 0],
    "Broken": -1,
    "Again": [1, 0],
    "Fails": 7,
    "Slow": {"result": 0, "sleep_s": 8},
}
ALL_DAGS = len(LIVE_STREAMS) + PAGING_STREAMS + len(RUNS_STREAMS)
#: Airflow settings of the test stacks: a DAG its file no longer defines is deactivated within
#: seconds of that parse, so tests of retired rows do not wait two minutes for it; and files are
#: parsed when new or when asked for, not every 15 s: an idle DAG processor re-parsing the 150-DAG
#: paging platform cost 18 CPU seconds a minute (measured), a third of a core the other tests need.
FAST_CLEANUP = {
    "AIRFLOW__DAG_PROCESSOR__STALE_DAG_THRESHOLD": "5",
    "AIRFLOW__SCHEDULER__PARSING_CLEANUP_INTERVAL": "5",
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
    # Airflow skips writing a changed serialized DAG within this long of its last write (30 s by
    # default: ``SerializedDagModel.write_dag``, airflow/models/serialized_dag.py) while the DAG's
    # description (so its fingerprint) is updated at every parse: a change asked for within 30 s
    # of the last write would look live before runs use it. The tests change rows faster than that.
    "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "0",
}


def _ecosystem():
    from factory.operations.provisioning.ecosystem import PlatformSpec, StoreSpec, parse_ecosystem
    from simulators.ecosystem import platform_spec

    live = platform_spec("YellowLive", 0, [StoreSpec(name=n, datasets=["customers"]) for n in LIVE_STREAMS])
    paging = platform_spec(
        "YellowPaging", 1, [StoreSpec(name=f"S{i:03d}", datasets=["orders"]) for i in range(PAGING_STREAMS)]
    )
    runs = platform_spec("YellowRuns", 2, [StoreSpec(name=n, datasets=["orders"]) for n in RUNS_STREAMS])
    assert isinstance(live, PlatformSpec)
    return parse_ecosystem({"name": "e2e", "platforms": [live.model_dump(), paging.model_dump(), runs.model_dump()]})


def _manual_only(db_url: str, platform: str) -> None:
    """Rows without a schedule: only the tests create runs (no scheduled run on unpause)."""
    from factory import store
    from factory.db import get_engine

    with get_engine(db_url).begin() as conn:
        for row in store.read_rows(conn, platform):
            config = json.loads(row.config_json)
            config["schedule"] = None
            store.write_row(conn, platform, row.stream_key, json.dumps(config, sort_keys=True), row.status, actor="e2e")


def service_for(airflow: LocalAirflow, **settings) -> AirflowService:
    values = {"url": airflow.url, "username": airflow.username, "password": airflow.password, **settings}
    return AirflowService(AirflowSettings(**values))


def wait_until(predicate, timeout: float, what: str, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


#: The running stack, shared by every module that asks for it (None: not started, or stopped).
_live: dict | None = None


def ensure_stack(pg) -> dict:
    """The session's Airflow, started on first use: ``airflow`` (a :class:`LocalAirflow`),
    ``config_url``, ``root``."""
    global _live
    if _live is not None:
        return _live
    from factory.operations.provisioning.bootstrap import bootstrap

    # Not under pytest's basetemp: a parallel pytest session may prune it while Airflow runs.
    root = Path(tempfile.mkdtemp(prefix="yellow-airflow-e2e-"))
    config_url = pg.create_database(f"e2e_config_{time.monotonic_ns()}")
    metadata_url = pg.create_database(f"e2e_airflow_{time.monotonic_ns()}")
    bootstrap(_ecosystem(), config_url, root / "dags")
    for platform in (LIVE, RUNS):
        _manual_only(config_url, platform)
    script = root / "job-script.json"
    script.write_text(json.dumps(JOB_SCRIPT))
    airflow = LocalAirflow(
        root / "airflow",
        metadata_url,
        root / "dags",
        env={"YELLOW_DB_URL": config_url, "YELLOW_JOB_SCRIPT": str(script), **FAST_CLEANUP},
    )
    started = time.monotonic()
    _live = {"airflow": airflow, "config_url": config_url, "root": root}
    airflow.start()
    service = service_for(airflow)
    wait_until(lambda: len(service.dags()) == ALL_DAGS, 180, "the factory's DAGs to be listed")
    print(f"\nlocal Airflow up with all DAGs in {time.monotonic() - started:.1f} s")
    return _live


def stop_stack() -> None:
    """Stop the stack (and prove every process of it gone), if it runs."""
    global _live
    if _live is None:
        return
    stack, _live = _live, None
    airflow = stack["airflow"]
    groups = list(airflow.pids.values())
    try:
        airflow.stop()
    finally:
        shutil.rmtree(stack["root"], ignore_errors=True)
    assert not any(group_members(g) for g in groups)


@pytest.fixture(scope="module")
def airflow_stack(pg):
    """The session's one real Airflow. Modules that use it run one after the other (their
    names start with ``test_airflow_``), and it is stopped as soon as the next test does not
    need it, so an idle scheduler and DAG processor never load the machine under the timing
    tests that follow. Under pytest-xdist they all run on one worker (:data:`XDIST_GROUP`), so
    the stack is started once, by that worker alone."""
    return ensure_stack(pg)


#: The pytest-xdist group (``--dist loadgroup``) of every test that uses the stack.
XDIST_GROUP = "airflow_stack"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if "airflow_stack" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group(XDIST_GROUP))


def pytest_runtest_teardown(item, nextitem) -> None:
    if nextitem is None or "airflow_stack" not in nextitem.fixturenames:
        stop_stack()


def pytest_sessionfinish(session, exitstatus) -> None:
    stop_stack()
