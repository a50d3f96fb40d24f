"""The simulated ingestion job: what ``snapshot_merge_job`` runs under the local launcher.

``python -m simulators.job --operation snapshot-merge --platform-name P --store-name S
[--dataset-name D] [--git-repo-url U --git-repo-branch B]`` takes the arguments the real job
image takes, and answers like it: it writes ``{"result_code": n}`` to the file named by
``YELLOW_XCOM_FILE`` (the pod writes /airflow/xcom/return.json) and exits 0.

What it answers is scripted per stream, so demos and tests are deterministic. ``YELLOW_JOB_SCRIPT``
names a JSON file mapping a stream key (``DATASURFACE_STREAM_KEY``; ``"*"`` for any other) to::

    {"results": [1, 1, 0]}      KEEP_WORKING twice, then DONE (the last entry repeats after that)
    {"result": 7}               always 7 (an error code: the run fails at check_result)
    {"exit": 3}                 exit 3 without a result (a crashed pod: the job task fails)
    {"sleep_s": 2.5, ...}       take that long first (combines with any of the above)
    1                           shorthand for {"result": 1}; [1, 0] for {"results": [1, 0]}

With no script, or no entry for the stream, it answers DONE (0). The call number per stream is
kept in ``<script>.state.json`` next to the script, under a file lock, so "KEEP_WORKING n times
then DONE" holds across runs and concurrent jobs; delete that file to start the script over.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT_ENV = "YELLOW_JOB_SCRIPT"
XCOM_FILE_ENV = "YELLOW_XCOM_FILE"  # the same name factory.launchers sets
STREAM_KEY_ENV = "DATASURFACE_STREAM_KEY"
DONE = 0
KEEP_WORKING = 1
ANY_STREAM = "*"


@dataclass(frozen=True)
class Step:
    """What one call of the job does: sleep, then write ``result`` (or exit with ``exit_code``)."""

    result: int | None = DONE
    exit_code: int = 0
    sleep_s: float = 0.0


def parse_entry(entry: Any) -> list[Step]:
    """A script entry -> the steps of successive calls (the last one repeats)."""
    if isinstance(entry, bool):
        raise ValueError(f"script entry {entry!r}: use a number, a list or an object")
    if isinstance(entry, int):
        entry = {"result": entry}
    elif isinstance(entry, list):
        entry = {"results": entry}
    if not isinstance(entry, dict):
        raise ValueError(f"script entry {entry!r}: use a number, a list or an object")
    unknown = set(entry) - {"results", "result", "exit", "sleep_s"}
    if unknown:
        raise ValueError(f"script entry has unknown keys {sorted(unknown)}; known: exit, result, results, sleep_s")
    sleep_s = float(entry.get("sleep_s", 0.0))
    if "exit" in entry:
        return [Step(result=None, exit_code=int(entry["exit"]), sleep_s=sleep_s)]
    results = entry.get("results", [entry.get("result", DONE)])
    if not isinstance(results, list) or not results or not all(isinstance(r, int) for r in results):
        raise ValueError(f"script entry 'results' must be a non-empty list of integers, not {results!r}")
    return [Step(result=r, sleep_s=sleep_s) for r in results]


def state_path(script: Path) -> Path:
    return script.with_name(script.name + ".state.json")


@contextlib.contextmanager
def _locked_state(script: Path) -> Iterator[dict[str, int]]:
    """The per-stream call counters, read and written under an exclusive lock."""
    path = state_path(script)
    with open(path.with_name(path.name + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            try:
                state = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                state = {}
            yield state
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def next_step(stream_key: str, script: Path | None) -> Step:
    """The step for this call of ``stream_key``'s job (and count the call)."""
    if script is None or not script.exists():
        return Step()
    entries = json.loads(script.read_text(encoding="utf-8"))
    if not isinstance(entries, dict):
        raise ValueError(f"{script}: the script must be a JSON object mapping stream keys to entries")
    entry = entries.get(stream_key, entries.get(ANY_STREAM))
    if entry is None:
        return Step()
    steps = parse_entry(entry)
    with _locked_state(script) as state:
        call = int(state.get(stream_key, 0))
        state[stream_key] = call + 1
    return steps[min(call, len(steps) - 1)]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulators.job", description="The simulated ingestion job.")
    parser.add_argument("--operation", required=True)
    parser.add_argument("--platform-name", required=True)
    parser.add_argument("--store-name", required=True)
    parser.add_argument("--dataset-name")
    parser.add_argument("--git-repo-url")
    parser.add_argument("--git-repo-branch")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stream_key = os.environ.get(STREAM_KEY_ENV) or (
        f"{args.store_name}_{args.dataset_name}" if args.dataset_name else args.store_name
    )
    script = Path(os.environ[SCRIPT_ENV]) if os.environ.get(SCRIPT_ENV) else None
    try:
        step = next_step(stream_key, script)
    except (OSError, ValueError) as exc:
        print(f"simulated job: bad {SCRIPT_ENV}: {exc}", file=sys.stderr)
        return 2
    print(
        f"simulated job: {args.operation} platform={args.platform_name} store={args.store_name} "
        f"dataset={args.dataset_name or '-'} stream={stream_key}"
    )
    if step.sleep_s:
        time.sleep(step.sleep_s)
    if step.result is None:
        print(f"simulated job: exiting with {step.exit_code} (scripted)", file=sys.stderr)
        return step.exit_code
    out = os.environ.get(XCOM_FILE_ENV)
    if out:
        Path(out).write_text(json.dumps({"result_code": step.result}), encoding="utf-8")
    print(f"simulated job: result_code={step.result}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
