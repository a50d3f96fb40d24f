"""Callables the ingestion DAG runs. Importable by workers; the legacy static file inlines a copy."""

from __future__ import annotations

from typing import Any

from factory.shape import ResultCode


def choose_next_task(ti: Any, job_task_id: str, keep_working: str, done: str, result_key: str = "return_value") -> str:
    """Branch on the job's result code (see :class:`factory.shape.ResultCode`).

    ``snapshot_merge_job`` leaves the code under ``result_key``: ``datasurface_result_code`` when
    it was read from the job's ``DATASURFACE_RESULT_CODE`` line (DataSurface's real job), or
    ``return_value`` for a job that writes ``/airflow/xcom/return.json`` (a number, or an object
    with ``result_code``). The task ids arrive as arguments (the builder takes them from
    :mod:`factory.shape`), so the serialized DAG matches the legacy static file's.
    """
    from airflow.sdk.exceptions import AirflowFailException

    result = ti.xcom_pull(task_ids=job_task_id, key=result_key)
    code = result.get("result_code") if isinstance(result, dict) else result
    for expected, task_id in ((ResultCode.KEEP_WORKING, keep_working), (ResultCode.DONE, done)):
        if code == expected:
            return task_id
    known = " or ".join(f"{c.value} ({c.name.lower().replace('_', ' ')})" for c in sorted(ResultCode))
    if code is None:
        raise AirflowFailException(f"{job_task_id} left no result code under XCom key {result_key!r}; expected {known}")
    raise AirflowFailException(f"{job_task_id} returned result code {code!r}; expected {known}")
