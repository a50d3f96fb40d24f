"""What runs in the process that parses: time ``DagBag(path)``, print one result line.

The same code whether that process is a fresh interpreter (``parse_loop.parse_once`` without a
warm parent) or a child forked from one (``parse_server``): the two differ only in who paid the
Airflow import, and the result says which (``airflow_import_ms``). Imports nothing of
``factory``: the factory file being parsed imports what it needs, as under Airflow.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

RESULT_MARKER = "YELLOW_PARSE_RESULT "


def run_child(path: str, serialize: bool) -> None:
    """Import Airflow (a no-op in a forked child), time DagBag(path), print one result line."""
    started = time.perf_counter()
    from airflow.dag_processing.dagbag import DagBag

    airflow_import_ms = (time.perf_counter() - started) * 1000
    began = time.perf_counter()
    bag = DagBag(path)
    parse_ms = (time.perf_counter() - began) * 1000
    serialize_ms = None
    if serialize:
        from airflow.serialization.serialized_objects import DagSerialization

        began = time.perf_counter()
        for dag in bag.dags.values():
            DagSerialization.to_dict(dag)
        serialize_ms = (time.perf_counter() - began) * 1000
    result = {
        "airflow_import_ms": airflow_import_ms,
        "parse_ms": parse_ms,
        "serialize_ms": serialize_ms,
        "dag_ids": sorted(bag.dags),
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "load_results": _load_results(),
    }
    sys.stdout.write("\n" + RESULT_MARKER + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


def _load_results() -> list[dict[str, Any]]:
    """The factory loader's LOAD_RESULT from every module DagBag imported."""
    found = []
    for module in list(sys.modules.values()):
        result = getattr(module, "LOAD_RESULT", None)
        if result is not None and hasattr(result, "to_dict"):
            data = result.to_dict()
            data["outcomes"] = [o for o in data.get("outcomes", []) if o.get("outcome") != "ok"]
            data["file"] = getattr(module, "__file__", None)
            found.append(data)
    return found
