"""A warm parent for parses: Airflow imported once, then one forked child per parse.

This is how Airflow 3's DAG processor parses: its manager, with Airflow imported, forks a child
per file rather than starting an interpreter (``DagFileProcessorProcess.start`` in
``airflow/dag_processing/processor.py`` calls ``WatchedSubprocess.start`` in the task SDK's
``airflow/sdk/execution_time/supervisor.py``, which calls ``os.fork()`` and runs ``_fork_main`` in
the child). So a parse forked from a warm parent is a parse as Airflow makes it, minus the
interpreter start and the Airflow import that a fresh ``python`` pays for every parse.

The server (``python -m simulators.parse_server``) imports what the fresh parse imports before
its timer (``DagBag``) and nothing of ``factory``, then reads one JSON request per line on stdin
and answers one JSON line per request. Each parse is a fork that takes the request's whole
environment and working folder, sends its stdout and stderr to temporary files, runs
:func:`simulators.parse_child.run_child` (the code a fresh parse runs) and leaves with
``os._exit``. The server kills a child still running ``kill_after`` seconds later, reaps every
child, and ends at EOF on stdin: it dies with its client.

Airflow reads ``AIRFLOW__SECTION__KEY`` variables at each ``conf.get``
(``_get_env_var_option`` in ``airflow/_shared/configuration/parser.py``), so a request's
``AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT`` and the like hold in its child. ``AIRFLOW_HOME`` is read
once, at import (``AIRFLOW_HOME = get_airflow_home()`` and the ``airflow.cfg`` under it, in
``airflow/configuration.py``): a warm parent serves only requests with its own AIRFLOW_HOME
(:meth:`WarmParent.serves`); ``parse_loop.parse_once`` parses any other in a fresh process.
Other values Airflow computes once at import (``settings.DAGS_FOLDER``, the logging set-up) stay
the parent's, as they stay the manager's in the DAG processor's children.

One difference from Airflow is kept on purpose: its manager also imports, before forking, the
``airflow`` modules a DAG file names (``_pre_import_airflow_modules`` in processor.py); this
server imports only what a fresh parse imports before its timer, so the two time the same work.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import logging
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any, NoReturn

from simulators.parse_child import run_child

log = logging.getLogger("yellow.parse_server")

#: How long the server may take to import Airflow before it is given up on.
READY_TIMEOUT_S = 120.0
#: How long past its own kill deadline the client waits for an answer before it gives the server up.
ANSWER_SLACK_S = 30.0
#: How long a closed server has to end on its own (EOF), and then after SIGTERM, before it is killed.
CLOSE_WAIT_S = 10.0


@dataclass(frozen=True)
class ProcessOutput:
    """What a parse process left: a fresh one (``subprocess.run``) or a forked one (the server)."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False


class WarmParentError(RuntimeError):
    """The warm parent could not start or stopped answering."""


def airflow_home_of(env: Mapping[str, str]) -> str:
    """The AIRFLOW_HOME Airflow would read in ``env`` (``get_airflow_home`` in
    ``airflow/configuration.py``: ``$AIRFLOW_HOME``, else ``~/airflow``, variables expanded)."""
    return os.path.abspath(os.path.expanduser(os.path.expandvars(env.get("AIRFLOW_HOME", "~/airflow"))))


class WarmParent:
    """The client of one parse server: started on the first parse, stopped by :meth:`close`.

    ``env`` is the server's environment (this process's by default), and so its AIRFLOW_HOME.
    One request at a time: :meth:`parse` holds a lock, so threads may share one warm parent.
    """

    def __init__(self, env: Mapping[str, str] | None = None):
        self.env = dict(os.environ if env is None else env)
        self.airflow_home = airflow_home_of(self.env)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._log: IO[bytes] | None = None  # the server's own stderr: read when it fails

    def __enter__(self) -> WarmParent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The server's process id, None before the first parse and after :meth:`close`."""
        proc = self._proc
        return proc.pid if proc is not None else None

    def serves(self, env: Mapping[str, str]) -> bool:
        """Whether a parse in ``env`` can fork from here: Airflow has read this AIRFLOW_HOME."""
        return airflow_home_of(env) == self.airflow_home

    def start(self) -> None:
        """Start the server now, if it is not running, and wait for its Airflow import."""
        with self._lock:
            self._running()

    def parse(self, path: str, *, serialize: bool, env: Mapping[str, str], kill_after: float) -> ProcessOutput:
        """Parse ``path`` in a child forked from the server, with exactly the environment ``env``;
        the server kills the child ``kill_after`` seconds on."""
        request = {"path": path, "serialize": serialize, "env": dict(env), "cwd": os.getcwd(), "kill_after": kill_after}
        with self._lock:
            proc = self._running()
            assert proc.stdin is not None
            try:
                proc.stdin.write(json.dumps(request) + "\n")
                proc.stdin.flush()
            except (OSError, ValueError):  # ValueError: closed by close() meanwhile
                answer = None
            else:
                answer = _read_line(proc, kill_after + ANSWER_SLACK_S)
            if answer is None:
                raise WarmParentError(f"the parse server stopped answering:\n{self._discard()}")
        return ProcessOutput(answer["returncode"], answer["stdout"], answer["stderr"], answer["timed_out"])

    def close(self) -> None:
        """Stop the server (EOF on its stdin, then SIGTERM, then SIGKILL) and reap it; a parse
        under way ends at once with :class:`WarmParentError`."""
        proc = self._proc
        if proc is not None:
            _end(proc, patience=0.0 if self._lock.locked() else CLOSE_WAIT_S)  # busy: EOF would wait for the parse
        with self._lock:
            self._discard()

    def _running(self) -> subprocess.Popen[str]:
        """The server, started (and its Airflow import waited for) if it is not running."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        if self._proc is not None:
            log.warning("the parse server ended (exit %s): starting another", self._proc.returncode)
            self._discard()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115  # closed by _discard
        self._proc = proc = subprocess.Popen(
            [sys.executable, "-m", "simulators.parse_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=self.env,
            text=True,
        )
        ready = _read_line(proc, READY_TIMEOUT_S)
        if ready is None:
            raise WarmParentError(f"the parse server did not start:\n{self._discard()}")
        log.debug("parse server %s ready (Airflow imported in %.0f ms)", proc.pid, ready["import_ms"])
        return proc

    def _discard(self) -> str:
        """Forget the server (ended and reaped first); the tail of its stderr. The lock is held."""
        proc, self._proc = self._proc, None
        stderr, self._log = self._log, None
        if proc is not None:
            _end(proc)
            if proc.stdout is not None:
                proc.stdout.close()
        if stderr is None:
            return ""
        with stderr:
            stderr.seek(0)
            return "\n".join(stderr.read().decode("utf-8", "replace").splitlines()[-20:])


def _read_line(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any] | None:
    """The server's next line, None if it ended or said nothing for ``timeout`` seconds."""
    assert proc.stdout is not None
    readable, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if readable else ""
    return json.loads(line) if line else None


