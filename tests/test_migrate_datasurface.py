"""Migrating a DataSurface deployment: its July 2025 static files (both generations) read by
Airflow's DagBag, extracted with the fields they lack from the ecosystem file or flags, compared
with the factory's DAGs (intended differences named, drift refused) and cut over, on a real
PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from factory import store
from factory.builder import build_dag
from factory.db import get_engine
from factory.enums import JobLauncher
from factory.models import parse_config
from factory.operations.migration.intended import INTENDED
from factory.operations.migration.migrate_read import parse_arguments
from factory.operations.provisioning.ecosystem import load_ecosystem, platform_policy, platform_streams
from factory.policy import write_policy
from factory.settings import reset_settings
from tests.airflow_helpers import parse_folder
from tests.datasurface_static import NO_REPO, WITH_REPO, JulyStream, july_file
from yellowtui.cli import main

pytestmark = pytest.mark.airflow

PLATFORM = "yellowlive"
IMAGE = "datasurface/datasurface:v0.9.3"
ECOSYSTEM = """
name: july
platforms:
  - name: yellowlive
    original_name: YellowLive
    namespace: ns-yellow
    job_image: {image}
    postgres_hostname: pg-merge.ns-yellow.svc
    postgres_database: merge
    postgres_credential_secret: postgres
    git_repo_url: https://github.com/billynewport/mvpmodel
    git_credential_secret: git
    slack_credential_secret: slack
    kafka_connect_credential_secret: connect
    job: {{secret_keys: plain, arguments: {generation}}}
    stores:
      - {{name: Store1, datasets: [customers, addresses], ingestion_type: sql_snapshot,
          source_credential_secret: store1src}}
      - {{name: Store2, datasets: [orders, returns], single_dataset: true, ingestion_type: kafka}}
      - {{name: Audit, datasets: [events], ingestion_type: sql_snapshot}}
"""
#: What a July file and the factory's DAG differ in on purpose (factory.operations.migration.intended).
JULY_INTENDED = {
    "default-args",
    "description",
    "max-active-runs",
    "platform-env",
    "pod-settings",
    "reschedule-conf",
    "resources",
    "result-code",
    "slack-channel",
    "tags",
}


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout if "--json" in args else result.output


def _streams(image: str = IMAGE, git_secret: str = "git") -> list[JulyStream]:
    common: dict[str, Any] = {
        "platform": PLATFORM,
        "original_platform": "YellowLive",
        "namespace": "ns-yellow",
        "image": image,
        "merge_secret": "postgres",
        "git_secret": git_secret,
        "slack_secret": "slack",
        "slack_channel": "#yellow-alerts",
        "owner": "billynewport",
        "repo": "mvpmodel",
        "branch": "main",
    }
    return [
        JulyStream(stream_key="Store1", store="Store1", dataset=None, ingestion_type="sql_snapshot",
                   source_secret="store1src", **common),
        JulyStream(stream_key="Store2_orders", store="Store2", dataset="orders", ingestion_type="kafka",
                   kafka_secret="connect", **common),
        JulyStream(stream_key="Store2_returns", store="Store2", dataset="returns", ingestion_type="kafka",
                   kafka_secret="connect", **common),
        JulyStream(stream_key="Audit", store="Audit", dataset=None, ingestion_type="sql_snapshot", **common),
    ]  # fmt: skip


def _render(dags: Path, generation: str, streams: list[JulyStream]) -> None:
    dags.mkdir(parents=True, exist_ok=True)
    for s in streams:
        (dags / f"{s.platform}__{s.stream_key}_ingestion.py").write_text(july_file(s, generation))


def _job(dag: Any) -> dict[str, Any]:
    """What the job runs: its arguments as its parser reads them, image, command, namespace,
    every credential variable with its secret and key, and the DAG's schedule."""
    job = dag.get_task("snapshot_merge_job")
    secrets = {
        e.name: (e.value_from.secret_key_ref.name, e.value_from.secret_key_ref.key)
        for e in job.env_vars
        if e.value_from is not None
    }
    return {
        "arguments": parse_arguments(list(job.arguments)),
        "image": job.image,
        "cmds": list(job.cmds),
        "namespace": job.namespace,
        "secrets": secrets,
        "schedule": dag.schedule,
    }


