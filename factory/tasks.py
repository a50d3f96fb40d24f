"""Callables the ingestion DAG runs. Importable by workers; the legacy static file inlines a copy."""

from __future__ import annotations

from typing import Any


def choose_next_task(ti: Any, job_task_id: str, keep_working: str, done: str) -> str:
    """Branch on the result code the job pushed to XCom: 1 keep working, 0 done, else fail."""
    from airflow.sdk.exceptions import AirflowFailException

    result = ti.xcom_pull(task_ids=job_task_id)
    code = result.get("result_code") if isinstance(result, dict) else result
    if code == 1:
        return keep_working
    if code == 0:
        return done
    raise AirflowFailException(f"{job_task_id} returned result code {code!r}; expected 0 (done) or 1 (keep working)")
