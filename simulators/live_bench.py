"""Change-to-live latency: from the commit of a row change until Airflow's REST API serves the DAG
built from it, with and without a parse request, on a real local Airflow at its default parse
settings (``min_file_process_interval`` 30 s, ``refresh_interval`` 300 s, 2 parsing processes).

Two platforms: a small one (5 streams) and one of 500 streams in one file (the split default,
:data:`factory.split.DEFAULT_STREAMS_PER_FILE`). For each of 10 changes of one stream's schedule:
commit the row, then (with the request) ``PUT /api/v2/parseDagFile/{file_token}``, then poll
``GET /api/v2/dags/{dag_id}`` every 0.1 s until its description carries the new config's
fingerprint (:mod:`factory.fingerprint`); with the request, a parse that ends without the change
is followed by the request again, as ``yellowtui wait`` does. The floor is Airflow's own ``last_parse_duration`` of the
file. Plain ``urllib`` on loopback: the simulators stand below the dashboard's client::

    python -m simulators.live_bench [--changes 10] [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from simulators.bench_docs import DOCS_PATH, write_section

SECTION = "## Change to live"
SMALL, BIG = "livesmall", "livebig"
BIG_STREAMS = 500
SCHEDULES = ("0 1 * * *", "0 2 * * *", "0 3 * * *", "0 4 * * *", "0 5 * * *", "0 6 * * *")
#: Airflow's own defaults, set explicitly over the local stack's short test intervals.
DEFAULT_PARSE_SETTINGS = {
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "300",
    "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "2",
}


def _log(message: str) -> None:
    print(f"[live-bench] {message}", file=sys.stderr, flush=True)


class _Api:
    """The few REST calls the benchmark makes, with a JWT from ``/auth/token``."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url
        body = json.dumps({"username": username, "password": password}).encode()
        request = urllib.request.Request(f"{url}/auth/token", body, {"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=15) as response:
            self.token = json.loads(response.read())["access_token"]

    def call(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}", headers={"Authorization": f"Bearer {self.token}"}, method=method
        )
        with urllib.request.urlopen(request, timeout=15) as response:
            text = response.read()
        return json.loads(text) if text else None

    def dags(self, prefix: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = self.call("GET", f"/api/v2/dags?dag_id_pattern={prefix}__&limit=100&offset={len(found)}")
            found += page["dags"]
            if len(found) >= page["total_entries"] or not page["dags"]:
                return found


def _change(config_url: str, platform: str, key: str, schedule: str) -> str:
    """Commit a schedule change; the fingerprint the new DAG will carry."""
    from factory import store
    from factory.db import get_engine
    from factory.fingerprint import config_fingerprint

    with get_engine(config_url).begin() as conn:
        row = store.read_row(conn, platform, key)
        assert row is not None
        text = json.dumps({**json.loads(row.config_json), "schedule": schedule}, sort_keys=True)
        store.write_row(conn, platform, key, text, row.status, actor="live-bench")
    fingerprint = config_fingerprint(text, platform)
    assert fingerprint is not None
    return fingerprint


def _measure(
    api: _Api, config_url: str, platform: str, key: str, schedule: str, *, request: bool, timeout: float = 120
) -> tuple[float, float | None]:
    """Seconds from commit to the REST API serving the change; the file's last parse duration."""
    dag_id = f"{platform}__{key}_ingestion"
    first = api.call("GET", f"/api/v2/dags/{dag_id}")
    token = first["file_token"] if request else None
    wanted = _change(config_url, platform, key, schedule)
    committed = time.monotonic()
    if token is not None:
        api.call("PUT", f"/api/v2/parseDagFile/{token}")
    seen = first.get("last_parsed_time")
    while time.monotonic() - committed < timeout:
        dag = api.call("GET", f"/api/v2/dags/{dag_id}")
        if f"[yellow:{wanted}]" in (dag.get("description") or ""):
            return time.monotonic() - committed, dag.get("last_parse_duration")
        if token is not None and dag.get("last_parsed_time") != seen:
            # A parse ended without the change (it started before the commit, and Airflow drops a
            # request for a file being parsed): ask again, as `yellowtui wait` does.
            seen = dag.get("last_parsed_time")
            api.call("PUT", f"/api/v2/parseDagFile/{token}")
        time.sleep(0.1)
    raise RuntimeError(f"{dag_id} did not serve {wanted} within {timeout:.0f} s")


def run(changes: int) -> dict[str, Any]:
    from factory.operations.provisioning.bootstrap import Split, bootstrap
    from factory.operations.provisioning.ecosystem import StoreSpec, parse_ecosystem
    from simulators.ecosystem import platform_spec
    from simulators.local_airflow import LocalAirflow
    from simulators.postgres import start_postgres

    root = Path(tempfile.mkdtemp(prefix="yellow-live-bench-"))
    server = start_postgres(root / "pgdata", delete_on_stop=True)
    try:
        config_url = server.create_database("live_config")
        metadata_url = server.create_database("live_airflow")
        small = platform_spec("LiveSmall", 0, [StoreSpec(name=f"S{i}", datasets=["orders"]) for i in range(5)])
        big = platform_spec(
            "LiveBig", 1, [StoreSpec(name=f"B{i:03d}", datasets=["orders"]) for i in range(BIG_STREAMS)]
        )
        eco = parse_ecosystem({"name": "live", "platforms": [small.model_dump(), big.model_dump()]})
        bootstrap(eco, config_url, root / "dags", split=Split(files=1))
        env = {"YELLOW_DB_URL": config_url, **DEFAULT_PARSE_SETTINGS}
        airflow = LocalAirflow(
            root / "airflow", metadata_url, root / "dags", env=env, log=_log, raise_parse_limits=False
        )
        load_before = os.getloadavg()
        airflow.start(timeout=600)
        try:
            api = _Api(airflow.url, airflow.username, airflow.password or "")
            deadline = time.monotonic() + 900
            while len(api.dags(SMALL)) < 5 or len(api.dags(BIG)) < BIG_STREAMS:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Airflow did not list every DAG in time; see {airflow.log_dir}")
                time.sleep(5)
            _log("every DAG listed; measuring")
            cases = (("request, 5 streams", SMALL, "S0", True), ("request, 500 streams", BIG, "B000", True))
            cases += (("no request (baseline), 5 streams", SMALL, "S1", False),)
            results: dict[str, Any] = {}
            for name, platform, key, request in cases:
                latencies, parses = [], []
                for i in range(changes):
                    took, parse_s = _measure(
                        api, config_url, platform, key, SCHEDULES[i % len(SCHEDULES)], request=request
                    )
                    latencies.append(took)
                    if parse_s is not None:
                        parses.append(parse_s)
                    _log(f"{name}: change {i + 1}: {took:.2f} s")
                results[name] = {
                    "median_s": statistics.median(latencies),
                    "worst_s": max(latencies),
                    "parse_s": statistics.median(parses) if parses else None,
                    "all_s": latencies,
                }
            return {"cases": results, "load_before": load_before, "load_after": os.getloadavg(), "changes": changes}
        finally:
            airflow.stop()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def report(result: dict[str, Any], command: str) -> str:
    cases = result["cases"]
    baseline = cases["no request (baseline), 5 streams"]["median_s"]
    lines = [
        SECTION,
        "",
        f"`{command}`: {result['changes']} schedule changes per case on a real local Airflow 3 with its "
        "default parse settings (`min_file_process_interval` 30 s); from the commit of the row until "
        "`GET /api/v2/dags/{dag_id}` returns the DAG whose description carries the new config's "
        "fingerprint. The floor is Airflow's own `last_parse_duration` of the file. "
        f"Machine load (1/5/15 min) {' / '.join(f'{x:.1f}' for x in result['load_before'])} before, "
        f"{' / '.join(f'{x:.1f}' for x in result['load_after'])} after, on {os.cpu_count()} CPUs.",
        "",
        "| case | median | worst | file's parse (Airflow) | median vs parse + 1 s | vs baseline median |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for name, c in cases.items():
        parse = c["parse_s"]
        target = "—" if parse is None or "baseline" in name else ("met" if c["median_s"] <= parse + 1 else "missed")
        lines.append(
            f"| {name} | {c['median_s']:.2f} s | {c['worst_s']:.2f} s | "
            f"{f'{parse:.2f} s' if parse is not None else '—'} | {target} | {baseline / c['median_s']:.1f}x |"
        )
    lines += [
        "",
        "Targets: median at most the file's parse duration + 1 s, and at least 10x faster than the baseline median.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=10, help="changes per case (default 10)")
    parser.add_argument("--write-docs", action="store_true", help=f"write the section into {DOCS_PATH.name}")
    args = parser.parse_args(argv)
    command = "python -m simulators.live_bench" + (f" --changes {args.changes}" if args.changes != 10 else "")
    section = report(run(args.changes), command)
    print(section)
    if args.write_docs:
        write_section(SECTION, section)
        _log(f"wrote the '{SECTION}' section of {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
