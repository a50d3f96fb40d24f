"""Finding a JSON path's line in JSON text laid out by a person (the editor marks problems there)."""

from __future__ import annotations

import pytest

from yellowtui.presenters.json_text import path_lines, problem_line

TEXT = """{
  "stream_key": "Store1",
  "datasets": [
    "customers",
    "addresses"
  ],
  "job_resources": {"cpu_limit": "2",
     "memory_limit": "1Gi"},
  "note": "a \\"quoted\\" {brace} [bracket]",
  "empty": {}, "list": [],
  "schedule": "every day"
}"""


def test_every_value_has_the_line_it_starts_on() -> None:
    lines = path_lines(TEXT)
    assert lines["$"] == 0
    assert lines["$.stream_key"] == 1
    assert lines["$.datasets"] == 2
    assert lines["$.datasets[1]"] == 4
    assert lines["$.job_resources.cpu_limit"] == 6
    assert lines["$.job_resources.memory_limit"] == 7
    assert lines["$.note"] == 8
    assert lines["$.empty"] == 9 and lines["$.list"] == 9
    assert lines["$.schedule"] == 10


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.schedule", (10, True)),
        ("$.datasets[0]", (3, True)),
        ("$.job_resources.gpu", (6, False)),  # missing: marked on the object it belongs in
        ("$.git_repo_url", (0, False)),
        ("$", (0, True)),
    ],
)
def test_a_problem_is_marked_on_its_path_or_its_parent(path: str, expected: tuple[int, bool]) -> None:
    assert problem_line(TEXT, path) == expected


def test_text_that_is_not_json_marks_the_line_of_the_parse_error() -> None:
    broken = '{\n  "a": 1,\n  "b": \n}'
    assert path_lines(broken) == {}
    message = "not valid JSON: Expecting value (line 4, column 1)"
    assert problem_line(broken, "$", message) == (3, True)
    assert problem_line(broken, "$", "something else") == (0, True)


def test_trailing_text_and_unclosed_values_are_not_json() -> None:
    assert path_lines('{"a": 1}\n') == {"$": 0, "$.a": 0}
    assert path_lines('{"a": 1}\nx') == {}
    assert problem_line('{"a": 1}\nx', "$", "not valid JSON: Extra data (line 2, column 1)") == (1, True)
    assert path_lines('{"a": [1, 2}') == {}
    assert path_lines('{"a": tru}') == {}
