"""The warm parent (simulators.parse_server): a parse forked from it is the parse a fresh process
makes, its environment is the request's alone, a run past its time is killed, and the server
and its children are gone once the client lets go."""

from __future__ import annotations

import os
import textwrap
import threading
import time
from pathlib import Path

import pytest

from simulators import parse_loop
from simulators.ecosystem import generate_ecosystem, seed_database
from simulators.parse_loop import ParseRun, parse_once, use_warm_parent
from simulators.parse_server import WarmParent, airflow_home_of

pytestmark = [pytest.mark.airflow]

#: A DAG whose id says what its process saw: a variable, an Airflow option read at parse time,
#: the AIRFLOW_HOME Airflow read at import, and how many ``factory`` modules were already there.
PROBE = """
import os, sys
from airflow.configuration import AIRFLOW_HOME, conf
from airflow.sdk import DAG
seen = [
    os.environ.get("YELLOW_PROBE", "unset"),
    conf.get("yellow_probe", "option", fallback="unset"),
    os.path.basename(AIRFLOW_HOME),
    str(sum(1 for m in sys.modules if m == "factory" or m.startswith("factory."))),
]
if os.environ.get("YELLOW_PROBE"):
    import factory.names  # left behind in this child only
dag = DAG(dag_id="probe__" + "__".join(seen), schedule=None)
"""

#: A DAG file that writes its process id, then sleeps through the import timeout Airflow sets
#: (SIGALRM blocked): only the parent's kill ends it.
STUCK = """
# An Airflow DAG file as far as DagBag's safe mode can tell (it names airflow and dag).
import os, signal, sys, time
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
open(os.environ["YELLOW_PID_FILE"], "w").write(str(os.getpid()))
time.sleep(120)
"""


