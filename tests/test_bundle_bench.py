"""The bundle benchmark's report and its CPU accounting (the run itself is a benchmark, not a test)."""

from __future__ import annotations

import os
import subprocess
import sys

from simulators.bundle_bench import cpu_of, report


def _variant(bundles: int, all_listed: float | None, parses: dict[str, list[float]]) -> dict:
    return {
        "bundles": bundles,
        "files": 40,
        "streams": 20000,
        "cap_s": 600.0,
        "all_listed_s": all_listed,
        "first_listed_s": 20.0,
        "observed_s": 500.0,
        "timeline": [[20.0, 500]],
        "parses_s": parses,
        "import_timeouts": 0,
        "processor_kills": 0,
        "processors": [
            {
                "bundle": "dags-folder" if j == 0 else f"yellow-{j}",
                "manager_s": 300.0,
                "file_processors_s": 150.0,
                "stalls_s": [12.0],
            }
            for j in range(bundles)
        ],
        "postgres_cpu_s": 40.0,
        "load_during": [1.5, 1.8],
    }


def test_the_report_gives_the_ratio_against_one_processor_measured_in_the_same_run():
    result = {
        "streams": 20000,
        "streams_per_file": 500,
        "files": 40,
        "environment": {
            "date": "d",
            "machine": "m",
            "python": "3.11",
            "airflow": "3.3.2",
            "load_at_start": [1, 1, 1],
            "load_at_end": [2, 2, 2],
        },
        "airflow_config": {},
        "total_s": 1200.0,
        "command": "python -m simulators.bundle_bench --streams 20000 --bundles 2 --cap 600 --settle 30 --write-docs",
        "variants": [
            _variant(1, 431.0, {"dags-folder/a.py": [5.0, 10.7, 15.1]}),
            _variant(2, 300.0, {"dags-folder/a.py": [5.0], "yellow-1/b.py": [6.0]}),
        ],
    }
    text = report(result)
    assert "| one DAG processor | 20.0 s | 431 s | 5.0 / 10.7 / 15.1 |" in text
    assert (
        "2 DAG processors (2 bundles): all listed **1.44x** sooner than one DAG processor (target 1.3x, no timeouts: met)"
        in text
    )
    assert "| 300 + 300 | 150 + 150 | 40 |" in text
    assert result["command"] in text


def test_cpu_time_counts_a_processs_reaped_children():
    before_own, before_children = cpu_of(os.getpid())
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    own, children = cpu_of(os.getpid())
    assert own >= before_own and children > before_children
