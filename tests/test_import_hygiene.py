"""Importing the headless core must not import the dashboard's stack (or Airflow's REST client).

Each check runs in a fresh interpreter: in this test process textual is long imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

FORBIDDEN = ("textual", "rich", "airflow_client")


def imported_after(statement: str) -> list[str]:
    code = (
        "import json, sys\n"
        f"{statement}\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "statement",
    [
        "import factory",
        "import factory.loader",
        "import factory.operations.inspection.views, factory.spec, factory.models, factory.store, factory.operations.provisioning.bootstrap, factory.reports",
    ],
)
def test_factory_imports_no_ui(statement: str) -> None:
    assert imported_after(statement) == []


def _modules_under(package: str) -> list[str]:
    import importlib
    import pkgutil

    module = importlib.import_module(package)
    return sorted(f"{package}.{info.name}" for info in pkgutil.iter_modules(module.__path__))


def test_dashboard_services_are_ui_free() -> None:
    """The service layer is what the command line and the dashboard share: no textual in it.
    Every module of ``yellowtui.services`` is checked, so a new one cannot slip past."""
    modules = _modules_under("yellowtui.services")
    assert {"yellowtui.services.config_service", "yellowtui.services.parse_loop_service"} <= set(modules)
    statement = "import " + ", ".join(modules)
    assert [m for m in imported_after(statement) if m.split(".")[0] == "textual"] == []


def test_pure_dashboard_modules_import_no_ui() -> None:
    """The row model, the state values and the presenters: no textual, no rich (plain data)."""
    modules = ["yellowtui.rows", "yellowtui.state", *_modules_under("yellowtui.presenters")]
    assert {"yellowtui.presenters.dag_preview", "yellowtui.presenters.json_paths"} <= set(modules)
    assert imported_after("import " + ", ".join(modules)) == []


def test_the_factory_import_really_is_checked() -> None:
    """Guard against a vacuous test: importing the dashboard does import textual."""
    assert "textual" in imported_after("import yellowtui.app")


def test_import_contracts_hold() -> None:
    """The import-linter contracts in pyproject.toml: factory stands alone; the parse- and
    task-time factory never imports factory.operations; widgets hold no SQL; layers point one way
    (tools > yellowtui > simulators > factory); pure modules and services import no UI."""
    from pathlib import Path

    lint = Path(sys.executable).with_name("lint-imports")
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([str(lint), "--no-cache"], check=False, capture_output=True, text=True, timeout=300, cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "8 kept, 0 broken" in proc.stdout
    for name in (
        "layers point one way",
        "pure dashboard modules import no UI",
        "services import no UI and no demo",
        "the parse- and task-time factory never imports factory.operations",
    ):
        assert f"{name}" in proc.stdout


def test_importing_factory_is_cheap() -> None:
    """`import factory` runs in every Airflow parse and task start: it must not import Airflow,
    SQLAlchemy or pydantic (generous bound; the point is nothing heavy at import)."""
    code = "import sys; import factory; print(sorted({m.split('.')[0] for m in sys.modules} & {'airflow', 'sqlalchemy', 'pydantic', 'jinja2'}))"
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_factory_works_where_the_dashboard_stack_is_not_installed(tmp_path) -> None:
    """Inside an Airflow image the dashboard's stack is absent: with textual, the REST client and
    our other packages made unimportable, the factory still validates, renders and builds.
    (rich and click are not blocked here: Airflow itself depends on them.)"""
    code = f"""
import importlib.abc, sys
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {("textual", "airflow_client", "yellowtui", "simulators")!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
sys.meta_path.insert(0, Missing())
import os; os.environ['AIRFLOW_HOME'] = {str(tmp_path)!r}
from factory.models import parse_config
from factory.builder import build_dag
from factory.operations.provisioning.render import render_factory_file
import factory.loader, factory.operations.provisioning.bootstrap
config = parse_config({{
    "stream_key": "S1", "single_dataset": True, "datasets": ["d1"], "store_name": "S1",
    "namespace_name": "ns", "platform_name": "P", "original_platform_name": "P",
    "postgres_hostname": "pg", "postgres_database": "db", "postgres_credential_secret_name": "pg-creds",
    "git_credential_secret_name": "git-creds", "datasurface_docker_image": "img:1",
    "git_repo_url": "https://github.com/example/repo"}})
print(build_dag(config, "P").dag_id, "register_platform_dags" in render_factory_file("P"))
"""
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "p__S1_ingestion True"


#: Runs in a fresh interpreter: a full parse of the folder (the DAG processor), then the parse a
#: task start makes (Airflow's parsing context names one dag_id) and the branch callable the
#: check task runs; prints every ``factory`` module then imported.
_PARSE_AND_START_A_TASK = """
import json, os, sys
from airflow.dag_processing.dagbag import DagBag
folder, dag_id = sys.argv[1], sys.argv[2]
full = DagBag(folder, safe_mode=True)
assert not full.import_errors and dag_id in full.dags, (full.import_errors, sorted(full.dags))
os.environ["_AIRFLOW_PARSING_CONTEXT_DAG_ID"] = dag_id
task = DagBag(folder, safe_mode=True)
assert not task.import_errors and sorted(task.dags) == [dag_id], (task.import_errors, sorted(task.dags))
from factory.shape import JOB_TASK_ID, RESCHEDULE_TASK_ID, WAIT_TASK_ID, ResultCode
from factory.tasks import choose_next_task
class TaskInstance:
    def xcom_pull(self, task_ids, key):
        return int(ResultCode.DONE)
assert choose_next_task(TaskInstance(), JOB_TASK_ID, RESCHEDULE_TASK_ID, WAIT_TASK_ID) == WAIT_TASK_ID
print(json.dumps(sorted(m for m in sys.modules if m == "factory" or m.startswith("factory."))))
"""


@pytest.mark.airflow
@pytest.mark.parametrize("launcher", ["kubernetes", "local"])
def test_a_real_parse_and_task_start_load_no_operations_module(
    launcher, db_url, example_ecosystem, tmp_path, snapshot_dir
) -> None:
    """The rendered factory file parsed by Airflow's DagBag, reading PostgreSQL, then a task's
    start: no ``factory.operations`` module is imported (operations run only when an operator
    acts; the import-linter contract holds the same boundary for every import in the code)."""
    import os

    from factory.operations.provisioning.bootstrap import bootstrap

    folder = tmp_path / "dags"
    bootstrap(example_ecosystem, db_url, folder)
    env = {**os.environ, "YELLOW_DB_URL": db_url, "YELLOW_JOB_LAUNCHER": launcher}
    proc = subprocess.run(
        [sys.executable, "-c", _PARSE_AND_START_A_TASK, str(folder), "yellowlive__Store1_ingestion"],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"factory.loader", "factory.builder", "factory.source", "factory.pod_result", "factory.tasks"} <= set(loaded)
    assert [m for m in loaded if m.startswith("factory.operations")] == []
