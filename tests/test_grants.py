"""Least privilege and an audit trail you can trust (issue 10, item 7), on a real PostgreSQL.

Three LOGIN roles with passwords are created in the test server, `yellowtui grants` SQL is run,
and each role connects as itself: the factory parses and writes reports but cannot change rows or
read history; an operator changes rows but cannot write, change, delete or truncate history, and
its `yellow.actor` claim is ignored; the owner can do everything; TRUNCATE is recorded.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from factory.db import get_engine, normalize_url
from factory.operations.changes.apply import apply_changeset
from factory.operations.changes.changeset import ChangeBase, SetStatus, new_changeset
from factory.operations.provisioning.grants import Roles, grants_sql
from simulators.ecosystem import generate_ecosystem, seed_database
from yellowtui.cli import main

PASSWORD = "grants-test-pw-7Qx"  # scanned for in every CLI output below


def _as(db_url: str, role: str) -> str:
    return make_url(normalize_url(db_url)).set(username=role, password=PASSWORD).render_as_string(hide_password=False)


@pytest.fixture
def locked_down(db_url: str) -> dict[str, Any]:
    seed_database(db_url, generate_ecosystem(1, 3, 3))
    suffix = f"{os.getpid()}_{abs(hash(db_url)) % 100000}"
    roles = Roles(f"f_{suffix}", f"o_{suffix}", f"w_{suffix}")
    admin = create_engine(normalize_url(db_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for role in (roles.factory, roles.operator, roles.owner):
            conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'"))
        conn.execute(text(f"GRANT CREATE, USAGE ON SCHEMA public TO {roles.owner}"))
        sql = CliRunner().invoke(
            main,
            [
                "grants",
                "-p",
                "yellowlive",
                "--factory-role",
                roles.factory,
                "--operator-role",
                roles.operator,
                "--owner-role",
                roles.owner,
            ],
        )
        assert sql.exit_code == 0, sql.output
        assert sql.output == grants_sql("yellowlive", roles)
        conn.exec_driver_sql(sql.output)
    admin.dispose()
    return {"url": db_url, "roles": roles}


def _engine(url: str, role: str) -> Any:
    return create_engine(normalize_url(_as(url, role)))


def _denied(engine: Any, sql: str) -> None:
    with pytest.raises(ProgrammingError, match=r"permission denied|must be owner"), engine.begin() as conn:
        conn.execute(text(sql))


DSG = "yellowlive_airflow_dsg"


def test_factory_reads_rows_and_writes_reports_only(locked_down: dict[str, Any], snapshot_dir: Any) -> None:
    from factory.loader import load_platform

    url, roles = locked_down["url"], locked_down["roles"]
    result = load_platform("yellowlive", url=_as(url, roles.factory), conn_id=None, snapshot_dir=snapshot_dir)
    assert result.source == "database" and len(result.dags) == 3
    with get_engine(url).connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {DSG}_parse")).scalar_one() >= 1
        assert conn.execute(text(f"SELECT count(*) FROM {DSG}_build")).scalar_one() == 3
    factory = _engine(url, roles.factory)
    _denied(factory, f"UPDATE {DSG} SET status = 'paused'")
    _denied(factory, f"INSERT INTO {DSG} (stream_key, config_json, status) VALUES ('x', '{{}}', 'active')")
    _denied(factory, f"DELETE FROM {DSG}")
    _denied(factory, f"SELECT * FROM {DSG}_history")
    _denied(factory, f"UPDATE {DSG}_policy SET policy_json = '{{}}'")
    factory.dispose()


def test_operator_changes_rows_but_cannot_touch_history(locked_down: dict[str, Any]) -> None:
    url, roles = locked_down["url"], locked_down["roles"]
    operator_url = _as(url, roles.operator)
    with get_engine(url).connect() as conn:
        key, updated_at = conn.execute(text(f"SELECT stream_key, updated_at FROM {DSG} ORDER BY 1 LIMIT 1")).one()
    change = SetStatus(stream_key=key, status="paused", base=ChangeBase(exists=True, updated_at=updated_at))
    result = apply_changeset(operator_url, new_changeset("yellowlive", [change]), actor="the-ceo")
    assert result.written == {key: "status"}
    with get_engine(url).connect() as conn:
        actor = conn.execute(
            text(f"SELECT changed_by FROM {DSG}_history WHERE stream_key = :k ORDER BY id DESC LIMIT 1"), {"k": key}
        ).scalar_one()
    assert actor == roles.operator  # the claimed actor is ignored: the history names the login user
    operator = _engine(url, roles.operator)
    with operator.begin() as conn:  # reading history is fine
        assert conn.execute(text(f"SELECT count(*) FROM {DSG}_history")).scalar_one() > 0
    _denied(operator, f"UPDATE {DSG}_history SET changed_by = 'nobody'")
    _denied(operator, f"DELETE FROM {DSG}_history")
    _denied(operator, f"TRUNCATE {DSG}_history")
    _denied(
        operator,
        f"INSERT INTO {DSG}_history (stream_key, action, changed_by, changed_at) VALUES ('x', 'insert', 'x', now())",
    )
    _denied(operator, f"TRUNCATE {DSG}")
    _denied(operator, f"ALTER TABLE {DSG} DISABLE TRIGGER ALL")
    _denied(operator, f"DROP TRIGGER {DSG}_history ON {DSG}")
    _denied(operator, f"UPDATE {DSG}_policy SET policy_json = '{{}}'")
    _denied(operator, f"CREATE OR REPLACE FUNCTION {DSG}_actor() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$")
    operator.dispose()


def test_owner_can_do_everything_and_truncate_is_recorded(locked_down: dict[str, Any]) -> None:
    url, roles = locked_down["url"], locked_down["roles"]
    owner = _engine(url, roles.owner)
    with owner.begin() as conn:
        rows = conn.execute(text(f"SELECT count(*) FROM {DSG}")).scalar_one()
        conn.execute(text("SELECT set_config('yellow.actor', 'release-bot', true)"))  # the owner is trusted
        conn.execute(text(f"TRUNCATE {DSG}"))
    with owner.begin() as conn:
        truncated = conn.execute(
            text(f"SELECT stream_key, changed_by, old_config_json FROM {DSG}_history WHERE action = 'truncate'")
        ).all()
        assert len(truncated) == rows and {r.changed_by for r in truncated} == {"release-bot"}
        assert all(r.old_config_json for r in truncated)  # what each row held is kept
        conn.execute(text(f"DELETE FROM {DSG}_history WHERE action = 'truncate'"))  # only the owner may
    owner.dispose()


def test_grants_refuses_unsafe_role_names() -> None:
    for bad in ('x"; DROP TABLE t; --', "Robert", "1abc", "a" * 64, "a b", "x\x1b[2J"):
        result = CliRunner().invoke(main, ["grants", "-p", "yellowlive", "--owner-role", bad])
        assert result.exit_code == 2 and "error:" in result.output and "Traceback" not in result.output
    same = CliRunner().invoke(main, ["grants", "-p", "yellowlive", "--owner-role", "yellowlive_operator"])
    assert same.exit_code == 2


def test_kubernetes_grants_need_pods_log_and_no_pods_exec() -> None:
    """The real job's result is read through pods/log: the Role has no pods/exec unless a
    platform's job writes XCom through the sidecar."""
    import yaml
    from click.testing import CliRunner

    from yellowtui.cli import main

    result = CliRunner().invoke(main, ["grants", "--platform", "YellowLive", "--kubernetes", "yellow-live"])
    assert result.exit_code == 0, result.output
    role, binding = yaml.safe_load_all(result.output)
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert "pods/log" in resources and "pods/exec" not in resources
    assert binding["subjects"][0]["name"] == "airflow-worker" and role["metadata"]["namespace"] == "yellow-live"
    sidecar = CliRunner().invoke(
        main, ["grants", "--platform", "YellowLive", "--kubernetes", "yellow-live", "--xcom-sidecar"]
    )
    assert "pods/exec" in sidecar.output
    bad = CliRunner().invoke(main, ["grants", "--platform", "YellowLive", "--kubernetes", "Not A Namespace"])
    assert bad.exit_code == 2 and "not a valid Kubernetes namespace" in bad.output
