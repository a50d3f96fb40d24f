"""The job launcher: KubernetesPodOperator by default (the parity test holds), a local process
with YELLOW_JOB_LAUNCHER=local, the same task_id, the same shape, the same arguments and
environment names, and the result read the same way: the job's DATASURFACE_RESULT_CODE line."""

from __future__ import annotations

import json
import sys

import pytest

from factory import shape
from factory.launchers import job_launcher, local_job_env, run_local_job
from factory.operations.provisioning.bootstrap import bootstrap
from factory.settings import reset_settings, settings
from factory.spec import dag_spec
from tests.airflow_helpers import parse_folder

pytestmark = pytest.mark.airflow


def _launcher_with(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("YELLOW_JOB_LAUNCHER", raising=False)
    else:
        monkeypatch.setenv("YELLOW_JOB_LAUNCHER", value)
    reset_settings()
    return job_launcher()


def test_launcher_choice(monkeypatch):
    assert _launcher_with(monkeypatch, None) == "kubernetes"
    assert _launcher_with(monkeypatch, "") == "kubernetes"
    assert _launcher_with(monkeypatch, "Local") == "local"


def test_an_unknown_launcher_falls_back_to_kubernetes_and_says_so(monkeypatch):
    """A typo must not cost the platform its DAGs (the builder would raise for every row)."""
    assert _launcher_with(monkeypatch, "k8s") == "kubernetes"
    (problem,) = settings().problems
    assert "YELLOW_JOB_LAUNCHER='k8s'" in problem and "kubernetes" in problem


def _shape(dag) -> dict[str, tuple[str, ...]]:
    return {t.task_id: tuple(sorted(t.downstream_task_ids)) for t in dag.tasks}


def test_default_and_local_build_the_same_shape(db_url, example_ecosystem, tmp_path, snapshot_dir, monkeypatch):
    """Parsed by Airflow's DagBag both ways: only the job task's operator differs."""
    bootstrap(example_ecosystem, db_url, tmp_path / "dags")
    monkeypatch.setenv("YELLOW_DB_URL", db_url)
    monkeypatch.delenv("YELLOW_JOB_LAUNCHER", raising=False)
    reset_settings()
    default = parse_folder(tmp_path / "dags")
    monkeypatch.setenv("YELLOW_JOB_LAUNCHER", "local")
    reset_settings()
    local = parse_folder(tmp_path / "dags")
    assert default.import_errors == {} and local.import_errors == {}
    assert set(default.dags) == set(local.dags) and default.dags
    expected = {t.task_id: tuple(sorted(t.downstream)) for t in shape.TASKS}
    for dag_id in default.dags:
        k8s_dag, local_dag = default.dags[dag_id], local.dags[dag_id]
        assert _shape(k8s_dag) == _shape(local_dag) == expected
        assert type(k8s_dag.get_task(shape.JOB_TASK_ID)).__name__ == "KubernetesPodOperator"
        job = local_dag.get_task(shape.JOB_TASK_ID)
        assert type(job).__name__ == "PythonOperator"
        # The real job writes no XCom file: the code is read from its output and pushed by key.
        assert not job.do_xcom_push and not k8s_dag.get_task(shape.JOB_TASK_ID).do_xcom_push
        for task_id in (shape.CHECK_TASK_ID, shape.RESCHEDULE_TASK_ID, shape.WAIT_TASK_ID):
            assert type(k8s_dag.get_task(task_id)) is type(local_dag.get_task(task_id))


def test_local_job_gets_the_pods_arguments_and_env_with_secret_names_only(sample_config):
    from factory.models import StreamConfig

    spec = dag_spec(StreamConfig.model_validate(sample_config), "YellowLive")
    env = local_job_env(spec)
    for key, value in spec.env_vars.items():
        assert env[key] == value
    # The variables the real job reads, each naming its secret and key; no value exists here.
    assert env["postgres_demo_creds_PASSWORD"] == "local:postgres-demo-creds/postgres-demo-creds_PASSWORD"
    assert env["git_demo_creds_TOKEN"] == "local:git-demo-creds/token"


def _spec_args(sample_config):
    from factory.models import StreamConfig

    spec = dag_spec(StreamConfig.model_validate(sample_config), "YellowLive")
    return spec.arguments, local_job_env(spec)


class _TaskInstance:
    """What run_local_job needs of Airflow's task instance: somewhere to push the code."""

    def __init__(self):
        self.pushed = {}

    def xcom_push(self, key, value):
        self.pushed[key] = value


def test_run_local_job_reads_the_result_line_and_pushes_it(sample_config, tmp_path, monkeypatch):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"Store1": [1, 0]}))
    monkeypatch.setenv("YELLOW_JOB_SCRIPT", str(script))
    monkeypatch.setenv("YELLOW_LOCAL_JOB_COMMAND", f"{sys.executable} -m simulators.job")
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql://u:hunter2@h/db")
    arguments, env = _spec_args(sample_config)
    ti = _TaskInstance()
    assert run_local_job(arguments, env, ti=ti) == 1
    assert ti.pushed == {"datasurface_result_code": 1}
    assert run_local_job(arguments, env, ti=ti) == 0
    assert ti.pushed == {"datasurface_result_code": 0}


