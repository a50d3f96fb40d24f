"""The one JSON diff: the plan's field-by-field diff, the DAG diff's flat arguments and the
change history's top-level fields are the same function with different reach."""

from __future__ import annotations

from factory.json_diff import MISSING, json_diff
from yellowtui.presenters.json_paths import changed_fields


def test_depth_one_compares_members_whole_and_an_empty_root_names_them_bare() -> None:
    old = {"a": {"x": 1}, "b": [1, 2], "gone": None}
    new = {"a": {"x": 2}, "b": [1, 2], "new": 0}
    assert [(c.path, c.kind) for c in json_diff(old, new, "", depth=1)] == [
        ("a", "changed"),
        ("gone", "removed"),
        ("new", "added"),
    ]
    assert [c.path for c in json_diff(old, new)] == ["$.a.x", "$.gone", "$.new"]


def test_plain_equality_is_asked_for_not_assumed() -> None:
    assert json_diff({"n": 1}, {"n": 1.0}) != []
    assert json_diff({"n": 1}, {"n": 1.0}, exact_types=False) == []
    assert json_diff([True], [1], depth=0, exact_types=False) == []


def test_a_missing_side_is_none_in_the_change_and_missing_on_request() -> None:
    (added,) = json_diff({}, {"k": None})
    (removed,) = json_diff({"k": None}, {})
    assert (added.old, added.new, added.old_or_missing, added.new_or_missing) == (None, None, MISSING, None)
    assert (removed.old_or_missing, removed.new_or_missing) == (None, MISSING)


def test_changed_fields_of_the_history() -> None:
    assert changed_fields('{"a": 1, "b": 2}', '{"a": 1, "b": 3, "c": 0}') == ["b", "c"]
    assert changed_fields('{"a": 1}', '{"a": 1.0}') == []
    assert changed_fields(None, '{"a": 1}') == ["a"]
    assert changed_fields("[1]", "[2]") == ["(whole value)"]
    assert changed_fields("[1]", "[1]") == []
    assert changed_fields("{", "{}") == ["(not JSON)"]
