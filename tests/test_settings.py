"""The factory's settings: one model, ``YELLOW_*`` variables, read once, bad values named."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from factory.settings import FactorySettings, env_name, reset_settings, settings

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def clean_env(monkeypatch):
    for name in FactorySettings.model_fields:
        monkeypatch.delenv(env_name(name), raising=False)
    return monkeypatch


def test_defaults(clean_env, tmp_path):
    clean_env.setenv("AIRFLOW_HOME", str(tmp_path))
    current = settings()
    assert current.db_url is None
    assert current.db_connect_timeout == 3
    assert current.db_statement_timeout_ms == 5000
    assert current.snapshot_dir == tmp_path / "yellow_snapshots"
    assert current.read_deadline_s == 3 + 2 * 5.0 + 1.0
    assert current.problems == ()


def test_snapshot_dir_without_airflow_home(clean_env):
    clean_env.delenv("AIRFLOW_HOME", raising=False)
    assert settings().snapshot_dir == Path.home() / "airflow" / "yellow_snapshots"


def test_read_from_the_environment_once_until_reset(clean_env, tmp_path):
    clean_env.setenv("YELLOW_DB_CONNECT_TIMEOUT", "7")
    clean_env.setenv("YELLOW_DB_STATEMENT_TIMEOUT_MS", "250")
    clean_env.setenv("YELLOW_SNAPSHOT_DIR", str(tmp_path / "snaps"))
    clean_env.setenv("YELLOW_DB_URL", "postgresql://u@h/db")
    first = settings()
    assert (first.db_connect_timeout, first.db_statement_timeout_ms) == (7, 250)
    assert first.snapshot_dir == tmp_path / "snaps"
    assert first.db_url == "postgresql://u@h/db"

    clean_env.setenv("YELLOW_DB_CONNECT_TIMEOUT", "9")
    assert settings() is first, "read once per process"
    reset_settings()
    assert settings().db_connect_timeout == 9


@pytest.mark.parametrize(
    ("variable", "value", "field", "default"),
    [
        ("YELLOW_DB_CONNECT_TIMEOUT", "abc", "db_connect_timeout", 3),
        ("YELLOW_DB_CONNECT_TIMEOUT", "0", "db_connect_timeout", 3),
        ("YELLOW_DB_STATEMENT_TIMEOUT_MS", "-5", "db_statement_timeout_ms", 5000),
        ("YELLOW_DB_STATEMENT_TIMEOUT_MS", "1.5s", "db_statement_timeout_ms", 5000),
    ],
)
def test_an_unusable_value_falls_back_to_its_default_and_says_which_variable(
    clean_env, caplog, variable, value, field, default
):
    clean_env.setenv(variable, value)
    clean_env.setenv("YELLOW_DB_URL", "postgresql://u@h/db")  # a good value beside it still counts
    with caplog.at_level(logging.WARNING, logger="yellow.factory"):
        current = settings()
    assert getattr(current, field) == default
    assert current.db_url == "postgresql://u@h/db"
    (problem,) = current.problems
    assert problem.startswith(f"{variable}={value!r} is not usable")
    assert f"using the default {default}" in problem
    assert problem in caplog.text


def test_readme_lists_every_setting():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(YELLOW_[A-Z_]+)`", section))
    assert {env_name(name) for name in FactorySettings.model_fields} <= listed
