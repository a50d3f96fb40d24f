"""Parse a DAG file the way Airflow's DAG processor does: a fresh process each time, a time limit.

Airflow 3 parses each file in a new child process with ``DagBag`` and gives the import
``dagbag_import_timeout`` seconds (30 by default); a file that raises or runs out of time loses
every DAG it produced. Measuring the factory anywhere else (a warm interpreter, a cached module)
would flatter it, so every parse here is a new ``python`` process that imports Airflow, then
times ``DagBag(path)`` alone, and reports the DAGs, the import errors and, for factory files,
the loader's own ``LOAD_RESULT`` (source, rows, per-phase timings).

    python -m simulators.parse_loop --db URL --platform YellowLive --dags-folder ./dags --count 3
    python -m simulators.parse_loop --file ./dags/yellowlive_factory_dag.py
"""

from __future__ import annotations

import argparse
import collections
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

log = logging.getLogger("yellow.parse_loop")

DEFAULT_IMPORT_TIMEOUT_S = 30.0
#: Extra time the parent allows for interpreter start and the Airflow import before it kills the child.
STARTUP_GRACE_S = 60.0
RESULT_MARKER = "YELLOW_PARSE_RESULT "
_KEEP_RUNS = 1000


@dataclass
class ParseRun:
    """One parse in one fresh process."""

    path: str
    started_at: str
    wall_ms: float  # the whole child process, interpreter start included
    parse_ms: float | None = None  # DagBag(path) alone: what the DAG processor's import timeout bounds
    serialize_ms: float | None = None
    airflow_import_ms: float | None = None
    dags: int = 0
    dag_ids: list[str] = field(default_factory=list)
    import_errors: dict[str, str] = field(default_factory=dict)
    #: ``LOAD_RESULT`` of each factory module parsed (outcomes left out except the failing ones).
    load_results: list[dict[str, Any]] = field(default_factory=list)
    returncode: int | None = None
    timed_out: bool = False
    stderr_tail: str = ""

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


# ---- the child process ---------------------------------------------------------------------


def _child(path: str, serialize: bool) -> None:
    """Runs in the fresh process: import Airflow, time DagBag(path), print one result line."""
    started = time.perf_counter()
    from airflow.dag_processing.dagbag import DagBag

    airflow_import_ms = (time.perf_counter() - started) * 1000
    began = time.perf_counter()
    bag = DagBag(path)
    parse_ms = (time.perf_counter() - began) * 1000
    serialize_ms = None
    if serialize:
        from airflow.serialization.serialized_objects import DagSerialization

        began = time.perf_counter()
        for dag in bag.dags.values():
            DagSerialization.to_dict(dag)
        serialize_ms = (time.perf_counter() - began) * 1000
    result = {
        "airflow_import_ms": airflow_import_ms,
        "parse_ms": parse_ms,
        "serialize_ms": serialize_ms,
        "dag_ids": sorted(bag.dags),
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "load_results": _load_results(),
    }
    sys.stdout.write("\n" + RESULT_MARKER + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


def _load_results() -> list[dict[str, Any]]:
    """The factory loader's LOAD_RESULT from every module DagBag imported."""
    found = []
    for module in list(sys.modules.values()):
        result = getattr(module, "LOAD_RESULT", None)
        if result is not None and hasattr(result, "to_dict"):
            data = result.to_dict()
            data["outcomes"] = [o for o in data.get("outcomes", []) if o.get("outcome") != "ok"]
            data["file"] = getattr(module, "__file__", None)
            found.append(data)
    return found


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
) -> ParseRun:
    """Parse ``path`` (a file or a folder) with ``DagBag`` in a fresh process.

    ``timeout`` becomes the child's ``dagbag_import_timeout`` (so a slow import turns into an
    import error, as in Airflow); the child is killed outright if it is still running
    :data:`STARTUP_GRACE_S` seconds after that.
    """
    path = Path(path).resolve()
    folder = path if path.is_dir() else path.parent
    code = "import sys; from simulators.parse_loop import _child; _child(sys.argv[1], sys.argv[2] == '1')"
    started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    began = time.perf_counter()
    run = ParseRun(path=str(path), started_at=started_at, wall_ms=0.0)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, str(path), "1" if serialize else "0"],
            env=child_env(env, timeout, folder),
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout + STARTUP_GRACE_S,
        )
    except subprocess.TimeoutExpired as exc:
        run.wall_ms = (time.perf_counter() - began) * 1000
        run.timed_out = True
        run.stderr_tail = _tail(exc.stderr)
        return run
    run.wall_ms = (time.perf_counter() - began) * 1000
    run.returncode = proc.returncode
    run.stderr_tail = _tail(proc.stderr)
    payload = next(
        (line[len(RESULT_MARKER) :] for line in reversed(proc.stdout.splitlines()) if line.startswith(RESULT_MARKER)),
        None,
    )
    if payload is None:
        run.import_errors = {str(path): f"the parse process exited with code {proc.returncode} without a result"}
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


def _tail(text: str | bytes | None, lines: int = 20) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "\n".join((text or "").splitlines()[-lines:])


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
) -> list[ParseRun]:
    """Parse the platform's factory file every ``interval`` seconds, like the DAG processor (a
    platform split over several files: each file in turn, see factory.split).

    Runs ``count`` parses (forever when None) or until ``stop`` is set; calls ``on_parse`` with
    each :class:`ParseRun` (its exceptions are logged, never stop the loop). The factory's loader
    writes its own parse report to the database. Returns the runs (the last 1,000 at most).
    Safe to call from a worker thread.
    """
    from factory.split import split_files_in

    first = ensure_factory_file(platform, dags_folder)
    stop = stop or threading.Event()
    child = {**(env or {}), "YELLOW_DB_URL": db_url}
    runs: collections.deque[ParseRun] = collections.deque(maxlen=_KEEP_RUNS)
    done = 0
    while not stop.is_set() and (count is None or done < count):
        files = [first.parent / name for _, name in sorted(split_files_in(first.parent, platform).items())]
        run = parse_once(files[done % len(files)] if files else first, env=child, timeout=timeout)
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
        description="Parse a Yellow factory file the way Airflow's DAG processor does: a fresh process "
        "per parse, DagBag, an import timeout. Prints one line (or JSON object) per parse.",
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

    if args.file is not None:
        runs = []
        for i in range(args.count or 1):
            if i:
                time.sleep(args.interval)
            env = {"YELLOW_DB_URL": args.db} if args.db else None
            runs.append(parse_once(args.file, env=env, timeout=args.timeout, serialize=args.serialize))
            show(runs[-1])
        return 0 if all(r.ok for r in runs) else 1
    if not args.db or not args.platform:
        _parser().error("pass --db URL (or set YELLOW_DB_URL) and --platform NAME, or --file PATH")
    try:
        runs = run_parse_loop(
            args.db, args.platform, args.dags_folder, args.interval, args.count, on_parse=show, timeout=args.timeout
        )
    except KeyboardInterrupt:
        return 130
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
