"""Where the ingestion job runs: a Kubernetes pod (production) or a local process (tests, demo).

``YELLOW_JOB_LAUNCHER`` in the Airflow processes' environment chooses: ``kubernetes`` (the
default) keeps the KubernetesPodOperator the builder has always made; ``local`` runs the same
job, with the same environment and arguments, as a process on the Airflow worker. Either way
the job writes ``{"result_code": n}`` to its XCom file, the task pushes it to XCom, and
``check_result`` branches on it unchanged.

Cheap to import: Airflow is imported inside the functions that need it. The factory never
imports ``simulators``: the local command is a string (``YELLOW_LOCAL_JOB_COMMAND``).
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factory.enums import JobLauncher
from factory.settings import settings
from factory.shape import JOB_TASK_ID

if TYPE_CHECKING:
    from factory.spec import DagSpec

#: Where the job writes ``{"result_code": n}``: the local stand-in for /airflow/xcom/return.json.
XCOM_FILE_ENV = "YELLOW_XCOM_FILE"
#: Worker variables the local job inherits; everything else it sees comes from the spec, as in a
#: pod. The worker's own secrets (metadata database URL, API keys) never reach the job.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")
PASSED_THROUGH_PREFIX = "YELLOW_JOB_"

log = logging.getLogger("yellow.factory.launcher")


def job_launcher() -> JobLauncher:
    """``YELLOW_JOB_LAUNCHER``, read once with the other settings. An unknown value falls back
    to ``kubernetes`` with a warning naming the variable (see :mod:`factory.settings`): a typo
    must never cost a platform its DAGs, and production is the safe default."""
    return settings().job_launcher


def default_local_command() -> list[str]:
    """``YELLOW_LOCAL_JOB_COMMAND`` split into words, else this interpreter running the simulated job."""
    text = settings().local_job_command.strip()
    return shlex.split(text) if text else [sys.executable, "-m", "simulators.job"]


def local_job_env(spec: DagSpec) -> dict[str, str]:
    """The job's environment as the pod would have it: the spec's variables, and for each secret
    variable ``<VAR>_SECRET=<secret name>/<key>`` (the name only: no secret value exists here)."""
    env = dict(spec.env_vars)
    for secret in spec.secrets:
        env[f"{secret.env_var}_SECRET"] = f"{secret.secret_name}/{secret.secret_key}"
    return env


def local_job_task(spec: DagSpec, dag: Any) -> Any:
    """The local stand-in for the job's pod: same ``task_id``, same environment and arguments,
    the result code returned to XCom as the pod's sidecar would push it."""
    from airflow.providers.standard.operators.python import PythonOperator

    return PythonOperator(
        task_id=JOB_TASK_ID,
        dag=dag,
        python_callable=run_local_job,
        op_kwargs={"arguments": list(spec.arguments), "env_vars": local_job_env(spec), "name": spec.pod_name},
        do_xcom_push=True,
    )


def run_local_job(arguments: list[str], env_vars: dict[str, str], name: str = "job") -> dict[str, Any]:
    """Run the job as a child process and return what it wrote to its XCom file.

    A non-zero exit fails the task (a failed pod); so does an exit 0 without a valid result
    file, since the branch would have nothing to decide on. The job's output goes to the task log.
    """
    command = [*default_local_command(), *arguments]
    base = {k: v for k, v in os.environ.items() if k in PASSED_THROUGH or k.startswith(PASSED_THROUGH_PREFIX)}
    with tempfile.TemporaryDirectory(prefix=f"yellow-{name[:40]}-") as tmp:
        xcom_file = Path(tmp) / "return.json"
        env = {**base, **env_vars, XCOM_FILE_ENV: str(xcom_file)}
        log.info("running the job locally: %s", shlex.join(command))
        proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        for line in (proc.stdout + proc.stderr).splitlines():
            log.info("job: %s", line)
        if proc.returncode != 0:
            raise _task_failure(f"the job exited with code {proc.returncode}")
        try:
            result = json.loads(xcom_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise _task_failure(f"the job exited 0 but wrote no valid {XCOM_FILE_ENV} result: {exc}") from None
    if not isinstance(result, dict) or "result_code" not in result:
        raise _task_failure(f"the job's result {result!r} has no result_code")
    log.info("job result: %s", result)
    return result


def _task_failure(message: str) -> Exception:
    try:
        from airflow.sdk.exceptions import AirflowException

        return AirflowException(message)
    except ImportError:  # pragma: no cover - only ever called inside an Airflow task
        return RuntimeError(message)
