"""The simulated ingestion job: what ``snapshot_merge_job`` runs under the local launcher.

It takes exactly the arguments of DataSurface's ``python -m datasurface.platforms.yellow.jobs``
(``src/datasurface/platforms/yellow/jobs.py``: required ``--platform-name``, ``--git-repo-path``,
``--git-repo-owner``, ``--git-repo-name``, ``--git-repo-branch``,
``--git-platform-repo-credential-name``; optional ``--store-name``, ``--dataset-name``,
``--operation`` (default ``snapshot-merge``), ``--use-git-cache``, ``--max-cache-age-minutes``),
and a missing required one exits 2 as argparse does. It reads its credentials under the real
names (``<git credential>_TOKEN``, and a ``<credential>_USER`` / ``_PASSWORD`` pair for the merge
database) and answers as the real job does: one line ``DATASURFACE_RESULT_CODE=<n>`` on stdout,
exit 1 for ``-1`` (error) and 0 otherwise. A missing credential is an error, as it is for the
real job. With ``YELLOW_XCOM_FILE`` set (a platform whose job writes XCom) it also writes
``{"result_code": n}`` there.

What it answers is scripted per stream, so demos and tests are deterministic. ``YELLOW_JOB_SCRIPT``
names a JSON file mapping a stream key (the store, or ``store_dataset`` with ``--dataset-name``,
as DataSurface keys its streams; ``"*"`` for any other) to::

    {"results": [1, 1, 0]}      KEEP_WORKING twice, then DONE (the last entry repeats after that)
    {"result": 7}               always 7 (not a code the branch knows: the run fails at check_result)
    {"result": -1}              the job's error: prints -1 and exits 1 (the job task fails)
    {"exit": 3}                 exit 3 printing no result line (a crashed pod); {"exit": 0} is a
                                job that ends well but prints no line (the task fails, saying so)
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
RESULT_PREFIX = "DATASURFACE_RESULT_CODE="
DONE = 0
KEEP_WORKING = 1
ERROR = -1
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


def parser() -> argparse.ArgumentParser:
    """The real job's argument parser, argument for argument (see the module doc)."""
    parser = argparse.ArgumentParser(prog="python -m simulators.job", description="The simulated ingestion job.")
    parser.add_argument("--platform-name", required=True)
    parser.add_argument("--store-name")
    parser.add_argument("--dataset-name")
    parser.add_argument("--operation", default="snapshot-merge")
    parser.add_argument("--git-repo-path", required=True)
    parser.add_argument("--git-repo-owner", required=True)
    parser.add_argument("--git-repo-name", required=True)
    parser.add_argument("--git-repo-branch", required=True)
    parser.add_argument("--git-platform-repo-credential-name", required=True)
    parser.add_argument("--use-git-cache", action="store_true", default=True)
    parser.add_argument("--max-cache-age-minutes", type=int, default=5)
    return parser


def missing_credentials(git_credential: str, environ: dict[str, str]) -> list[str]:
    """The credential variables the real job would fail without, by the names it reads them under."""
    missing = [] if environ.get(f"{git_credential}_TOKEN") else [f"{git_credential}_TOKEN"]
    users = {k.removesuffix("_USER") for k, v in environ.items() if k.endswith("_USER") and v}
    if not any(environ.get(f"{name}_PASSWORD") for name in users):
        missing.append("<credential>_USER and <credential>_PASSWORD (the merge database's)")
    return missing


def _finish(code: int) -> int:
    """Print the result line and exit as DataSurface's job does: 1 for an error, else 0."""
    print(f"{RESULT_PREFIX}{code}", flush=True)
    out = os.environ.get(XCOM_FILE_ENV)
    if out:
        Path(out).write_text(json.dumps({"result_code": code}), encoding="utf-8")
    return 1 if code == ERROR else 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.operation != "snapshot-merge" or not args.store_name:
        print(f"simulated job: unknown operation {args.operation!r} or no store", file=sys.stderr)
        return _finish(ERROR)
    stream_key = f"{args.store_name}_{args.dataset_name}" if args.dataset_name else args.store_name
    missing = missing_credentials(args.git_platform_repo_credential_name, dict(os.environ))
    if missing:
        print(f"simulated job: no credential in the environment: {', '.join(missing)}", file=sys.stderr)
        return _finish(ERROR)
    script = Path(os.environ[SCRIPT_ENV]) if os.environ.get(SCRIPT_ENV) else None
    try:
        step = next_step(stream_key, script)
    except (OSError, ValueError) as exc:
        print(f"simulated job: bad {SCRIPT_ENV}: {exc}", file=sys.stderr)
        return 2
    print(
        f"simulated job: {args.operation} platform={args.platform_name} store={args.store_name} "
        f"dataset={args.dataset_name or '-'} stream={stream_key} "
        f"model={args.git_repo_owner}/{args.git_repo_name}@{args.git_repo_branch} in {args.git_repo_path}"
    )
    if step.sleep_s:
        time.sleep(step.sleep_s)
    if step.result is None:
        print(f"simulated job: exiting with {step.exit_code} (scripted), no result line", file=sys.stderr)
        return step.exit_code
    if step.result == ERROR:
        print("simulated job: the merge failed (scripted error)", file=sys.stderr)
    return _finish(step.result)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
