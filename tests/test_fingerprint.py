"""The fingerprint in each DAG's description: the same config always gives the same one (in any
process), a different config a different one, and nothing else in the DAG depends on it."""

from __future__ import annotations

import json
import subprocess
import sys

from factory.fingerprint import fingerprint_in, spec_fingerprint, strip_fingerprint
from factory.models import parse_config
from factory.spec import dag_spec


def _spec(config: dict):
    return dag_spec(parse_config(json.dumps(config)), "YellowLive")


def test_the_description_carries_the_fingerprint_of_the_spec(sample_config):
    spec = _spec(sample_config)
    found = fingerprint_in(spec.description)
    assert found is not None and len(found) == 12
    assert found == spec_fingerprint(spec)
    assert strip_fingerprint(spec.description).startswith("Ingestion of Store1")
    assert "[yellow:" not in strip_fingerprint(spec.description)


def test_same_config_same_fingerprint_in_another_process(sample_config):
    here = fingerprint_in(_spec(sample_config).description)
    # Another interpreter with another hash seed: no dict or set order may leak into it.
    code = (
        "import json,sys; from factory.models import parse_config; from factory.spec import dag_spec; "
        "from factory.fingerprint import fingerprint_in; "
        "print(fingerprint_in(dag_spec(parse_config(sys.stdin.read()), 'YellowLive').description))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(dict(reversed(sample_config.items()))),
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
        cwd=str(__import__("pathlib").Path(__file__).parents[1]),
    )
    assert out.stdout.strip() == here


def test_a_change_that_alters_the_dag_changes_the_fingerprint(sample_config):
    before = fingerprint_in(_spec(sample_config).description)
    changed = {**sample_config, "schedule": "@daily"}
    assert fingerprint_in(_spec(changed).description) != before
    # Key order in the stored JSON is not content.
    assert fingerprint_in(_spec(dict(sorted(sample_config.items(), reverse=True))).description) == before


def test_a_description_without_a_fingerprint_has_none():
    assert fingerprint_in("Ingestion of Store1 (customers) on YellowLive") is None
    assert fingerprint_in(None) is None
