"""`yellowtui simulate`, `apply` and `config set|pause|resume|retire|delete` against a real
PostgreSQL: exit codes, --json shapes, readable errors, and nothing written when it should not be."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine

from factory import store
from factory.operations.changes.changeset import ChangeBase, SetStatus, Upsert, edit_of, new_changeset
from factory.operations.provisioning.bootstrap import bootstrap
from yellowtui.cli import main

P = "yellowlive"


def run(*args, code: int | None = 0):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    if code is not None:
        assert result.exit_code == code, result.output
    return result


@pytest.fixture
def seeded(db_url, example_ecosystem):
    bootstrap(example_ecosystem, db_url, None)
    return db_url


def _rows(db_url: str) -> dict[str, store.ConfigRow]:
    with create_engine(db_url).connect() as conn:
        return {r.stream_key: r for r in store.read_rows(conn, P)}


def _history(db_url: str, key: str) -> list[dict]:
    with create_engine(db_url).connect() as conn:
        return store.read_history(conn, P, key)


def _write(db_url: str, key: str, **changes) -> None:
    """Someone else changes a row."""
    row = _rows(db_url)[key]
    with create_engine(db_url).begin() as conn:
        store.write_row(
            conn, P, key, json.dumps({**json.loads(row.config_json), **changes}), row.status, actor="someone-else"
        )


# ---- simulate ---------------------------------------------------------------------------------


def test_simulate_exit_0_when_everything_builds(seeded):
    out = run("simulate", "--platform", P, "--db", seeded).output
    assert "yellowlive: 5 stream(s) simulated" in out
    assert "Plan: 0 to create, 0 to change, 0 to remove, 0 fails to build" in out
    data = json.loads(run("simulate", "-p", P, "--db", seeded, "--json").output)
    assert data["builds"] is True and data["counts"]["unchanged"] == 5 and data["entries"] == []
    assert len(json.loads(run("simulate", "-p", P, "--db", seeded, "--json", "--all").output)["entries"]) == 5


def test_simulate_with_a_changeset_prints_the_plan_and_exits_1_when_something_fails(seeded, tmp_path, sample_config):
    rows = _rows(seeded)
    changeset = new_changeset(
        P,
        [
            Upsert(stream_key="NewStore", config={**sample_config, "stream_key": "NewStore"}, base=ChangeBase.of(None)),
            edit_of(rows["Store1"], "Store1", {**json.loads(rows["Store1"].config_json), "schedule": "@daily"}),
            SetStatus(stream_key="Payments", status="paused", base=ChangeBase.of(rows["Payments"])),
            Upsert(stream_key="Broken", config={"stream_key": "Broken", "schedule": "[bold]x[/]"}),
        ],
    )
    path = tmp_path / "changes.json"
    changeset.save(path)
    out = run("simulate", "-p", P, "--db", seeded, "--with", path, code=1).output
    assert "  + NewStore  create  (insert, active)" in out
    assert "  ~ Store1  change  (update)" in out
    assert '        ~ $.schedule: "@hourly" -> "@daily"' in out
    assert "DAG yellowlive__Store1_ingestion" in out
    assert '        ~ timetable.expression: "0 * * * *" -> "0 0 * * *"' in out
    assert "  - Payments  remove  (status active -> paused)" in out
    assert "  ! Broken  fails to build  (insert, active)" in out
    assert "[bold]x[/]" in out  # text from data is printed literally, never read as markup
    assert "Plan: 1 to create, 1 to change, 1 to remove, 1 fails to build" in out
    data = json.loads(run("simulate", "-p", P, "--db", seeded, "--with", path, "--json", code=1).output)
    assert data["counts"] == {"create": 1, "change": 1, "remove": 1, "fails": 1, "unchanged": 3}
    entry = {e["stream_key"]: e for e in data["entries"]}["Store1"]
    assert entry["action"] == "change" and entry["json_diff"][0]["path"] == "$.schedule"
    assert entry["dag_diff"]["dag"][0]["name"] == "timetable.expression"
    assert _rows(seeded) == rows  # simulate writes nothing


def test_simulate_usage_and_connection_errors_exit_2(seeded, tmp_path):
    assert "has no table" in run("simulate", "-p", "nowhere", "--db", seeded, code=2).output
    assert "is not allowed" in run("simulate", "-p", "bad name", "--db", seeded, code=2).output
    assert "no config database" in run("simulate", "-p", P, code=2).output
    down = "postgresql://nobody:secret-pw@127.0.0.1:1/none"
    out = run("simulate", "-p", P, "--db", down, code=2).output
    assert "127.0.0.1" in out and "secret-pw" not in out
    assert run("simulate", code=2).exit_code == 2  # --platform is required


def test_simulate_with_a_bad_file_names_the_file_and_exits_1(seeded, tmp_path):
    bad = tmp_path / "oops.json"
    bad.write_text('{"platform": "yellowlive", "changes": [{"op": "pause", "stream_key": "Store1"}]}')
    out = run("simulate", "-p", P, "--db", seeded, "--with", bad, code=1).output
    assert str(bad) in out and "$.changes[0].op: is 'pause'" in out


# ---- apply ------------------------------------------------------------------------------------


def test_apply_an_edited_export(seeded, tmp_path):
    path = tmp_path / "rows.json"
    run("config", "export", "-p", P, "--db", seeded, "-o", path)
    export = json.loads(path.read_text())
    for row in export["rows"]:
        if row["stream_key"] == "Store1":
            row["config_json"] = json.dumps({**json.loads(row["config_json"]), "schedule": "@daily"})
    export["rows"] = [r for r in export["rows"] if r["stream_key"] != "Payments"]  # absent: left alone
    path.write_text(json.dumps(export))
    before = _rows(seeded)
    dry = run("apply", path, "--db", seeded, "--dry-run").output
    assert "  ~ Store1  change  (update)" in dry and "Dry run: would write 1 updated; nothing was written." in dry
    assert _rows(seeded) == before
    out = run("apply", path, "--db", seeded, "--actor", "alice").output
    assert "Applied as alice: 1 updated." in out
    after = _rows(seeded)
    assert json.loads(after["Store1"].config_json)["schedule"] == "@daily"
    assert {k: v for k, v in after.items() if k != "Store1"} == {k: v for k, v in before.items() if k != "Store1"}
    assert _history(seeded, "Store1")[0]["changed_by"] == "alice"


def test_apply_an_export_after_someone_else_changed_a_row_is_a_conflict(seeded, tmp_path):
    path = tmp_path / "rows.json"
    run("config", "export", "-p", P, "--db", seeded, "-o", path)
    _write(seeded, "Payments", schedule="@weekly")
    _write(seeded, "Store2_orders", schedule="@monthly")
    theirs = _rows(seeded)
    result = run("apply", path, "--db", seeded, code=3)
    assert "Payments, Store2_orders" in result.output and "nothing was written" in result.output
    assert "theirs: status active" in result.output
    assert _rows(seeded) == theirs
    data = json.loads(run("apply", path, "--db", seeded, "--json", code=3).output)
    assert data["ok"] is False and data["error"] == "conflict"
    assert [c["stream_key"] for c in data["conflicts"]] == ["Payments", "Store2_orders"]
    assert data["conflicts"][0]["theirs"]["updated_at"] == theirs["Payments"].updated_at.isoformat()
    assert _rows(seeded) == theirs
    # --force writes the export over their changes.
    forced = json.loads(run("apply", path, "--db", seeded, "--force", "--json").output)
    assert forced["ok"] is True and forced["forced"] == ["Payments", "Store2_orders"]
    assert json.loads(_rows(seeded)["Payments"].config_json)["schedule"] == "*/5 * * * *"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json at all", "not valid JSON"),
        ('{"platform": "yellowlive", "changes": [{"op": "delete"}]}', "$.changes[0].stream_key: field is missing"),
        ('{"platform": "elsewhere", "changes": []}', "platform 'elsewhere' has no config table"),
        (
            '{"platform": "yellowlive", "changes": [{"op": "set_status", "stream_key": "Ghost", "status": "paused"}]}',
            "Ghost: $: stream 'Ghost' does not exist",
        ),
        (
            '{"platform": "yellowlive", "changes": [{"op": "upsert", "stream_key": "Store1", "config": {"stream_key": "Store1"}}]}',
            "Store1: $.datasets: field is missing",
        ),
    ],
)
def test_apply_bad_input_exits_1_names_the_problem_and_writes_nothing(seeded, tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_text(content)
    before = _rows(seeded)
    out = run("apply", path, "--db", seeded, code=1).output
    assert expected in out, out
    assert _rows(seeded) == before


def test_apply_a_missing_file_or_the_wrong_platform(seeded, tmp_path):
    assert str(tmp_path / "nope.json") in run("apply", tmp_path / "nope.json", "--db", seeded, code=1).output
    path = tmp_path / "cs.json"
    new_changeset(P).save(path)
    assert "not 'yellowforensic'" in run("apply", path, "-p", "yellowforensic", "--db", seeded, code=1).output


# ---- single-stream commands ---------------------------------------------------------------------


def test_config_set_fields(seeded):
    out = run("config", "set", "Store1", "-p", P, "--db", seeded, "--field", "schedule=@daily", "--dry-run").output
    assert "  ~ Store1  change  (update)" in out and "nothing was written" in out
    assert json.loads(_rows(seeded)["Store1"].config_json)["schedule"] == "@hourly"
    data = json.loads(
        run(
            "config",
            "set",
            "Store1",
            "-p",
            P,
            "--db",
            seeded,
            "--field",
            "$.schedule=@daily",
            "--field",
            "datasets[2]=extra",
            "--field",
            'job_resources.cpu_limit="2"',
            "--actor",
            "carol",
            "--json",
        ).output
    )
    assert data["written"] == {"Store1": "update"}
    config = json.loads(_rows(seeded)["Store1"].config_json)
    assert config["schedule"] == "@daily" and config["datasets"][-1] == "extra"
    assert config["job_resources"] == {"cpu_limit": "2"}
    assert _history(seeded, "Store1")[0]["changed_by"] == "carol"


def test_config_set_invalid_value_is_rejected_with_its_path(seeded):
    before = _rows(seeded)
    out = run("config", "set", "Store1", "-p", P, "--db", seeded, "--field", "postgres_port=99999", code=1).output
    assert "Store1: $.postgres_port" in out and "nothing written" in out
    assert "--field" in run("config", "set", "Store1", "-p", P, "--db", seeded, code=2).output
    assert "PATH=VALUE" in run("config", "set", "Store1", "-p", P, "--db", seeded, "--field", "schedule", code=2).output
    assert (
        "no list index 9"
        in run("config", "set", "Store1", "-p", P, "--db", seeded, "--field", "datasets[9]=x", code=1).output
    )
    assert _rows(seeded) == before


def test_config_set_from_a_file_creates_a_stream(seeded, tmp_path, sample_config):
    path = tmp_path / "fresh.json"
    path.write_text(json.dumps({**sample_config, "stream_key": "Fresh", "store_name": "Fresh"}))
    out = run("config", "set", "Fresh", "-p", P, "--db", seeded, "--file", path).output
    assert "  + Fresh  create  (insert, active)" in out
    assert _rows(seeded)["Fresh"].status == "active"
    # Once it exists, setting it from a stale read is a conflict: the command reads, then checks.
    (tmp_path / "list.json").write_text("[1]")
    assert (
        "JSON object"
        in run("config", "set", "Fresh", "-p", P, "--db", seeded, "--file", tmp_path / "list.json", code=1).output
    )


def test_pause_resume_retire_delete(seeded):
    run("config", "pause", "Payments", "-p", P, "--db", seeded, "--actor", "dave")
    assert _rows(seeded)["Payments"].status == "paused"
    out = run("config", "resume", "Payments", "-p", P, "--db", seeded, "--dry-run").output
    assert "  + Payments  create  (status paused -> active)" in out
    assert _rows(seeded)["Payments"].status == "paused"
    run("config", "retire", "Payments", "-p", P, "--db", seeded)
    assert _rows(seeded)["Payments"].status == "retired"
    data = json.loads(run("config", "delete", "Payments", "-p", P, "--db", seeded, "--json").output)
    assert data["written"] == {"Payments": "delete"}
    assert "Payments" not in _rows(seeded)
    assert [(h["action"], h["changed_by"]) for h in _history(seeded, "Payments")][-2:] == [
        ("status", "dave"),
        ("insert", _history(seeded, "Payments")[-1]["changed_by"]),
    ]
    assert [h["action"] for h in _history(seeded, "Payments")][:3] == ["delete", "status", "status"]
    out = run("config", "pause", "Payments", "-p", P, "--db", seeded, code=1).output
    assert "no stream 'Payments' on platform yellowlive" in out


def test_changeset_schema_command():
    schema = json.loads(run("changeset", "schema").output)
    assert schema["title"] == "Yellow changeset" and "changes" in schema["properties"]


def test_json_errors_are_json_too(seeded, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"platform": "yellowlive", "changes": [{"op": "delete"}]}')
    result = CliRunner().invoke(main, ["apply", str(bad), "--db", seeded, "--json"], catch_exceptions=False)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["error"] == "invalid-file" and data["file"] == str(bad)
    assert data["problems"] == [{"path": "$.changes[0].stream_key", "message": "field is missing"}]
    rejected = tmp_path / "rejected.json"
    rejected.write_text(
        '{"platform": "yellowlive", "changes": [{"op": "set_status", "stream_key": "Ghost", "status": "paused"}]}'
    )
    result = CliRunner().invoke(main, ["apply", str(rejected), "--db", seeded, "--json"], catch_exceptions=False)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"]["Ghost"][0]["path"] == "$"
