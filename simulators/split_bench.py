"""Benchmark: one factory file against a platform split over K files, in a real Airflow DAG processor.

Issue 12 asks whether splitting a large platform (factory/split.py) gets its DAGs into Airflow
sooner and keeps every file inside Airflow's parse limits. For each variant, in one run and on
the same generated platform of ``--streams`` streams:

1. bootstrap the platform into a fresh config database and a fresh dags folder, as 1 file or K
   (the rows are written once and copied: bootstrap writes row by row); a platform never parsed
   starts settled (each file builds only its own streams); ``--settled`` also marks it so when
   the copy has parse history, where ``bootstrap --files K`` would hand over from one file;
2. give it a fresh Airflow metadata database (a copy of one migrated once for the run);
3. start Airflow's ``dag-processor`` alone (the part that parses; no scheduler or API server to
   compete for the CPUs) with Airflow's DEFAULT limits: ``dagbag_import_timeout`` 30 s,
   ``dag_file_processor_timeout`` 50 s, ``parsing_processes`` 2, ``min_file_process_interval`` 30 s;
4. poll Airflow's metadata database every second: the ``dag`` table (the DAGs that are not stale
   are what ``GET /api/v2/dags`` lists), its per-file ``last_parse_duration`` (what the DAG
   processor measured for the file's last parse, also the REST field), and ``import_error``;
   the processor's log gives the files it killed for running past ``dag_file_processor_timeout``;
5. stop at the first listing of all N DAGs plus ``--settle`` seconds (later parses of each file,
   nothing changed), or at ``--cap`` seconds, whichever comes first; stop Airflow; next variant.

The clock starts when the dag-processor process is started, so it includes Airflow's own start.

    python -m simulators.split_bench --streams 20000 --files 20 40 --cap 600 --one-file-cap 120 --settle 30 --settled --write-docs
    python -m simulators.split_bench --streams 2000 --files 2 --cap 120 --json   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform as platform_mod
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factory.split import DEFAULT_STREAMS_PER_FILE, MAX_FILES, files_for
from simulators.bench_docs import DOCS_PATH, write_section

SECTION = "## Split factory files"
#: Hand-written notes after this line survive ``--write-docs`` (the generated part above is replaced).
NOTES_MARK = "<!-- split_bench: notes below are kept by --write-docs -->"
#: Airflow's defaults, kept on purpose (issue 12: the limits production runs with).
AIRFLOW_DEFAULTS = {
    "core.dagbag_import_timeout": "30",
    "dag_processor.dag_file_processor_timeout": "50",
    "dag_processor.parsing_processes": "2",
    "dag_processor.min_file_process_interval": "30",
}
TARGET_FILE_S = 10.0
TARGET_SPEEDUP = 2.0
IMPORT_TIMEOUT_TEXT = "DagBag import timeout"
PROCESSOR_TIMEOUT_TEXT = "exceeding the timeout"


def _log(message: str) -> None:
    print(f"[split-bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# ---- the result model ------------------------------------------------------------------------


@dataclass
class FileResult:
    """One factory file as Airflow saw it: its DAGs and each parse duration it reported."""

    name: str
    dags: int = 0
    #: Seconds after the start when the file's DAGs were first listed.
    first_listed_s: float | None = None
    #: ``last_parse_duration`` of each parse that stored DAGs, in order (the first is the cold parse).
    parses_s: list[float] = field(default_factory=list)
    #: Import errors recorded for the file, as (seconds after start, first line of the error).
    errors: list[tuple[float, str]] = field(default_factory=list)
    import_timeouts: int = 0
    processor_timeouts: int = 0

    @property
    def first_parse_s(self) -> float | None:
        return self.parses_s[0] if self.parses_s else None

    @property
    def timed_out(self) -> bool:
        return bool(self.import_timeouts or self.processor_timeouts)


@dataclass
class VariantResult:
    """One variant (1 file or K files) of the same platform, measured from the dag-processor's start."""

    files: int
    streams: int
    cap_s: float
    #: The layout was marked settled before the start (no hand-over from the one file; see --settled).
    settled: bool = False
    #: Seconds until every one of the N DAGs was listed (not stale); None: not within ``cap_s``.
    all_listed_s: float | None = None
    first_listed_s: float | None = None
    #: (seconds, DAGs listed) each time the count changed.
    timeline: list[tuple[float, int]] = field(default_factory=list)
    observed_s: float = 0.0
    bootstrap_s: float = 0.0
    per_file: list[FileResult] = field(default_factory=list)
    load_during: list[float] = field(default_factory=list)
    #: How long the DAG processor's manager was deaf each time its heartbeat stalled (it writes
    #: every parsed DAG to the metadata database itself, in its one process, between polls of its children).
    manager_stalls_s: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.files == 1:
            return "one file"
        return f"{self.files} files" + (" (settled)" if self.settled else "")

    @property
    def streams_per_file(self) -> int:
        return -(-self.streams // self.files)

    @property
    def any_timeout(self) -> bool:
        return any(f.timed_out for f in self.per_file)

    @property
    def first_parses(self) -> list[float]:
        return [f.first_parse_s for f in self.per_file if f.first_parse_s is not None]

    @property
    def later_parses(self) -> list[float]:
        return [s for f in self.per_file for s in f.parses_s[1:]]

    @property
    def slowest_parse_s(self) -> float | None:
        every = [s for f in self.per_file for s in f.parses_s]
        return max(every) if every else None

    @property
    def every_file_parsed(self) -> bool:
        return bool(self.per_file) and all(f.parses_s for f in self.per_file)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            label=self.label,
            streams_per_file=self.streams_per_file,
            any_timeout=self.any_timeout,
            slowest_parse_s=self.slowest_parse_s,
        )
        return data


