"""Parity: the legacy static file and the factory build the same DAG, as Airflow serializes it."""

from __future__ import annotations

import ast

import pytest

from factory.operations.provisioning.bootstrap import bootstrap
from factory.operations.provisioning.ecosystem import platform_streams
from factory.settings import reset_settings
from tests.airflow_helpers import parse_folder, serialized

pytestmark = pytest.mark.airflow


def test_static_files_and_factory_build_identical_dags(db_url, example_ecosystem, tmp_path, snapshot_dir, monkeypatch):
    factory_dir, static_dir = tmp_path / "factory", tmp_path / "static"
    bootstrap(example_ecosystem, db_url, factory_dir)
    bootstrap(example_ecosystem, db_url, static_dir, static=True)
    monkeypatch.setenv("YELLOW_DB_URL", db_url)
    reset_settings()
    from_factory = parse_folder(factory_dir)
    from_static = parse_folder(static_dir)
    assert from_factory.import_errors == {} and from_static.import_errors == {}

    expected = {
        f"{p.name.lower()}__{c.stream_key}_ingestion"
        for p in example_ecosystem.platforms
        for c in platform_streams(p)[0]
    }
    assert set(from_factory.dags) == expected
    assert set(from_static.dags) == expected
    assert len(list(static_dir.glob("*.py"))) == len(expected)  # one legacy file per stream
    for dag_id in sorted(expected):
        assert serialized(from_static.dags[dag_id]) == serialized(from_factory.dags[dag_id]), dag_id
    # Secrets are compared too: names and keys only, the values live in Kubernetes.
    # Credentials are compared too: names and keys only, the values live in Kubernetes. The
    # variable keeps the case the job reads it in (the provider's Secret would upper-case it).
    store1 = serialized(from_factory.dags["yellowlive__Store1_ingestion"])
    env = store1["_job_env"]
    assert ("postgres_demo_creds_PASSWORD", None, "postgres-demo-creds", "postgres-demo-creds_PASSWORD") in env
    assert ("git_demo_creds_TOKEN", None, "git-demo-creds", "token") in env
    assert ("DATASURFACE_PLATFORM_NAME", "YellowLive", None, None) in env
    # The result comes from the job's output line, read by the callback: no XCom sidecar.
    assert store1["_job_callbacks"] == ["ResultCodeFromLog"] and store1["_job_do_xcom_push"] is False


def test_static_file_stands_alone(db_url, example_ecosystem, tmp_path):
    bootstrap(example_ecosystem, db_url, tmp_path, static=True)
    for path in tmp_path.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add((node.module or "").split(".")[0])
        assert imported <= {"datetime", "re", "airflow", "kubernetes"}, (path.name, imported)


def test_parity_notices_a_difference(db_url, example_ecosystem, tmp_path, snapshot_dir, monkeypatch):
    """The comparison is real: a static file rendered from a different config does not match."""
    data = example_ecosystem.model_dump()
    data["platforms"][0]["stores"][0]["schedule"] = "@daily"
    from factory.operations.provisioning.ecosystem import parse_ecosystem

    bootstrap(example_ecosystem, db_url, tmp_path / "factory")
    bootstrap(parse_ecosystem(data), db_url, tmp_path / "static", static=True)
    monkeypatch.setenv("YELLOW_DB_URL", db_url)
    reset_settings()
    dag_id = "yellowlive__Store1_ingestion"
    static_dag = parse_folder(tmp_path / "static").dags[dag_id]
    # The second bootstrap changed the row too; re-apply the first config to make them differ.
    bootstrap(example_ecosystem, db_url, None)
    factory_dag = parse_folder(tmp_path / "factory").dags[dag_id]
    assert serialized(static_dag) != serialized(factory_dag)
