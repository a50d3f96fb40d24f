"""The plan as lines: one copy for the command line and the dashboard, text kept literal."""

from __future__ import annotations

import json
from datetime import datetime

from factory.enums import RowStatus
from factory.errors import RowConflict
from factory.operations.changes.changeset import ChangeBase, SetStatus, Upsert, new_changeset
from factory.operations.changes.dag_diff import ArgChange, DagDiff, TaskDiff
from factory.operations.changes.plan import plan_changes
from factory.store import ConfigRow
from yellowtui.presenters.plan_view import (
    Role,
    conflict_lines,
    counts_line,
    dag_diff_lines,
    entry_lines,
    plain,
    pretty_config,
    value_text,
)

P = "yellowlive"
T0 = datetime(2025, 6, 1, 8, 0)


def rows(sample_config: dict) -> dict[str, ConfigRow | None]:
    other = {**sample_config, "stream_key": "Store2", "store_name": "Store2"}
    return {
        "Store1": ConfigRow(P, "Store1", json.dumps(sample_config), RowStatus.ACTIVE, T0, T0),
        "Store2": ConfigRow(P, "Store2", json.dumps(other), RowStatus.ACTIVE, T0, T0),
    }


def test_a_plan_reads_like_yellowtui_simulate(sample_config: dict) -> None:
    have = rows(sample_config)
    daily = {**sample_config, "schedule": "@daily"}
    broken = {**sample_config, "stream_key": "Broken", "store_name": "Broken"}
    del broken["datasets"]
    changeset = new_changeset(
        P,
        [
            Upsert(stream_key="Store1", config=daily, base=ChangeBase.of(have["Store1"])),
            SetStatus(stream_key="Store2", status=RowStatus.PAUSED, base=ChangeBase.of(have["Store2"])),
            Upsert(stream_key="Broken", config=broken, base=ChangeBase(exists=False)),
        ],
    )
    plan = plan_changes(P, have, changeset)
    text = plain(line for entry in plan.changes for line in entry_lines(entry))
    assert "  ! Broken  fails to build  (insert, active)\n      $.datasets: field is missing" in text
    assert "  - Store2  remove  (status active -> paused)" in text
    assert '  ~ Store1  change  (update)\n      config:\n        ~ $.schedule: "@hourly" -> "@daily"' in text
    assert "      DAG yellowlive__Store1_ingestion  (task.argument: old -> new)" in text
    assert "timetable" in text
    counts = counts_line(plan.counts())
    assert plain([counts]) == "+0 create  ~1 change  -1 remove  !1 fails"
    assert [s.role for s in counts if s.text.strip()] == [Role.MUTED, Role.CHANGE, Role.REMOVE, Role.FAILS]


def test_added_and_removed_arguments_show_one_value() -> None:
    diff = DagDiff(
        dag=(ArgChange("tags", ["a"], ["a", "b"]),),
        tasks=(
            TaskDiff("snapshot_merge_job", "changed", (ArgChange("env_vars.X", "1", "2"),)),
            TaskDiff("new_task", "added"),
        ),
    )
    from factory.operations.changes.dag_diff import MISSING

    diff2 = DagDiff(tasks=(TaskDiff("job", "changed", (ArgChange("a", MISSING, 5), ArgChange("b", 6, MISSING))),))
    assert plain(dag_diff_lines(diff, indent="")) == (
        '~ tags: ["a"] -> ["a", "b"]\n~ snapshot_merge_job.env_vars.X: "1" -> "2"\n+ task new_task added'
    )
    assert plain(dag_diff_lines(diff2, indent="")) == "+ job.a: 5\n- job.b: 6"


def test_conflict_lines_show_theirs_and_yours(sample_config: dict) -> None:
    theirs = {**sample_config, "schedule": "0 4 * * *"}
    conflict = RowConflict(
        "Store1",
        "changed since it was read (updated_at 2025-06-01 09:00:00)",
        {"status": "active", "updated_at": "2025-06-01T09:00:00", "config_json": json.dumps(theirs)},
        {"op": "upsert", "config": {**sample_config, "schedule": "@daily"}, "base": {"exists": True}},
    )
    text = plain(conflict_lines(conflict))
    assert "  ! Store1  changed since it was read" in text
    assert "theirs: status active, updated_at 2025-06-01T09:00:00" in text
    assert '$.schedule: theirs "0 4 * * *", yours "@daily"' in text


def test_values_are_cut_and_configs_pretty_printed() -> None:
    assert value_text("x" * 200).endswith("…") and len(value_text("x" * 200)) == 100
    assert pretty_config('{"b": 1, "a": [1]}') == '{\n  "b": 1,\n  "a": [\n    1\n  ]\n}'
    assert pretty_config("not json {") == "not json {"
