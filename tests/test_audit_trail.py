"""An audit trail that keeps the real user (issue 17, item 4), on a real PostgreSQL with the
roles `yellowtui grants` prints.

Every history entry records the session's database user (``db_user``); a trusted writer's
claimed actor (``yellow.actor``) is recorded beside it as ``changed_by``, never in its place.
`config show --json`, `config history` and the dashboard's History tab show both; bootstrap
upgrades a history table an earlier version made, and its old entries stay readable.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from factory.db import get_engine, normalize_url
from factory.operations.provisioning.grants import Roles
from factory.store import trusted_writer_role
from simulators.ecosystem import ecosystem_yaml, generate_ecosystem, seed_database
from yellowtui.cli import main

P = "yellowlive"
DSG = f"{P}_airflow_dsg"
PASSWORD = "audit-test-pw-4Kd"


def run(*args: Any) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


def _as(db_url: str, role: str) -> str:
    return make_url(normalize_url(db_url)).set(username=role, password=PASSWORD).render_as_string(hide_password=False)


@pytest.fixture
def roles(db_url: str) -> dict[str, Any]:
    """The grants SQL run on a seeded platform, and a service login that is an operator and a
    trusted writer (a front end that authenticates its users itself)."""
    seed_database(db_url, generate_ecosystem(1, 3, 3))
    suffix = f"{os.getpid()}_{abs(hash(db_url)) % 100000}"
    names = Roles(f"f_{suffix}", f"o_{suffix}", f"w_{suffix}")
    service = f"svc_{suffix}"
    admin = create_engine(normalize_url(db_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for role in (names.factory, names.operator, names.owner, service):
            conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'"))
        sql = run(
            "grants", "-p", P, "--factory-role", names.factory, "--operator-role", names.operator,
            "--owner-role", names.owner,
        )  # fmt: skip
        assert sql.exit_code == 0, sql.output
        conn.exec_driver_sql(sql.output)
        conn.execute(text(f"GRANT {names.operator} TO {service}"))
        conn.execute(text(f"GRANT {trusted_writer_role(P)} TO {service}"))
    admin.dispose()
    return {"url": db_url, "roles": names, "service": service}


def _key(url: str) -> str:
    with get_engine(url).connect() as conn:
        return conn.execute(text(f"SELECT stream_key FROM {DSG} ORDER BY 1 LIMIT 1")).scalar_one()


def _newest(url: str, key: str) -> dict[str, Any]:
    shown = run("config", "show", key, "-p", P, "--db", url, "--json")
    assert shown.exit_code == 0, shown.output
    return json.loads(shown.stdout)["history"][0]


def test_a_trusted_claim_is_kept_beside_the_database_user(roles: dict[str, Any]) -> None:
    url, service = roles["url"], roles["service"]
    key = _key(url)
    paused = run("config", "pause", key, "-p", P, "--db", _as(url, service), "--actor", "alice", "--json")
    assert paused.exit_code == 0, paused.output
    entry = _newest(url, key)
    assert (entry["changed_by"], entry["db_user"]) == ("alice", service)


def test_an_untrusted_claim_is_ignored_and_the_database_user_kept(roles: dict[str, Any]) -> None:
    url, operator = roles["url"], roles["roles"].operator
    key = _key(url)
    paused = run("config", "pause", key, "-p", P, "--db", _as(url, operator), "--actor", "the-ceo", "--json")
    assert paused.exit_code == 0, paused.output
    entry = _newest(url, key)
    assert (entry["changed_by"], entry["db_user"]) == (operator, operator)


def test_set_role_does_not_change_the_database_user(roles: dict[str, Any]) -> None:
    """A service login that switches to the operator role is still recorded as itself."""
    url, service, operator = roles["url"], roles["service"], roles["roles"].operator
    key = _key(url)
    engine = create_engine(normalize_url(_as(url, service)))
    with engine.begin() as conn:
        conn.execute(text(f"SET LOCAL ROLE {operator}"))
        conn.execute(text(f"UPDATE {DSG} SET status = 'paused' WHERE stream_key = :k"), {"k": key})
    engine.dispose()
    entry = _newest(url, key)
    assert entry["db_user"] == service


def test_history_shows_both_in_config_history(roles: dict[str, Any]) -> None:
    url, service = roles["url"], roles["service"]
    key = _key(url)
    assert run("config", "pause", key, "-p", P, "--db", _as(url, service), "--actor", "alice").exit_code == 0
    as_json = run("config", "history", key, "-p", P, "--db", url, "--json")
    assert as_json.exit_code == 0, as_json.output
    newest = json.loads(as_json.stdout)[0]
    assert (newest["changed_by"], newest["db_user"], newest["action"]) == ("alice", service, "status")
    shown = run("config", "history", key, "-p", P, "--db", url)
    assert shown.exit_code == 0, shown.output
    first = shown.output.splitlines()[1]
    assert "alice" in first and service in first


def test_bootstrap_upgrades_an_old_history_table(db_url: str, tmp_path: Any) -> None:
    """A history table an earlier version made (no db_user): readable as it is, upgraded by
    bootstrap, its old entries kept (db_user null) and every new one recording the user."""
    eco = tmp_path / "eco.yaml"
    eco.write_text(ecosystem_yaml(generate_ecosystem(1, 3, 3)), encoding="utf-8")
    assert run("bootstrap", eco, "--db", db_url).exit_code == 0
    with get_engine(db_url).begin() as conn:  # what an earlier version left behind
        conn.execute(text(f"ALTER TABLE {DSG}_history DROP COLUMN db_user"))
    key = _key(db_url)
    old = _newest(db_url, key)
    assert old["db_user"] is None and old["action"] == "insert"
    assert run("bootstrap", eco, "--db", db_url).exit_code == 0
    assert run("config", "pause", key, "-p", P, "--db", db_url, "--actor", "bob").exit_code == 0
    shown = run("config", "show", key, "-p", P, "--db", db_url, "--json")
    history = json.loads(shown.stdout)["history"]
    assert (history[0]["changed_by"], history[0]["db_user"]) == ("bob", "postgres")
    assert history[-1]["action"] == "insert" and history[-1]["db_user"] is None


async def test_the_history_tab_shows_the_database_user(roles: dict[str, Any]) -> None:
    from yellowtui.app import make_app
    from yellowtui.screens.stream_detail import StreamDetailScreen

    url, service = roles["url"], roles["service"]
    key = _key(url)
    assert run("config", "pause", key, "-p", P, "--db", _as(url, service), "--actor", "alice").exit_code == 0
    app = make_app(url)
    async with app.run_test(size=(140, 40)) as pilot:
        app.push_screen(StreamDetailScreen(P, key))
        for _ in range(300):
            if isinstance(app.screen, StreamDetailScreen) and app.screen.loaded is not None:
                break
            await pilot.pause(0.05)
        await pilot.press("h")
        await pilot.pause()
        table = app.screen.query_one("#history-table")
        labels = [str(c.label) for c in table.columns.values()]
        assert "DB user" in labels
        newest = [str(cell) for cell in table.get_row_at(0)]
        assert newest[labels.index("By")] == "alice" and newest[labels.index("DB user")] == service