def _dag_file(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def fresh():
    """No warm parent for this test's ``parse_once`` calls without one of their own."""
    previous = use_warm_parent(None)
    yield
    use_warm_parent(previous)


@pytest.fixture(scope="module")
def warm():
    with WarmParent() as parent:
        yield parent


def _same(fresh_run: ParseRun, forked_run: ParseRun) -> None:
    assert not fresh_run.forked and forked_run.forked
    assert forked_run.dag_ids == fresh_run.dag_ids
    assert forked_run.import_errors.keys() == fresh_run.import_errors.keys()
    for where, error in fresh_run.import_errors.items():
        assert forked_run.import_errors[where].splitlines()[-1] == error.splitlines()[-1]
    assert forked_run.returncode == fresh_run.returncode == 0
    timings = {"started_at", "load_ms", "validate_ms", "build_ms", "total_ms"}
    assert [{k: v for k, v in r.items() if k not in timings} for r in forked_run.load_results] == [
        {k: v for k, v in r.items() if k not in timings} for r in fresh_run.load_results
    ]


def test_a_forked_parse_is_the_parse_a_fresh_process_makes(db_url, tmp_path, fresh, warm):
    """A factory file read from PostgreSQL, and a folder with a good and a broken DAG file."""
    eco = generate_ecosystem(1, 12, seed=4)
    seed_database(db_url, eco, bad=1, seed=2, dags_folder=tmp_path / "dags")
    (factory_file,) = (tmp_path / "dags").glob("*_factory_dag.py")
    mixed = tmp_path / "mixed"
    _dag_file(mixed, "good.py", "from airflow.sdk import DAG\ndag = DAG(dag_id='good', schedule=None)\n")
    _dag_file(mixed, "broken.py", "from airflow.sdk import DAG\nraise ValueError('broken on purpose')\n")
    for path in (factory_file, mixed):
        # Each with its own snapshot folder: both parses find none and read every row.
        runs = [
            parse_once(path, env={"YELLOW_DB_URL": db_url, "YELLOW_SNAPSHOT_DIR": str(tmp_path / f"snap{i}")}, parent=p)
            for i, p in enumerate((None, warm))
        ]
        _same(*runs)
    assert runs[0].dag_ids == ["good"] and "broken on purpose" in str(runs[0].import_errors)
    assert runs[1].airflow_import_ms < runs[0].airflow_import_ms, "the fork found Airflow imported"


def test_a_factory_parse_reports_the_same_load_result(db_url, tmp_path, fresh, warm):
    eco = generate_ecosystem(1, 8, seed=6)
    seed_database(db_url, eco, bad=1, seed=3, dags_folder=tmp_path / "dags")
    (factory_file,) = (tmp_path / "dags").glob("*_factory_dag.py")
    forked = parse_once(
        factory_file, env={"YELLOW_DB_URL": db_url, "YELLOW_SNAPSHOT_DIR": str(tmp_path / "s")}, parent=warm
    )
    assert forked.forked and forked.dags == 8
    assert forked.load_result["source"] == "database" and forked.load_result["errors"] == 1


def test_each_request_has_its_own_environment_and_modules(tmp_path, warm):
    probe = _dag_file(tmp_path / "dags", "probe.py", PROBE)
    home = os.path.basename(warm.airflow_home)

    first = parse_once(probe, env={"YELLOW_PROBE": "one", "AIRFLOW__YELLOW_PROBE__OPTION": "two"}, parent=warm)
    second = parse_once(probe, parent=warm)

    assert first.forked and second.forked
    assert first.dag_ids == [f"probe__one__two__{home}__0"], "the request's variables, read by Airflow at parse time"
    assert second.dag_ids == [f"probe__unset__unset__{home}__0"], "nothing of the first request is left"


def test_another_airflow_home_parses_in_a_fresh_process(tmp_path, warm):
    """Airflow reads AIRFLOW_HOME once, at import: a parse with another one cannot fork from here."""
    probe = _dag_file(tmp_path / "dags", "probe.py", PROBE)
    other = tmp_path / "other_home"

    run = parse_once(probe, env={"AIRFLOW_HOME": str(other)}, parent=warm)

    assert not run.forked
    assert run.dag_ids == ["probe__unset__unset__other_home__0"]
    assert warm.serves({"AIRFLOW_HOME": warm.airflow_home + "/"})
    assert not warm.serves({"AIRFLOW_HOME": str(other)})


def test_which_airflow_home_a_parent_serves():
    assert airflow_home_of({}) == os.path.expanduser("~/airflow")
    assert airflow_home_of({"AIRFLOW_HOME": "/srv/af/"}) == "/srv/af"
    parent = WarmParent({"AIRFLOW_HOME": "/srv/af"})
    assert parent.serves({"AIRFLOW_HOME": "/srv/af"}) and not parent.serves({})
    assert parent.pid is None, "nothing starts before the first parse"


def test_the_import_timeout_of_the_request_holds_in_the_fork(tmp_path, warm):
    """``dagbag_import_timeout`` is read per file (``DefaultPolicy.get_dagbag_import_timeout``)."""
    slow = _dag_file(tmp_path / "dags", "slow.py", "# airflow dag\nimport time\ntime.sleep(30)\n")
    started = time.monotonic()
    run = parse_once(slow, timeout=1.0, parent=warm)
    assert run.forked and run.timed_out and run.returncode == 0
    assert "DagBag import timeout" in next(iter(run.import_errors.values()))
    assert time.monotonic() - started < 15


def test_a_run_past_its_time_is_killed_and_reported(tmp_path, warm, monkeypatch):
    stuck = _dag_file(tmp_path / "dags", "stuck.py", STUCK)
    pid_file = tmp_path / "pid"
    monkeypatch.setattr(parse_loop, "STARTUP_GRACE_S", 1.0)

    run = parse_once(stuck, env={"YELLOW_PID_FILE": str(pid_file)}, timeout=1.0, parent=warm)

    assert run.forked and run.timed_out and run.returncode is None
    assert run.wall_ms < 10_000
    assert _gone(int(pid_file.read_text())), "the child was killed and reaped"
    assert parse_once(_dag_file(tmp_path / "dags2", "ok.py", "x = 1\n"), parent=warm).ok, "the server goes on"


def test_the_server_and_its_child_are_gone_after_the_context(tmp_path):
    stuck = _dag_file(tmp_path / "dags", "stuck.py", STUCK)
    pid_file = tmp_path / "pid"
    errors: list[BaseException] = []

    def parse() -> None:
        try:
            parent.parse(
                str(stuck), serialize=False, env={**os.environ, "YELLOW_PID_FILE": str(pid_file)}, kill_after=600
            )
        except BaseException as exc:
            errors.append(exc)

    with WarmParent() as parent:
        assert parse_once(_dag_file(tmp_path / "ok", "ok.py", "x = 1\n"), parent=parent).forked
        server = parent.pid
        assert server is not None
        worker = threading.Thread(target=parse)
        worker.start()
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        child = int(pid_file.read_text())
    worker.join(30)

    assert parent.pid is None
    assert _gone(server), "the server was stopped and reaped"
    deadline = time.monotonic() + 10
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child), "the parse the server was running was killed with it"
    assert errors and "parse server" in str(errors[0])
