"""Where the ingestion job runs: a Kubernetes pod (production) or a local process (tests, demo).

``YELLOW_JOB_LAUNCHER`` in the Airflow processes' environment chooses: ``kubernetes`` (the
default) keeps the KubernetesPodOperator the builder has always made; ``local`` runs the same
job, with the same arguments and environment, as a process on the Airflow worker. Either way
the result comes back as the real job gives it: the ``DATASURFACE_RESULT_CODE=<n>`` line on its
stdout, read with the same parser the Kubernetes path uses and pushed to the same XCom key, so
``check_result`` branches on it unchanged (or, for a platform whose job writes an XCom file,
that file's content).

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
from factory.job_contract import RESULT_XCOM_KEY, JobResultError, ResultFrom, result_code
from factory.settings import settings
from factory.shape import JOB_TASK_ID

if TYPE_CHECKING:
    from factory.spec import DagSpec

#: Where a job that writes XCom writes it: the local stand-in for /airflow/xcom/return.json.
XCOM_FILE_ENV = "YELLOW_XCOM_FILE"
#: The local stand-in for a Kubernetes secret's value: ``<VAR>`` holds ``local:<secret>/<key>``.
LOCAL_SECRET_PREFIX = "local:"
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
    """The job's environment as the pod would have it: the spec's variables, and every secret
    variable under its real name (``postgres_USER``, ``git_TOKEN``, ...), holding
    ``local:<secret name>/<key>`` since no secret value exists here. The simulated job checks
    that each credential it reads is there, under the names the real job reads."""
    env = dict(spec.env_vars)
    for secret in spec.secrets:
        env[secret.env_var] = f"{LOCAL_SECRET_PREFIX}{secret.secret_name}/{secret.secret_key}"
    return env


def local_job_task(spec: DagSpec, dag: Any) -> Any:
    """The local stand-in for the job's pod: same ``task_id``, same environment and arguments,
    the result code returned to XCom as the pod's sidecar would push it."""
    from airflow.providers.standard.operators.python import PythonOperator

    from_xcom = spec.result_from == ResultFrom.XCOM
    return PythonOperator(
        task_id=JOB_TASK_ID,
        dag=dag,
        python_callable=run_local_job,
        op_kwargs={
            "arguments": list(spec.arguments),
            "env_vars": local_job_env(spec),
            "name": spec.pod_name,
            "result_from": spec.result_from,
        },
        do_xcom_push=from_xcom,
    )


def run_local_job(
    arguments: list[str],
    env_vars: dict[str, str],
    name: str = "job",
    result_from: str = ResultFrom.STDOUT.value,
    ti: Any = None,
) -> Any:
    """Run the job as a child process, as the pod would run it, and hand its result to the branch.

    The job's output goes to the task log. A non-zero exit fails the task (a failed pod), after
    the result line, if any, is logged. Otherwise the ``DATASURFACE_RESULT_CODE`` line is parsed
    exactly as :mod:`factory.pod_result` parses the pod's log and pushed under the same key; no
    line, or two different ones, fails the task saying so. With ``result_from="xcom"`` the job's
    XCom file is returned instead (pushed as ``return_value``).
    """
    command = [*default_local_command(), *arguments]
    base = {k: v for k, v in os.environ.items() if k in PASSED_THROUGH or k.startswith(PASSED_THROUGH_PREFIX)}
    with tempfile.TemporaryDirectory(prefix=f"yellow-{name[:40]}-") as tmp:
        xcom_file = Path(tmp) / "return.json"
        env = {**base, **env_vars}
        if result_from == ResultFrom.XCOM:
            env[XCOM_FILE_ENV] = str(xcom_file)
        log.info("running the job locally: %s", shlex.join(command))
        proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        for line in (proc.stdout + proc.stderr).splitlines():
            log.info("job: %s", line)
        if proc.returncode != 0:
            raise _task_failure(f"the job exited with code {proc.returncode}{_last_error(proc.stderr)}")
        if result_from == ResultFrom.XCOM:
            return _xcom_result(xcom_file)
    try:
        code = result_code(proc.stdout)
    except JobResultError as exc:
        raise _task_failure(f"{JOB_TASK_ID}: {exc}") from None
    log.info("the job's result code: %s", code)
    if ti is not None:
        ti.xcom_push(key=RESULT_XCOM_KEY, value=code)
    return code


def _xcom_result(xcom_file: Path) -> Any:
    try:
        result = json.loads(xcom_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _task_failure(f"the job exited 0 but wrote no valid {XCOM_FILE_ENV} result: {exc}") from None
    log.info("job result: %s", result)
    return result


def _last_error(stderr: str) -> str:
    """``: <the job's last line on stderr>``, so the task's failure names the job's own message."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return f": {lines[-1][:300]}" if lines else ""


def _task_failure(message: str) -> Exception:
    try:
        from airflow.sdk.exceptions import AirflowException

        return AirflowException(message)
    except ImportError:  # pragma: no cover - only ever called inside an Airflow task
        return RuntimeError(message)
