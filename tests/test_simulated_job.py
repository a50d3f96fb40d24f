"""The simulated ingestion job speaks DataSurface's contract: the real job's arguments (a missing
required one exits 2, as argparse does), its credential variable names, one
DATASURFACE_RESULT_CODE line on stdout, exit 1 for an error and 0 otherwise; scripted per stream,
deterministic across runs, DONE by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from simulators import job

#: The credentials a pod of the sample platform receives, under the names the real job reads.
CREDENTIALS = {"git_TOKEN": "t", "postgres_USER": "u", "postgres_PASSWORD": "p"}


def real_args(store: str, *extra: str) -> list[str]:
    return [
        "--platform-name",
        "YellowLive",
        "--store-name",
        store,
        "--operation",
        "snapshot-merge",
        "--git-repo-path",
        "/workspace/model",
        "--git-repo-owner",
        "yellowdataplatform",
        "--git-repo-name",
        "ecosystem-model",
        "--git-repo-branch",
        "main",
        "--git-platform-repo-credential-name",
        "git",
        *extra,
    ]


def run_job(
    tmp_path: Path, stream: str, script: dict | None, *extra: str, env_extra: dict | None = None
) -> tuple[int, str, str]:
    """Run the job as the local launcher does: a process with the pod's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YELLOW_")}
    env.update(CREDENTIALS if env_extra is None else env_extra)
    if script is not None:
        path = tmp_path / "script.json"
        if not path.exists():
            path.write_text(json.dumps(script))
        env["YELLOW_JOB_SCRIPT"] = str(path)
    proc = subprocess.run(
        [sys.executable, "-m", "simulators.job", *real_args(stream, *extra)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def code_of(stdout: str) -> int:
    (line,) = [line for line in stdout.splitlines() if line.startswith("DATASURFACE_RESULT_CODE=")]
    return int(line.split("=", 1)[1])


def test_no_script_answers_done(tmp_path):
    rc, out, _ = run_job(tmp_path, "Store1", None)
    assert (rc, code_of(out)) == (0, 0)


def test_keep_working_twice_then_done_across_calls(tmp_path):
    script = {"Store1": {"results": [1, 1, 0]}}
    codes = [code_of(run_job(tmp_path, "Store1", script)[1]) for _ in range(4)]
    assert codes == [1, 1, 0, 0]  # the last entry repeats
    state = json.loads(job.state_path(tmp_path / "script.json").read_text())
    assert state == {"Store1": 4}


def test_streams_are_counted_apart_and_star_is_the_default(tmp_path):
    script = {"Store1": [1, 0], "*": {"result": 7}}
    assert code_of(run_job(tmp_path, "Store1", script)[1]) == 1
    assert code_of(run_job(tmp_path, "Other", script)[1]) == 7
    assert code_of(run_job(tmp_path, "Store1", script)[1]) == 0


def test_keep_working_exits_zero_and_an_error_exits_one_as_the_real_job(tmp_path):
    """jobs.py: exit 1 for ERROR (-1), 0 for DONE and KEEP_WORKING."""
    script = {"Store1": 1, "Store2": -1}
    rc, out, _ = run_job(tmp_path, "Store1", script)
    assert (rc, code_of(out)) == (0, 1)
    rc, out, err = run_job(tmp_path, "Store2", script)
    assert (rc, code_of(out)) == (1, -1)
    assert "the merge failed" in err


def test_a_scripted_crash_exits_nonzero_without_a_result_line(tmp_path):
    rc, out, _ = run_job(tmp_path, "Store1", {"Store1": {"exit": 3}})
    assert rc == 3 and "DATASURFACE_RESULT_CODE" not in out


def test_single_dataset_stream_key_from_arguments(tmp_path):
    """The key is rebuilt from the arguments as DataSurface keys it: store_dataset."""
    rc, out, _ = run_job(tmp_path, "Store2", {"Store2_orders": 7}, "--dataset-name", "orders")
    assert (rc, code_of(out)) == (0, 7)


@pytest.mark.parametrize(
    "missing",
    [
        "--platform-name",
        "--git-repo-path",
        "--git-repo-owner",
        "--git-repo-name",
        "--git-repo-branch",
        "--git-platform-repo-credential-name",
    ],
)
def test_a_missing_required_argument_exits_2_as_argparse_does(tmp_path, missing):
    args = real_args("Store1")
    i = args.index(missing)
    del args[i : i + 2]
    proc = subprocess.run([sys.executable, "-m", "simulators.job", *args], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "the following arguments are required" in proc.stderr and missing in proc.stderr


def test_credentials_are_read_under_the_real_names(tmp_path):
    """No <git credential>_TOKEN: the job fails as the real one would, with -1 and exit 1."""
    rc, out, err = run_job(tmp_path, "Store1", None, env_extra={"postgres_USER": "u", "postgres_PASSWORD": "p"})
    assert (rc, code_of(out)) == (1, -1)
    assert "git_TOKEN" in err
    rc, out, err = run_job(tmp_path, "Store1", None, env_extra={"git_TOKEN": "t"})
    assert (rc, code_of(out)) == (1, -1)
    assert "_PASSWORD" in err


@pytest.mark.parametrize(
    ("entry", "steps"),
    [
        (0, [job.Step(0)]),
        ([1, 0], [job.Step(1), job.Step(0)]),
        ({"result": 7, "sleep_s": 0.5}, [job.Step(7, sleep_s=0.5)]),
        ({"exit": 2}, [job.Step(None, exit_code=2)]),
    ],
)
def test_entry_forms(entry, steps):
    assert job.parse_entry(entry) == steps


@pytest.mark.parametrize("entry", [True, "1", [], {"results": ["a"]}, {"reslt": 1}])
def test_bad_entries_are_refused(entry):
    with pytest.raises(ValueError):
        job.parse_entry(entry)


def test_a_bad_script_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    script = tmp_path / "s.json"
    script.write_text("{not json")
    monkeypatch.setenv("YELLOW_JOB_SCRIPT", str(script))
    monkeypatch.setenv("git_TOKEN", "t")
    monkeypatch.setenv("postgres_USER", "u")
    monkeypatch.setenv("postgres_PASSWORD", "p")
    assert job.main(real_args("S")) == 2
    assert "bad YELLOW_JOB_SCRIPT" in capsys.readouterr().err


def test_concurrent_calls_each_get_their_own_step(tmp_path):
    """The lock makes the counter exact under concurrency: 8 calls, 8 distinct call numbers."""
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"S": list(range(10, 18))}))
    results: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        step = job.next_step("S", script)
        with lock:
            results.append(step.result)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(10, 18))
