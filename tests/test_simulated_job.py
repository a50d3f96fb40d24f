"""The simulated ingestion job: scripted per stream, deterministic across runs, DONE by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from simulators import job


def run_job(tmp_path: Path, stream: str, script: dict | None, *extra: str) -> tuple[int, dict | None]:
    """Run the job as the local launcher does: a process, result in the XCom file."""
    out = tmp_path / f"return-{os.urandom(4).hex()}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("YELLOW_")}
    env.update({"YELLOW_XCOM_FILE": str(out), "DATASURFACE_STREAM_KEY": stream})
    if script is not None:
        path = tmp_path / "script.json"
        if not path.exists():
            path.write_text(json.dumps(script))
        env["YELLOW_JOB_SCRIPT"] = str(path)
    args = ["--operation", "snapshot-merge", "--platform-name", "YellowLive", "--store-name", stream, *extra]
    proc = subprocess.run(
        [sys.executable, "-m", "simulators.job", *args], env=env, capture_output=True, text=True, check=False
    )
    return proc.returncode, json.loads(out.read_text()) if out.exists() else None


def test_no_script_answers_done(tmp_path):
    assert run_job(tmp_path, "Store1", None) == (0, {"result_code": 0})


def test_keep_working_twice_then_done_across_calls(tmp_path):
    script = {"Store1": {"results": [1, 1, 0]}}
    codes = [run_job(tmp_path, "Store1", script)[1]["result_code"] for _ in range(4)]
    assert codes == [1, 1, 0, 0]  # the last entry repeats
    state = json.loads(job.state_path(tmp_path / "script.json").read_text())
    assert state == {"Store1": 4}


def test_streams_are_counted_apart_and_star_is_the_default(tmp_path):
    script = {"Store1": [1, 0], "*": {"result": 7}}
    assert run_job(tmp_path, "Store1", script)[1] == {"result_code": 1}
    assert run_job(tmp_path, "Other", script)[1] == {"result_code": 7}
    assert run_job(tmp_path, "Store1", script)[1] == {"result_code": 0}


def test_an_error_code_is_written_and_the_job_exits_zero(tmp_path):
    assert run_job(tmp_path, "Store1", {"Store1": 7}) == (0, {"result_code": 7})


def test_a_scripted_crash_exits_nonzero_without_a_result(tmp_path):
    assert run_job(tmp_path, "Store1", {"Store1": {"exit": 3}}) == (3, None)


def test_single_dataset_stream_key_from_arguments(tmp_path, monkeypatch):
    """Without DATASURFACE_STREAM_KEY the key is rebuilt from the arguments, as the factory names it."""
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"Store2_orders": 7}))
    out = tmp_path / "r.json"
    monkeypatch.setenv("YELLOW_JOB_SCRIPT", str(script))
    monkeypatch.setenv("YELLOW_XCOM_FILE", str(out))
    monkeypatch.delenv("DATASURFACE_STREAM_KEY", raising=False)
    args = [
        "--operation",
        "snapshot-merge",
        "--platform-name",
        "P",
        "--store-name",
        "Store2",
        "--dataset-name",
        "orders",
    ]
    assert job.main(args) == 0
    assert json.loads(out.read_text()) == {"result_code": 7}


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
    assert job.main(["--operation", "x", "--platform-name", "P", "--store-name", "S"]) == 2
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
