"""The Kubernetes path reads the job's result from its pod's log, not from an XCom sidecar.

The provider's own ``KubernetesPodOperator.execute_sync`` runs, with the Kubernetes API faked
at its boundary (the ``CoreV1Api`` calls the operator, its ``PodManager`` and the callback
make): no cluster, but the callback is called where the provider calls it, after the pod
completes and before it is deleted, and only ``pods/log`` is read (no ``pods/exec``).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from factory.builder import build_dag
from factory.enums import JobLauncher
from factory.models import parse_config
from tests.samples import SAMPLE_CONFIG

pytestmark = pytest.mark.airflow


class FakeCoreV1Api:
    """The Kubernetes API as a finished pod answers it: the pod, its log, its deletion."""

    def __init__(self, log: str, exit_code: int = 0) -> None:
        self.log, self.exit_code = log, exit_code
        self.pod: Any = None
        self.calls: list[str] = []

    def created(self, pod: Any) -> Any:
        from kubernetes.client import models as k8s

        self.pod = copy.deepcopy(pod)
        terminated = k8s.V1ContainerStateTerminated(exit_code=self.exit_code)
        self.pod.status = k8s.V1PodStatus(
            phase="Succeeded" if self.exit_code == 0 else "Failed",
            container_statuses=[
                k8s.V1ContainerStatus(
                    name="base",
                    image="x",
                    image_id="x",
                    ready=False,
                    restart_count=0,
                    state=k8s.V1ContainerState(terminated=terminated),
                )
            ],
        )
        return self.pod

    def read_namespaced_pod(self, name: str, namespace: str, **_: Any) -> Any:
        self.calls.append("pods/get")
        return self.pod

    def read_namespaced_pod_log(self, *, name: str, namespace: str, container: str, **_: Any) -> str:
        assert (name, namespace, container) == (self.pod.metadata.name, self.pod.metadata.namespace, "base")
        self.calls.append("pods/log")
        return self.log

    def delete_namespaced_pod(self, name: str, namespace: str, **_: Any) -> None:
        self.calls.append("pods/delete")

    def connect_get_namespaced_pod_exec(self, *_: Any, **__: Any) -> None:  # the XCom sidecar's way
        raise AssertionError("pods/exec must never be needed")


class TaskInstance:
    dag_id, task_id, run_id, try_number, map_index = "yellowlive__Store1_ingestion", "snapshot_merge_job", "r", 1, -1

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


@pytest.fixture
def kubeconfig(tmp_path) -> str:
    """A kube config naming a cluster nobody serves: the hook loads it, the fake answers."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: none\n"
        "clusters: [{name: none, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "contexts: [{name: none, context: {cluster: none, user: none}}]\n"
        "users: [{name: none, user: {token: none}}]\n"
    )
    return str(path)


def run_pod(
    kubeconfig: str, log: str, exit_code: int = 0, ti: TaskInstance | None = None
) -> tuple[TaskInstance, FakeCoreV1Api]:
    """Run the builder's snapshot_merge_job against a pod that printed ``log``."""
    from airflow.providers.cncf.kubernetes.utils.pod_manager import PodManager

    dag = build_dag(parse_config(dict(SAMPLE_CONFIG)), "yellowlive", launcher=JobLauncher.KUBERNETES)
    operator: Any = dag.get_task("snapshot_merge_job")
    kube = FakeCoreV1Api(log, exit_code)
    operator.config_file = kubeconfig  # the operator's own parameter: KUBECONFIG is read once per process
    operator.client = kube
    operator.pod_manager = PodManager(kube_client=kube, callbacks=operator.callbacks)
    # Waiting on a live cluster is all that is skipped: the pod is created finished.
    operator.get_or_create_pod = lambda pod_request_obj, context: kube.created(pod_request_obj)
    operator.find_pod = lambda namespace, context, **_: kube.pod
    operator.await_pod_start = lambda pod: None
    operator.await_pod_completion = lambda pod: None
    ti = ti or TaskInstance()
    operator.execute_sync({"ti": ti, "dag": dag, "task": operator, "run_id": "r"})
    return ti, kube


def test_the_builder_asks_for_no_sidecar_and_reads_the_log(kubeconfig):
    dag = build_dag(parse_config(dict(SAMPLE_CONFIG)), "yellowlive", launcher=JobLauncher.KUBERNETES)
    job: Any = dag.get_task("snapshot_merge_job")
    assert job.do_xcom_push is False and [c.__name__ for c in job.callbacks] == ["ResultCodeFromLog"]
    assert job.get_logs is True and str(job.on_finish_action) in ("delete_pod", "OnFinishAction.DELETE_POD")


@pytest.mark.parametrize("code", [1, 0])
def test_the_result_line_reaches_xcom_before_the_pod_is_deleted(kubeconfig, code):
    ti, kube = run_pod(kubeconfig, f"loading the model\n{{'event': 'Job completed'}}\nDATASURFACE_RESULT_CODE={code}\n")
    assert ti.pushed["datasurface_result_code"] == code
    assert "pods/log" in kube.calls and kube.calls.index("pods/log") < kube.calls.index("pods/delete")


def test_a_pod_with_no_result_line_fails_and_says_so(kubeconfig):
    from airflow.sdk.exceptions import AirflowException

    with pytest.raises(AirflowException, match="printed no DATASURFACE_RESULT_CODE=<n> line"):
        run_pod(kubeconfig, "Traceback (most recent call last):\nImportError: no module named datasurface\n")


def test_two_different_result_lines_fail_and_say_so(kubeconfig):
    from airflow.sdk.exceptions import AirflowException

    with pytest.raises(AirflowException, match=r"different codes \(1, -1\)"):
        run_pod(kubeconfig, "DATASURFACE_RESULT_CODE=1\nDATASURFACE_RESULT_CODE=-1\n")


def test_the_jobs_error_fails_the_task_with_the_code_recorded(kubeconfig):
    """-1 with exit 1 (DataSurface's error): the pod failed, the task fails; the code was read."""
    from airflow.sdk.exceptions import AirflowException

    ti = TaskInstance()
    with pytest.raises(AirflowException):
        run_pod(kubeconfig, "DATASURFACE_RESULT_CODE=-1\n", exit_code=1, ti=ti)
    assert ti.pushed["datasurface_result_code"] == -1
