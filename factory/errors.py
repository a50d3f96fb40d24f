"""Every error the factory and ``yellowtui`` raise on purpose, under one base.

Each names what failed, where, and what to do; none ever holds a password. Callers catch
:class:`FactoryError` to tell "a person must act" from a bug. :func:`first_line` is how any
error, ours or a driver's, becomes the one line a person reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


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


class ChangesetFileError(FactoryError, ValueError):
    """A changeset or export file cannot be used: unreadable, not JSON, or the wrong shape.

    ``problems`` locate each reason by JSON path inside the file, e.g. ``$.changes[2].status``.
    """

    def __init__(self, source: str, problems: list[ConfigProblem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s):\n{lines}")


class ChangesetRejected(FactoryError, ValueError):
    """A well-formed changeset whose changes cannot be applied as they are (an invalid config, a
    status change of a stream that does not exist); ``problems`` per stream key. Nothing written."""

    def __init__(self, platform: str, problems: dict[str, list[ConfigProblem]]):
        self.platform = platform
        self.problems = problems
        lines = "\n".join(f"  - {key}: {p}" for key in sorted(problems) for p in problems[key])
        super().__init__(f"platform {platform}: changeset rejected, nothing written:\n{lines}")


@dataclass(frozen=True)
class RowConflict:
    """One stream that changed underneath a change: the row as it is now (``theirs``, None when it
    no longer exists) beside the change that expected something else (``yours``)."""

    stream_key: str
    reason: str
    theirs: dict[str, object] | None
    yours: dict[str, object]

    def to_dict(self) -> dict[str, object]:
        return {"stream_key": self.stream_key, "reason": self.reason, "theirs": self.theirs, "yours": self.yours}


class ChangesetConflict(ConcurrentChangeError):
    """Rows changed since the changeset was based on them: every conflict is listed, and nothing
    of the changeset was written. Reload (or re-export), review, and apply again; or force."""

    def __init__(self, platform: str, conflicts: list[RowConflict]):
        self.platform = platform
        self.conflicts = conflicts
        keys = ", ".join(c.stream_key for c in conflicts)
        super().__init__(
            f"platform {platform}: {len(conflicts)} stream(s) changed since the changeset was based on them "
            f"({keys}); nothing was written"
        )

    def to_dict(self) -> dict[str, Any]:
        """What ``--json`` prints for a conflict (``config import`` and ``apply`` alike)."""
        return {
            "ok": False,
            "error": "conflict",
            "message": str(self),
            "conflicts": [c.to_dict() for c in self.conflicts],
        }


class UnknownPlatformError(FactoryError):
    """The database has no config table for this platform (run ``yellowtui bootstrap`` first)."""


class MigrationError(FactoryError):
    """A migration step (extract, compare, cutover, rollback) cannot go ahead; nothing of that
    step was done, and running the same command again after fixing the cause resumes it."""


class DropError(FactoryError):
    """``platform drop`` refused: the platform's tables were left as they were."""


class OutcomeUnknown(FactoryError):
    """The connection was lost while the transaction was committing: it may or may not have been
    written. Never "nothing was written": the caller must look before trying again."""

    def __init__(self, what: str, check: str, reason: str = ""):
        self.what = what
        self.check = check
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"unknown outcome: the connection was lost while committing {what}{why}; "
            f"it may or may not have been written: check with {check} before trying again"
        )


class RetryableConflict(ConcurrentChangeError):
    """Another writer changed the same rows or tables at the same moment; nothing was written and
    running the same command again is safe."""


# ---- an error as one line --------------------------------------------------------------------


def first_line(
    error: BaseException,
    *,
    driver: bool = True,
    named: bool = False,
    redact: bool = False,
    secrets: Sequence[str] = (),
    limit: int | None = None,
) -> str:
    """An error's first non-blank line, stripped: the one line a banner, a report or a CLI shows.

    ``driver``: the database driver's own text (SQLAlchemy's ``orig``), not SQLAlchemy's wrapping
    of it. ``named``: after the error's class name (``OperationalError: ...``). ``redact`` (or any
    ``secrets``): credentials hidden (:func:`factory.redact.redact_text`), and ``secrets`` too,
    before the line is cut. ``limit``: at most that many characters, the last one "…". Blank
    text gives the class name.
    """
    cause = (getattr(error, "orig", None) or error) if driver else error
    text = str(cause)
    if redact or secrets:
        from factory.redact import redact_text

        text = redact_text(text, tuple(secrets))
    line = next((s for s in (raw.strip() for raw in text.splitlines()) if s), "")
    if named:
        line = f"{type(error).__name__}: {line}" if line else type(error).__name__
    elif not line:
        line = type(cause).__name__
    return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"