def test_the_worker_environment_does_not_leak_into_the_job(sample_config, tmp_path, monkeypatch):
    """Only the spec's variables and a few basics reach the job, as in a pod."""
    probe = tmp_path / "probe.py"
    seen_file = tmp_path / "seen.json"
    probe.write_text(
        "import json, os\n"
        f"open({str(seen_file)!r}, 'w').write(json.dumps(sorted(os.environ)))\n"
        "print('DATASURFACE_RESULT_CODE=0')\n"
    )
    monkeypatch.setenv("YELLOW_LOCAL_JOB_COMMAND", f"{sys.executable} {probe}")
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql://u:hunter2@h/db")
    arguments, env = _spec_args(sample_config)
    assert run_local_job(arguments, env) == 0
    seen = json.loads(seen_file.read_text())
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in seen
    assert {"DATASURFACE_PLATFORM_NAME", "DATASURFACE_NAMESPACE", "git_demo_creds_TOKEN"} <= set(seen)


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ({"Store1": {"exit": 3}}, "exited with code 3"),
        ({"Store1": -1}, "exited with code 1: simulated job: the merge failed"),
        ({"Store1": {"exit": 0}}, "printed no DATASURFACE_RESULT_CODE=<n> line"),
    ],
)
def test_a_failed_job_fails_the_task(sample_config, tmp_path, monkeypatch, script, message):
    from airflow.sdk.exceptions import AirflowException

    path = tmp_path / "script.json"
    path.write_text(json.dumps(script))
    monkeypatch.setenv("YELLOW_JOB_SCRIPT", str(path))
    monkeypatch.setenv("YELLOW_LOCAL_JOB_COMMAND", f"{sys.executable} -m simulators.job")
    arguments, env = _spec_args(sample_config)
    with pytest.raises(AirflowException, match=message):
        run_local_job(arguments, env)


def test_two_different_result_lines_fail_the_task(sample_config, monkeypatch):
    from airflow.sdk.exceptions import AirflowException

    code = "print('DATASURFACE_RESULT_CODE=1'); print('DATASURFACE_RESULT_CODE=0')"
    monkeypatch.setenv("YELLOW_LOCAL_JOB_COMMAND", f'{sys.executable} -c "{code}"')
    arguments, env = _spec_args(sample_config)
    with pytest.raises(AirflowException, match=r"different codes \(1, 0\)"):
        run_local_job(arguments, env)


def test_a_job_writing_xcom_is_still_supported(sample_config, tmp_path, monkeypatch):
    """A platform whose job writes return.json (result_from: xcom) gets that file back."""
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"Store1": 1}))
    monkeypatch.setenv("YELLOW_JOB_SCRIPT", str(script))
    monkeypatch.setenv("YELLOW_LOCAL_JOB_COMMAND", f"{sys.executable} -m simulators.job")
    arguments, env = _spec_args(sample_config)
    assert run_local_job(arguments, env, result_from="xcom") == {"result_code": 1}
