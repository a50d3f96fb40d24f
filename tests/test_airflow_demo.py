"""``yellowtui demo --airflow`` as a user runs it: in a terminal, on a fresh demo home.

It must bring up a real local Airflow on the demo database, connect the dashboard to it (the
dashboard's own refresh reaches the API server and is let in), and stop it on exit: after ``q``
no process of that Airflow (nor the demo's PostgreSQL) is left. One run costs most of a minute
(seeding the demo, migrating Airflow's metadata, starting its three components), so this is the
only test that starts the demo's Airflow; everything else uses the session's shared one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from simulators.local_airflow import PASSWORDS_FILE, group_members

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

START_TIMEOUT_S = 420
#: A small demo, as ``--streams`` lets a user ask for: what is tested here is the stack's life
#: cycle around the dashboard, not the factory at scale (600 DAGs cost Airflow's DAG processor
#: about 20 CPU seconds to write, on a machine the rest of the suite keeps busy).
DEMO_STREAMS = 20
#: A request of the dashboard's refresh (the demo's startup only asks for /monitor/health).
DASHBOARD_READ = re.compile(
    r"method=GET path=/api/v2/dags query='[^']*dag_id_prefix_pattern=yellow\w+__[^']*' status_code=200"
)
#: Cursor moves, colours and other terminal controls (the dashboard draws on the same terminal).
_CONTROLS = re.compile(r"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[@-Z\\-_])")


def _processes_under(path: Path) -> list[str]:
    """Live processes whose command line names ``path`` (the demo's PostgreSQL and Airflow do)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if str(path) in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline[:120]}")
    return found


def _wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen[bytes], output) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"yellowtui exited with {proc.returncode} before {what}:\n{output()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{output()[-3000:]}")
        time.sleep(1)


def test_demo_airflow_connects_the_dashboard_and_stops_on_exit(tmp_path):
    home = tmp_path / "demo-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "YELLOW"))}
    env |= {"YELLOWTUI_HOME": str(home), "TERM": "xterm-256color"}
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    # One terminal for everything, as for a user: the demo's progress lines and the dashboard.
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("yellowtui")), "demo", "--airflow", "--streams", str(DEMO_STREAMS)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        start_new_session=True,
    )
    os.close(follower)
    received = bytearray()

    def drain() -> None:  # the dashboard blocks if nobody reads its terminal
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                return
            if not chunk:
                return
            received.extend(chunk)

    def output() -> str:
        return _CONTROLS.sub("", bytes(received).decode(errors="replace"))

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    api_log = home / "airflow-local" / "logs" / "api-server.log"
    pids: list[int] = []
    try:
        _wait_for(lambda: "Airflow is up at" in output(), START_TIMEOUT_S, "the local Airflow", proc, output)
        pids = [int(p) for p in re.findall(r"Started airflow [\w-]+ \(pid (\d+)", output())]
        assert len(pids) == 3, output()[-3000:]
        _wait_for(
            lambda: api_log.exists() and DASHBOARD_READ.search(api_log.read_text(errors="replace")) is not None,
            180,
            "the dashboard's first refresh to reach Airflow",
            proc,
            output,
        )
        assert all(group_members(pid) for pid in pids)  # running while the dashboard is open
        os.write(leader, b"q")
        proc.wait(timeout=120)
        reader.join(timeout=10)
    finally:
        if proc.poll() is None:  # the test failed: leave nothing of the demo running
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
            for line in _processes_under(home):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(line.split(":")[0]), signal.SIGKILL)
        os.close(leader)
    text = output()
    assert proc.returncode == 0, text[-3000:]
    assert "Stopping the local Airflow" in text and "Traceback" not in text
    assert f"2 platforms × {DEMO_STREAMS} streams" in text  # seeded at the size asked for
    password_file = home / "airflow-local" / PASSWORDS_FILE
    assert f"password in {password_file}" in text
    assert json.loads(password_file.read_text())["admin"] not in text  # named by its file, never printed
    assert not [pid for pid in pids if group_members(pid)]
    assert _processes_under(home) == []
