"""Where the config database is and how to reach it, with bounded waits.

The URL comes from ``YELLOW_DB_URL`` (see :mod:`factory.settings`) or from an Airflow connection
id (an ``AIRFLOW_CONN_*`` environment variable is read directly; otherwise Airflow's connection
lookup). It is never written into a generated file, and only ever shown with its credentials hidden.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from factory.errors import DatabaseDeadlineError, DatabaseUnavailable, DatabaseURLError, first_line

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")

#: The variable that names the config database (the ``db_url`` setting); the CLI reads it too.
DB_URL_ENV = "YELLOW_DB_URL"
DEFAULT_CONN_ID = "yellow_config_db"

_engines: dict[tuple[str, int, int], Engine] = {}
_engines_lock = threading.Lock()


def normalize_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg2 (SQLAlchemy 2.1 maps bare ``postgresql://`` to psycopg 3).

    Also notes the URL's secrets, so any error text that quotes them later is redacted.
    """
    from factory.redact import remember_url_secrets

    remember_url_secrets(url)
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def check_url(url: str) -> str:
    """``url`` normalized, or :class:`DatabaseURLError` in one redacted line: it must parse, be
    PostgreSQL through psycopg2, and name a port between 1 and 65535 if it names one."""
    from sqlalchemy.engine import make_url

    from factory.errors import DatabaseURLError

    normal = normalize_url(url)
    shown = redact(url)
    try:
        parsed = make_url(normal)
        port = parsed.port
    except Exception as exc:  # its text may quote the URL: never shown
        raise DatabaseURLError(
            f"cannot use the database URL {shown}: {type(exc).__name__}; "
            "percent-encode '@', ':' and '/' in the password, and give the port as a number"
        ) from None
    if parsed.drivername != "postgresql+psycopg2":
        raise DatabaseURLError(f"cannot use the database URL {shown}: only postgresql:// URLs are supported")
    if port is not None and not 0 < port < 65536:
        raise DatabaseURLError(f"cannot use the database URL {shown}: port {port} is not between 1 and 65535")
    return normal


def redact(url: str) -> str:
    """The database URL as we ever show or log it: normalized, then
    :func:`factory.redact.display_url` (userinfo as ``***``, no query)."""
    from factory.redact import display_url

    return display_url(normalize_url(url))


def resolve_db_url(conn_id: str | None = DEFAULT_CONN_ID, url: str | None = None) -> str:
    """Find the config database: explicit ``url``, then ``YELLOW_DB_URL``, then the connection id."""
    from factory.settings import settings

    if url:
        return normalize_url(url)
    configured = settings().db_url
    if configured:
        return normalize_url(configured)
    if conn_id:
        env_value = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
        if env_value and not env_value.lstrip().startswith("{"):
            return normalize_url(env_value)
        try:
            from airflow.sdk import BaseHook

            return normalize_url(BaseHook.get_connection(conn_id).get_uri())
        except Exception as exc:
            from factory.redact import redact_text

            raise DatabaseURLError(
                f"no config database: set {DB_URL_ENV} or the Airflow connection {conn_id!r} "
                f"(e.g. AIRFLOW_CONN_{conn_id.upper()}=postgresql://...): {redact_text(str(exc))}"
            ) from None
    raise DatabaseURLError(f"no config database: set {DB_URL_ENV} or pass a URL")


def get_engine(url: str, *, connect_timeout_s: int | None = None, statement_timeout_ms: int | None = None) -> Engine:
    """A small pooled engine per URL, reused across parses in the same process.

    Every connection gets a connect timeout and a server-side statement timeout, so a slow or
    stalled database costs seconds, never Airflow's whole import timeout.
    """
    from sqlalchemy import create_engine

    from factory.settings import settings

    url = normalize_url(url)
    connect_timeout_s = connect_timeout_s or settings().db_connect_timeout
    statement_timeout_ms = statement_timeout_ms or settings().db_statement_timeout_ms
    key = (url, connect_timeout_s, statement_timeout_ms)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            connect_args: dict[str, Any] = {}
            if url.startswith("postgresql"):
                connect_args = {
                    "connect_timeout": connect_timeout_s,
                    "options": f"-c statement_timeout={statement_timeout_ms}",
                    "application_name": "yellow-dag-factory",
                    # Notice a peer that vanished mid-read within seconds, not hours.
                    "keepalives": 1,
                    "keepalives_idle": 5,
                    "keepalives_interval": 2,
                    "keepalives_count": 2,
                }
            engine = create_engine(
                url,
                connect_args=connect_args,
                pool_size=2,
                max_overflow=2,
                pool_pre_ping=True,
                pool_recycle=300,
                pool_timeout=connect_timeout_s,
            )
            _engines[key] = engine
        return engine


@contextmanager
def reachable(where: str, *, os_errors: bool = False, limit: int | None = None) -> Iterator[None]:
    """Errors that say the database cannot be reached become :class:`DatabaseUnavailable`
    (``where``: the redacted URL) in one readable line; bugs pass through.

    ``os_errors``: an :class:`OSError` counts too (for callers whose block does no file work);
    ``limit``: the reason cut to that many characters (a banner's one line).
    """
    from sqlalchemy import exc as sa_exc

    lost: tuple[type[BaseException], ...] = (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.TimeoutError,
        sa_exc.DisconnectionError,
    )
    if os_errors:
        lost += (OSError,)
    try:
        yield
    except lost as exc:
        raise DatabaseUnavailable(where, first_line(exc, limit=limit)) from None


def dispose_engines() -> None:
    """Close every pooled connection (tests, process exit, after a fork)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def run_bounded(
    url: str, work: Callable[[Connection], T], *, begin: bool = False, deadline_s: float | None = None
) -> T:
    """Run ``work(conn)`` on a pooled connection, giving up after ``deadline_s`` seconds.

    libpq waits for a reply without any client-side limit, and Airflow's import-timeout signal
    cannot interrupt it, so a database that hangs mid-reply would hang the whole parse. The work
    runs in a daemon helper thread; when the deadline passes, the connection's socket is shut
    down (which ends the helper's wait with an error) and :class:`DatabaseDeadlineError` is raised.
    ``begin=True`` runs it in a transaction that commits when ``work`` returns.
    """
    from factory.settings import settings

    deadline_s = settings().read_deadline_s if deadline_s is None else deadline_s
    engine = get_engine(url)
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            with engine.begin() if begin else engine.connect() as conn:
                outcome["dbapi"] = conn.connection.dbapi_connection
                outcome["value"] = work(conn)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="yellow-db-bounded", daemon=True).start()
    if not done.wait(deadline_s):
        _shut_down(outcome.get("dbapi"))
        raise DatabaseDeadlineError(f"no reply from the database within {deadline_s:g} s (connection abandoned)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _shut_down(dbapi_connection: Any) -> None:
    """Shut the connection's socket down so a thread blocked reading it wakes up with an error."""
    try:
        fd = dbapi_connection.fileno()
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except Exception:
        pass