@pytest.fixture
def july(tmp_path, db_url, monkeypatch, request):
    """A dags folder of one July generation's static files, the ecosystem file saying what they
    lack, and a config database with the platform's tables and policy (job settings included)."""
    generation = request.param
    eco_file = tmp_path / "ecosystem.yaml"
    eco_file.write_text(ECOSYSTEM.format(image=IMAGE, generation=generation))
    eco = load_ecosystem(eco_file)
    with get_engine(db_url).begin() as conn:
        store.ensure_tables(conn, PLATFORM)
        write_policy(conn, platform_policy(eco.platforms[0]))
    dags = tmp_path / "dags"
    _render(dags, generation, _streams())
    monkeypatch.setenv("YELLOW_DB_URL", db_url)
    reset_settings()
    return generation, dags, eco_file, eco


@pytest.mark.parametrize("july", [WITH_REPO, NO_REPO], indirect=True)
def test_july_static_files_become_rows_that_run_the_same_job(july, db_url, tmp_path):
    generation, dags, eco_file, eco = july
    bag = parse_folder(dags)  # Airflow 3 still imports the Airflow 2 paths these files use
    assert bag.import_errors == {} and len(bag.dags) == 4

    rows_file = tmp_path / "rows.json"
    code, out = _cli(
        "migrate", "extract", str(dags), "-p", PLATFORM, "--ecosystem", str(eco_file), "-o", str(rows_file), "--json"
    )
    assert code == 0, out
    extracted = json.loads(rows_file.read_text())
    assert extracted["unmapped"] == [] and len(extracted["rows"]) == 4
    # The job settings the files need: July's secret keys username/password, and its arguments.
    assert extracted["job"]["secret_keys"] == "plain" and extracted["job"]["arguments"] == generation
    sources = extracted["fields_from"]
    for key in ("Store1", "Store2_orders", "Audit"):
        assert {sources[key][f] for f in ("postgres_hostname", "postgres_port", "postgres_database")} == {"ecosystem"}
    assert sources["Store1"]["datasets"] == "ecosystem"  # a multi-dataset stream's datasets are not in the file
    assert sources["Store2_orders"]["datasets"] == "file"
    assert sources["Audit"]["ingestion_type"] == "ecosystem"
    assert sources["Store2_orders"]["ingestion_type"] == "file (Kafka Connect credential)"
    assert sources["Store1"]["datasurface_docker_image"] == "file"
    expected_git = "file" if generation == WITH_REPO else "ecosystem"
    assert sources["Store1"]["git_repo_branch"] == expected_git
    assert set(extracted["intended"]["Store1"]) <= set(INTENDED)

    # Every row is the stream as the ecosystem describes it, and its factory DAG runs the same job.
    wanted = {c.stream_key: c for c in platform_streams(eco.platforms[0])[0]}
    job_settings = eco.platforms[0].job
    for row in extracted["rows"]:
        config = parse_config(row["config_json"])
        assert config == wanted[row["stream_key"]]
        built = build_dag(config, PLATFORM, launcher=JobLauncher.KUBERNETES, job=job_settings)
        assert _job(built) == _job(bag.dags[f"{PLATFORM}__{row['stream_key']}_ingestion"])

    code, out = _cli("apply", str(rows_file), "--db", db_url, "--actor", "migration")
    assert code == 0, out
    code, out = _cli("migrate", "compare", str(dags), "-p", PLATFORM, "--db", db_url, "--json")
    assert code == 1  # intended differences are reported until accepted
    report = json.loads(out)
    assert report["counts"] == {"intended": 4}
    assert set(report["intended"]) == JULY_INTENDED
    assert all(v["drift"] == [] for v in report["streams"])
    accept = ",".join(sorted(JULY_INTENDED))
    code, out = _cli("migrate", "compare", str(dags), "-p", PLATFORM, "--db", db_url, "--accept", accept)
    assert code == 0, out

    code, out = _cli("migrate", "cutover", "-p", PLATFORM, "--dags-folder", str(dags), "--db", db_url,
                     "--accept", "result-code,default-args,tags")  # fmt: skip
    assert code == 1 and "REFUSED Store1: intended differences not accepted: description" in out
    assert len(list(dags.glob(f"{PLATFORM}__*.py"))) == 4  # nothing moved
    code, out = _cli("migrate", "cutover", "-p", PLATFORM, "--dags-folder", str(dags), "--db", db_url,
                     "--accept", accept)  # fmt: skip
    assert code == 0, out
    bag = parse_folder(dags)
    assert bag.import_errors == {}
    assert {Path(d.fileloc).name for d in bag.dags.values()} == {f"{PLATFORM}_factory_dag.py"}
    assert len(bag.dags) == 4


