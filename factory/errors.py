"""Every error the factory and ``yellowtui`` raise on purpose, under one base.

Each names what failed, where, and what to do; none ever holds a password. Callers catch
:class:`FactoryError` to tell "a person must act" from a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


class FactoryError(Exception):
    """Base class for every error the factory raises on purpose."""


@dataclass(frozen=True, order=True)
class ConfigProblem:
    """One problem in one stream's configuration, located by a JSON path such as ``$.datasets[2]``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class StreamConfigError(FactoryError, ValueError):
    """A stream's config_json cannot be used; ``problems`` lists every reason, not just the first."""

    def __init__(self, stream_key: str | None, problems: list[ConfigProblem]):
        self.stream_key = stream_key
        self.problems = sorted(problems)
        who = f"stream {stream_key!r}" if stream_key else "stream config"
        lines = "; ".join(str(p) for p in self.problems)
        super().__init__(f"{who}: {len(self.problems)} problem(s): {lines}")


class ConfigSourceError(FactoryError):
    """The configuration database could not be read and no snapshot could stand in for it."""


class InvalidNameError(FactoryError, ValueError):
    """A name that cannot safely become an identifier."""


class RenderError(FactoryError):
    """A template produced something other than safe Python."""


class EcosystemError(FactoryError):
    """The ecosystem file cannot be used; ``problems`` lists every reason with its path."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))


class DatabaseURLError(FactoryError):
    """No usable database URL could be found or parsed."""


class DatabaseDeadlineError(FactoryError, TimeoutError):
    """The database accepted the connection but did not answer in time (a hung server or network)."""


class DatabaseUnavailable(FactoryError):
    """The config database cannot be reached right now (down, refusing, too slow).

    ``reason`` is one line a person can act on, never holding a password; the dashboard shows
    it in its banner, keeps its last data and retries.
    """

    def __init__(self, where: str, reason: str):
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


class IncompatibleTableError(FactoryError):
    """A table with our name exists but lacks the seed's columns; we refuse to touch it."""


class ConcurrentChangeError(FactoryError):
    """The row changed since it was read; the write was not applied."""


class AirflowError(FactoryError):
    """Airflow's REST API refused or failed a request; the message is one line for a person.

    Raised by ``yellowtui``'s Airflow service (the factory itself never calls the API). Never
    holds a token or a password.
    """


class AirflowUnavailable(AirflowError):
    """Airflow cannot be reached (refused, timed out, or answering 5xx after the retries)."""


class AirflowAuthError(AirflowError):
    """Airflow rejected the credentials (wrong password, expired or revoked token, no permission)."""


class AirflowNotFound(AirflowError):
    """The DAG, run or task named does not exist in Airflow."""


class ReadOnlyError(AirflowError):
    """A write (trigger, pause, clear) was asked of a read-only session; nothing was sent."""
