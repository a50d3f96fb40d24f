"""Benchmark: one refresh of run state for N factory DAGs in a real local Airflow.

Starts the embedded PostgreSQL and a local Airflow (api-server, scheduler, dag-processor) with
one platform of N streams, waits until Airflow lists all N DAGs, triggers one run per DAG (the
DAGs stay paused, so the runs stay queued: every DAG has a last run to show), then measures,
in the same run, the median of a few rounds of:

- **refresh**: :func:`yellowtui.services.run_state.platform_run_state` reading everything, what
  ``yellowtui runs`` and the dashboard's first refresh do: pages of DAGs, pages of recent runs,
  import errors, DAG warnings, the pages after the first ones fetched a few at a time;
- **between full reads**: the dashboard's poll after its first refresh, which reads only the runs
  changed since the previous one (here none: it runs once the triggers are older than the margin);
- **one page at a time**: the full refresh with ``page_workers=1`` (each page waits for the last);
- **list only**: the pages of DAGs alone (the floor: no run state at all);
- **per DAG** (baseline): what a naive client does, ``GET /dags/{id}`` and
  ``GET /dags/{id}/dagRuns`` for each DAG, measured on the first ``--sample`` DAGs and
  extrapolated to N;

and where one page's time goes: the round trip of a DAG page and of a run page read as bytes
(the API server building it, plus the loopback), parsing it as plain JSON, and parsing it into
the REST client's pydantic models (what the service did before), against the round trip of a
tiny request. The API server runs ``--api-workers`` processes (default 2, one per CPU here), and
once every DAG is listed the dag-processor is left idle (its next parse of the unchanged file is
an hour away) so the figures are the API's, not a re-parse of 1,000 DAGs competing for the CPUs.

``python -m tools.airflow_bench --dags 1000 [--rounds 5] [--write-docs]``
"""

from __future__ import annotations

import argparse
import os
import platform as platform_mod
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulators.bench_docs import DOCS_PATH, write_section

SECTION = "## Airflow run state"
PLATFORM = "yellowlive"


def _log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


@dataclass
class Measure:
    name: str
    requests: int
    times_s: list[float]
    dags: int

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)


def _interleaved(rounds: int, approaches: list[tuple[str, Any, Callable[[], int]]]) -> list[Measure]:
    """Each round runs every approach once, one after the other, so that load from elsewhere on
    the machine falls on all of them alike and their ratios stay fair."""
    measures = [Measure(name, 0, [], 0) for name, _, _ in approaches]
    for _ in range(rounds):
        for measure, (_, service, fn) in zip(measures, approaches, strict=True):
            before = service.requests
            started = time.perf_counter()
            measure.dags = fn()
            measure.times_s.append(time.perf_counter() - started)
            measure.requests = service.requests - before
    return measures


def _median_ms(fn: Callable[[], Any], rounds: int = 7) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def anatomy(service: Any, prefix: str) -> dict[str, float]:
    """Where one page's time goes (see the module docstring), in ms."""
    import json

    import urllib3

    service.dags(prefix)  # logged in
    client, json_type = service._api(), "application/json"
    http = urllib3.PoolManager()
    headers = {"Authorization": f"Bearer {service._token}"}
    url = service.settings.url
    dag_page = (
        f"{url}/api/v2/dags?limit=100&offset=0&exclude_stale=false&order_by=dag_id&dag_id_prefix_pattern={prefix}"
    )
    run_page = f"{url}/api/v2/dags/~/dagRuns?limit=100&offset=0&order_by=-run_after&dag_id_prefix_pattern={prefix}"
    dags_body = http.request("GET", dag_page, headers=headers).data
    runs_body = http.request("GET", run_page, headers=headers).data
    return {
        "tiny_ms": _median_ms(lambda: http.request("GET", f"{url}/api/v2/version", headers=headers)),
        "dag_page_ms": _median_ms(lambda: http.request("GET", dag_page, headers=headers)),
        "run_page_ms": _median_ms(lambda: http.request("GET", run_page, headers=headers)),
        "dag_page_kb": len(dags_body) / 1024,
        "run_page_kb": len(runs_body) / 1024,
        "dag_json_ms": _median_ms(lambda: json.loads(dags_body)),
        "run_json_ms": _median_ms(lambda: json.loads(runs_body)),
        # The path the typed client methods take (ApiClient.deserialize), not only the models'.
        "dag_models_ms": _median_ms(lambda: client.deserialize(dags_body.decode(), "DAGCollectionResponse", json_type)),
        "run_models_ms": _median_ms(
            lambda: client.deserialize(runs_body.decode(), "DAGRunCollectionResponse", json_type)
        ),
    }


