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
from factory.job_contract import ResultFrom
from factory.launchers import job_launcher, local_job_task
from factory.models import StreamConfig
from factory.shape import BRANCHES, CHECK_TASK_ID, JOB_TASK_ID, RESCHEDULE_TASK_ID, WAIT_TASK_ID, ResultCode, edges
from factory.spec import START_DATE_ISO, DagSpec, dag_spec

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from factory.job_contract import JobSettings


@lru_cache(maxsize=1)
def _airflow() -> dict[str, Any]:
    """Import the operators once per process (about a second, paid by the first build only)."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.python import BranchPythonOperator
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
    from airflow.sdk import DAG
    from kubernetes.client import models as k8s
    from kubernetes.client.configuration import Configuration

    from factory.pod_result import ResultCodeFromLog
    from factory.tasks import choose_next_task

    return {
        "ResultCodeFromLog": ResultCodeFromLog,
        "DAG": DAG,
        "KubernetesPodOperator": KubernetesPodOperator,
        "EmptyOperator": EmptyOperator,
        "BranchPythonOperator": BranchPythonOperator,
        "TriggerDagRunOperator": TriggerDagRunOperator,
        "k8s": k8s,
        # Every kubernetes model deep-copies the default Configuration when given none (about
        # 0.13 ms each, 20 per DAG): one shared copy makes them about 60 times cheaper.
        "k8s_conf": Configuration.get_default_copy(),
        "choose_next_task": choose_next_task,
    }


def build_dag(
    config: StreamConfig, platform: str, *, launcher: JobLauncher | None = None, job: JobSettings | None = None
) -> DAG:
    """Build the ingestion DAG for one validated stream config. Same config, same DAG.

    ``launcher`` overrides ``YELLOW_JOB_LAUNCHER`` (``yellowtui migrate`` compares against the
    Kubernetes form, the only one a static file has); ``job`` is the platform's job settings
    (None: DataSurface's defaults)."""
    return build_dag_from_spec(dag_spec(config, platform, job), launcher=launcher)


def job_env_vars(spec: DagSpec, k8s: Any) -> list[Any]:
    """The pod's environment: literal values, then each credential from its secret's key.

    ``V1EnvVar`` with a ``secret_key_ref``, as DataSurface's own DAGs do, and not the provider's
    ``Secret("env", ...)``: that one upper-cases the variable's name (cncf-kubernetes 10.25,
    ``secret.py``), and the job reads ``postgres_USER``, not ``POSTGRES_USER``.
    """
    conf = {"local_vars_configuration": _airflow()["k8s_conf"]}
    env = [k8s.V1EnvVar(name=name, value=value, **conf) for name, value in spec.env_vars.items()]
    env += [
        k8s.V1EnvVar(
            name=s.env_var,
            value_from=k8s.V1EnvVarSource(
                secret_key_ref=k8s.V1SecretKeySelector(name=s.secret_name, key=s.secret_key, **conf), **conf
            ),
            **conf,
        )
        for s in spec.secrets
    ]
    return env


def build_dag_from_spec(spec: DagSpec, *, launcher: JobLauncher | None = None) -> DAG:
    """Build the DAG described by ``spec``, wired as :mod:`factory.shape` says."""
    af = _airflow()
    k8s = af["k8s"]
    conf = {"local_vars_configuration": af["k8s_conf"]}
    resources = None
    if spec.resources:
        resources = k8s.V1ResourceRequirements(
            requests=spec.resources.get("requests"), limits=spec.resources.get("limits"), **conf
        )
    from_stdout = spec.result_from == ResultFrom.STDOUT
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
            env_vars=job_env_vars(spec, k8s),
            labels=spec.labels,
            container_resources=resources,
            volumes=[
                k8s.V1Volume(
                    name=v["name"],
                    persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(claim_name=v["claim_name"], **conf),
                    **conf,
                )
                for v in spec.volumes
            ],
            volume_mounts=[
                k8s.V1VolumeMount(name=v["name"], mount_path=v["mount_path"], read_only=False, **conf)
                for v in spec.volumes
            ],
            # The real job prints its result and writes no XCom file: no sidecar, so no pods/exec.
            do_xcom_push=not from_stdout,
            callbacks=[af["ResultCodeFromLog"]] if from_stdout else None,
            get_logs=True,
            on_finish_action="delete_pod",
            priority_weight=spec.priority_weight,
            weight_rule="absolute",
        )
    af["BranchPythonOperator"](
        task_id=CHECK_TASK_ID,
        dag=dag,
        python_callable=af["choose_next_task"],
        op_kwargs={
            "job_task_id": JOB_TASK_ID,
            "keep_working": BRANCHES[ResultCode.KEEP_WORKING],
            "done": BRANCHES[ResultCode.DONE],
            "result_key": spec.result_key,
        },
    )
    af["TriggerDagRunOperator"](
        task_id=RESCHEDULE_TASK_ID, dag=dag, trigger_dag_id=spec.dag_id, wait_for_completion=False
    )
    af["EmptyOperator"](task_id=WAIT_TASK_ID, dag=dag)
    for upstream, downstream in edges():
        dag.get_task(upstream) >> dag.get_task(downstream)
    return dag
