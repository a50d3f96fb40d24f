"""The Kubernetes permissions the ingestion DAGs' pods need, and no more.

What the KubernetesPodOperator calls, read in the cncf-kubernetes provider 10.25
(``operators/pod.py`` and ``utils/pod_manager.py``): ``create_namespaced_pod`` (start the job),
``read_namespaced_pod`` and ``list_namespaced_pod`` (follow it, find it again after a restart),
``read_namespaced_pod_log`` (``get_logs=True``, and the result line, :mod:`factory.pod_result`),
``list_namespaced_event`` (why a pod failed to start), ``patch_namespaced_pod`` (mark a pod
already checked) and ``delete_namespaced_pod`` (``on_finish_action="delete_pod"``). The XCom
sidecar is read through ``connect_get_namespaced_pod_exec``, that is ``pods/exec``: needed only
by a platform whose job writes XCom (``result_from: xcom``), never by DataSurface's real job.
"""

from __future__ import annotations

from typing import Any

from factory.job_contract import ResultFrom
from factory.names import is_k8s_label, is_k8s_subdomain


def pod_rules(result_from: ResultFrom = ResultFrom.STDOUT) -> list[dict[str, Any]]:
    """The Role's rules, each with the verbs the provider's calls need."""
    rules: list[dict[str, Any]] = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "get", "list", "watch", "patch", "delete"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["list"]},
    ]
    if result_from is ResultFrom.XCOM:
        rules.append({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]})
    return rules


def pod_role_manifest(
    namespace: str, service_account: str, result_from: ResultFrom = ResultFrom.STDOUT, name: str = "yellow-ingestion"
) -> str:
    """A Role and RoleBinding (YAML) giving Airflow's service account what the job's pods need."""
    import yaml

    for value, what in ((namespace, "namespace"), (service_account, "service account"), (name, "role name")):
        if not (is_k8s_label(value) if what == "namespace" else is_k8s_subdomain(value)):
            raise ValueError(f"{value!r} is not a valid Kubernetes {what}")
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace},
        "rules": pod_rules(result_from),
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}],
    }
    return yaml.safe_dump_all([role, binding], sort_keys=False)