@dataclass
class BenchResult:
    streams: int
    seed: int
    variants: list[VariantResult]
    environment: dict[str, Any]
    airflow_config: dict[str, str]
    total_s: float = 0.0
    #: The command that reproduces the run (what the report shows).
    command: str = ""

    @property
    def one_file(self) -> VariantResult | None:
        return next((v for v in self.variants if v.files == 1), None)

    @property
    def splits(self) -> list[VariantResult]:
        return [v for v in self.variants if v.files > 1]

    @property
    def one_file_never_lists(self) -> bool:
        """The one file stored no DAG within its cap and every parse it tried timed out: it never will."""
        one = self.one_file
        if one is None or one.all_listed_s is not None or not one.per_file:
            return False
        return all(not f.parses_s and f.timed_out and f.import_timeouts + f.processor_timeouts >= len(f.errors)
                   for f in one.per_file)  # fmt: skip

    def speedup(self, split: VariantResult) -> tuple[float | None, bool]:
        """One file's listing time over the split's, and whether it is a lower bound (one file capped)."""
        one = self.one_file
        if one is None or split.all_listed_s is None:
            return None, False
        if one.all_listed_s is None:
            return one.observed_s / split.all_listed_s, True
        return one.all_listed_s / split.all_listed_s, False

    def targets(self) -> list[tuple[str, str, bool]]:
        """(target, measured, met) for each split variant."""
        rows = []
        for split in self.splits:
            slowest = split.slowest_parse_s
            parsed = split.every_file_parsed and slowest is not None
            rows.append(
                (
                    f"{split.label}: every file's last_parse_duration under {TARGET_FILE_S:.0f} s",
                    f"slowest {slowest:.1f} s" if slowest is not None else "no file stored its DAGs",
                    parsed and slowest is not None and slowest < TARGET_FILE_S and not split.any_timeout,
                )
            )
            ratio, bound = self.speedup(split)
            never = self.one_file_never_lists
            if ratio is None:
                measured = "split not all listed"
            elif never:
                measured = f"one file never listed (every parse timed out); {split.label} listed all in {split.all_listed_s:.0f} s"
            else:
                measured = f"{'at least ' if bound else ''}{ratio:.1f}x sooner"
            met = ratio is not None and (ratio >= TARGET_SPEEDUP or never)
            rows.append(
                (f"{split.label}: all DAGs listed at least {TARGET_SPEEDUP:.0f}x sooner than one file", measured, met)
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "streams": self.streams,
            "seed": self.seed,
            "total_s": self.total_s,
            "environment": self.environment,
            "airflow_config": self.airflow_config,
            "command": self.command,
            "variants": [v.to_dict() for v in self.variants],
            "targets": [{"target": t, "measured": m, "met": ok} for t, m, ok in self.targets()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchResult:
        """A result saved with ``--json``, to render its report again (``--from-json``)."""
        variants = []
        for raw in data["variants"]:
            fields = {k: v for k, v in raw.items() if k in VariantResult.__dataclass_fields__ and k != "per_file"}
            variant = VariantResult(**fields)
            variant.timeline = [(float(t), int(n)) for t, n in variant.timeline]
            for f in raw.get("per_file", []):
                entry = FileResult(**{k: v for k, v in f.items() if k in FileResult.__dataclass_fields__})
                entry.errors = [(float(at), str(text)) for at, text in entry.errors]
                variant.per_file.append(entry)
            variants.append(variant)
        return cls(
            int(data["streams"]),
            int(data["seed"]),
            variants,
            dict(data["environment"]),
            dict(data["airflow_config"]),
            float(data.get("total_s", 0.0)),
            str(data.get("command", "")),
        )


# ---- running one variant ---------------------------------------------------------------------


@dataclass
class Prepared:
    """A variant ready to measure: its rows, files, metadata database and Airflow home."""

    files: int
    config_url: str
    metadata_url: str
    dags: Path
    home: Path
    file_names: list[str]
    bootstrap_s: float
    settled: bool = False


def _airflow_env(config_url: str, parsing_processes: int) -> dict[str, str]:
    return {
        "YELLOW_DB_URL": config_url,
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": str(parsing_processes),
        # local_airflow.py shortens these for tests; Airflow's defaults here.
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": AIRFLOW_DEFAULTS[
            "dag_processor.min_file_process_interval"
        ],
        "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "30",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }


def effective_config(airflow: Any) -> dict[str, str]:
    """The limits a component of ``airflow`` really runs with, asked of Airflow in its environment."""
    code = (
        "import json\nfrom airflow.configuration import conf\n"
        f"print(json.dumps({{k: conf.get(*k.split('.')) for k in {list(AIRFLOW_DEFAULTS)!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        env=airflow.environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if out.returncode != 0:
        raise RuntimeError(f"could not read Airflow's configuration:\n{out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _short_error(text: str) -> str:
    """The line that says what went wrong, with this run's working folders left out of its paths."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    hit = next((line for line in lines if IMPORT_TIMEOUT_TEXT in line), None)
    return re.sub(r"/\S*/(?=[^/\s]+\.py\b)", "", hit or (lines[-1] if lines else ""))[:200]


def observe(
    prepared: Prepared, streams: int, parsing_processes: int, cap_s: float, settle_s: float, poll_s: float = 1.0
) -> VariantResult:
    """Start the dag-processor on ``prepared`` and watch Airflow's metadata until done (see the module
    docstring); the processor is stopped (its whole process group, by pid) before this returns."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from simulators.local_airflow import LocalAirflow

    result = VariantResult(prepared.files, streams, cap_s, prepared.settled, bootstrap_s=prepared.bootstrap_s)
    files = {name: FileResult(name) for name in prepared.file_names}
    airflow = LocalAirflow(
        prepared.home,
        prepared.metadata_url,
        prepared.dags,
        env=_airflow_env(prepared.config_url, parsing_processes),
        raise_parse_limits=False,
        log=_log,
    )
    airflow.log_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(prepared.metadata_url, poolclass=NullPool)
    seen_parse: dict[str, Any] = {}
    seen_errors: set[tuple[str, Any]] = set()
    listed = -1
    started = time.monotonic()
    stop_at = started + cap_s
    next_note = started + 15
    try:
        airflow.start_component("dag-processor")
        with engine.connect() as conn:
            while True:
                time.sleep(poll_s)
                now = time.monotonic() - started
                result.load_during.append(os.getloadavg()[0])
                component = airflow.components["dag-processor"]
                if not component.running():
                    raise RuntimeError(f"the dag-processor exited; see {component.log_path}:\n{component.log_tail()}")
                try:
                    rows = conn.execute(
                        text(
                            "SELECT relative_fileloc, count(*) FILTER (WHERE NOT is_stale), "
                            "max(last_parse_duration), max(last_parsed_time) FROM dag GROUP BY relative_fileloc"
                        )
                    ).all()
                    errors = conn.execute(text("SELECT filename, timestamp, stacktrace FROM import_error")).all()
                    conn.commit()
                except Exception as exc:  # the schema is there from the start; anything else is a real failure
                    raise RuntimeError(f"could not read Airflow's metadata: {exc}") from exc
                count = 0
                for name, live, duration, parsed_at in rows:
                    count += int(live)
                    entry = files.setdefault(name, FileResult(name))
                    entry.dags = int(live)
                    if live and entry.first_listed_s is None:
                        entry.first_listed_s = round(now, 1)
                    if parsed_at is not None and seen_parse.get(name) != parsed_at and duration is not None:
                        seen_parse[name] = parsed_at
                        entry.parses_s.append(round(float(duration), 2))
                for name, stamp, stacktrace in errors:
                    if (name, stamp) in seen_errors:
                        continue
                    seen_errors.add((name, stamp))
                    entry = files.setdefault(name, FileResult(name))
                    entry.errors.append((round(now, 1), _short_error(stacktrace)))
                    entry.import_timeouts += IMPORT_TIMEOUT_TEXT in (stacktrace or "")
                if count != listed:
                    listed = count
                    result.timeline.append((round(now, 1), count))
                    if count and result.first_listed_s is None:
                        result.first_listed_s = round(now, 1)
                if count >= streams and result.all_listed_s is None:
                    result.all_listed_s = round(now, 1)
                    stop_at = min(stop_at, started + now + settle_s)
                    _log(f"{result.label}: all {streams} DAGs listed after {now:.0f} s; watching {settle_s:.0f} s more")
                if time.monotonic() >= next_note:
                    next_note += 15
                    parsed = sum(1 for f in files.values() if f.parses_s)
                    _log(
                        f"{result.label}: {now:.0f} s, {count}/{streams} DAGs listed, {parsed}/{len(files)} files "
                        f"parsed, {sum(len(f.errors) for f in files.values())} import error(s), "
                        f"load {os.getloadavg()[0]:.1f}"
                    )
                if time.monotonic() >= stop_at:
                    break
        result.observed_s = round(time.monotonic() - started, 1)
    finally:
        engine.dispose()
        airflow.stop()
    killed = _processor_kills(airflow.log_dir)
    result.manager_stalls_s = _manager_stalls(airflow.log_dir / "dag-processor.log")
    alarms = _import_alarms(airflow.log_dir)
    for name, entry in files.items():
        entry.processor_timeouts = sum(1 for line in killed if name in line)
        # A file processor killed before the manager read its result leaves no import_error row.
        entry.import_timeouts = max(entry.import_timeouts, alarms.get(name, 0))
    result.per_file = sorted(files.values(), key=lambda f: _file_index(f.name))
    if result.all_listed_s is None:
        _log(f"{result.label}: NOT all {streams} DAGs listed within the {cap_s:.0f} s cap ({listed} listed)")
    return result


def _processor_kills(log_dir: Path) -> list[str]:
    """The manager's lines about processors it killed for running past ``dag_file_processor_timeout``."""
    lines = []
    for path in log_dir.rglob("*.log"):
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        lines += [line for line in text.splitlines() if PROCESSOR_TIMEOUT_TEXT in line and "Killing" in line]
    return lines


def _import_alarms(log_dir: Path) -> dict[str, int]:
    """Per file, how often its processor's own log says ``dagbag_import_timeout`` fired."""
    found: dict[str, int] = {}
    for path in (log_dir / "dag_processor").rglob("*.log"):
        if "latest" in path.parts:  # a link to the dated folder: counted there
            continue
        try:
            count = path.read_text(errors="replace").count("Process timed out, PID")
        except OSError:
            continue
        if count:
            found[path.name.removesuffix(".log")] = found.get(path.name.removesuffix(".log"), 0) + count
    return found


def _manager_stalls(log_path: Path) -> list[float]:
    """``Heartbeat recovered after N seconds`` of the processor's log: the manager was busy that long."""
    import re

    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return []
    return [float(m) for m in re.findall(r"Heartbeat recovered after ([0-9.]+) seconds", text)]


def _file_index(name: str) -> int:
    stem = Path(name).stem
    tail = stem.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else 0


# ---- the whole run ---------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    import airflow

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform_mod.machine()}, {os.cpu_count()} CPU(s), {platform_mod.system()} {platform_mod.release()}",
        "python": platform_mod.python_version(),
        "airflow": airflow.__version__,
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run(args: argparse.Namespace) -> BenchResult:
    from factory.db import dispose_engines
    from factory.operations.provisioning.bootstrap import Split, bootstrap
    from simulators.ecosystem import generate_ecosystem
    from simulators.local_airflow import LocalAirflow
    from simulators.postgres import start_postgres

    begun = time.monotonic()
    counts = [1, *args.files]
    root = Path(args.workdir).resolve() if args.workdir else Path(tempfile.mkdtemp(prefix="yellow-split-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    _log(f"working in {root}; variants: {', '.join('1 file' if k == 1 else f'{k} files' for k in counts)}")
    env = environment()
    server = room_for_locks(start_postgres(root / "pgdata"), args.streams)
    prepared: list[Prepared] = []
    results: list[VariantResult] = []
    try:
        _log(f"generating a platform of {args.streams} streams (seed {args.seed}) …")
        eco = generate_ecosystem(1, args.streams, seed=args.seed)
        template_url = server.create_database("split_meta_template")
        template = LocalAirflow(
            root / "template",
            template_url,
            root / "template" / "dags",
            env=_airflow_env("unused", args.parsing_processes),
            raise_parse_limits=False,
            log=_log,
        )
        template.log_dir.mkdir(parents=True, exist_ok=True)
        template.migrate(timeout=600)
        config = effective_config(template)
        _log(f"Airflow's limits in the benchmark: {config}")
        # Rows are written once (bootstrap writes row by row: minutes at 20,000); each variant gets
        # a copy of that database, bootstrapped again with its K into its own new dags folder, which
        # leaves it exactly as a first `bootstrap --files K` would (layout generation 1, from 1 file).
        t = time.monotonic()
        bootstrap(eco, server.create_database("split_config_base"), root / "base_dags", split=Split(files=1))
        dispose_engines()
        _log(f"wrote {args.streams} rows in {time.monotonic() - t:.0f} s")
        for k in counts:
            base = root / f"k{k}"
            config_url = server.create_database(f"split_config_k{k}", template="split_config_base")
            metadata_url = server.create_database(f"split_meta_k{k}", template="split_meta_template")
            t = time.monotonic()
            outcome = bootstrap(eco, config_url, base / "dags", split=Split(files=k))
            spent = time.monotonic() - t
            if args.settled and k > 1:
                mark_settled(config_url, outcome[0].platform)
            names = sorted(p.name for p in (base / "dags").glob("*.py"))
            _log(f"bootstrapped the copy as {len(names)} file(s) in {spent:.1f} s: {outcome[0].layout}")
            prepared.append(
                Prepared(k, config_url, metadata_url, base / "dags", base / "airflow", names, spent, args.settled)
            )
        dispose_engines()  # no session of ours stays open while Airflow runs
        for p in prepared:
            cap = args.one_file_cap if p.files == 1 else args.cap
            _log(f"measuring {'one file' if p.files == 1 else f'{p.files} files'} (cap {cap:.0f} s) …")
            results.append(observe(p, args.streams, args.parsing_processes, cap, args.settle))
    finally:
        dispose_engines()
        server.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            _log(f"kept {root} (logs under k*/airflow/logs)")
    env["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return BenchResult(args.streams, args.seed, results, env, config, round(time.monotonic() - begun, 1))


def room_for_locks(server: Any, streams: int) -> Any:
    """The server, restarted with room for ``bootstrap``'s locks when ``streams`` needs it.

    ``bootstrap`` takes one advisory lock per stream key in its one transaction
    (factory/store.lock_keys); PostgreSQL's shared lock table holds ``max_locks_per_transaction``
    (64 by default) times ``max_connections`` (100) entries, so about 6,000 keys fail with
    "out of shared memory"."""
    if streams <= 4000:
        return server
    from sqlalchemy import create_engine, text

    from simulators.postgres import start_postgres

    engine = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"ALTER SYSTEM SET max_locks_per_transaction = {max(64, streams // 50)}"))
    finally:
        engine.dispose()
    server.stop()
    _log(f"restarted PostgreSQL with max_locks_per_transaction {max(64, streams // 50)} for {streams} stream keys")
    return start_postgres(server.data_dir)


def mark_settled(config_url: str, platform: str) -> None:
    """Record the layout as if its hand-over were done: each file builds only its own streams from
    the first parse. Splitting a platform with parse history leaves it moving from 1 file
    (factory/split.py), so file 0 builds every stream until the others have parsed once; a platform
    never parsed starts settled like this by itself."""
    from sqlalchemy import text

    from factory.db import get_engine
    from factory.names import platform_slug
    from factory.tables import LAYOUT_SUFFIX

    with get_engine(config_url).begin() as conn:
        conn.execute(text(f'UPDATE "{platform_slug(platform)}{LAYOUT_SUFFIX}" SET previous_files = files'))


# ---- the report ------------------------------------------------------------------------------


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def _seconds(value: float | None, cap: float) -> str:
    return f"{value:.0f} s" if value is not None else f"not within {cap:.0f} s"


def _load(values: list[float]) -> str:
    return f"{statistics.mean(values):.1f} (max {max(values):.1f})" if values else "-"


def report(result: BenchResult, command: str) -> str:
    """The Markdown section: what ran, one row per variant, one row per file, the targets."""
    env, n = result.environment, result.streams
    cfg = result.airflow_config
    splits = result.splits
    layout = (
        "each split variant starts from a settled layout (`--settled`: every file builds only its own streams)"
        if splits and all(v.settled for v in splits)
        else "each split variant starts as a first `bootstrap --files K` leaves it: moving from one file to K, so "
        "until a file has parsed once under the new layout, file 0 also builds its streams (factory/split.py), "
        "and at its first parse file 0 builds the whole platform"
    )
    lines = [
        SECTION,
        "",
        f"Measured {env['date']} on {env['machine']}; Python {env['python']}, Airflow {env['airflow']}, "
        f"PostgreSQL (embedded, Unix socket). One platform of **{n:,} streams** (generated, seed {result.seed}). "
        "The rows are written once; each variant gets a copy of that database, bootstrapped again with its "
        "file count into a new dags folder, a fresh Airflow metadata database and its own `airflow dag-processor` "
        "(alone: no scheduler or API server), with Airflow's default limits: `dagbag_import_timeout` "
        f"{cfg.get('core.dagbag_import_timeout')} s, `dag_file_processor_timeout` "
        f"{cfg.get('dag_processor.dag_file_processor_timeout')} s, `parsing_processes` "
        f"{cfg.get('dag_processor.parsing_processes')} (this machine has {os.cpu_count()} CPUs), "
        f"`min_file_process_interval` {cfg.get('dag_processor.min_file_process_interval')} s; {layout}. "
        f"The variants ran one after the other; the whole run took {result.total_s / 60:.1f} min.",
        "",
        "Clock: from starting the dag-processor process (Airflow's own start included). *Listed*: the DAGs "
        "Airflow's metadata database holds as not stale in its `dag` table, polled every second (what "
        "`GET /api/v2/dags` lists). *Parse*: each file's `last_parse_duration` as the DAG processor stored "
        "it (the REST field of the same name), once per parse that stored DAGs; it runs from the file "
        "processor's start until the manager collects its result, so it includes any wait for the manager. "
        "*Manager stalls* (those it logged): the DAG processor's manager writes each parsed file's DAGs to the metadata database "
        "itself, in its one process, and hears nothing from the file processors meanwhile; its log reports "
        "each stall of its heartbeat (`Heartbeat recovered after N seconds`). *Timeouts*: import errors saying "
        "`DagBag import timeout`, and the manager's log lines about killing a file processor past "
        "`dag_file_processor_timeout` (a processor that finished while the manager was busy counts too).",
        "",
        f"| variant | streams per file | first DAGs listed | all {n:,} listed | first parse per file, s "
        "(min / median / max) | later parses, s | timeouts: import / killed | manager stalls, s (longest, sum) "
        "| load avg (1 min) while measured |",
        "|---|---:|---:|---:|---|---|---|---|---|",
    ]
    for v in result.variants:
        imports = sum(f.import_timeouts for f in v.per_file)
        kills = sum(f.processor_timeouts for f in v.per_file)
        stalls = f"{max(v.manager_stalls_s):.0f}, {sum(v.manager_stalls_s):.0f}" if v.manager_stalls_s else "none"
        lines.append(
            f"| {v.label} | {v.streams_per_file:,} | {_seconds(v.first_listed_s, v.observed_s)} "
            f"| {_seconds(v.all_listed_s, v.observed_s)} | {_spread(v.first_parses)} | {_spread(v.later_parses)} "
            f"| {imports} / {kills} | {stalls} | {_load(v.load_during)} |"
        )
    lines += [
        "",
        "Per file: when its DAGs were first listed, every `last_parse_duration` seen (in order), and what went wrong:",
        "",
        "| variant | file | DAGs listed at the end | first listed | parses, s | import errors, timeouts |",
        "|---|---|---:|---:|---|---|",
    ]
    for v in result.variants:
        for f in v.per_file:
            errors = "; ".join(f"{at:.0f} s: {text}" for at, text in f.errors[:3]) or "none"
            if len(f.errors) > 3:
                errors += f"; … {len(f.errors)} in all"
            if f.processor_timeouts:
                errors += f"; killed past dag_file_processor_timeout {f.processor_timeouts}x"
            parses = ", ".join(f"{s:.1f}" for s in f.parses_s) or "none stored"
            first = f"{f.first_listed_s:.0f} s" if f.first_listed_s is not None else "never"
            lines.append(f"| {v.label} | `{f.name}` | {f.dags:,} | {first} | {parses} | {errors} |")
    lines += ["", "Targets of issue 12:", "", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {'yes' if ok else 'no'} |" for t, m, ok in result.targets()]
    one = result.one_file
    if one is not None and one.all_listed_s is None:
        if result.one_file_never_lists:
            why = (
                f"none of its DAGs was listed within its {one.observed_s:.0f} s cap, and every parse it tried hit "
                "a timeout, so it never lists them: the split's speed-up is unbounded."
            )
        else:
            why = (
                f"not all {n:,} DAGs listed within its {one.observed_s:.0f} s cap, so the speed-up is a lower bound "
                "(the cap over the split's time)."
            )
        lines += ["", f"One file: {why}"]
    lines += [
        "",
        f"Load average (1, 5, 15 min) at the start: {', '.join(f'{x:.2f}' for x in env['load_at_start'])}"
        + (f"; at the end: {', '.join(f'{x:.2f}' for x in env['load_at_end'])}." if env.get("load_at_end") else "."),
        "",
        "Reproduce:",
        "",
        "```bash",
        command,
        "```",
        "",
    ]
    return "\n".join(lines)


# ---- command line ----------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m simulators.split_bench",
        description=__doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n", 1)[1].split("\n\n    python")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  python -m simulators.split_bench --streams 20000 --files 20 40 --one-file-cap 120 --settled --write-docs\n"
            "  python -m simulators.split_bench --streams 2000 --files 2 --cap 120 --json\n\n"
            "Progress goes to stderr; the Markdown section (or, with --json, the result) to stdout. "
            "Each variant's Airflow is stopped before the next starts. A variant whose DAGs are not all "
            "listed within --cap is reported as such (the one-file variant at large N is expected to be)."
        ),
    )
    p.add_argument("--streams", type=int, default=20000, help="streams on the platform (default 20000)")
    p.add_argument(
        "--files",
        type=int,
        nargs="+",
        metavar="K",
        help=f"split variant(s) to measure after the one-file variant, each K files; default: one variant at "
        f"--streams-per-file (factory default {DEFAULT_STREAMS_PER_FILE})",
    )
    p.add_argument(
        "--streams-per-file",
        type=int,
        default=DEFAULT_STREAMS_PER_FILE,
        help="when --files is not given: K = ceil(streams / this), as `yellowtui bootstrap` would choose",
    )
    p.add_argument(
        "--cap",
        type=float,
        default=600.0,
        help="seconds to wait for a split variant's DAGs to be listed (default 600)",
    )
    p.add_argument(
        "--one-file-cap",
        type=float,
        default=300.0,
        help="the same for the one-file variant (default 300; at 20,000 streams every parse of the one file "
        "hits the 30 s import timeout, so it never lists: the cap only bounds the wait)",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=60.0,
        help="seconds to keep watching after all DAGs are listed, for later parses (default 60)",
    )
    p.add_argument("--parsing-processes", type=int, default=2, help="Airflow's parsing_processes (default 2, its own)")
    p.add_argument(
        "--settled",
        action="store_true",
        help="start each split from a settled layout (each file builds only its own streams) even if the "
        "platform has parse history, where `bootstrap --files K` would hand over from one file "
        "(a platform never parsed starts settled anyway)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generated platform (default 0)")
    p.add_argument("--workdir", help="working directory (default: a new temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the working directory (databases, logs) afterwards")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of the Markdown section")
    p.add_argument(
        "--from-json",
        metavar="FILE",
        help="run nothing: render the report of a result saved with --json (e.g. to --write-docs it again)",
    )
    p.add_argument("--write-docs", action="store_true", help=f"write the section into docs/{DOCS_PATH.name}")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parsed and checked arguments: every mistake is reported before anything starts."""
    p = parser()
    args = p.parse_args(argv)
    if args.streams < 2:
        p.error("--streams must be at least 2 (a split needs a stream per file)")
    if args.streams_per_file < 1:
        p.error("--streams-per-file must be at least 1")
    if args.files is None:
        args.files = [files_for(args.streams, args.streams_per_file)]
        if args.files == [1]:
            p.error(
                f"{args.streams} streams fit one file at --streams-per-file {args.streams_per_file}; give --files K"
            )
    for k in args.files:
        if not 2 <= k <= min(MAX_FILES, args.streams):
            p.error(
                f"--files {k}: each K must be from 2 to {min(MAX_FILES, args.streams)} (the one file is always run)"
            )
    if len(set(args.files)) != len(args.files):
        p.error("--files: each K once")
    if args.cap <= 0 or args.one_file_cap <= 0 or args.settle < 0:
        p.error("--cap and --one-file-cap must be positive, --settle not negative")
    if args.parsing_processes < 1:
        p.error("--parsing-processes must be at least 1")
    return args


def command_line(args: argparse.Namespace) -> str:
    parts = [
        "python -m simulators.split_bench",
        f"--streams {args.streams}",
        "--files " + " ".join(map(str, args.files)),
    ]
    if args.cap != 600.0:
        parts.append(f"--cap {args.cap:g}")
    if args.one_file_cap != 300.0:
        parts.append(f"--one-file-cap {args.one_file_cap:g}")
    if args.settle != 60.0:
        parts.append(f"--settle {args.settle:g}")
    if args.settled:
        parts.append("--settled")
    if args.seed:
        parts.append(f"--seed {args.seed}")
    if args.parsing_processes != 2:
        parts.append(f"--parsing-processes {args.parsing_processes}")
    return " ".join([*parts, "--write-docs"])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        result = BenchResult.from_dict(json.loads(Path(args.from_json).read_text(encoding="utf-8")))
    else:
        result = run(args)
        result.command = command_line(args)
    section = report(result, result.command or command_line(args))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(section)
    if args.write_docs:
        write_section(SECTION, section, notes_mark=NOTES_MARK)
        _log(f"wrote the '{SECTION}' section of {DOCS_PATH}")
    _log(f"done in {result.total_s / 60:.1f} min; load average now {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
