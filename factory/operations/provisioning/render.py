"""Rendering the two DAG-file templates with values as inert Python literals only.

Every ``{{ ... }}`` in a template must pass through the ``py`` filter, which accepts plain data
(str, int, float, bool, None, list, tuple, dict) and emits its ``repr``. The environment's
``finalize`` refuses anything else, so a hostile name can only ever become a string literal.
The output is parsed with ``ast`` before it is returned.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from factory.db import DEFAULT_CONN_ID
from factory.errors import RenderError
from factory.layout import factory_file_name, static_file_name
from factory.names import platform_slug
from factory.spec import DagSpec

if TYPE_CHECKING:
    import jinja2

FACTORY_TEMPLATE = "yellow_platform_factory_dag.py.j2"
STATIC_TEMPLATE = "ingestion_stream_dag.py.j2"


class PyLiteral(str):
    """Text already turned into a Python literal by the ``py`` filter."""


def _check_plain(value: Any, path: str = "value") -> None:
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise RenderError(f"{path} has a non-string key {k!r}")
            _check_plain(v, f"{path}.{k}")
        return
    raise RenderError(f"{path} is a {type(value).__name__}; only plain data can be rendered")


def py_literal(value: Any) -> PyLiteral:
    """``repr`` of plain data, checked to read back as the same value."""
    _check_plain(value)
    text = repr(value)
    if ast.literal_eval(text) != value:
        raise RenderError(f"value {value!r} does not survive a round trip as a literal")
    return PyLiteral(text)


def _finalize(value: Any) -> Any:
    if isinstance(value, PyLiteral):
        return value
    raise RenderError(f"template printed {value!r} without the 'py' filter; values must be literals")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("factory", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters["py"] = py_literal
    return env


def _render(template: str, **values: Any) -> str:
    source = _environment().get_template(template).render(**values)
    try:
        ast.parse(source)
    except SyntaxError as exc:
        raise RenderError(f"{template} rendered invalid Python: {exc}") from None
    return source


def render_factory_file(platform: str, conn_id: str = DEFAULT_CONN_ID, file_index: int = 0, bundle: int = 0) -> str:
    """The per-platform factory file: constants and one call to the loader. No credentials.

    File ``file_index`` of a split platform builds its share (:mod:`factory.split`); file 0 is
    byte for byte the unsplit file, so splitting never rewrites the file a platform already has.
    A copy in DAG bundle ``bundle`` > 0 (:mod:`factory.bundles`) knows its bundle: a file moving
    between bundles has two copies, and each must know which one it is."""
    platform_slug(platform)
    return _render(FACTORY_TEMPLATE, platform=platform, conn_id=conn_id, file_index=file_index, bundle=bundle)


__all__ = ["factory_file_name", "py_literal", "render_factory_file", "render_static_file", "static_file_name"]


def render_static_file(spec: DagSpec) -> str:
    """The legacy per-stream file: the whole DAG inline, importing Airflow only (never ``factory``)."""
    return _render(STATIC_TEMPLATE, spec=spec.to_dict())
