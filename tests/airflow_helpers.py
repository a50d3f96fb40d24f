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


def _env_entry(var) -> tuple[str, str | None, str | None, str | None]:
    """(name, literal value, secret, key) of one of the job's V1EnvVar."""
    ref = var.value_from.secret_key_ref if var.value_from is not None else None
    return (var.name, var.value, ref.name if ref else None, ref.key if ref else None)


def serialized(dag) -> dict[str, Any]:
    """Airflow's serialized form, without file locations, plus what serialization leaves out:
    the job's secrets (names and keys only) and the XCom setting the result code depends on."""
    from airflow.serialization.serialized_objects import DagSerialization

    data = _strip(DagSerialization.to_dict(dag)["dag"])
    job = dag.get_task("snapshot_merge_job")
    data["_job_secrets"] = sorted((s.deploy_type, s.deploy_target, s.secret, s.key) for s in job.secrets)
    data["_job_env"] = sorted(_env_entry(e) for e in job.env_vars)
    data["_job_callbacks"] = [c.__name__ for c in job.callbacks]
    data["_job_volumes"] = sorted((v.name, v.persistent_volume_claim.claim_name) for v in job.volumes)
    data["_job_mounts"] = sorted((m.name, m.mount_path) for m in job.volume_mounts)
    data["_job_do_xcom_push"] = job.do_xcom_push
    data["_job_on_finish_action"] = str(job.on_finish_action)
    return data
