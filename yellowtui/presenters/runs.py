"""How Airflow's run state reads on screen: state glyphs, the strip of recent runs, durations,
and text from Airflow made safe to show (control characters made visible). Its times are
formatted by :mod:`yellowtui.presenters.times`.

Plain functions over strings and numbers: the runs screen, the streams table's
Airflow column and the errors screen share them, and tests/test_runs_presenter.py checks them
without an app.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from yellowtui.presenters.safe_text import visible as safe_visible

#: Glyph and style role of each Airflow state (task and run states share names). The role is
#: mapped to a theme colour by the widget drawing it.
STATE_GLYPHS: dict[str, tuple[str, str]] = {
    "success": ("✔", "success"),
    "failed": ("✘", "error"),
    "upstream_failed": ("✘", "error"),
    "running": ("▶", "accent"),
    "queued": ("…", "muted"),
    "scheduled": ("…", "muted"),
    "deferred": ("⏸", "accent"),
    "up_for_retry": ("↻", "warning"),
    "up_for_reschedule": ("↻", "warning"),
    "restarting": ("↻", "warning"),
    "skipped": ("○", "muted"),
    "removed": ("·", "muted"),
}
UNKNOWN_STATE = ("?", "muted")
NO_STATE = ("·", "muted")
#: States after which nothing more will happen (a log no longer grows, a run is over).
FINISHED_STATES = frozenset({"success", "failed", "upstream_failed", "skipped", "removed"})

#: The ISO timestamp Airflow's structured log lines start with (2026-11-27 17:12:59.876622+00:00).
_LOG_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)? ")


def state_glyph(state: str | None) -> tuple[str, str]:
    """(glyph, style role) for an Airflow state; None (a task not scheduled yet) is a dot."""
    if not state:
        return NO_STATE
    return STATE_GLYPHS.get(state, UNKNOWN_STATE)


def state_label(state: str | None) -> str:
    """'✔ success', '✘ failed', '· none'."""
    glyph, _ = state_glyph(state)
    return f"{glyph} {state or 'none'}"


def is_finished(state: str | None) -> bool:
    return state in FINISHED_STATES


@dataclass(frozen=True)
class StripCell:
    glyph: str
    role: str
    state: str


def run_strip(states: Iterable[str | None], width: int = 5) -> tuple[StripCell, ...]:
    """The recent runs (newest first, as given) as glyph cells, at most ``width``."""
    cells = []
    for state in list(states)[:width]:
        glyph, role = state_glyph(state)
        cells.append(StripCell(glyph, role, state or "none"))
    return tuple(cells)


def duration(seconds: float | None) -> str:
    """'0.4s', '12.0s', '1m05s', '2h03m', '—' when unknown."""
    if seconds is None or seconds < 0:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def visible(text: str) -> str:
    """Text from Airflow as it may be shown: every control character except newline and tab is
    written out (``\\x1b``), so a log line with an escape sequence shows the sequence instead of
    colouring or moving the terminal. Carriage returns of CRLF line ends are dropped."""
    return safe_visible(text.replace("\r\n", "\n"), keep_newlines=True, keep_tabs=True).replace("\t", "    ")


def visible_lines(text: str) -> list[str]:
    """:func:`visible` split into lines (an empty text is no lines)."""
    if not text:
        return []
    return visible(text).split("\n")


def split_log_stamp(line: str) -> tuple[str, str]:
    """A log line's leading timestamp as its time of day, and the rest: ('17:12:59', 'job: …').
    A line without one is ('', line). Only the date and the fraction are dropped from view."""
    match = _LOG_STAMP.match(line)
    if match is None:
        return "", line
    return match.group(2), line[match.end() :]


def short_run_id(run_id: str, width: int = 34) -> str:
    return run_id if len(run_id) <= width else run_id[: width - 1] + "…"


@dataclass(frozen=True)
class AirflowCell:
    """What the streams table's Airflow column shows for one row: its text, its style role,
    and the key it sorts by (trouble first when sorted ascending)."""

    text: str
    role: str
    sort_key: tuple[int, str]


NOT_IN_AIRFLOW_CELL = AirflowCell("not in Airflow", "warning", (0, "not in airflow"))
STALE_CELL = AirflowCell("stale in Airflow", "warning", (0, "stale in airflow"))
NO_RUNS_CELL = AirflowCell("· no runs", "muted", (3, "no runs"))


def airflow_cell(last_state: str | None, has_runs: bool, paused: bool) -> AirflowCell:
    """The cell of a row whose DAG Airflow lists: its last run's state (paused noted)."""
    if not has_runs:
        return AirflowCell("⏸ paused" if paused else NO_RUNS_CELL.text, "muted", (3, "no runs"))
    glyph, role = state_glyph(last_state)
    rank = {"error": 1, "warning": 1, "accent": 2}.get(role, 4)
    text = f"{glyph} {last_state or 'none'}"
    return AirflowCell(text, role, (rank, last_state or ""))


def parse_conf(text: str) -> tuple[dict[str, object], str | None]:
    """A run's conf as typed in the trigger dialog: empty is ``{}``; otherwise a JSON object.
    Returns (conf, None) or ({}, a message saying what is wrong)."""
    import json

    text = text.strip()
    if not text:
        return {}, None
    try:
        value = json.loads(text)
    except ValueError as exc:
        return {}, f"not JSON: {exc}"
    if not isinstance(value, dict):
        return {}, 'conf must be a JSON object, such as {"full": true}'
    return value, None
