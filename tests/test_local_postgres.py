"""The project's own PostgreSQL start-up (simulators/postgres.py), against the real server."""

from __future__ import annotations

import pytest

from simulators.postgres import _wait_ready


def test_a_running_server_reads_as_ready_from_its_pid_file(pg):
    """A start-up that outlived ``pg_ctl``'s 10 s waits on this: it must see a real server's
    ``ready`` at once."""
    _wait_ready(pg.data_dir, timeout=5)


def test_a_server_that_never_starts_is_a_clear_error_naming_its_log(tmp_path):
    (tmp_path / "postmaster.pid").write_text("4242\n" + str(tmp_path) + "\n0\n5432\n\n\n0 0\nstarting\n")
    with pytest.raises(TimeoutError, match=r"not ready after 1 s; see .*log"):
        _wait_ready(tmp_path, timeout=1)
