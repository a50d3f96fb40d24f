"""Benchmark: ``simulate`` against the builder floor, measured in the same run.

Seeds one platform of N synthetic streams into an embedded PostgreSQL, then times, in one
process with Airflow already imported and interleaved repeats:

- floor: the streams' validated configs (prepared beforehand, no database) -> ``build_dag``
  for every one: what building the DAGs costs at the least;
- simulate: :func:`factory.operations.changes.plan.simulate` with no changes: read every row from
  PostgreSQL, validate it, build it, and make the plan;
- simulate + edits: the same with a changeset of about 100 edits laid over the rows (each a
  schedule change, so each is also diffed through Airflow's serializer).

    python -m simulators.simulate_bench --streams 1000 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform as platform_mod
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

VARIANTS = ("floor", "simulate", "simulate_edits")
LABELS = {
    "floor": "builder floor (validated configs -> build_dag, no database)",
    "simulate": "simulate, no changes (read + validate + build + plan)",
    "simulate_edits": "simulate with a changeset of {edits} edits (+ DAG diffs)",
}


def _progress(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process). On a shared machine the CPU time is the
    steadier figure; the wall time also counts waiting for PostgreSQL (a separate process)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_n(pg, n: int, repeat: int, edits: int, seed: int) -> dict[str, list[float]]:
    """Seed N streams into a fresh database and time each variant ``repeat`` times, interleaved."""
    from factory import store
    from factory.builder import build_dag
    from factory.db import get_engine
    from factory.models import parse_config
    from factory.operations.changes.changeset import edit_of, new_changeset
    from factory.operations.changes.plan import simulate
    from simulators.ecosystem import generate_ecosystem, seed_database

    eco = generate_ecosystem(platforms=1, streams_per_platform=n, seed=seed)
    url = pg.create_database(f"simbench_{n}_{os.getpid()}")
    _progress(f"N={n:,}: seeding")
    seed_database(url, eco)
    slug = eco.platforms[0].name.lower()
    engine = get_engine(url, statement_timeout_ms=600_000)
    with engine.connect() as conn:
        rows = store.read_rows(conn, slug, status="active")
    configs = [parse_config(r.config_json, r.stream_key) for r in rows]
    step = max(1, len(rows) // max(edits, 1))
    picked = rows[::step][:edits]
    changeset = new_changeset(
        slug,
        [
            edit_of(r, r.stream_key, {**json.loads(r.config_json), "schedule": "17 3 * * *"})
            for r in picked
            if json.loads(r.config_json).get("schedule") != "17 3 * * *"
        ],
    )

    def floor() -> None:
        for config in configs:
            build_dag(config, slug)

    def run_simulate(with_changes: bool) -> None:
        with engine.connect() as conn:
            plan = simulate(conn, slug, changeset if with_changes else None)
        assert plan.builds and len(plan.entries) >= len(rows), plan.summary()
        if with_changes:
            assert plan.counts()["change"] == len(changeset.changes), plan.summary()

    work = {"floor": floor, "simulate": lambda: run_simulate(False), "simulate_edits": lambda: run_simulate(True)}
    for name in VARIANTS:  # warm-up: imports, caches, the serializer's first call
        _progress(f"N={n:,}: warm-up {name}")
        work[name]()
    times: dict[str, list[float]] = {name: [] for name in VARIANTS} | {f"{name}_cpu": [] for name in VARIANTS}
    for round_ in range(repeat):
        order = VARIANTS if round_ % 2 == 0 else tuple(reversed(VARIANTS))
        for name in order:
            wall, cpu = _timed(work[name])
            times[name].append(wall)
            times[f"{name}_cpu"].append(cpu)
            _progress(f"N={n:,} round {round_ + 1}/{repeat}: {name} {wall:.2f} s wall, {cpu:.2f} s CPU")
    times["_edits"] = [float(len(changeset.changes))]
    engine.dispose()
    return times


def table(results: dict[int, dict[str, list[float]]]) -> str:
    lines = [
        "| N | variant | wall median s | wall min-max s | vs floor (wall) | CPU median s | ms CPU per stream | vs floor (CPU) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n, times in results.items():
        floor, floor_cpu = statistics.median(times["floor"]), statistics.median(times["floor_cpu"])
        edits = int(times["_edits"][0])
        for name in VARIANTS:
            t, cpu = times[name], statistics.median(times[f"{name}_cpu"])
            median = statistics.median(t)
            lines.append(
                f"| {n:,} | {LABELS[name].format(edits=edits)} | {median:.2f} | {min(t):.2f}-{max(t):.2f} | "
                f"{median / floor:.2f}x | {cpu:.2f} | {cpu / n * 1000:.2f} | {cpu / floor_cpu:.2f}x |"
            )
    return "\n".join(lines)


def environment() -> str:
    import airflow

    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC} on {platform_mod.machine()}, {os.cpu_count()} CPU(s), "
        f"Python {platform_mod.python_version()}, Airflow {airflow.__version__}"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulators.simulate_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[1000], help="Sizes N to measure.")
    parser.add_argument("--repeat", type=int, default=3, help="Timed rounds per variant (after one warm-up).")
    parser.add_argument("--edits", type=int, default=100, help="Edits in the changeset of the third variant.")
    parser.add_argument("--seed", type=int, default=1, help="Seed of the synthetic ecosystem.")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="yellow-simbench-") as tmp:
        os.environ.setdefault("AIRFLOW_HOME", str(Path(tmp) / "airflow"))
        from simulators.postgres import start_postgres

        started = time.perf_counter()
        pg = start_postgres(Path(tmp) / "pg", delete_on_stop=True)
        try:
            results = {n: bench_n(pg, n, args.repeat, args.edits, args.seed) for n in args.streams}
        finally:
            from factory.db import dispose_engines

            dispose_engines()
            pg.stop()
        elapsed = time.perf_counter() - started
    command = "python -m simulators.simulate_bench " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"Measured {environment()}; the run took {elapsed / 60:.1f} min.\n")
    print(f"```\n{command.strip()}\n```\n")
    print(table(results) + "\n")
    for n, times in results.items():
        for kind, what in (("", "wall time"), ("_cpu", "CPU time")):
            ratio = statistics.median(times[f"simulate{kind}"]) / statistics.median(times[f"floor{kind}"])
            verdict = "met" if ratio <= 1.2 else "NOT met"
            print(f"- N={n:,}, {what}: simulate is {ratio:.2f}x the builder floor (target <= 1.2x: {verdict}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
