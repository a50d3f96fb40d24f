"""Our own writer of static DAG files as DataSurface rendered them in July 2025, for the tests.

Not DataSurface's template: a small generator that puts down, in its own words, the facts of
each generation that ``ingestion_stream_dag.py.j2`` had in billynewport/datasurface (Business
Source License, read and not copied):

- ``july-2025-no-repo`` (commit db4c68f, 2025-07-17, "No more xcom"): arguments --platform-name
  (written as the literal ``YellowLive``), --store-name, --dataset-name for a single-dataset
  stream, --operation snapshot-merge, --git-repo-path /workspace/model; nothing else.
- ``july-2025`` (commit c7cdb5c, 2025-07-17/18, the last static generation): the same plus
  --git-repo-owner / --git-repo-name / --git-repo-branch.

Both: Airflow 2 imports (``from airflow import DAG``, ``airflow.operators.*``); default_args
owner datasurface, depends_on_past False, start_date 2025-01-01, email_on_failure True,
email_on_retry False, retries 0, retry_delay 5 minutes; ``@hourly``, catchup False, tags
``['datasurface', 'ingestion', platform, stream]``; environment DATASURFACE_PLATFORM_NAME (the
dag_id's platform name), DATASURFACE_NAMESPACE, DATASURFACE_SLACK_CHANNEL, then from secrets
``<secret>_USER`` / ``_PASSWORD`` (keys username / password), git's and Slack's ``_TOKEN`` (key
token), a SQL source's pair when it differs from the merge one, Kafka Connect's ``_API_KEY`` /
``_API_SECRET``; image_pull_policy Always, an emptyDir ``git-workspace`` at /workspace/model,
do_xcom_push False, requests 256Mi / 100m and no limits, on_finish_action delete_pod;
``check_result`` reads DATASURFACE_RESULT_CODE from the task's log file on local disk, and
``reschedule_immediately`` is a TriggerDagRunOperator of the same DAG with conf triggered_by.
"""

from __future__ import annotations

from dataclasses import dataclass

NO_REPO = "july-2025-no-repo"
WITH_REPO = "july-2025"


@dataclass(frozen=True)
class JulyStream:
    platform: str  # the dag_id's platform name, e.g. yellowlive
    original_platform: str  # YellowLive
    stream_key: str
    store: str
    dataset: str | None  # set for a single-dataset stream
    ingestion_type: str  # July's words: sql_snapshot or kafka
    namespace: str
    image: str
    merge_secret: str
    git_secret: str
    slack_secret: str
    slack_channel: str
    owner: str
    repo: str
    branch: str
    source_secret: str | None = None
    kafka_secret: str | None = None


def _secret_var(variable: str, secret: str, key: str) -> str:
    return (
        f"k8s.V1EnvVar(name={variable!r}, value_from=k8s.V1EnvVarSource("
        f"secret_key_ref=k8s.V1SecretKeySelector(name={secret!r}, key={key!r})))"
    )


def _arguments(s: JulyStream, generation: str) -> list[str]:
    platform_argument = "YellowLive" if generation == NO_REPO else s.original_platform
    found = ["--platform-name", platform_argument, "--store-name", s.store]
    if s.dataset:
        found += ["--dataset-name", s.dataset]
    found += ["--operation", "snapshot-merge", "--git-repo-path", "/workspace/model"]
    if generation == WITH_REPO:
        found += ["--git-repo-owner", s.owner, "--git-repo-name", s.repo, "--git-repo-branch", s.branch]
    return found


