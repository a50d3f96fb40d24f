"""An error as one line (:func:`factory.errors.first_line`) and an unreachable database as
:class:`DatabaseUnavailable` (:func:`factory.db.reachable`)."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc

from factory.db import reachable
from factory.errors import DatabaseUnavailable, first_line


def _driver_error(text: str) -> sa_exc.OperationalError:
    return sa_exc.OperationalError("SELECT 1", {}, Exception(text))


def test_the_drivers_first_non_blank_line() -> None:
    error = _driver_error("\n  connection refused  \n\tIs the server running?")
    assert first_line(error) == "connection refused"
    assert first_line(error, named=True) == "OperationalError: connection refused"
    wrapped = _driver_error("connection refused\nmore")
    assert first_line(wrapped, driver=False) == "(builtins.Exception) connection refused"


def test_blank_text_gives_the_class_name() -> None:
    assert first_line(ValueError("  \n ")) == "ValueError"
    assert first_line(ValueError(""), named=True) == "ValueError"


def test_secrets_are_hidden_before_the_line_is_cut() -> None:
    error = RuntimeError("login as bob with hunter2-token failed\nmore")
    assert first_line(error) == "login as bob with hunter2-token failed"
    assert "hunter2" not in first_line(error, secrets=("hunter2-token",))
    url_error = RuntimeError("cannot reach postgresql://u:s3cret@db/x")
    assert "s3cret" not in first_line(url_error, redact=True)
    assert first_line(RuntimeError("x" * 300), limit=200) == "x" * 199 + "…"


def test_reachable_turns_connection_errors_into_one_line() -> None:
    with pytest.raises(DatabaseUnavailable) as caught, reachable("postgresql://u:***@db/x"):
        raise _driver_error("could not connect\nDETAIL: more")
    assert (caught.value.where, caught.value.reason) == ("postgresql://u:***@db/x", "could not connect")


def test_reachable_lets_os_errors_through_unless_asked() -> None:
    with pytest.raises(PermissionError), reachable("db"):
        raise PermissionError("cannot write the export file")
    with pytest.raises(DatabaseUnavailable, match="socket gone"), reachable("db", os_errors=True):
        raise ConnectionResetError("socket gone")
    with pytest.raises(DatabaseUnavailable) as caught, reachable("db", limit=10):
        raise _driver_error("a very long reason indeed")
    assert caught.value.reason == "a very lo…"


def test_bugs_pass_through() -> None:
    with pytest.raises(KeyError), reachable("db", os_errors=True):
        raise KeyError("x")
