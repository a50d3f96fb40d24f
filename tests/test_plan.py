"""Plans: actions and counts, JSON and DAG diffs, the editor's verdict, and equivalence with
what the rendered factory file yields in Airflow's DagBag."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine

from factory import store
from factory.operations.changes.changeset import ChangeBase, Delete, SetStatus, Upsert, edit_of, new_changeset
from factory.operations.changes.dag_diff import diff_documents
from factory.operations.changes.plan import Action, RowOp, json_diff, plan_changes, simulate, simulate_edit
from factory.operations.provisioning.bootstrap import bootstrap
from tests.airflow_helpers import parse_folder, serialized

P = "yellowlive"


@pytest.fixture
def seeded(db_url, example_ecosystem, tmp_path):
    bootstrap(example_ecosystem, db_url, tmp_path / "dags")
    return db_url


def _rows(db_url: str) -> dict[str, store.ConfigRow]:
    with create_engine(db_url).connect() as conn:
        return {r.stream_key: r for r in store.read_rows(conn, P)}


def _config(row: store.ConfigRow, **changes) -> dict:
    return {**json.loads(row.config_json), **changes}


def _simulate(db_url: str, changeset=None, **kwargs):
    with create_engine(db_url).connect() as conn:
        return simulate(conn, P, changeset, **kwargs)


def test_plan_without_changes_builds_every_active_row(seeded):
    plan = _simulate(seeded)
    active = [r.stream_key for r in _rows(seeded).values() if r.status == "active"]
    assert [e.stream_key for e in plan.entries] == sorted(active)
    assert plan.counts() == {"create": 0, "change": 0, "remove": 0, "fails": 0, "unchanged": len(active)}
    assert plan.builds and all(e.build_ms and e.build_ms > 0 for e in plan.entries)
    assert plan.summary() == "Plan: 0 to create, 0 to change, 0 to remove, 0 fails to build"


def test_actions_and_counts(seeded, sample_config):
    rows = _rows(seeded)
    with create_engine(seeded).begin() as conn:  # a paused row to delete and a paused row to retire
        for key in ("Store2_returns", "Store2_orders"):
            store.write_row(conn, P, key, rows[key].config_json, "paused", actor="test")
    rows = _rows(seeded)
    new = {**sample_config, "stream_key": "NewStore", "store_name": "NewStore"}
    changeset = new_changeset(
        P,
        [
            Upsert(stream_key="NewStore", config=new, base=ChangeBase.of(None)),
            edit_of(rows["Store1"], "Store1", _config(rows["Store1"], schedule="@daily")),
            SetStatus(stream_key="Payments", status="paused", base=ChangeBase.of(rows["Payments"])),
            Upsert(stream_key="Broken", config={"stream_key": "Broken"}),
            Delete(stream_key="Store2_returns", base=ChangeBase.of(rows["Store2_returns"])),
            SetStatus(stream_key="Store2_orders", status="retired"),
            SetStatus(stream_key="Ghost", status="paused"),
        ],
    )
    plan = _simulate(seeded, changeset)
    by_key = {e.stream_key: e for e in plan.entries}
    assert {k: (str(e.action), str(e.row_op)) for k, e in by_key.items()} == {
        "NewStore": ("create", "insert"),
        "Store1": ("change", "update"),
        "Payments": ("remove", "status"),
        "Broken": ("fails", "insert"),
        "Store2_returns": ("unchanged", "delete"),  # paused: no DAG before or after
        "Store2_orders": ("unchanged", "status"),
        "Store2_order_lines": ("unchanged", "none"),
        "Ghost": ("fails", "none"),
    }
    assert plan.summary() == "Plan: 1 to create, 1 to change, 1 to remove, 2 fails to build"
    assert not plan.builds
    assert "$.datasets: field is missing" in [str(p) for p in by_key["Broken"].problems]
    assert by_key["Ghost"].problems[0].message == "stream 'Ghost' does not exist; nothing to set status"
    assert by_key["NewStore"].spec is not None and by_key["NewStore"].dag_id == "yellowlive__NewStore_ingestion"
    assert by_key["Payments"].old_status == "active" and by_key["Payments"].new_status == "paused"
    assert not any(e.stale for e in plan.entries)


def test_schedule_change_is_a_dag_level_argument(seeded):
    row = _rows(seeded)["Payments"]  # schedule */5 * * * *
    entry = _simulate(seeded, new_changeset(P, [edit_of(row, "Payments", _config(row, schedule="0 4 * * *"))])).changes[
        0
    ]
    assert [(c.path, c.old, c.new) for c in entry.json_diff] == [("$.schedule", "*/5 * * * *", "0 4 * * *")]
    assert entry.dag_diff is not None and entry.dag_diff.tasks == ()
    assert [(a.name, a.old, a.new) for a in entry.dag_diff.dag] == [
        ("timetable.expression", "*/5 * * * *", "0 4 * * *")
    ]


def test_dataset_change_shows_in_the_jobs_arguments_and_env(seeded):
    row = _rows(seeded)["Store2_orders"]  # a single-dataset stream: the dataset is a job argument
    config = _config(row, datasets=["orders_v2"])
    entry = _simulate(seeded, new_changeset(P, [edit_of(row, "Store2_orders", config)])).changes[0]
    assert [(c.path, c.old, c.new) for c in entry.json_diff] == [("$.datasets[0]", "orders", "orders_v2")]
    (job,) = entry.dag_diff.tasks
    assert job.task_id == "snapshot_merge_job" and job.kind == "changed"
    args = {a.name: (a.old, a.new) for a in job.args}
    old_args, new_args = args["arguments"]
    assert old_args[-2:] == ["--dataset-name", "orders"] and new_args[-2:] == ["--dataset-name", "orders_v2"]
    # The description (a DAG-level argument) names the datasets too.
    assert [a.name for a in entry.dag_diff.dag] == ["description"]


def test_credential_secret_names_and_keys_are_diffed(db_url, example_ecosystem, tmp_path):
    from factory.operations.provisioning.ecosystem import PolicySpec

    # The platform's policy must name the new secret: a plan judges a change as the apply does.
    platform = example_ecosystem.platforms[0]
    own = [platform.postgres_credential_secret, platform.git_credential_secret, platform.slack_credential_secret]
    own += [platform.kafka_connect_credential_secret, *(s.source_credential_secret for s in platform.stores)]
    policy = PolicySpec(secret_names=[*(s for s in own if s), "postgres-other-creds"])
    eco = example_ecosystem.model_copy(update={"platforms": [platform.model_copy(update={"policy": policy})]})
    bootstrap(eco, db_url, tmp_path / "dags")
    row = _rows(db_url)["Store1"]
    config = _config(row, postgres_credential_secret_name="postgres-other-creds")
    entry = _simulate(db_url, new_changeset(P, [edit_of(row, "Store1", config)])).changes[0]
    (job,) = entry.dag_diff.tasks
    args = {a.name: (a.old, a.new) for a in job.args}
    # The credential's variable is named after it, and read from the secret's key.
    assert args["env_vars.postgres_other_creds_PASSWORD.secret"][1] == "postgres-other-creds"
    assert args["env_vars.postgres_other_creds_PASSWORD.key"][1] == "postgres-other-creds_PASSWORD"


def test_same_config_written_differently_is_no_change(seeded):
    row = _rows(seeded)["Store1"]
    reordered = json.dumps(dict(reversed(list(json.loads(row.config_json).items()))), indent=4)
    entry = _simulate(seeded, new_changeset(P, [edit_of(row, "Store1", reordered)])).changes
    assert entry == []  # nothing to write, nothing to review
    plan = _simulate(seeded, new_changeset(P, [edit_of(row, "Store1", reordered)]))
    (touched,) = [e for e in plan.entries if e.touched]
    assert touched.action is Action.UNCHANGED and touched.row_op is RowOp.NONE and touched.dag_diff is None


def test_a_stale_base_is_flagged(seeded):
    row = _rows(seeded)["Store1"]
    change = edit_of(row, "Store1", _config(row, schedule="@daily"))
    with create_engine(seeded).begin() as conn:
        store.write_row(conn, P, "Store1", json.dumps(_config(row, schedule="@weekly")), actor="someone")
    (entry,) = _simulate(seeded, new_changeset(P, [change])).changes
    assert entry.stale and "changed since it was read" in entry.stale


def test_progress_is_reported_to_the_end(seeded):
    seen = []
    _simulate(seeded, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] == len(_rows(seeded))


def test_plan_changes_is_pure_and_rejects_another_platform(sample_config):
    from factory.errors import FactoryError

    plan = plan_changes(P, {}, new_changeset(P, [Upsert(stream_key="Store1", config=sample_config)]))
    assert [(e.stream_key, e.action, e.row_op) for e in plan.entries] == [("Store1", Action.CREATE, RowOp.INSERT)]
    with pytest.raises(FactoryError, match="yellowforensic"):
        plan_changes(P, {}, new_changeset("yellowforensic"))


def test_json_diff_field_by_field():
    old = {"a": 1, "b": [1, 2], "c": {"d": "x"}, "gone": True}
    new = {"a": 2, "b": [1, 2, 3], "c": {"d": "y"}, "new": None}
    assert [(c.path, c.kind) for c in json_diff(old, new)] == [
        ("$.a", "changed"),
        ("$.b[2]", "added"),
        ("$.c.d", "changed"),
        ("$.gone", "removed"),
        ("$.new", "added"),
    ]
    assert json_diff(1, 1.0) == [json_diff(1, 1.0)[0]] and json_diff(1, 1) == []  # types count


def test_diff_documents_notices_added_and_removed_tasks():
    old = {"dag_id": "d", "tasks": [{"__var": {"task_id": "a", "x": 1}, "__type": "operator"}]}
    new = {"dag_id": "d", "tasks": [{"__var": {"task_id": "b", "x": 1}, "__type": "operator"}]}
    diff = diff_documents(old, new)
    assert [(t.task_id, t.kind) for t in diff.tasks] == [("a", "removed"), ("b", "added")]
    assert diff_documents(old, old).empty


# ---- the editor's verdict ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("{not json", "$", "not valid JSON"),
        ("[1, 2]", "$", "must be a JSON object, not a list"),
        ('{"stream_key": "Store1", "datasets": "x"}', "$.datasets", "Input should be a valid list"),
        ('{"stream_key": 5}', "$.stream_key", "Input should be a valid string"),
        ("", "$", "not valid JSON"),
    ],
)
def test_simulate_edit_never_raises_and_locates_problems(seeded, text, path, message):
    stored = _rows(seeded)["Store1"]
    verdict = simulate_edit(P, stored, text)
    assert not verdict.builds and verdict.action is Action.FAILS and verdict.spec is None
    assert any(p.path == path and message in p.message for p in verdict.problems), verdict.problems


def test_simulate_edit_of_a_valid_edit(seeded):
    stored = _rows(seeded)["Store1"]
    verdict = simulate_edit(P, stored, json.dumps(_config(stored, schedule="@daily")))
    assert verdict.builds and verdict.action is Action.CHANGE and verdict.problems == []
    assert verdict.spec.schedule == "@daily" and verdict.build_ms > 0
    assert [c.path for c in verdict.json_diff] == ["$.schedule"]
    assert [a.name for a in verdict.dag_diff.dag] == ["timetable.expression"]
    # Ready to stage, based on the row as it was loaded.
    assert verdict.change.base.to_row_base() == store.RowBase.of(stored)
    assert verdict.to_dict()["dag"]["dag_id"] == "yellowlive__Store1_ingestion"
    renamed = simulate_edit(P, stored, json.dumps(_config(stored, stream_key="Other")))
    assert not renamed.builds
    assert [str(p) for p in renamed.problems] == ["$.stream_key: is 'Other' but the row's key is 'Store1'"]


def test_simulate_edit_of_a_new_stream_and_of_nonsense(seeded, sample_config):
    verdict = simulate_edit(P, None, json.dumps({**sample_config, "stream_key": "Fresh", "store_name": "Fresh"}))
    assert verdict.builds and verdict.action is Action.CREATE and verdict.stream_key == "Fresh"
    assert verdict.change.base == ChangeBase(exists=False)
    nameless = simulate_edit(P, None, json.dumps({"datasets": 3}))
    assert nameless.stream_key is None and not nameless.builds
    assert {p.path for p in nameless.problems} >= {"$.stream_key", "$.datasets"}
    assert not simulate_edit("no such platform!", None, "{}").builds


def test_simulate_edit_of_a_paused_row_still_shows_its_dag(seeded):
    rows = _rows(seeded)
    with create_engine(seeded).begin() as conn:
        store.write_row(conn, P, "Store1", rows["Store1"].config_json, "paused", actor="test")
    stored = _rows(seeded)["Store1"]
    verdict = simulate_edit(P, stored, json.dumps(_config(stored, schedule="@daily")))
    assert verdict.builds and verdict.spec is not None and verdict.action is Action.UNCHANGED


# ---- equivalence with Airflow ---------------------------------------------------------------


@pytest.mark.airflow
def test_simulated_dags_are_the_dags_the_factory_file_yields(
    seeded, tmp_path, snapshot_dir, monkeypatch, sample_config
):
    """For the same rows, `simulate` builds exactly what DagBag gets from the rendered factory
    file; and simulating a changeset predicts what DagBag gets after it is applied."""
    from factory.operations.changes.apply import apply_changeset

    monkeypatch.setenv("YELLOW_DB_URL", seeded)
    plan = _simulate(seeded, keep_dags=True)
    bag = parse_folder(tmp_path / "dags")
    assert bag.import_errors == {}
    ours = {d for d in bag.dags if d.startswith(f"{P}__")}
    assert set(plan.dags) == ours and len(ours) == 5
    for dag_id in sorted(ours):
        assert serialized(plan.dags[dag_id]) == serialized(bag.dags[dag_id]), dag_id

    rows = _rows(seeded)
    new = {**sample_config, "stream_key": "NewStore", "store_name": "NewStore", "schedule": "15 3 * * *"}
    changeset = new_changeset(
        P,
        [
            Upsert(stream_key="NewStore", config=new, base=ChangeBase.of(None)),
            edit_of(rows["Store1"], "Store1", _config(rows["Store1"], datasets=["customers"], single_dataset=True)),
            SetStatus(stream_key="Payments", status="paused", base=ChangeBase.of(rows["Payments"])),
        ],
    )
    predicted = _simulate(seeded, changeset, keep_dags=True)
    apply_changeset(seeded, changeset, actor="test")
    after = parse_folder(tmp_path / "dags")
    assert after.import_errors == {}
    assert set(predicted.dags) == {d for d in after.dags if d.startswith(f"{P}__")}
    assert "yellowlive__Payments_ingestion" not in predicted.dags
    for dag_id in sorted(predicted.dags):
        assert serialized(predicted.dags[dag_id]) == serialized(after.dags[dag_id]), dag_id
    # The comparison is real: the changed DAG differs from the one before the change.
    assert serialized(predicted.dags["yellowlive__Store1_ingestion"]) != serialized(
        bag.dags["yellowlive__Store1_ingestion"]
    )


def test_simulate_builds_with_the_platforms_job_settings_and_judges_by_its_policy(
    db_url, example_ecosystem, tmp_path, snapshot_dir, monkeypatch
):
    """A platform whose job is the July 2025 generation with plain secret keys: the plan's DAGs
    are the ones DagBag gets from its factory file, and a change outside its policy fails in the
    plan as it would in the apply."""
    from factory.job_contract import JobArguments, JobSettings, SecretKeys

    job = JobSettings(secret_keys=SecretKeys.PLAIN, arguments=JobArguments.JULY_2025)
    platform = example_ecosystem.platforms[0]
    eco = example_ecosystem.model_copy(update={"platforms": [platform.model_copy(update={"job": job})]})
    monkeypatch.setenv("YELLOW_DB_URL", db_url)
    bootstrap(eco, db_url, tmp_path / "dags")
    plan = _simulate(db_url, keep_dags=True)
    bag = parse_folder(tmp_path / "dags")
    assert bag.import_errors == {}
    ours = {d for d in bag.dags if d.startswith(f"{P}__")}
    assert set(plan.dags) == ours and ours
    for dag_id in sorted(ours):
        assert serialized(plan.dags[dag_id]) == serialized(bag.dags[dag_id]), dag_id
    rows = _rows(db_url)
    outside = edit_of(rows["Store1"], "Store1", _config(rows["Store1"], namespace_name="somewhere-else"))
    entry = next(e for e in _simulate(db_url, new_changeset(P, [outside])).entries if e.stream_key == "Store1")
    assert entry.action is Action.FAILS
    assert any(p.path == "$.namespace_name" for p in entry.problems), entry.problems


def test_the_headless_core_imports_no_ui_and_no_airflow_until_it_builds():
    """The dashboard and the CLI call these modules; the benchmark imports them too. None may pull
    in the dashboard's stack, and Airflow only loads on the first build; nor does the
    parse-time path (``import factory.loader``) load them."""
    import subprocess
    import sys

    code = (
        "import sys, factory.loader\n"
        "assert not {'factory.operations.changes.plan', 'factory.operations.changes.apply', 'factory.operations.changes.changeset', 'factory.operations.changes.dag_diff'} & set(sys.modules)\n"
        "import factory.operations.changes.plan, factory.operations.changes.apply, factory.operations.changes.changeset, factory.operations.changes.dag_diff\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich', 'airflow_client', 'airflow', 'click'}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
