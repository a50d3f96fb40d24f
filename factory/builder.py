"""Stream config -> Airflow DAG. The one builder: the factory file, ``yellowtui`` simulations
and the benchmarks all call :func:`build_dag`.

Airflow and the Kubernetes provider are imported on first build, not at module import, so the
package stays cheap for code that only validates or renders.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from factory.enums import JobLauncher
from factory.launchers import job_launcher, local_job_task
from factory.models import StreamConfig
from factory.shape import BRANCHES, CHECK_TASK_ID, JOB_TASK_ID, RESCHEDULE_TASK_ID, WAIT_TASK_ID, ResultCode, edges
from factory.spec import START_DATE_ISO, DagSpec, dag_spec

if TYPE_CHECKING:
    from airflow.sdk import DAG


@lru_cache(maxsize=1)
def _airflow() -> dict[str, Any]:
    """Import the operators once per process (about a second, paid by the first build only)."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.providers.cncf.kubernetes.secret import Secret
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.python import BranchPythonOperator
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
    from airflow.sdk import DAG
    from kubernetes.client import models as k8s

    from factory.tasks import choose_next_task

    return {
        "DAG": DAG,
        "KubernetesPodOperator": KubernetesPodOperator,
        "Secret": Secret,
        "EmptyOperator": EmptyOperator,
        "BranchPythonOperator": BranchPythonOperator,
        "TriggerDagRunOperator": TriggerDagRunOperator,
        "k8s": k8s,
        "choose_next_task": choose_next_task,
    }


def build_dag(config: StreamConfig, platform: str, *, launcher: JobLauncher | None = None) -> DAG:
    """Build the ingestion DAG for one validated stream config. Same config, same DAG.

    ``launcher`` overrides ``YELLOW_JOB_LAUNCHER`` (``yellowtui migrate`` compares against the
    Kubernetes form, the only one a static file has)."""
    return build_dag_from_spec(dag_spec(config, platform), launcher=launcher)


def build_dag_from_spec(spec: DagSpec, *, launcher: JobLauncher | None = None) -> DAG:
    """Build the DAG described by ``spec``, wired as :mod:`factory.shape` says."""
    af = _airflow()
    resources = None
    if spec.resources:
        resources = af["k8s"].V1ResourceRequirements(
            requests=spec.resources.get("requests"), limits=spec.resources.get("limits")
        )
    # No ``with DAG(...)``: Airflow's DAG context is one process-wide stack, not per thread, so
    # two threads building at once (dashboard workers, racing applies) would hang each other's
    # tasks on the wrong DAG. Every task names its DAG instead.
    dag = af["DAG"](
        dag_id=spec.dag_id,
        schedule=spec.schedule,
        start_date=datetime.fromisoformat(START_DATE_ISO),
        catchup=False,
        max_active_runs=1,
        description=spec.description,
        tags=spec.tags,
        default_args={"owner": "yellow", "retries": 0},
    )
    if (launcher or job_launcher()) is JobLauncher.LOCAL:  # YELLOW_JOB_LAUNCHER=local: the job as a process
        local_job_task(spec, dag)
    else:
        af["KubernetesPodOperator"](
            task_id=JOB_TASK_ID,
            dag=dag,
            name=spec.pod_name,
            namespace=spec.namespace,
            image=spec.image,
            cmds=spec.cmds,
            arguments=spec.arguments,
            env_vars=spec.env_vars,
            secrets=[af["Secret"]("env", s.env_var, s.secret_name, s.secret_key) for s in spec.secrets],
            labels=spec.labels,
            container_resources=resources,
            do_xcom_push=True,
            get_logs=True,
            on_finish_action="delete_pod",
        )
    af["BranchPythonOperator"](
        task_id=CHECK_TASK_ID,
        dag=dag,
        python_callable=af["choose_next_task"],
        op_kwargs={
            "job_task_id": JOB_TASK_ID,
            "keep_working": BRANCHES[ResultCode.KEEP_WORKING],
            "done": BRANCHES[ResultCode.DONE],
        },
    )
    af["TriggerDagRunOperator"](
        task_id=RESCHEDULE_TASK_ID, dag=dag, trigger_dag_id=spec.dag_id, wait_for_completion=False
    )
    af["EmptyOperator"](task_id=WAIT_TASK_ID, dag=dag)
    for upstream, downstream in edges():
        dag.get_task(upstream) >> dag.get_task(downstream)
    return dag
