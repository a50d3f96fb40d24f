"""Parse a DAG file the way Airflow's DAG processor does: a new process each time, a time limit.

Airflow 3 parses each file in a new child process with ``DagBag`` and gives the import
``dagbag_import_timeout`` seconds (30 by default); a file that raises or runs out of time loses
every DAG it produced. Measuring the factory anywhere else (a warm interpreter, a cached module)
would flatter it, so every parse here is a process of its own that times ``DagBag(path)`` alone
and reports the DAGs, the import errors and, for factory files, the loader's own ``LOAD_RESULT``
(source, rows, per-phase timings).

That process is a fresh ``python`` that imports Airflow first (the default: what the command
line and the benchmarks measure, a cold start), or a child forked from a warm parent that has
imported Airflow and nothing of the factory (``simulators.parse_server``; ``--warm`` here), which
is how the DAG processor itself starts one: either way the factory file is imported anew.

    python -m simulators.parse_loop --db URL --platform YellowLive --dags-folder ./dags --count 3
    python -m simulators.parse_loop --file ./dags/yellowlive_factory_dag.py --warm --count 5
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulators.parse_child import RESULT_MARKER
from simulators.parse_server import ProcessOutput, WarmParent

log = logging.getLogger("yellow.parse_loop")

DEFAULT_IMPORT_TIMEOUT_S = 30.0
#: Extra time the parent allows for interpreter start and the Airflow import before it kills the child
#: (a forked child, which needs none of it, is given the same).
STARTUP_GRACE_S = 60.0
_KEEP_RUNS = 1000
#: The warm parent :func:`parse_once` forks from when it is given none (:func:`use_warm_parent`).
_warm_parent: WarmParent | None = None


@dataclass
class ParseRun:
    """One parse in its own process: a fresh one, or one forked from a warm parent (``forked``)."""

    path: str
    started_at: str
    #: The whole parse process: interpreter start and Airflow import included in a fresh one,
    #: fork to exit in a forked one (its warm parent imported Airflow once, before).
    wall_ms: float
    parse_ms: float | None = None  # DagBag(path) alone: what the DAG processor's import timeout bounds
    serialize_ms: float | None = None
    airflow_import_ms: float | None = None  # next to nothing in a forked child: already imported
    dags: int = 0
    dag_ids: list[str] = field(default_factory=list)
    import_errors: dict[str, str] = field(default_factory=dict)
    #: ``LOAD_RESULT`` of each factory module parsed (outcomes left out except the failing ones).
    load_results: list[dict[str, Any]] = field(default_factory=list)
    returncode: int | None = None
    timed_out: bool = False
    stderr_tail: str = ""
    forked: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.import_errors

    @property
    def load_result(self) -> dict[str, Any] | None:
        """The first factory module's load result (a factory file has exactly one)."""
        return self.load_results[0] if self.load_results else None

    def summary(self) -> str:
        parts = [
            f"{self.dags} DAG(s)",
            f"parse {self.parse_ms:.0f} ms" if self.parse_ms is not None else "no parse",
            f"wall {self.wall_ms:.0f} ms",
        ]
        if self.load_result:
            lr = self.load_result
            parts.append(
                f"source {lr['source']}, {lr['errors']} stream error(s), "
                f"load {lr['load_ms']:.0f} / validate {lr['validate_ms']:.0f} / build {lr['build_ms']:.0f} ms"
            )
        if self.import_errors:
            parts.append(f"{len(self.import_errors)} IMPORT ERROR(S)")
        if self.timed_out:
            parts.append("TIMED OUT")
        return ", ".join(parts)

    def to_dict(self, *, with_dag_ids: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not with_dag_ids:
            data.pop("dag_ids")
        return data


# ---- the parent side -----------------------------------------------------------------------


def child_env(
    env: dict[str, str] | None = None, timeout: float = DEFAULT_IMPORT_TIMEOUT_S, dags_folder: Path | None = None
) -> dict[str, str]:
    """The environment of a parse: ours, plus ``env``, plus Airflow's import timeout."""
    merged = dict(os.environ)
    merged.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    merged["AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT"] = str(timeout)
    if dags_folder is not None:
        merged["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
    merged.update(env or {})
    return merged


def parse_once(
    path: str | Path,
    env: dict[str, str] | None = None,
    timeout: float = DEFAULT_IMPORT_TIMEOUT_S,
    *,
    serialize: bool = False,
    parent: WarmParent | None = None,
) -> ParseRun:
    """Parse ``path`` (a file or a folder) with ``DagBag`` in its own process.

    That process is a child forked from ``parent`` (or from the warm parent installed with
    :func:`use_warm_parent`), as Airflow's DAG processor forks one per file, when that parent
    serves the parse's AIRFLOW_HOME; otherwise a fresh interpreter. ``timeout`` becomes the
    child's ``dagbag_import_timeout`` (so a slow import turns into an import error, as in Airflow);
    the child is killed outright if it is still running :data:`STARTUP_GRACE_S` seconds after that.
    """
    path = Path(path).resolve()
    folder = path if path.is_dir() else path.parent
    merged = child_env(env, timeout, folder)
    parent = parent or _warm_parent
    warm = parent if parent is not None and parent.serves(merged) else None
    if warm is not None:
        warm.start()  # its Airflow import is no part of this parse
    started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    began = time.perf_counter()
    kill_after = timeout + STARTUP_GRACE_S
    if warm is not None:
        output = warm.parse(str(path), serialize=serialize, env=merged, kill_after=kill_after)
    else:
        output = _fresh_process(path, serialize, merged, kill_after)
    wall_ms = (time.perf_counter() - began) * 1000
    run = ParseRun(path=str(path), started_at=started_at, wall_ms=wall_ms, forked=warm is not None)
    return _read_output(run, output)


def use_warm_parent(parent: WarmParent | None) -> WarmParent | None:
    """Fork every later :func:`parse_once` without a ``parent`` of its own from ``parent`` (None:
    fresh processes again, the default). Returns the warm parent it replaces."""
    global _warm_parent
    previous, _warm_parent = _warm_parent, parent
    return previous


def _fresh_process(path: Path, serialize: bool, env: dict[str, str], kill_after: float) -> ProcessOutput:
    """The parse in a new ``python``: interpreter start and Airflow import included."""
    code = "import sys; from simulators.parse_child import run_child; run_child(sys.argv[1], sys.argv[2] == '1')"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, str(path), "1" if serialize else "0"],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=kill_after,
        )
    except subprocess.TimeoutExpired as exc:
        return ProcessOutput(None, _text(exc.stdout), _text(exc.stderr), timed_out=True)
    return ProcessOutput(proc.returncode, proc.stdout, proc.stderr)


