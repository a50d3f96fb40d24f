"""Times shown to people, formatted in one place and in the display time zone.

A datetime without a zone is UTC: the database stores its times that way (history, parse
reports, build outcomes, row times) and the dashboard's clock reads UTC. The display zone is the
profile's ``timezone`` (None: the machine's local zone); the dashboard holds one :class:`Times`
for it (``YellowApp.times``) and a command gets its own from :func:`yellowtui.cli.core.times`.
JSON output never comes here: it keeps ISO 8601 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

#: What a missing time shows.
MISSING = "—"


def aware(when: datetime) -> datetime:
    """``when`` with a zone: a naive datetime is taken as UTC."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Times:
    """Formats times for people in ``zone`` (None: the machine's local zone)."""

    zone: tzinfo | None = None

    def local(self, when: datetime) -> datetime:
        """``when`` in the display zone."""
        return aware(when).astimezone(self.zone)

    def _format(self, when: datetime | None, fmt: str, missing: str) -> str:
        return missing if when is None else self.local(when).strftime(fmt)

    def clock(self, when: datetime | None, missing: str = MISSING) -> str:
        """``17:12:59``: today's events (a refresh, a parse, an outage)."""
        return self._format(when, "%H:%M:%S", missing)

    def day_clock(self, when: datetime | None, missing: str = MISSING) -> str:
        """``11-27 17:12:59``: recent events (runs, errors, row changes)."""
        return self._format(when, "%m-%d %H:%M:%S", missing)

    def day_minute(self, when: datetime | None, missing: str = MISSING) -> str:
        """``11-27 17:12``: a table column where space is short."""
        return self._format(when, "%m-%d %H:%M", missing)

    def date_time(self, when: datetime | None, missing: str = MISSING) -> str:
        """``2026-11-27 17:12:59``: a time that may be long ago (history, versions)."""
        return self._format(when, "%Y-%m-%d %H:%M:%S", missing)

    def date_minute(self, when: datetime | None, missing: str = MISSING) -> str:
        """``2026-11-27 17:12``: a long-ago time in a narrow column."""
        return self._format(when, "%Y-%m-%d %H:%M", missing)


#: Times in the machine's local zone: the default where no profile chose one.
LOCAL_TIMES = Times()
#: Times in UTC, for text that says "UTC" and must read the same on every machine.
UTC_TIMES = Times(UTC)


def ago(then: datetime | None, now: datetime) -> str:
    """``12 s ago``, ``4 min ago``, ``3 h ago``, ``2 d ago``, ``never`` (naive datetimes are UTC)."""
    if then is None:
        return "never"
    seconds = max(0.0, (aware(now) - aware(then)).total_seconds())
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} d ago"


def relative(when: datetime | None, now: datetime) -> str:
    """``12s ago``, ``3m ago``, ``in 4m``, ``—``: Airflow's past and coming runs, compactly
    (naive datetimes are UTC)."""
    if when is None:
        return MISSING
    delta = (aware(now) - aware(when)).total_seconds()
    future = delta < 0
    delta = abs(delta)
    if delta < 60:
        text = f"{delta:.0f}s"
    elif delta < 3600:
        text = f"{delta // 60:.0f}m"
    elif delta < 86400:
        text = f"{delta // 3600:.0f}h"
    else:
        text = f"{delta // 86400:.0f}d"
    return f"in {text}" if future else f"{text} ago"
