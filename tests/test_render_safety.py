"""Values reach generated Python only as literals: hostile names are refused or inert."""

from __future__ import annotations

import ast
import dataclasses

import pytest

from factory.errors import InvalidNameError, RenderError
from factory.models import parse_config
from factory.operations.provisioning.render import _environment, py_literal, render_factory_file, render_static_file
from factory.spec import dag_spec

HOSTILE = [
    "x'); __import__('os').system('touch PWNED'); ('",
    'x"""\nimport os; os.system("touch PWNED")\n"""',
    "line\nbreak\r\n# comment",
    "__import__('os')",
    "ünïcödé ☃ \u202e\u0000",
    "{{ 7 * 7 }} {% raw %}",
    "\\' \\\" \\n",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_platform_names_are_refused(name):
    with pytest.raises(InvalidNameError):
        render_factory_file(name)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_connection_id_is_rendered_as_a_string(value):
    source = render_factory_file("YellowLive", conn_id=value)
    tree = ast.parse(source)
    assigned = {n.targets[0].id: n.value for n in tree.body if isinstance(n, ast.Assign)}
    assert isinstance(assigned["CONFIG_CONN_ID"], ast.Constant) and assigned["CONFIG_CONN_ID"].value == value
    calls = [n.func for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert [c.id for c in calls] == ["register_platform_dags", "globals"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_a_static_file_stay_inert(value, sample_config, tmp_path, monkeypatch):
    """Even values the model would refuse, forced into the spec, only ever become constants."""
    spec = dag_spec(parse_config(sample_config), "YellowLive")
    spec = dataclasses.replace(spec, description=value, image=value, env_vars={"X": value}, tags=[value])
    source = render_static_file(spec)
    tree = ast.parse(source)
    constants = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert value in constants
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert not any("system" in c or "__import__" in c or c == "eval" for c in calls)
    # Run the module's literal section for real: nothing executes, no file appears.
    literal_part = source.split("def choose_next_task")[0].split("from kubernetes")[1].split("\n", 1)[1]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(literal_part, "static", "exec"), namespace)
    assert namespace["DESCRIPTION"] == value
    assert not (tmp_path / "PWNED").exists()


def test_template_cannot_print_a_value_without_the_literal_filter():
    template = _environment().from_string("X = {{ value }}")
    with pytest.raises(RenderError, match="without the 'py' filter"):
        template.render(value="1")


def test_only_plain_data_becomes_a_literal():
    assert py_literal({"a": [1, "b", None, True]}) == "{'a': [1, 'b', None, True]}"
    with pytest.raises(RenderError):
        py_literal(object())
