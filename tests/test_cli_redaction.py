"""One redaction step for every message (issue 17, item 2): no password or token in any URL given
to ``--db`` reaches stdout or stderr of any command that takes ``--db``, whether the URL parses
or not (a port that is not a number or out of range, a broken IPv6 literal, ``@`` and ``/`` in
the password, secrets in the query).

The commands are found by walking the real command tree, so a new ``--db`` command is covered
(or the test says which arguments it needs). Every URL points at a port nobody listens on.
"""

from __future__ import annotations

import socket
import traceback
from pathlib import Path
from urllib.parse import quote

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factory.redact import forget_secrets
from yellowtui.cli import main

P = "yellowlive"
HERE = Path(__file__).resolve().parent
ECOSYSTEM = HERE.parent / "yellowtui" / "examples" / "ecosystem.yaml"


def db_commands(group: click.Group = main, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], click.Command]:
    """Every command under ``group`` that takes ``--db``, by its path."""
    found: dict[tuple[str, ...], click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.update(db_commands(command, (*path, name)))
        elif any(p.name == "db_url" for p in command.params):
            found[(*path, name)] = command
    return found


#: A loopback port already listening: `serve` checks --db, then fails to bind, and never serves.
_BUSY = socket.socket()
_BUSY.bind(("127.0.0.1", 0))
_BUSY.listen(1)


def arguments(tmp: Path) -> dict[tuple[str, ...], list[str]]:
    """What each ``--db`` command needs besides ``--db`` to get as far as the database."""
    changes = tmp / "changes.json"
    changes.write_text('{"platform": "yellowlive", "changes": []}', encoding="utf-8")
    dags = tmp / "dags"
    dags.mkdir(exist_ok=True)
    return {
        ("bootstrap",): [str(ECOSYSTEM)],
        ("config", "list"): [],
        ("config", "show"): ["Store1", "-p", P],
        ("config", "history"): ["Store1", "-p", P],
        ("config", "export"): ["-p", P],
        ("config", "import"): [str(changes), "-p", P],
        ("config", "validate"): [],
        ("config", "set"): ["Store1", "-p", P, "--field", "schedule=@daily"],
        ("config", "pause"): ["Store1", "-p", P],
        ("config", "resume"): ["Store1", "-p", P],
        ("config", "retire"): ["Store1", "-p", P],
        ("config", "delete"): ["Store1", "-p", P],
        ("simulate",): ["-p", P],
        ("apply",): [str(changes)],
        ("errors",): [],
        ("parses",): ["-p", P],
        ("migrate", "extract"): [str(dags), "-p", P],
        ("migrate", "compare"): [str(dags), "-p", P],
        ("migrate", "cutover"): ["-p", P, "--dags-folder", str(dags)],
        ("migrate", "rollback"): ["-p", P, "--dags-folder", str(dags)],
        ("migrate", "normalize"): ["-p", P],
        ("health",): ["-p", P, "--no-airflow"],
        ("platform", "drop"): [P, "--yes", "-o", str(tmp / "drop.json")],
        ("runs",): ["-p", P, "--airflow", "http://127.0.0.1:1"],
        ("live",): ["-p", P],
        ("wait",): ["-p", P, "--airflow", "http://127.0.0.1:1", "--timeout", "0"],
        ("serve",): ["--port", str(_BUSY.getsockname()[1])],
        (): [],  # the dashboard itself is never opened here: see the test below
    }


SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#: A password always long and distinctive enough to be searched for, holding the awkward characters.
passwords = st.builds(
    lambda head, tail: f"Pw{head}{tail}",
    st.text(SAFE, min_size=6, max_size=12),
    st.text(SAFE + "@/:?#%!$&*+=-_.~", min_size=0, max_size=12),
)
ports = st.one_of(
    st.just(""),
    st.just(":1"),
    st.integers(65536, 10**7).map(lambda n: f":{n}"),
    st.text("abcxyz-+. ", min_size=1, max_size=6).map(lambda t: f":{t}"),
)
hosts = st.sampled_from(["127.0.0.1", "[::1]", "[::1", "[zz::1]", "[::1]]", "localhost"])
query_names = st.sampled_from(["password", "sslpassword", "token", "access_token", "client_secret", "api_key"])


@st.composite
def urls(draw: st.DrawFn) -> tuple[str, list[str]]:
    """(a URL, the secrets it holds)."""
    password = draw(passwords)
    host, port = draw(hosts), draw(ports)
    encode = draw(st.booleans())
    userinfo = f"user:{quote(password, safe='') if encode else password}@"
    query = ""
    secrets = [password]
    if draw(st.booleans()):
        secret = f"Tk{draw(st.text(SAFE, min_size=8, max_size=16))}"
        query = f"?{draw(query_names)}={secret}&connect_timeout=1"
        secrets.append(secret)
        if draw(st.booleans()):
            userinfo = "user@"  # the query's secret alone
            secrets.remove(password)
    scheme = draw(st.sampled_from(["postgresql://", "postgres://", "postgresql+psycopg2://"]))
    return f"{scheme}{userinfo}{host}{port}/db{query}", secrets


def _leaks(text: str, secrets: list[str]) -> list[str]:
    forms = {f for s in secrets for f in (s, quote(s, safe=""), quote(s)) if len(f) >= 6}
    return sorted(f for f in forms if f in text)


def test_every_db_command_is_covered(tmp_path: Path) -> None:
    missing = set(db_commands()) - set(arguments(tmp_path))
    assert not missing, f"give these --db commands their arguments in tests/test_cli_redaction.py: {missing}"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("redaction")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url=urls(), command=st.sampled_from(sorted(c for c in db_commands() if c)))
def test_no_password_or_token_reaches_any_output(workdir: Path, url: tuple[str, list[str]], command: tuple) -> None:
    text, secrets = url
    forget_secrets()  # each run on its own: nothing remembered from an earlier URL helps it
    args = [*command, *arguments(workdir)[command], "--db", text]
    result = CliRunner().invoke(main, args, env={"YELLOW_DB_CONNECT_TIMEOUT": "1", "AIRFLOW_API_URL": None})
    shown = result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        shown += "".join(traceback.format_exception(result.exception))
        raise AssertionError(f"{args}: a traceback instead of one line: {shown[-2000:]}")
    assert not _leaks(shown, secrets), (args, shown)
    assert result.exit_code != 0, (args, shown)


def test_the_known_leaks_are_gone() -> None:
    """The cases issue 17 names, through `config list`, `migrate normalize` and `health`."""
    for text in (
        "postgresql://user:Pw-s3cret-1@localhost:abc/db",
        "postgresql://user:Pw-s3cret-1@[::1/db",
        "postgresql://user:Pw-s3/cr@et-1@[zz::1]:5432/db",
        "postgresql://user@localhost:99999/db?sslpassword=Tk-s3cret-2",
    ):
        for command in (["config", "list"], ["migrate", "normalize", "-p", P], ["health", "-p", P, "--no-airflow"]):
            forget_secrets()
            result = CliRunner().invoke(main, [*command, "--db", text], env={"YELLOW_DB_CONNECT_TIMEOUT": "1"})
            shown = result.stdout + result.stderr
            assert "s3cret" not in shown and "s3/cr@et" not in shown, (command, shown)
            assert result.exit_code in (2, 3) and "Traceback" not in shown, (command, shown)