def _read_output(run: ParseRun, output: ProcessOutput) -> ParseRun:
    """Fill ``run`` from what its process left (the same for a fresh and a forked one)."""
    run.stderr_tail = _tail(output.stderr)
    if output.timed_out:
        run.timed_out = True
        return run
    run.returncode = output.returncode
    payload = next(
        (line[len(RESULT_MARKER) :] for line in reversed(output.stdout.splitlines()) if line.startswith(RESULT_MARKER)),
        None,
    )
    if payload is None:
        run.import_errors = {run.path: f"the parse process exited with code {output.returncode} without a result"}
        return run
    data = json.loads(payload)
    run.parse_ms = data["parse_ms"]
    run.serialize_ms = data["serialize_ms"]
    run.airflow_import_ms = data["airflow_import_ms"]
    run.dag_ids = data["dag_ids"]
    run.dags = len(run.dag_ids)
    run.import_errors = data["import_errors"]
    run.load_results = data["load_results"]
    run.timed_out = any("DagBag import timeout" in e for e in run.import_errors.values())
    return run


def _text(data: str | bytes | None) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.splitlines()[-lines:])


def ensure_factory_file(platform: str, dags_folder: Path) -> Path:
    """The platform's factory file in ``dags_folder``, rendered if it is not there yet."""
    from factory.operations.provisioning.render import factory_file_name, render_factory_file

    dags_folder = Path(dags_folder)
    dags_folder.mkdir(parents=True, exist_ok=True)
    path = dags_folder / factory_file_name(platform)
    if not path.exists():
        path.write_text(render_factory_file(platform), encoding="utf-8")
    return path


