"""Reading the job's result code from its pod's own output, without the XCom sidecar.

DataSurface's job prints ``DATASURFACE_RESULT_CODE=<n>`` and writes no XCom file, and its
clusters grant no ``pods/exec``, which the sidecar needs. DataSurface's own branch reads
Airflow's task log file from local disk instead, which breaks with remote logging and log
retention. Here the callback asks the Kubernetes API for the finished container's log
(``pods/log``, the permission ``get_logs=True`` already needs) and pushes the code to XCom for
``check_result``.

The hook is the provider's ``KubernetesPodOperatorCallback.on_pod_completion`` (cncf-kubernetes
10.25, ``callbacks.py``): ``execute_sync`` calls it after the container ends and before the pod
is deleted, with the kube client (``CoreV1Api``), the operator and the task context. The log read
is ``CoreV1Api.read_namespaced_pod_log(name, namespace, container=..., follow=False)``, which
returns the log as text. Imported by the builder on first build (it imports the provider).
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.providers.cncf.kubernetes.callbacks import KubernetesPodOperatorCallback

from factory.job_contract import RESULT_XCOM_KEY, JobResultError, result_code

log = logging.getLogger("yellow.factory.pod_result")


def read_result_from_pod(pod: Any, client: Any, container: str) -> int:
    """The result code in ``container``'s whole log (one request, ``pods/log``)."""
    text = client.read_namespaced_pod_log(
        name=pod.metadata.name, namespace=pod.metadata.namespace, container=container, follow=False, timestamps=False
    )
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return result_code(str(text or ""))


class ResultCodeFromLog(KubernetesPodOperatorCallback):
    """Push the job's ``DATASURFACE_RESULT_CODE`` to XCom as the pod completes.

    No line, or two different ones, fails ``snapshot_merge_job`` with a message that says so.
    """

    @staticmethod
    def on_pod_completion(*, pod: Any, client: Any, operator: Any, context: Any, **kwargs: Any) -> None:
        if pod is None:  # the pod vanished; the operator reports that itself
            return
        try:
            code = read_result_from_pod(pod, client, operator.base_container_name)
        except JobResultError as exc:
            from airflow.sdk.exceptions import AirflowException

            raise AirflowException(f"{operator.task_id}: {exc}") from None
        log.info("the job's result code: %s", code)
        context["ti"].xcom_push(key=RESULT_XCOM_KEY, value=code)
