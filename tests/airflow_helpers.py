"""Parsing DAG files with Airflow's own DagBag, and comparing DAGs the way Airflow stores them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Where a DAG came from, not what it is: dropped before comparing.
LOCATION_KEYS = {"fileloc", "relative_fileloc", "_processor_dags_folder"}


def parse_folder(path: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(str(path), safe_mode=True)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in LOCATION_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def serialized(dag) -> dict[str, Any]:
    """Airflow's serialized form, without file locations, plus what serialization leaves out:
    the job's secrets (names and keys only) and the XCom setting the result code depends on."""
    from airflow.serialization.serialized_objects import DagSerialization

    data = _strip(DagSerialization.to_dict(dag)["dag"])
    job = dag.get_task("snapshot_merge_job")
    data["_job_secrets"] = sorted((s.deploy_type, s.deploy_target, s.secret, s.key) for s in job.secrets)
    data["_job_do_xcom_push"] = job.do_xcom_push
    data["_job_on_finish_action"] = str(job.on_finish_action)
    return data
