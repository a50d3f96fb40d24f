"""A short fingerprint of what a stream's DAG is made of, carried in the DAG's description.

Airflow lists every DAG's ``description`` in the pages of ``GET /api/v2/dags`` that a refresh
already reads, so a fingerprint there tells, with no request per DAG, whether Airflow serves the
DAG built from a row's current config ("live") or from an older one ("pending parse"). It
compares content, not clocks: the same :class:`~factory.spec.DagSpec` always gives the same
fingerprint, in every process (sorted keys, no time, no randomness), so a parse with nothing
changed changes nothing in the serialized DAG, and Airflow makes no new DAG version for it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from factory.spec import DagSpec

#: Hex digits kept: 48 bits, plenty to tell one stream's configs apart.
LENGTH = 12
_MARK = re.compile(r"\s*\[yellow:([0-9a-f]{" + str(LENGTH) + r"})\]\s*$")


def spec_fingerprint(spec: DagSpec) -> str:
    """The fingerprint of ``spec``'s content, its description left out (it carries the result)."""
    # The same JSON as ``spec.to_dict()`` gives, without ``dataclasses.asdict``'s deep copy (it
    # runs once per DAG at every parse): nested dataclasses are written through their fields.
    data = dict(vars(spec))
    data.pop("description", None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=vars)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:LENGTH]


def stamped(spec: DagSpec) -> DagSpec:
    """``spec`` with its fingerprint appended to the description (replacing any there)."""
    return replace(spec, description=f"{strip_fingerprint(spec.description)} [yellow:{spec_fingerprint(spec)}]")


def fingerprint_in(description: str | None) -> str | None:
    """The fingerprint a DAG description carries, or None (a DAG from before fingerprints)."""
    found = _MARK.search(description or "")
    return found.group(1) if found else None


def strip_fingerprint(description: str | None) -> str:
    """The description without its fingerprint, e.g. to diff two DAGs by what they do."""
    return _MARK.sub("", description or "")


def config_fingerprint(config_json: str | None, platform: str) -> str | None:
    """The fingerprint of the DAG ``config_json`` builds on ``platform`` (e.g. a history entry's
    config), or None when it does not validate."""
    from factory.errors import FactoryError
    from factory.models import parse_config
    from factory.spec import dag_spec

    if not config_json:
        return None
    try:
        return fingerprint_in(dag_spec(parse_config(config_json), platform).description)
    except (FactoryError, ValueError):
        return None
