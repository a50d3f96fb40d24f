"""Benchmark: one DAG processor against one per DAG bundle, in real Airflow DAG processors.

Issue 20 asks whether spreading a platform's split factory files over two DAG bundles, each
parsed by its own ``airflow dag-processor -B NAME`` (factory/bundles.py), lists its DAGs sooner
than one DAG processor parsing them all. For each variant, in one run, on the same generated
platform of ``--streams`` streams in files of ``--streams-per-file``:

1. a copy of one config database, bootstrapped as K files in B bundles (B = 1, then each of
   ``--bundles``) into a fresh dags folder; a platform never parsed starts settled;
2. a fresh Airflow metadata database (a copy of one migrated once for the run);
3. the DAG processors alone (no scheduler, no API server), with Airflow's DEFAULT limits
   (``dagbag_import_timeout`` 30 s, ``dag_file_processor_timeout`` 50 s, ``parsing_processes``
   2 per DAG processor, ``min_file_process_interval`` 30 s), all started at once;
4. every second: the DAGs listed (not stale) in the ``dag`` table, each file's
   ``last_parse_duration`` per bundle, and import errors; at the end each processor's manager
   stalls (its log) and CPU time, split into the manager's own and its file processors' (reaped
   children, from /proc), and PostgreSQL's CPU time over the variant;
5. stop at the first listing of all N DAGs plus ``--settle`` seconds, or at ``--cap``.

    python -m simulators.bundle_bench --streams 20000 --bundles 2 --cap 600 --settle 30 --write-docs
    python -m simulators.bundle_bench --streams 2000 --bundles 2 --cap 180 --settle 10   # a quick look
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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from factory.split import DEFAULT_STREAMS_PER_FILE, files_for
from simulators.bench_docs import DOCS_PATH, write_section
from simulators.split_bench import (
    IMPORT_TIMEOUT_TEXT,
    _airflow_env,
    _manager_stalls,
    _processor_kills,
    effective_config,
    environment,
    room_for_locks,
)

SECTION = "## DAG bundles: one DAG processor against two"
NOTES_MARK = "<!-- bundle_bench: notes below are kept by --write-docs -->"
TARGET_SPEEDUP = 1.3
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _log(message: str) -> None:
    print(f"[bundle-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- CPU time from /proc ---------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, list[str]] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return pid, fields


def cpu_of(pid: int) -> tuple[float, float]:
    """(own CPU seconds, CPU seconds of its children: reaped ones and live ones) of process ``pid``."""
    found = _stat(pid)
    if found is None:
        return 0.0, 0.0
    _, fields = found
    own = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    reaped = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS  # cutime, cstime
    live = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (child := _stat(int(entry.name))) is not None and int(child[1][1]) == pid:
            own_c, kids_c = cpu_of(int(entry.name))
            live += own_c + kids_c
    return own, reaped + live


# ---- results ---------------------------------------------------------------------------------


@dataclass
class ProcessorCpu:
    bundle: str
    manager_s: float
    file_processors_s: float
    stalls_s: list[float] = field(default_factory=list)


@dataclass
class Variant:
    bundles: int
    files: int
    streams: int
    cap_s: float
    all_listed_s: float | None = None
    first_listed_s: float | None = None
    observed_s: float = 0.0
    timeline: list[tuple[float, int]] = field(default_factory=list)
    #: Every ``last_parse_duration`` seen, per "bundle/file".
    parses_s: dict[str, list[float]] = field(default_factory=dict)
    import_timeouts: int = 0
    processor_kills: int = 0
    processors: list[ProcessorCpu] = field(default_factory=list)
    postgres_cpu_s: float = 0.0
    load_during: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "one DAG processor" if self.bundles == 1 else f"{self.bundles} DAG processors ({self.bundles} bundles)"

    @property
    def all_parses(self) -> list[float]:
        return [s for values in self.parses_s.values() for s in values]


def _observe(airflow: Any, metadata_url: str, variant: Variant, settle_s: float, pg_pid: int | None) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(metadata_url, poolclass=NullPool)
    seen: dict[str, Any] = {}
    pg_before = sum(cpu_of(pg_pid)) if pg_pid else 0.0
    started = time.monotonic()
    stop_at = started + variant.cap_s
    next_note = started + 15
    try:
        for name in airflow.processors:
            airflow.start_component(name)
        with engine.connect() as conn:
            while time.monotonic() < stop_at:
                time.sleep(1.0)
                now = round(time.monotonic() - started, 1)
                variant.load_during.append(os.getloadavg()[0])
                for component in airflow.components.values():
                    if not component.running():
                        raise RuntimeError(
                            f"{component.name} exited; see {component.log_path}:\n{component.log_tail()}"
                        )
                rows = conn.execute(
                    text(
                        "SELECT bundle_name, relative_fileloc, count(*) FILTER (WHERE NOT is_stale), "
                        "max(last_parse_duration), max(last_parsed_time) FROM dag GROUP BY 1, 2"
                    )
                ).all()
                errors = conn.execute(
                    text("SELECT count(*) FROM import_error WHERE stacktrace LIKE :t"),
                    {"t": f"%{IMPORT_TIMEOUT_TEXT}%"},
                ).scalar_one()
                conn.commit()
                variant.import_timeouts = max(variant.import_timeouts, int(errors))
                listed = 0
                for bundle, fileloc, live, duration, parsed_at in rows:
                    listed += int(live)
                    key = f"{bundle}/{fileloc}"
                    if parsed_at is not None and duration is not None and seen.get(key) != parsed_at:
                        seen[key] = parsed_at
                        variant.parses_s.setdefault(key, []).append(round(float(duration), 2))
                if not variant.timeline or variant.timeline[-1][1] != listed:
                    variant.timeline.append((now, listed))
                    if listed and variant.first_listed_s is None:
                        variant.first_listed_s = now
                if listed >= variant.streams and variant.all_listed_s is None:
                    variant.all_listed_s = now
                    stop_at = min(stop_at, time.monotonic() + settle_s)
                    _log(f"{variant.label}: all {variant.streams} DAGs listed after {now:.0f} s")
                if time.monotonic() >= next_note:
                    next_note += 15
                    _log(
                        f"{variant.label}: {now:.0f} s, {listed}/{variant.streams} listed, load {os.getloadavg()[0]:.1f}"
                    )
        variant.observed_s = round(time.monotonic() - started, 1)
        for name in airflow.processors:  # CPU before stopping: the managers are still alive
            manager, children = cpu_of(airflow.components[name].pid)
            variant.processors.append(
                ProcessorCpu(name.removeprefix("dag-processor-"), round(manager, 1), round(children, 1))
            )
        if pg_pid:
            variant.postgres_cpu_s = round(sum(cpu_of(pg_pid)) - pg_before, 1)
    finally:
        engine.dispose()
        airflow.stop()
    for cpu in variant.processors:
        log = airflow.log_dir / ("dag-processor.log" if variant.bundles == 1 else f"dag-processor-{cpu.bundle}.log")
        cpu.stalls_s = _manager_stalls(log)
    variant.processor_kills = len(_processor_kills(airflow.log_dir))


def run(args: argparse.Namespace) -> dict[str, Any]:
    from factory.db import dispose_engines
    from factory.operations.provisioning.bootstrap import Split, bootstrap
    from simulators.ecosystem import generate_ecosystem
    from simulators.local_airflow import LocalAirflow
    from simulators.postgres import start_postgres

    begun = time.monotonic()
    files = files_for(args.streams, args.streams_per_file)
    root = Path(args.workdir).resolve() if args.workdir else Path(tempfile.mkdtemp(prefix="yellow-bundle-bench-"))
    env = environment()
    server = room_for_locks(start_postgres(root / "pgdata"), args.streams)
    variants: list[Variant] = []
    try:
        eco = generate_ecosystem(1, args.streams, seed=args.seed)
        template_url = server.create_database("bundle_meta_template")
        template = LocalAirflow(
            root / "template",
            template_url,
            root / "template" / "dags",
            env=_airflow_env("unused", 2),
            raise_parse_limits=False,
            log=_log,
        )
        template.log_dir.mkdir(parents=True, exist_ok=True)
        template.migrate(timeout=600)
        config = effective_config(template)
        t = time.monotonic()
        bootstrap(eco, server.create_database("bundle_config_base"), root / "base_dags", split=Split(files=1))
        dispose_engines()
        _log(f"wrote {args.streams} rows in {time.monotonic() - t:.0f} s; {files} files of {args.streams_per_file}")
        prepared = []
        for b in [1, *args.bundles]:
            config_url = server.create_database(f"bundle_config_b{b}", template="bundle_config_base")
            metadata_url = server.create_database(f"bundle_meta_b{b}", template="bundle_meta_template")
            bootstrap(eco, config_url, root / f"b{b}" / "dags", split=Split(files=files, bundles=b))
            prepared.append((b, config_url, metadata_url))
        dispose_engines()
        for b, config_url, metadata_url in prepared:
            airflow = LocalAirflow(
                root / f"b{b}" / "airflow",
                metadata_url,
                root / f"b{b}" / "dags",
                env=_airflow_env(config_url, 2),
                raise_parse_limits=False,
                log=_log,
                bundles=b,
            )
            airflow.log_dir.mkdir(parents=True, exist_ok=True)
            variant = Variant(b, files, args.streams, args.cap)
            _log(f"measuring {variant.label} (cap {args.cap:.0f} s) …")
            _observe(airflow, metadata_url, variant, args.settle, server.pid)
            variants.append(variant)
    finally:
        dispose_engines()
        server.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    env["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return {
        "streams": args.streams,
        "streams_per_file": args.streams_per_file,
        "files": files,
        "environment": env,
        "airflow_config": config,
        "total_s": round(time.monotonic() - begun, 1),
        "command": command_line(args),
        "variants": [asdict(v) for v in variants],
    }


# ---- the report ------------------------------------------------------------------------------


def _spread(values: list[float]) -> str:
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}" if values else "-"


def _variant(data: dict[str, Any]) -> Variant:
    fields = {k: v for k, v in data.items() if k != "processors"}
    variant = Variant(**fields)
    variant.processors = [ProcessorCpu(**p) for p in data["processors"]]
    return variant


def report(result: dict[str, Any]) -> str:
    env, cfg = result["environment"], result["airflow_config"]
    variants = [_variant(v) for v in result["variants"]]
    n = result["streams"]
    lines = [
        SECTION,
        "",
        f"Measured {env['date']} on {env['machine']}; Python {env['python']}, Airflow {env['airflow']}, PostgreSQL "
        f"(embedded). One platform of **{n:,} streams** in {result['files']} files of {result['streams_per_file']}; "
        "each variant: a copy of one config database bootstrapped with its bundle count, a fresh metadata database, "
        "and only DAG processors (no scheduler, no API server), all started at once, with Airflow's default limits: "
        f"`dagbag_import_timeout` {cfg.get('core.dagbag_import_timeout')} s, `dag_file_processor_timeout` "
        f"{cfg.get('dag_processor.dag_file_processor_timeout')} s, `parsing_processes` "
        f"{cfg.get('dag_processor.parsing_processes')} per DAG processor, `min_file_process_interval` "
        f"{cfg.get('dag_processor.min_file_process_interval')} s. Load average (1, 5, 15 min) at the start "
        f"{', '.join(map(str, env['load_at_start']))}, at the end {', '.join(map(str, env['load_at_end']))}; "
        f"the run took {result['total_s'] / 60:.1f} min.",
        "",
        "| variant | first listed | all listed | last_parse_duration per file, s (min / median / max) | timeouts: import / killed | manager stalls, s (longest, sum) | CPU s: managers (own) | CPU s: file processors | CPU s: PostgreSQL | load avg (1 min) |",
        "|---|---:|---:|---|---|---|---|---|---:|---|",
    ]
    for v in variants:
        stalls = [s for p in v.processors for s in p.stalls_s]
        lines.append(
            f"| {v.label} | {v.first_listed_s or '-'} s | "
            + (f"{v.all_listed_s:.0f} s" if v.all_listed_s is not None else f"not within {v.cap_s:.0f} s")
            + f" | {_spread(v.all_parses)} | {v.import_timeouts} / {v.processor_kills} | "
            + (f"{max(stalls):.0f}, {sum(stalls):.0f}" if stalls else "none")
            + f" | {' + '.join(f'{p.manager_s:.0f}' for p in v.processors)} | "
            + f"{' + '.join(f'{p.file_processors_s:.0f}' for p in v.processors)} | {v.postgres_cpu_s:.0f} | "
            + (f"{statistics.mean(v.load_during):.1f} (max {max(v.load_during):.1f})" if v.load_during else "-")
            + " |"
        )
    one = variants[0]
    for v in variants[1:]:
        if one.all_listed_s and v.all_listed_s:
            ratio = one.all_listed_s / v.all_listed_s
            met = ratio >= TARGET_SPEEDUP and not (v.import_timeouts or v.processor_kills)
            lines += ["", f"{v.label}: all listed **{ratio:.2f}x** sooner than one DAG processor "
                      f"(target {TARGET_SPEEDUP}x, no timeouts: {'met' if met else 'not met'})."]  # fmt: skip
    lines += ["", "Reproduce:", "", "```bash", result["command"], "```"]
    return "\n".join(lines) + "\n"


def command_line(args: argparse.Namespace) -> str:
    parts = [
        "python -m simulators.bundle_bench",
        f"--streams {args.streams}",
        "--bundles " + " ".join(map(str, args.bundles)),
    ]
    if args.streams_per_file != DEFAULT_STREAMS_PER_FILE:
        parts.append(f"--streams-per-file {args.streams_per_file}")
    parts += [f"--cap {args.cap:g}", f"--settle {args.settle:g}"]
    return " ".join([*parts, "--write-docs"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m simulators.bundle_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--streams", type=int, default=20000)
    p.add_argument("--streams-per-file", type=int, default=DEFAULT_STREAMS_PER_FILE)
    p.add_argument("--bundles", type=int, nargs="+", default=[2], help="bundle counts to compare with one (default 2)")
    p.add_argument("--cap", type=float, default=600.0, help="seconds per variant at most")
    p.add_argument("--settle", type=float, default=30.0, help="seconds to keep watching once all are listed")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--json", metavar="FILE", help="also save the result as JSON")
    p.add_argument("--from-json", metavar="FILE", help="run nothing: report a saved result")
    p.add_argument("--write-docs", action="store_true", help=f"write the section into docs/{DOCS_PATH.name}")
    args = p.parse_args(argv)
    if any(b < 2 for b in args.bundles):
        p.error("--bundles: each count at least 2 (one DAG processor is always run)")
    result = json.loads(Path(args.from_json).read_text()) if args.from_json else run(args)
    if args.json and not args.from_json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    section = report(result)
    print(section)
    if args.write_docs:
        write_section(SECTION, section, notes_mark=NOTES_MARK)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
