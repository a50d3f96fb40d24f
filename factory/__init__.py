"""The Yellow DAG factory: build Airflow ingestion DAGs from rows of ``{platform}_airflow_dsg``.

This package runs inside every Airflow parse and every task start, so importing it does nothing
but define names: the heavy pieces (Airflow operators, SQLAlchemy, pydantic models) are loaded
on first use through ``__getattr__``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "StreamConfig": "factory.models",
    "ConfigProblem": "factory.errors",
    "FactoryError": "factory.errors",
    "StreamConfigError": "factory.errors",
    "build_dag": "factory.builder",
    "dag_id_for": "factory.names",
    "register_platform_dags": "factory.loader",
    "load_platform": "factory.loader",
    "parse_config": "factory.models",
    "dag_spec": "factory.spec",
}

__all__ = sorted(_LAZY)  # noqa: PLE0605  (the lazy names, listed once above)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'factory' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