def run(n: int, rounds: int, sample: int, keep: bool, api_workers: int = 2) -> dict[str, Any]:
    from factory.db import dispose_engines
    from factory.operations.provisioning.bootstrap import Split, bootstrap
    from simulators.ecosystem import generate_ecosystem
    from simulators.local_airflow import LocalAirflow
    from simulators.postgres import start_postgres
    from yellowtui.services.airflow_service import CHANGED_MARGIN_S, AirflowService, AirflowSettings
    from yellowtui.services.run_state import platform_run_state

    root = Path(tempfile.mkdtemp(prefix="yellow-airflow-bench-"))
    server = start_postgres(root / "pgdata", delete_on_stop=True)
    timings: dict[str, float] = {}
    try:
        config_url = server.create_database("bench_config")
        metadata_url = server.create_database("bench_airflow")
        # One factory file, as when the figures in the docs were measured (the split is its own benchmark).
        bootstrap(generate_ecosystem(1, n, 0), config_url, root / "dags", split=Split(files=1))
        # Parsed once: re-parsing the unchanged file of N DAGs every few seconds would take a
        # CPU away from the API being measured.
        env = {"YELLOW_DB_URL": config_url, "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600"}
        airflow = LocalAirflow(
            root / "airflow", metadata_url, root / "dags", env=env, log=_log, api_workers=api_workers
        )
        started = time.monotonic()
        airflow.start(timeout=600)
        timings["start_s"] = time.monotonic() - started
        try:
            settings = AirflowSettings(url=airflow.url, username=airflow.username, password=airflow.password)
            service = AirflowService(settings)
            deadline = time.monotonic() + 900
            while len(service.dags(f"{PLATFORM}__")) < n:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Airflow did not list {n} DAGs in time; see {airflow.log_dir}")
                time.sleep(5)
            timings["all_listed_s"] = time.monotonic() - started
            _log(f"Airflow lists all {n} DAGs after {timings['all_listed_s']:.0f} s; triggering one run each …")
            dag_ids = [d.dag_id for d in service.dags(f"{PLATFORM}__")]
            trigger_started = time.monotonic()
            for dag_id in dag_ids:
                service.trigger(dag_id)
            timings["trigger_s"] = time.monotonic() - trigger_started
            _log(f"Triggered {n} runs in {timings['trigger_s']:.0f} s; measuring …")
            # The dashboard's poll re-reads the runs changed in the last CHANGED_MARGIN_S before
            # its previous refresh: measure it once the triggers are older than that, as between
            # bursts of activity.
            time.sleep(CHANGED_MARGIN_S)
            full = service.with_settings(full_runs_every=1)  # what `yellowtui runs` does
            one_by_one = service.with_settings(page_workers=1, full_runs_every=1)
            for warm in (service, full, one_by_one):
                platform_run_state(warm, PLATFORM)  # client import, login, server caches

            def measured(on: Any) -> Callable[[], int]:
                def refresh() -> int:
                    state = platform_run_state(on, PLATFORM)
                    assert all(d.recent_runs for d in state.dags), "every DAG should show its run"
                    return len(state.dags)

                return refresh

            def list_only() -> int:
                return len(service.dags(f"{PLATFORM}__"))

            def per_dag() -> int:
                for dag_id in dag_ids[:sample]:
                    service.dag(dag_id)
                    service.dag_runs(dag_id, limit=settings.runs_per_dag)
                return sample

            load_before = os.getloadavg()
            measures = _interleaved(
                rounds,
                [
                    ("refresh", full, measured(full)),
                    ("between full reads", service, measured(service)),
                    ("one page at a time", one_by_one, measured(one_by_one)),
                    ("list only", service, list_only),
                    ("per DAG", service, per_dag),
                ],
            )
            pages = anatomy(service, f"{PLATFORM}__")
            load_after = os.getloadavg()
        finally:
            airflow.stop()
    finally:
        dispose_engines()
        server.stop()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return {
        "n": n,
        "rounds": rounds,
        "sample": sample,
        "timings": timings,
        "measures": measures,
        "pages": pages,
        "load": (load_before, load_after),
        "api_workers": api_workers,
    }


def _environment() -> dict[str, str]:
    import airflow

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform_mod.machine()}, {os.cpu_count()} CPU(s), {platform_mod.system()} {platform_mod.release()}",
        "python": platform_mod.python_version(),
        "airflow": airflow.__version__,
    }


