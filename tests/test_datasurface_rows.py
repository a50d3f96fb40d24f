"""Adopting a table DataSurface wrote: its rows build as they are, `config validate` warns about
what they carry, and `migrate normalize` rewrites them without changing a DAG.

The rows are written here the way DataSurface writes them (``yellow_dp.py``,
``populateDAGConfigurations`` in billynewport/datasurface): ``json.dumps`` of the platform-wide
context updated with the stream's own keys, status ``active``, into a table made as DataSurface
makes it. The JSON is built by this test from those facts, not copied from DataSurface.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from factory import store
from factory.errors import ChangesetConflict, StreamConfigError
from factory.models import parse_config
from factory.operations.migration.normalize import apply_normalize, plan_normalize
from factory.operations.provisioning.render import render_factory_file
from factory.settings import reset_settings
from tests.airflow_helpers import parse_folder, serialized
from yellowtui.cli import main

P = "yellowlive"


def common_context() -> dict:
    """The platform-wide keys DataSurface puts in every row (createYAMLContext, then its own)."""
    return {
        "namespace_name": "yellow-live",
        "psp_name": "Test_DP",
        "psp_k8s_name": "test-dp",
        "git_cache_access_mode": "ReadWriteMany",
        "git_clone_cache_pvc": "git-cache-pvc",
        "git_clone_cache_pv": "git-cache-pv",
        "git_cache_storage_size": "5Gi",
        "git_cache_max_age_minutes": 5,
        "git_cache_enabled": True,
        "git_cache_local_path": "/cache/git-cache",
        "platform_name": "yellowlive",  # DataSurface's K8s name of the platform
        "original_platform_name": "YellowLive",
        "ecosystem_name": "Test_Ecosystem",
        "ecosystem_k8s_name": "test-ecosystem",
        "merge_db_driver": "postgresql",
        "merge_db_database": "merge_db",
        "merge_db_credential_secret_name": "postgres-cred",
        "git_credential_secret_name": "git-model",
        "git_credential_name": "GIT_MODEL",  # its secret is to_k8s_name("GIT_MODEL") == "git-model"
        "datasurface_docker_image": "datasurface/datasurface:v1.1.0",
        "git_repo_url": "https://github.com/acme/eco-model",
        "git_repo_branch": "main",
        "git_repo_name": "acme/eco-model",
        "git_repo_owner": "acme",
        "git_repo_repo_name": "eco-model",
        "pv_storage_class": "standard",
        "merge_db_hostname": "pg-data.yellow-live.svc",
        "merge_db_port": 5432,
    }


LIMITS = {"requested_memory": "512M", "limits_memory": "1Gi", "requested_cpu": "100m", "limits_cpu": "500m"}
STREAMS = {
    "Store1": {  # multi-dataset SQL source
        "stream_key": "Store1",
        "priority": 2,
        "single_dataset": False,
        "datasets": ["customers", "addresses"],
        "store_name": "Store1",
        "ingestion_type": "sql_source",
        "schedule_string": "*/10 * * * *",
        "job_limits": LIMITS,
        "source_credential_secret_name": "store1-source",
    },
    "Store2_orders": {  # single dataset, externally triggered
        "stream_key": "Store2_orders",
        "priority": 1,
        "single_dataset": True,
        "datasets": ["orders"],
        "store_name": "Store2",
        "dataset_name": "orders",
        "ingestion_type": "sql_source",
        "schedule_string": "None",
        "job_limits": LIMITS,
    },
    "Events": {  # Kafka, through Kafka Connect
        "stream_key": "Events",
        "priority": 0,
        "single_dataset": False,
        "datasets": ["clicks", "views"],
        "store_name": "Events",
        "ingestion_type": "kafka",
        "schedule_string": "0 * * * *",
        "job_limits": LIMITS,
        "kafka_connect_credential_secret_name": "kafka-connect",
    },
}
#: Genuinely broken: it names a dataset the stream does not have.
BROKEN = {**STREAMS["Store2_orders"], "stream_key": "Store2_returns", "datasets": ["returns"]}
HEALTHY = {f"{P}__{key}_ingestion" for key in STREAMS}


def datasurface_json(stream: dict) -> str:
    context = common_context()
    context.update(stream)
    return json.dumps(context)


def write_datasurface_table(db_url: str, streams: list[dict]) -> None:
    """The table as DataSurface makes it (getAirflowDAGTable) and its rows as it inserts them."""
    with create_engine(db_url).begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {P}_airflow_dsg (stream_key VARCHAR(255) PRIMARY KEY, "
                "config_json VARCHAR(2048), status VARCHAR(50), created_at TIMESTAMP, updated_at TIMESTAMP)"
            )
        )
        for stream in streams:
            conn.execute(
                text(
                    f"INSERT INTO {P}_airflow_dsg (stream_key, config_json, status, created_at, updated_at) "
                    "VALUES (:stream_key, :config_json, 'active', NOW(), NOW())"
                ),
                {"stream_key": stream["stream_key"], "config_json": datasurface_json(stream)},
            )


def run(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def adopted(db_url, tmp_path, snapshot_dir, monkeypatch):
    """A DataSurface table with three healthy rows and a broken one, and the factory file beside it."""
    write_datasurface_table(db_url, [*STREAMS.values(), BROKEN])
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / f"{P}_factory_dag.py").write_text(render_factory_file(P))
    monkeypatch.setenv("YELLOW_DB_URL", db_url)
    reset_settings()
    return folder


# ---- reading the rows ----------------------------------------------------------------------------


def test_a_datasurface_row_reads_as_the_model():
    config = parse_config(datasurface_json(STREAMS["Store1"]), "Store1")
    assert (config.postgres_hostname, config.postgres_port, config.postgres_database) == (
        "pg-data.yellow-live.svc",
        5432,
        "merge_db",
    )
    assert config.postgres_credential_secret_name == "postgres-cred"
    assert config.schedule == "*/10 * * * *" and config.priority == 2
    assert config.job_resources is not None
    assert (config.job_resources.cpu_request, config.job_resources.memory_request) == ("100m", "512M")
    assert (config.job_resources.cpu_limit, config.job_resources.memory_limit) == ("500m", "1Gi")
    assert (config.git_repo_owner, config.git_repo_name, config.job_git_credential) == (
        "acme",
        "eco-model",
        "GIT_MODEL",
    )


def test_an_externally_triggered_store_has_no_schedule():
    assert parse_config(datasurface_json(STREAMS["Store2_orders"]), "Store2_orders").schedule is None
    assert parse_config(datasurface_json({**STREAMS["Store1"], "schedule_string": None}), "Store1").schedule is None


def test_without_a_url_the_repository_comes_from_its_name():
    data = json.loads(datasurface_json(STREAMS["Store1"]))
    del data["git_repo_url"]
    assert parse_config(data, "Store1").git_repo_url == "https://github.com/acme/eco-model"


def problems(data: dict | str, key: str = "Store1") -> dict[str, str]:
    with pytest.raises(StreamConfigError) as caught:
        parse_config(data if isinstance(data, str) else json.dumps(data), key)
    return {p.path: p.message for p in caught.value.problems}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"git_repo_owner": "someone-else"}, "$.git_repo_owner"),
        ({"git_repo_repo_name": "other-model"}, "$.git_repo_repo_name"),
        ({"git_repo_name": "acme/other-model"}, "$.git_repo_name"),
        ({"dataset_name": "orders"}, "$.dataset_name"),  # not one of the datasets
        ({"dataset_name": "customers"}, "$.dataset_name"),  # names one dataset of a multi-dataset stream
        ({"merge_db_port": "5432"}, "$.merge_db_port"),  # values are not converted
        ({"job_limits": {**LIMITS, "limits_cpu": "lots"}}, "$.job_limits.limits_cpu"),
        ({"schedule_string": "every day"}, "$.schedule_string"),
        ({"merge_db_credential_secret_name": "Not_A_Secret"}, "$.merge_db_credential_secret_name"),
        ({"schedule": "@daily"}, "$.schedule_string"),  # said twice, differently
    ],
)
def test_contradictions_are_problems_at_the_rows_own_paths(change, path):
    found = problems({**json.loads(datasurface_json(STREAMS["Store1"])), **change})
    assert list(found) == [path], found


def test_a_credential_in_any_key_is_refused_and_never_echoed():
    token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    for key in ("ecosystem_name", "merge_db_query", "merge_db_credential_secret_name", "git_repo_owner"):
        found = problems({**json.loads(datasurface_json(STREAMS["Store1"])), key: token})
        assert list(found) == [f"$.{key}"], found
        assert "a GitHub token" in found[f"$.{key}"] and token not in json.dumps(found)


def test_rows_in_the_factorys_own_form_still_refuse_unknown_fields(sample_config):
    found = problems({**sample_config, "ecosystem_name": "Test_Ecosystem"})
    assert list(found) == ["$.ecosystem_name"] and found["$.ecosystem_name"].startswith("unknown field")


def test_datasurface_rows_fit_its_own_column():
    for stream in [*STREAMS.values(), BROKEN]:
        assert len(datasurface_json(stream)) <= 2048


# ---- the factory file, under Airflow's DagBag ------------------------------------------------------


def job_of(dag):
    return dag.get_task("snapshot_merge_job")


def secrets(job) -> set[tuple[str, str, str]]:
    """(variable, secret, key) of each environment variable the job reads from a secret."""
    refs = [(e.name, e.value_from.secret_key_ref) for e in job.env_vars if e.value_from is not None]
    return {(name, ref.name, ref.key) for name, ref in refs}


def argument(job, name: str) -> str | None:
    args = list(job.arguments)
    return args[args.index(name) + 1] if name in args else None


@pytest.mark.airflow
def test_every_healthy_row_builds_and_the_broken_one_is_its_own_error(adopted, db_url):
    bag = parse_folder(adopted)
    assert bag.import_errors == {}
    assert set(bag.dags) == HEALTHY

    store1 = job_of(bag.dags[f"{P}__Store1_ingestion"])
    assert argument(store1, "--git-repo-owner") == "acme" and argument(store1, "--git-repo-name") == "eco-model"
    assert argument(store1, "--git-platform-repo-credential-name") == "GIT_MODEL"
    assert argument(store1, "--platform-name") == "YellowLive" and argument(store1, "--dataset-name") is None
    assert store1.priority_weight == 2 and str(store1.weight_rule) == "absolute"
    resources = store1.container_resources
    assert resources.requests == {"cpu": "100m", "memory": "512M"}
    assert resources.limits == {"cpu": "500m", "memory": "1Gi"}
    assert secrets(store1) >= {
        ("GIT_MODEL_TOKEN", "git-model", "token"),
        ("postgres_cred_USER", "postgres-cred", "postgres-cred_USER"),
        ("store1_source_USER", "store1-source", "store1-source_USER"),
    }
    assert bag.dags[f"{P}__Store1_ingestion"].timetable.expression == "*/10 * * * *"

    orders_dag = bag.dags[f"{P}__Store2_orders_ingestion"]
    assert argument(job_of(orders_dag), "--dataset-name") == "orders"
    assert argument(job_of(orders_dag), "--store-name") == "Store2"
    assert type(orders_dag.timetable).__name__ == "NullTimetable"
    assert job_of(orders_dag).priority_weight == 1

    events = job_of(bag.dags[f"{P}__Events_ingestion"])
    assert secrets(events) >= {
        ("kafka_connect_API_KEY", "kafka-connect", "api_key"),
        ("kafka_connect_API_SECRET", "kafka-connect", "api_secret"),
    }
    assert "kafka" in bag.dags[f"{P}__Events_ingestion"].tags

    errors = json.loads(run("errors", "--db", db_url, "--platform", P, "--json").output)
    assert [e["stream_key"] for e in errors if e.get("source") != "clash"] == ["Store2_returns"], errors
    assert "$.dataset_name" in json.dumps(errors)


# ---- yellowtui config validate ---------------------------------------------------------------------


def test_validate_warns_naming_the_carried_keys_and_fails_only_the_broken_row(adopted, db_url):
    report = json.loads(run("config", "validate", "--db", db_url, "--json", code=1).output)
    assert report["invalid"] == 1
    (bad,) = report["problems"]
    assert bad["stream_key"] == "Store2_returns"
    assert [p["path"] for p in bad["problems"]] == ["$.dataset_name"]
    warned = {w["stream_key"]: w for w in report["warnings"]}
    assert set(warned) == {"Store1", "Store2_orders", "Events", "Store2_returns"}
    assert {"ecosystem_name", "pv_storage_class", "merge_db_driver", "git_cache_enabled"} <= set(
        warned["Store1"]["carried"]
    )
    assert "merge_db_hostname" not in warned["Store1"]["carried"]  # mapped, not carried
    paths = {w["path"]: w["message"] for w in warned["Store1"]["warnings"]}
    assert "job: git_cache_claim" in paths["$.git_cache_enabled"]

    out = run("config", "validate", "--db", db_url, code=1).output
    assert "WARN yellowlive/Store1 in DataSurface's form" in out and "ecosystem_name" in out
    assert "4 row(s) checked, 1 invalid, 4 with warnings" in out

    with create_engine(db_url).begin() as conn:
        conn.execute(text(f"DELETE FROM {P}_airflow_dsg WHERE stream_key = 'Store2_returns'"))
    assert "3 row(s) checked, 0 invalid, 3 with warnings" in run("config", "validate", "--db", db_url).output


# ---- yellowtui migrate normalize ---------------------------------------------------------------------


def stored(db_url: str) -> dict[str, str]:
    with create_engine(db_url).connect() as conn:
        return {r.stream_key: r.config_json for r in store.read_rows(conn, P)}


@pytest.mark.airflow
def test_normalize_plans_then_rewrites_every_healthy_row_and_no_dag_changes(adopted, db_url):
    before_rows = stored(db_url)
    before = {dag_id: serialized(dag) for dag_id, dag in parse_folder(adopted).dags.items()}
    assert set(before) == HEALTHY

    plan = json.loads(
        run("migrate", "normalize", "--platform", P, "--db", db_url, "--dry-run", "--json", code=1).output
    )
    assert plan["dry_run"] is True and plan["written"] == {} and plan["dags_unchanged"] is True
    assert {r["stream_key"] for r in plan["rewrites"]} == set(STREAMS)
    assert list(plan["left"]) == ["Store2_returns"]
    store1 = next(r for r in plan["rewrites"] if r["stream_key"] == "Store1")
    assert store1["renamed"]["merge_db_hostname"] == "postgres_hostname"
    assert store1["renamed"]["job_limits"] == "job_resources"
    assert {"ecosystem_name", "git_repo_owner", "git_repo_repo_name"} <= set(store1["dropped"])
    assert all(e["action"] == "unchanged" and e["row_op"] == "update" for e in plan["plan"]["entries"])
    assert stored(db_url) == before_rows  # a dry run writes nothing

    out = run("migrate", "normalize", "--platform", P, "--db", db_url, "--actor", "adopter", code=1).output
    assert "~ Store1 (active): DAG unchanged" in out and "merge_db_hostname -> postgres_hostname" in out
    assert "! Store2_returns: does not validate; left as it is" in out
    assert "Applied as adopter: 3 row(s) rewritten." in out

    after_rows = stored(db_url)
    assert after_rows["Store2_returns"] == before_rows["Store2_returns"]
    for key in STREAMS:
        assert after_rows[key] == parse_config(before_rows[key], key).to_json()
    after = {dag_id: serialized(dag) for dag_id, dag in parse_folder(adopted).dags.items()}
    assert after == before

    again = json.loads(run("migrate", "normalize", "--platform", P, "--db", db_url, "--json", code=1).output)
    assert again["rewrites"] == [] and again["written"] == {} and again["other"] == 3
    history = json.loads(run("config", "show", "Store1", "--platform", P, "--db", db_url, "--json").output)
    assert history["history"][0]["changed_by"] == "adopter" and history["warnings"] == []


def test_a_row_changed_after_the_plan_is_a_conflict_and_nothing_is_written(db_url):
    write_datasurface_table(db_url, list(STREAMS.values()))
    with create_engine(db_url).connect() as conn:
        result = plan_normalize(conn, P)
    assert len(result.changeset.changes) == 3
    with create_engine(db_url).begin() as conn:  # DataSurface runs again in between
        conn.execute(text(f"UPDATE {P}_airflow_dsg SET updated_at = NOW() + interval '1 second'"))
    before = stored(db_url)
    with pytest.raises(ChangesetConflict) as caught:
        apply_normalize(db_url, result)
    assert {c.stream_key for c in caught.value.conflicts} == set(STREAMS)
    assert stored(db_url) == before


def test_normalize_help_teaches_and_needs_a_platform():
    out = run("migrate", "normalize", "--help").output
    assert "--dry-run" in out and "DataSurface" in out and "exit 3" in out
    assert "normalize" in run("migrate", "--help").output
    run("migrate", "normalize", "--db", "postgresql://x@127.0.0.1/none", code=2)
