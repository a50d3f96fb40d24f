"""The factory never makes a new DAG version when nothing changed, proven on the session's real
Airflow (tests/airflow_stack.py): after a run, ten parses with no change leave the version count
as it was; one change and a run add exactly one version.

Airflow writes a new version only when the serialized DAG changed and the latest version has
task instances (``SerializedDagModel.write_dag``): a timestamp, a random value or an unordered
collection in what the factory builds would add a version at every parse after a run.
"""

from __future__ import annotations

import json

import pytest

from tests.airflow_stack import service_for, wait_until
from yellowtui.services.config_service import ConfigService
from yellowtui.services.live_state import LiveStatus
from yellowtui.services.live_wait import read_live

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

PLATFORM = "yellowversions"
KEY = "Solo"
DAG_ID = f"{PLATFORM}__{KEY}_ingestion"
PARSES = 10


def _write(config_url: str, **changes) -> None:
    from factory import store
    from factory.db import get_engine

    with get_engine(config_url).begin() as conn:
        row = store.read_row(conn, PLATFORM, KEY)
        config = {**json.loads(row.config_json), **changes}
        store.write_row(conn, PLATFORM, KEY, json.dumps(config, sort_keys=True), row.status, actor="versions")


@pytest.fixture(scope="module")
def solo(airflow_stack):
    from factory.operations.provisioning.bootstrap import bootstrap
    from factory.operations.provisioning.ecosystem import StoreSpec, parse_ecosystem
    from simulators.ecosystem import platform_spec

    spec = platform_spec("YellowVersions", 4, [StoreSpec(name=KEY, datasets=["orders"])])
    config_url = airflow_stack["config_url"]
    bootstrap(
        parse_ecosystem({"name": "versions", "platforms": [spec.model_dump()]}),
        config_url,
        airflow_stack["root"] / "dags",
    )
    _write(config_url, schedule=None)  # manual only: the test makes the runs
    service = service_for(airflow_stack["airflow"])
    config = ConfigService(config_url)
    wait_until(
        lambda: read_live(config, service, PLATFORM, [KEY], runs=False).streams[0].status is LiveStatus.LIVE,
        240,
        "the Solo DAG to be live",
    )
    return {"service": service, "config": config, "config_url": config_url}


def _run_once(service) -> None:
    run = service.trigger(DAG_ID)
    wait_until(lambda: service.dag_run(DAG_ID, run.run_id).finished, 240, "the run to finish")


def _parse_now(service) -> None:
    """Request a parse of the file and wait until Airflow reports a newer parse of it."""
    dag = next(d for d in service.dags(f"{PLATFORM}__") if d.dag_id == DAG_ID)
    service.request_parse(dag.file_token, dag.file)
    wait_until(lambda: (service.dag(DAG_ID).last_parsed or dag.last_parsed) > dag.last_parsed, 90, "a parse", 0.5)


def test_no_new_version_without_a_change_and_exactly_one_with_one(solo):
    service = solo["service"]
    service.set_paused(DAG_ID, False)
    _run_once(service)
    before = len(service.dag_versions(DAG_ID))
    for _ in range(PARSES):
        _parse_now(service)
    assert len(service.dag_versions(DAG_ID)) == before, "a parse with no change made a DAG version"

    _write(solo["config_url"], git_repo_branch="release/next")
    _parse_now(service)
    wait_until(
        lambda: read_live(solo["config"], service, PLATFORM, [KEY], runs=False).streams[0].status is LiveStatus.LIVE,
        90,
        "the change to be live",
    )
    _run_once(service)
    versions = service.dag_versions(DAG_ID)
    assert len(versions) == before + 1
    assert [v.version_number for v in versions] == sorted(v.version_number for v in versions)