def report(result: dict[str, Any], command: str) -> str:
    from yellowtui.services.airflow_service import AirflowSettings

    n, sample = result["n"], result["sample"]
    by_name = {m.name: m for m in result["measures"]}
    refresh, one_by_one = by_name["refresh"], by_name["one page at a time"]
    between = by_name["between full reads"]
    floor, per_dag = by_name["list only"], by_name["per DAG"]
    per_dag_requests = per_dag.requests * n / sample
    per_dag_s = per_dag.median_s * n / sample
    p = result["pages"]
    (before_1, _, _), (after_1, _, _) = result["load"]
    workers = AirflowSettings(url="http://x").page_workers
    env = _environment()
    t = result["timings"]

    def rounds(m: Measure) -> str:
        return ", ".join(f"{x:.2f}" for x in m.times_s)

    lines = [
        SECTION,
        "",
        f"One refresh of run state for **{n} factory DAGs** in a real local Airflow {env['airflow']} "
        f"(api-server with {result['api_workers']} worker processes, scheduler, dag-processor on 127.0.0.1, "
        "metadata in the embedded PostgreSQL), each DAG with one queued run. Median of "
        f"{result['rounds']} rounds, measured in the same run (each round runs every approach in turn); "
        "page size 100 (Airflow's default maximum).",
        "",
        "| approach | requests | wall time (median) | vs refresh |",
        "|---|---:|---:|---:|",
        f"| **refresh** (`yellowtui runs`, and the dashboard's first: DAG pages + run pages + import errors "
        f"+ warnings, {workers} pages at a time) | {refresh.requests} | {refresh.median_s * 1000:.0f} ms | 1× |",
        f"| **the dashboard's refresh between full reads** (DAG pages + the runs changed since the previous "
        f"refresh + import errors + warnings) | {between.requests} | {between.median_s * 1000:.0f} ms "
        f"| {between.median_s / refresh.median_s:.2f}× |",
        f"| the full refresh, one page at a time | {one_by_one.requests} | {one_by_one.median_s * 1000:.0f} ms "
        f"| {one_by_one.median_s / refresh.median_s:.1f}× |",
        f"| list DAGs only (no run state) | {floor.requests} | {floor.median_s * 1000:.0f} ms "
        f"| {floor.median_s / refresh.median_s:.2f}× |",
        f"| one request per DAG (`get_dag` + `get_dag_runs`), first {sample} measured, ×{n // sample} "
        f"| {per_dag_requests:.0f} | {per_dag_s * 1000:.0f} ms | {per_dag_s / refresh.median_s:.0f}× slower |",
        "",
        f"Target: under 2 s with requests bounded by pages — for a full refresh "
        f"{'met' if refresh.median_s < 2 else 'NOT met'}: {refresh.median_s:.2f} s and {refresh.requests} requests "
        f"(ceil({n}/100) DAG pages + run pages + 2); for the dashboard's refresh between full reads "
        f"{'met' if between.median_s < 2 else 'NOT met'}: {between.median_s:.2f} s and {between.requests} requests; "
        f"against {per_dag_requests:.0f} requests and {per_dag_s:.0f} s for one request per DAG.",
        "",
        f"Where one page's time goes: a page of 100 DAGs ({p['dag_page_kb']:.0f} KB) takes {p['dag_page_ms']:.0f} ms "
        f"from request to last byte and a page of 100 runs ({p['run_page_kb']:.0f} KB) {p['run_page_ms']:.0f} ms, "
        f"against {p['tiny_ms']:.0f} ms for a tiny request (`/api/v2/version`: the loopback and the server's "
        "framework), so nearly all of it is the API server building the page. Parsing a DAG page costs "
        f"{p['dag_json_ms']:.1f} ms as plain JSON and {p['dag_models_ms']:.1f} ms as the REST client's pydantic "
        f"models (a run page: {p['run_json_ms']:.1f} ms and {p['run_models_ms']:.1f} ms); the service reads "
        "every list as plain JSON into its own dataclasses.",
        "",
        "Rounds (s): "
        f"refresh {rounds(refresh)}; between full reads {rounds(between)}; one page at a time {rounds(one_by_one)}; "
        f"list only {rounds(floor)}; "
        f"per DAG ({sample}) {rounds(per_dag)}.",
        "",
        f"Bringing the stack up: Airflow healthy after {t.get('start_s', 0):.0f} s, all {n} DAGs listed after "
        f"{t.get('all_listed_s', 0):.0f} s, {n} runs triggered in {t.get('trigger_s', 0):.0f} s.",
        "",
        f"Machine: {env['machine']}, Python {env['python']}, {env['date']}; load average (1 min) "
        f"{before_1:.1f} before the measurements and {after_1:.1f} after.",
        "",
        "Reproduce:",
        "",
        "```bash",
        command,
        "```",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.airflow_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--dags", type=int, default=1000, help="factory DAGs in Airflow (default 1000)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sample", type=int, default=50, help="DAGs measured one request at a time (baseline)")
    parser.add_argument("--api-workers", type=int, default=2, help="API server processes (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs) afterwards")
    parser.add_argument("--write-docs", action="store_true", help=f"write the section into {DOCS_PATH.name}")
    args = parser.parse_args(argv)
    result = run(args.dags, args.rounds, min(args.sample, args.dags), args.keep, args.api_workers)
    command = f"python -m tools.airflow_bench --dags {args.dags} --rounds {args.rounds} --write-docs"
    section = report(result, command)
    print(section)
    if args.write_docs:
        write_section(SECTION, section)
        _log(f"wrote the '{SECTION}' section of {DOCS_PATH}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