def run_parse_loop(
    db_url: str,
    platform: str,
    dags_folder: Path,
    interval: float = 5.0,
    count: int | None = None,
    stop: threading.Event | None = None,
    on_parse: Callable[[ParseRun], Any] | None = None,
    *,
    timeout: float = DEFAULT_IMPORT_TIMEOUT_S,
    env: dict[str, str] | None = None,
    parent: WarmParent | None = None,
) -> list[ParseRun]:
    """Parse the platform's factory file every ``interval`` seconds, like the DAG processor (a
    platform split over several files: each file in turn, see factory.split).

    Runs ``count`` parses (forever when None) or until ``stop`` is set; calls ``on_parse`` with
    each :class:`ParseRun` (its exceptions are logged, never stop the loop). The factory's loader
    writes its own parse report to the database. Returns the runs (the last 1,000 at most).
    Safe to call from a worker thread. ``parent``: as for :func:`parse_once`.
    """
    from factory.split import split_files_in

    first = ensure_factory_file(platform, dags_folder)
    stop = stop or threading.Event()
    child = {**(env or {}), "YELLOW_DB_URL": db_url}
    runs: collections.deque[ParseRun] = collections.deque(maxlen=_KEEP_RUNS)
    done = 0
    while not stop.is_set() and (count is None or done < count):
        files = [first.parent / name for _, name in sorted(split_files_in(first.parent, platform).items())]
        run = parse_once(files[done % len(files)] if files else first, env=child, timeout=timeout, parent=parent)
        runs.append(run)
        done += 1
        if on_parse is not None:
            try:
                on_parse(run)
            except Exception:
                log.exception("on_parse callback failed")
        if count is not None and done >= count:
            break
        stop.wait(interval)
    return list(runs)


# ---- command line --------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.parse_loop",
        description="Parse a Yellow factory file the way Airflow's DAG processor does: a process of its "
        "own per parse (a fresh one, or with --warm one forked from a parent that imported Airflow once), "
        "DagBag, an import timeout. Prints one line (or JSON object) per parse.",
        epilog="Examples:\n"
        "  python -m simulators.parse_loop --db URL --platform YellowLive --dags-folder ./dags --count 3\n"
        "  python -m simulators.parse_loop --file ./dags/yellowlive_factory_dag.py --json\n"
        "  _AIRFLOW_PARSING_CONTEXT_DAG_ID=yellowlive__Store1_ingestion python -m simulators.parse_loop --file F",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--file",
        type=Path,
        help="parse this file or folder once (or --count times) instead of a platform's factory file",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        default=os.environ.get("YELLOW_DB_URL"),
        help="config database the factory reads (default: $YELLOW_DB_URL)",
    )
    parser.add_argument(
        "--platform", help="platform whose factory file to parse (rendered into --dags-folder if missing)"
    )
    parser.add_argument(
        "--dags-folder", type=Path, default=Path("dags"), help="where the factory file lives (default: ./dags)"
    )
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between parses (default: 5)")
    parser.add_argument(
        "--count", type=int, default=None, help="number of parses (default: 1 with --file, else until Ctrl-C)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_IMPORT_TIMEOUT_S,
        help="import timeout in seconds, as dagbag_import_timeout (default: 30)",
    )
    parser.add_argument("--serialize", action="store_true", help="also serialize every DAG, as the DAG processor does")
    parser.add_argument("--json", action="store_true", help="print each parse as a JSON object")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="fork each parse from one process that imports Airflow once, as the DAG processor does "
        "(default: a fresh process per parse, Airflow import included: a cold start)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def show(run: ParseRun) -> None:
        if args.json:
            print(json.dumps(run.to_dict(), default=str), flush=True)
        else:
            print(f"{run.started_at} {run.summary()}", flush=True)
            for where, error in run.import_errors.items():
                print(
                    f"  import error in {where}: {error.strip().splitlines()[-1] if error.strip() else error}",
                    flush=True,
                )

    with WarmParent() if args.warm else contextlib.nullcontext() as parent:
        return _run(args, show, parent)


def _run(args: argparse.Namespace, show: Callable[[ParseRun], None], parent: WarmParent | None) -> int:
    if args.file is not None:
        runs = []
        for i in range(args.count or 1):
            if i:
                time.sleep(args.interval)
            env = {"YELLOW_DB_URL": args.db} if args.db else None
            runs.append(parse_once(args.file, env=env, timeout=args.timeout, serialize=args.serialize, parent=parent))
            show(runs[-1])
        return 0 if all(r.ok for r in runs) else 1
    if not args.db or not args.platform:
        _parser().error("pass --db URL (or set YELLOW_DB_URL) and --platform NAME, or --file PATH")
    try:
        runs = run_parse_loop(
            args.db,
            args.platform,
            args.dags_folder,
            args.interval,
            args.count,
            on_parse=show,
            timeout=args.timeout,
            parent=parent,
        )
    except KeyboardInterrupt:
        return 130
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