def july_file(s: JulyStream, generation: str) -> str:
    """The text of ``{platform}__{stream}_ingestion.py`` as that generation had it."""
    dag_id = f"{s.platform}__{s.stream_key}_ingestion"
    env = [
        f"k8s.V1EnvVar(name='DATASURFACE_PLATFORM_NAME', value={s.platform!r})",
        f"k8s.V1EnvVar(name='DATASURFACE_NAMESPACE', value={s.namespace!r})",
        f"k8s.V1EnvVar(name='DATASURFACE_SLACK_CHANNEL', value={s.slack_channel!r})",
        _secret_var(f"{s.merge_secret}_USER", s.merge_secret, "username"),
        _secret_var(f"{s.merge_secret}_PASSWORD", s.merge_secret, "password"),
        _secret_var(f"{s.git_secret}_TOKEN", s.git_secret, "token"),
        _secret_var(f"{s.slack_secret}_TOKEN", s.slack_secret, "token"),
    ]
    if s.ingestion_type == "sql_snapshot" and s.source_secret and s.source_secret != s.merge_secret:
        env += [
            _secret_var(f"{s.source_secret}_USER", s.source_secret, "username"),
            _secret_var(f"{s.source_secret}_PASSWORD", s.source_secret, "password"),
        ]
    if s.ingestion_type == "kafka" and s.kafka_secret:
        env += [
            _secret_var(f"{s.kafka_secret}_API_KEY", s.kafka_secret, "api_key"),
            _secret_var(f"{s.kafka_secret}_API_SECRET", s.kafka_secret, "api_secret"),
        ]
    env_text = ",\n    ".join(env)
    return f'''"""{dag_id}: a July 2025 DataSurface static file, as the tests reconstruct it."""
import os
import re
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import BranchPythonOperator
from airflow.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

dag = DAG(
    {dag_id!r},
    default_args={{
        "owner": "datasurface",
        "depends_on_past": False,
        "start_date": datetime(2025, 1, 1),
        "email_on_failure": True,
        "email_on_retry": False,
        "retries": 0,
        "retry_delay": timedelta(minutes=5),
    }},
    description={f"Ingestion Stream DAG for {s.platform}__{s.stream_key}"!r},
    schedule="@hourly",
    catchup=False,
    tags=["datasurface", "ingestion", {s.platform!r}, {s.stream_key!r}],
)

env_vars = [
    {env_text},
]


def determine_next_action(**context):
    run = context["dag_run"]
    folder = f"/opt/airflow/logs/dag_id={{run.dag_id}}/run_id={{run.run_id}}/task_id=snapshot_merge_job"
    code = -1
    if os.path.isdir(folder):
        attempts = sorted(n for n in os.listdir(folder) if n.startswith("attempt="))
        if attempts:
            with open(os.path.join(folder, attempts[-1])) as log:
                found = re.search(r"DATASURFACE_RESULT_CODE=(-?\\d+)", log.read())
            code = int(found.group(1)) if found else -1
    if code == 1:
        return "reschedule_immediately"
    if code == 0:
        return "wait_for_trigger"
    raise Exception(f"SnapshotMergeJob failed with code {{code}}")


job = KubernetesPodOperator(
    task_id="snapshot_merge_job",
    name={f"{s.platform}-{s.stream_key.replace('-', '_')}-job"!r},
    namespace={s.namespace!r},
    image={s.image!r},
    cmds=["python", "-m", "datasurface.platforms.yellow.jobs"],
    arguments={_arguments(s, generation)!r},
    env_vars=env_vars,
    image_pull_policy="Always",
    volumes=[k8s.V1Volume(name="git-workspace", empty_dir=k8s.V1EmptyDirVolumeSource())],
    volume_mounts=[k8s.V1VolumeMount(name="git-workspace", mount_path="/workspace/model", read_only=False)],
    is_delete_operator_pod=True,
    get_logs=True,
    do_xcom_push=False,
    container_resources=k8s.V1ResourceRequirements(requests={{"memory": "256Mi", "cpu": "100m"}}),
    on_finish_action="delete_pod",
    dag=dag,
)
branch = BranchPythonOperator(task_id="check_result", python_callable=determine_next_action, dag=dag)
reschedule = TriggerDagRunOperator(
    task_id="reschedule_immediately", trigger_dag_id={dag_id!r}, conf={{"triggered_by": "reschedule"}}, dag=dag
)
wait = EmptyOperator(task_id="wait_for_trigger", dag=dag)
job >> branch
branch >> [reschedule, wait]
'''