def _end(proc: subprocess.Popen[str], patience: float = CLOSE_WAIT_S) -> None:
    """End the server and reap it: EOF first, then SIGTERM (it kills its child), then SIGKILL."""
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    try:
        proc.wait(patience)
        return
    except subprocess.TimeoutExpired:
        proc.terminate()
    try:
        proc.wait(CLOSE_WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---- the server ----------------------------------------------------------------------------


def serve() -> None:
    """Import Airflow, say so, then fork a child per request until EOF on stdin."""
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints of the server or an import go to its stderr, never into an answer
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C reaches the client, which closes the server
    started = time.perf_counter()
    from airflow.dag_processing.dagbag import DagBag  # noqa: F401  # what run_child imports before its timer

    # As the DAG processor's manager does before its loop ("To prevent COW in forked process
    # parsing dag file", ``before_run`` in airflow/dag_processing/manager.py): the collector
    # then leaves the parent's objects alone, and a child does not copy their pages.
    gc.freeze()
    answers.write(json.dumps({"ready": True, "import_ms": (time.perf_counter() - started) * 1000}) + "\n")
    for line in sys.stdin:
        answers.write(json.dumps(_fork_parse(json.loads(line), answers.fileno())) + "\n")


def _exit_on_sigterm(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)  # unwinds _fork_parse, which kills and reaps its child


def _fork_parse(request: dict[str, Any], answers_fd: int) -> dict[str, Any]:
    """One parse in a forked child; its exit code, output, and whether it was killed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child_main(request, out.fileno(), err.fileno(), answers_fd)
        returncode, timed_out = _wait(pid, float(request["kill_after"]))
        out.seek(0)
        err.seek(0)
        return {
            "returncode": returncode,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
            "timed_out": timed_out,
        }


def _child_main(request: dict[str, Any], out_fd: int, err_fd: int, answers_fd: int) -> NoReturn:
    """In the forked child: become the fresh parse process the request describes, parse, exit.

    As Airflow's ``_fork_main`` (``airflow/sdk/execution_time/supervisor.py``) does, the
    signal handlers and the ``atexit`` functions inherited from the parent are dropped, only the
    ones registered after the fork run, and the child leaves with ``os._exit``.
    """
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        atexit._clear()
        os.close(answers_fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.argv = ["-c", request["path"], "1" if request["serialize"] else "0"]
        run_child(request["path"], bool(request["serialize"]))
        code = 0
    except SystemExit as exc:  # as the interpreter ends on an uncaught SystemExit
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        os._exit(code)


def _wait(pid: int, kill_after: float) -> tuple[int | None, bool]:
    """Reap ``pid``: its return code, or (None, True) once it ran past ``kill_after`` and was killed.

    Whatever ends the wait (a SIGTERM to the server too), the child is killed and reaped.
    """
    deadline = time.monotonic() + kill_after
    pidfd = _pidfd(pid)
    done = 0
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status), False
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if pidfd is not None:
                select.select([pidfd], [], [], left)
            else:
                time.sleep(min(left, 0.01))
    finally:
        if pidfd is not None:
            os.close(pidfd)
        if not done:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    return None, True


def _pidfd(pid: int) -> int | None:
    """A descriptor that turns readable when ``pid`` ends (Linux), so the wait costs no polling."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


if __name__ == "__main__":  # pragma: no cover
    serve()