@pytest.mark.parametrize("july", [WITH_REPO], indirect=True)
def test_drift_is_refused_whatever_is_accepted(july, db_url, tmp_path):
    generation, dags, eco_file, _ = july
    rows_file = tmp_path / "rows.json"
    code, out = _cli(
        "migrate", "extract", str(dags), "-p", PLATFORM, "--ecosystem", str(eco_file), "-o", str(rows_file)
    )
    assert code == 0, out
    code, out = _cli("apply", str(rows_file), "--db", db_url)
    assert code == 0, out
    # The static file changes after the extract: another image, as a hand edit would do.
    (dags / f"{PLATFORM}__Audit_ingestion.py").write_text(
        july_file(_streams(image="datasurface/datasurface:v1.0.0")[3], generation)
    )
    code, out = _cli("migrate", "compare", str(dags), "-p", PLATFORM, "--db", db_url, "--json")
    verdicts = {v["stream_key"]: v for v in json.loads(out)["streams"]}
    assert verdicts["Audit"]["verdict"] == "different" and verdicts["Audit"]["drift"] == ["image"]
    assert verdicts["Store1"]["verdict"] == "intended"
    accept = ",".join(INTENDED)
    code, out = _cli("migrate", "cutover", "-p", PLATFORM, "--dags-folder", str(dags), "--db", db_url,
                     "--accept", accept)  # fmt: skip
    assert code == 1 and "REFUSED Audit: its static DAG differs from the factory's: drift: image" in out
    assert (dags / f"{PLATFORM}__Audit_ingestion.py").exists()
    code, out = _cli("migrate", "cutover", "-p", PLATFORM, "--dags-folder", str(dags), "--db", db_url,
                     "--accept", "image")  # fmt: skip
    assert code == 2 and "image is drift" in out


@pytest.mark.parametrize("july", [WITH_REPO], indirect=True)
def test_fields_the_files_lack_come_from_flags_or_are_a_reason(july, tmp_path):
    generation, _, _, _ = july
    dags = tmp_path / "only-single"
    streams = _streams()
    _render(dags, generation, [streams[1]])  # Store2_orders: single dataset, kafka
    _render(dags, generation, [streams[3]])  # Audit: multi dataset, no credential telling its type
    code, out = _cli("migrate", "extract", str(dags), "-p", PLATFORM)
    assert code == 1
    assert "UNMAPPED yellowlive__Audit_ingestion.py" in out and "--ecosystem FILE" in out
    assert "postgres_hostname is not in the file; pass --postgres-host or --ecosystem FILE" in out
    code, out = _cli(
        "migrate", "extract", str(dags), "-p", PLATFORM, "--json",
        "--postgres-host", "pg", "--postgres-port", "5433", "--postgres-database", "merge",
    )  # fmt: skip
    document = json.loads(out)
    assert code == 1 and [r["stream_key"] for r in document["rows"]] == ["Store2_orders"]
    assert document["fields_from"]["Store2_orders"]["postgres_port"] == "--postgres-port"
    assert json.loads(document["rows"][0]["config_json"])["postgres_port"] == 5433
    (reason,) = [u["reason"] for u in document["unmapped"]]
    assert "datasets is not in the file" in reason  # a multi-dataset stream's datasets: only the ecosystem has them


@pytest.mark.parametrize("july", [WITH_REPO], indirect=True)
def test_a_secret_name_the_factory_cannot_reproduce_is_drift(july, tmp_path):
    """July named a credential's variables after its secret verbatim; a '-' in the secret's name
    gives a variable name (git-creds_TOKEN) no DataSurface credential can have, and the factory
    would pass git_creds_TOKEN: not the same job, so no row."""
    generation, _, eco_file, _ = july
    dags = tmp_path / "dash"
    _render(dags, generation, [_streams(git_secret="git-creds")[1]])
    code, out = _cli("migrate", "extract", str(dags), "-p", PLATFORM, "--ecosystem", str(eco_file))
    assert code == 1
    assert "UNMAPPED yellowlive__Store2_orders_ingestion.py" in out
    assert "'git-creds' is not a legal environment variable name" in out
