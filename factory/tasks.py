"""Callables the ingestion DAG runs. Importable by workers; the legacy static file inlines a copy."""

from __future__ import annotations

from typing import Any

from factory.shape import ResultCode


def choose_next_task(ti: Any, job_task_id: str, keep_working: str, done: str) -> str:
    """Branch on the result code the job pushed to XCom (see :class:`factory.shape.ResultCode`).

    The task ids arrive as arguments (the builder takes them from :mod:`factory.shape`), so the
    serialized DAG matches the legacy static file's, which passes the same ones.
    """
    from airflow.sdk.exceptions import AirflowFailException

    result = ti.xcom_pull(task_ids=job_task_id)
    code = result.get("result_code") if isinstance(result, dict) else result
    for expected, task_id in ((ResultCode.KEEP_WORKING, keep_working), (ResultCode.DONE, done)):
        if code == expected:
            return task_id
    known = " or ".join(f"{c.value} ({c.name.lower().replace('_', ' ')})" for c in sorted(ResultCode))
    raise AirflowFailException(f"{job_task_id} returned result code {code!r}; expected {known}")
