"""Parse metrics reach a real statsd listener (a UDP socket on 127.0.0.1) through Airflow's own
metrics facility, during a real factory parse on a real PostgreSQL."""

from __future__ import annotations

import socket
from pathlib import Path

from factory.operations.provisioning.bootstrap import bootstrap
from factory.operations.provisioning.render import factory_file_name
from simulators.parse_loop import parse_once


def _received(sock: socket.socket) -> list[str]:
    lines: list[str] = []
    sock.settimeout(5)
    try:
        while True:
            lines += sock.recv(65536).decode().splitlines()
            sock.settimeout(0.5)
    except TimeoutError:
        return lines


def _parse(factory_file: Path, url: str, env: dict[str, str]) -> str:
    """DagBag parses the factory file in a process of its own (forked from the session's warm
    parent, as Airflow's DAG processor forks one per file); Airflow reads the ``[metrics]``
    options at parse time, from that process's environment."""
    run = parse_once(factory_file, env={**env, "YELLOW_DB_URL": url})
    assert run.forked
    assert run.ok, run.import_errors or run.stderr_tail
    return f"{run.dags} {run.load_result['source']}"


def test_a_parse_sends_its_metrics_to_statsd(db_url, example_ecosystem, tmp_path):
    bootstrap(example_ecosystem, db_url, tmp_path / "dags")
    factory_file = tmp_path / "dags" / factory_file_name("yellowlive")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        env = {
            "YELLOW_SNAPSHOT_DIR": str(tmp_path / "snapshots"),
            "AIRFLOW__METRICS__STATSD_ON": "True",
            "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
            "AIRFLOW__METRICS__STATSD_PORT": str(sock.getsockname()[1]),
            "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
        }
        assert _parse(factory_file, db_url, env) == "5 database"
        metrics = {line.split(":")[0]: line.split(":", 1)[1] for line in _received(sock)}
        for phase in ("load_ms", "validate_ms", "build_ms", "total_ms"):
            assert metrics[f"airflow.yellow.yellowlive.parse.{phase}"].endswith("|ms")
        assert metrics["airflow.yellow.yellowlive.streams.built"] == "5|g"
        assert metrics["airflow.yellow.yellowlive.streams.failed"] == "0|g"
        assert metrics["airflow.yellow.yellowlive.streams.stale"] == "0|g"
        assert metrics["airflow.yellow.yellowlive.parses"] == "1|c"
        assert "airflow.yellow.yellowlive.snapshot_used" not in metrics

        # The database gone: the parse builds from the snapshot, and says so in its metrics.
        unreachable = "postgresql://yellow:pw@127.0.0.1:9/nowhere"
        assert _parse(factory_file, unreachable, {**env, "YELLOW_DB_CONNECT_TIMEOUT": "1"}) == "5 snapshot"
        metrics = {line.split(":")[0]: line.split(":", 1)[1] for line in _received(sock)}
        assert metrics["airflow.yellow.yellowlive.snapshot_used"] == "1|c"
        assert metrics["airflow.yellow.yellowlive.streams.built"] == "5|g"


def test_no_metrics_backend_costs_a_cached_lookup(db_url, example_ecosystem, snapshot_dir, monkeypatch):
    from factory import metrics
    from factory.loader import load_platform

    bootstrap(example_ecosystem, db_url, None)
    monkeypatch.delenv("AIRFLOW__METRICS__STATSD_ON", raising=False)
    metrics.reset_metrics()
    result = load_platform("yellowlive", url=db_url)
    assert metrics.emit_parse_metrics(result) is False
    assert metrics._stats.cache_info().currsize == 1  # decided once per process
    assert set(metrics.metric_values(result)) >= {"yellow.yellowlive.parse.total_ms", "yellow.yellowlive.streams.built"}


def test_each_split_file_sends_its_own_names():
    """A gauge per platform would keep only the last file's value: split files send per file."""
    from factory.enums import LoadMode, Source
    from factory.metrics import metric_values
    from factory.outcome import LoadResult
    from factory.split import Layout

    unsplit = metric_values(LoadResult("yellowlive", LoadMode.FULL, Source.DATABASE))
    assert "yellow.yellowlive.streams.built" in unsplit
    split = metric_values(
        LoadResult("yellowlive", LoadMode.FULL, Source.DATABASE, file_index=2, layout=Layout(3, 3, 1))
    )
    assert "yellow.yellowlive.file2.streams.built" in split and "yellow.yellowlive.streams.built" not in split
    first = metric_values(
        LoadResult("yellowlive", LoadMode.FULL, Source.DATABASE, file_index=0, layout=Layout(3, 3, 1))
    )
    assert "yellow.yellowlive.file0.parse.total_ms" in first
