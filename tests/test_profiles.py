"""Profiles: precedence, secrets refused, `profiles check` against live and dead databases."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from yellowtui.cli import main
from yellowtui.profile_apply import environment_for
from yellowtui.profiles import Profile, ProfileError, load_profiles


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def config(tmp_path, monkeypatch):
    """Write a profile file and point YELLOW_CONFIG at it."""
    path = tmp_path / "config.toml"

    def write(text: str) -> Path:
        path.write_text(text, encoding="utf-8")
        return path

    monkeypatch.setenv("YELLOW_CONFIG", str(path))
    return write


@pytest.fixture
def three_databases(pg):
    """Three empty, live databases: which one a command used shows in its answer."""
    return {name: pg.create_database(f"prec_{name}") for name in ("profile", "env", "flag")}


def test_flag_beats_environment_beats_profile(config, three_databases, monkeypatch) -> None:
    dbs = three_databases
    config(f'[profiles.default]\ndb_url = "{dbs["profile"]}"\n')
    monkeypatch.delenv("YELLOW_DB_URL", raising=False)

    def used(*args: str, env: dict[str, str] | None = None) -> str:
        # An empty database: the command says which one it found no platform tables in.
        out = run("config", "list", *args, env=env).output
        assert "no platform tables" in out
        return out

    assert "prec_profile" in used()
    assert "prec_env" in used(env={"YELLOW_DB_URL": dbs["env"]})
    assert "prec_flag" in used("--db", dbs["flag"], env={"YELLOW_DB_URL": dbs["env"]})


def test_profile_is_chosen_by_flag_or_environment(config, three_databases) -> None:
    dbs = three_databases
    config(f'[profiles.default]\ndb_url = "{dbs["profile"]}"\n\n[profiles.staging]\ndb_url = "{dbs["env"]}"\n')
    assert "prec_env" in run("--profile", "staging", "config", "list").output
    assert "prec_env" in run("config", "list", env={"YELLOW_PROFILE": "staging"}).output
    result = run("--profile", "prod", "config", "list")
    assert result.exit_code == 2 and "no profile 'prod'" in result.output and "default, staging" in result.output


def test_environment_beats_profile_for_airflow_and_its_secrets(tmp_path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file\n")
    profile = Profile(name="p", airflow_url="http://airflow:8080", airflow_token_file=str(token_file), read_only=True)
    assert environment_for(profile, {}) == {
        "AIRFLOW_API_URL": "http://airflow:8080",
        "AIRFLOW_API_TOKEN": "from-the-file",
        "YELLOW_READ_ONLY": "1",
    }
    mine = {"AIRFLOW_API_URL": "http://other:8080", "AIRFLOW_API_TOKEN": "mine", "YELLOW_READ_ONLY": "0"}
    assert environment_for(profile, mine) == {}


def test_the_profile_reaches_subcommand_defaults(config, db_url) -> None:
    """--platform, --actor and --theme have no variable: the profile is their default."""
    config(f'[profiles.default]\ndb_url = "{db_url}"\nplatform = "nosuchplatform"\n')
    result = run("errors")
    assert result.exit_code != 0 and "platform 'nosuchplatform' has no table" in result.output
    assert "platform 'other' has no table" in run("errors", "--platform", "other").output


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('airflow_password = "hunter2-Secret"', "airflow_password holds a secret"),
        ('token = "hunter2-Secret"', "token holds a secret"),
        ('db_url = "postgresql://ops:hunter2-Secret@db.example/prod"', "db_url"),
        ('airflow_url = "https://hunter2-Secret@airflow.example"', "airflow_url"),
        ('actor = "ghp_hunter2Secret0123456789abcdefABCDEF01"', "actor looks like a credential"),
    ],
)
def test_an_inline_secret_is_refused_naming_the_line(config, line: str, why: str) -> None:
    path = config(f'# production\n[profiles.prod]\nread_only = true\n{line}\ncolour = "red"\n')
    result = run("profiles", "list")
    assert result.exit_code == 2
    assert f"{path}, line 4: {why}" in result.output
    assert "hunter2" not in result.output
    with pytest.raises(ProfileError, match="line 4"):
        load_profiles(path)


def test_secret_places_are_accepted(config, tmp_path) -> None:
    config(
        "[profiles.prod]\n"
        'db_url_env = "PROD_DB_URL"\n'
        'airflow_url = "https://airflow.example"\n'
        'airflow_token_file = "~/.config/yellowtui/prod.token"\n'
        'airflow_password_env = "PROD_AIRFLOW_PASSWORD"\n'
        'colour = "red"\ntimezone = "Europe/Dublin"\nread_only = true\n'
    )
    out = run("profiles", "show", "prod").output
    assert 'db_url_env = "PROD_DB_URL"' in out and "read_only = true" in out


def test_a_bad_value_is_named_without_quoting_it(config) -> None:
    config('[profiles.dev]\ntimezone = "Mars/Olympus"\nfavourite = 1\n')
    result = run("profiles", "list")
    assert result.exit_code == 2
    assert "timezone" in result.output and "favourite" in result.output
    assert "Mars/Olympus" not in result.output


def test_check_against_a_live_database(config, db_url) -> None:
    from yellowtui.services.config_service import ConfigService

    ConfigService(db_url).ensure_platform("yellowlive")
    config(f'[profiles.dev]\ndb_url = "{db_url}"\n')
    result = run("profiles", "check", "dev")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("database  ok") and "yellowlive" in lines[0]
    assert lines[1].startswith("airflow   -") and len(lines) == 2


def test_check_against_a_dead_database_and_airflow(config, monkeypatch) -> None:
    with socket.socket() as a, socket.socket() as b:
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        dead_db, dead_airflow = a.getsockname()[1], b.getsockname()[1]
    monkeypatch.setenv("YELLOW_DB_CONNECT_TIMEOUT", "1")
    config(
        f'[profiles.gone]\ndb_url = "postgresql://nobody@127.0.0.1:{dead_db}/nowhere"\n'
        f'airflow_url = "http://127.0.0.1:{dead_airflow}"\n'
    )
    result = run("--profile", "gone", "profiles", "check")
    assert result.exit_code == 1
    db_line, airflow_line = result.output.splitlines()
    assert db_line.startswith("database  FAIL") and str(dead_db) in db_line
    assert airflow_line.startswith("airflow   FAIL") and str(dead_airflow) in airflow_line


def test_list_marks_the_profile_in_use(config) -> None:
    config('[profiles.default]\ncolour = "green"\n\n[profiles.prod]\nread_only = true\n')
    lines = run("--profile", "prod", "profiles", "list").output.splitlines()
    assert lines[0].startswith("  default") and lines[1].startswith("* prod") and "read-only" in lines[1]
