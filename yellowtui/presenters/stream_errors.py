"""Why streams do not build, from rows already read: validation problems of active rows and the
outcome of the factory's latest parse, grouped by cause for people (same mistake, one group)."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from factory.enums import Outcome, RowStatus

if TYPE_CHECKING:
    from factory.operations.inspection.views import StreamView

_INDEX = re.compile(r"\[\d+\]")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\b\d+\b")


class ErrorSource(StrEnum):
    VALIDATION = "validation"  # the row as it is now does not validate
    PARSE = "parse"  # the factory's latest parse recorded a failed build


@dataclass(frozen=True)
class StreamError:
    """One reason one stream does not build (or builds only from its last good config)."""

    platform: str
    stream_key: str
    source: ErrorSource
    path: str
    message: str
    recorded_at: datetime | None

    @property
    def cause(self) -> str:
        """The message with its values blanked, so the same mistake in many rows groups together."""
        path = _INDEX.sub("[]", self.path)
        return f"{path}: {_QUOTED.sub('…', self.message)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "stream_key": self.stream_key,
            "source": self.source.value,
            "path": self.path,
            "message": self.message,
            "cause": self.cause,
            "recorded_at": self.recorded_at.isoformat() if self.recorded_at else None,
        }


def errors_of(views: Iterable[StreamView]) -> list[StreamError]:
    """Validation problems of rows that should build and errors of the latest parse, newest first.

    Paused and retired rows build nothing on purpose; a row with an unknown status builds nothing
    by accident, so it is listed (its status is one of its problems)."""
    found: list[StreamError] = []
    for v in views:
        if v.status in (RowStatus.PAUSED, RowStatus.RETIRED):
            continue
        when = v.last_recorded_at or v.updated_at
        for p in v.problems:
            found.append(
                StreamError(v.platform, v.stream_key, ErrorSource.VALIDATION, p["path"], p["message"], v.updated_at)
            )
        if v.last_outcome and v.last_outcome != Outcome.OK and not v.problems:
            found.append(
                StreamError(v.platform, v.stream_key, ErrorSource.PARSE, "$", v.last_error or v.last_outcome, when)
            )
    return sorted(found, key=lambda e: (e.recorded_at or datetime.min, e.platform, e.stream_key), reverse=True)


def group_errors(errors: list[StreamError]) -> OrderedDict[str, list[StreamError]]:
    """Errors (newest first) grouped by cause; groups ordered by their newest error, then size."""
    groups: dict[str, list[StreamError]] = {}
    for e in errors:
        groups.setdefault(e.cause, []).append(e)
    ordered = sorted(
        groups.items(), key=lambda kv: (kv[1][0].recorded_at or datetime.min, len(kv[1]), kv[0]), reverse=True
    )
    return OrderedDict(ordered)
