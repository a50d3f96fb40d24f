"""Errors a person can act on: each names what failed, where, and what to do."""

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
