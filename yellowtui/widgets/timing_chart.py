"""TimingChart: parse durations over time as stacked bars split into load / validate / build.

One bar per parse report, oldest on the left. Each bar is stacked from the bottom: load (read
the rows), validate, build. Under the axis, ``S`` marks a parse that used the last-known-good
snapshot because the database could not be read, and ``=`` one that reused the validated
configs because the database had not changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from factory.enums import Source

PHASES = ("load", "validate", "build")
EIGHTHS = " ▁▂▃▄▅▆▇█"
AXIS_WIDTH = 9


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^n that is >= value (a readable axis maximum).

    Args:
        value: The value to round up.

    Returns:
        The axis maximum.
    """
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))  # pragma: no cover


def axis_maximum(totals: list[float]) -> float:
    """The largest total, unless one parse dwarfs all others (a first parse paying Airflow's
    import, say): then the second largest, and the outlier is drawn clipped with an arrow.

    Args:
        totals: The total milliseconds of the parses drawn.

    Returns:
        The value the axis must reach.
    """
    ordered = sorted(totals, reverse=True)
    if len(ordered) >= 3 and ordered[0] > 3 * ordered[1]:
        return ordered[1] * 1.15
    return ordered[0] if ordered else 1.0


def _ms_label(value: float) -> str:
    if value >= 10000:
        return f"{value / 1000:.0f} s"
    if value >= 1000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms"


class TimingChart(Widget):
    """Stacked bars of parse timings. Give it reports with ``set_reports`` (newest first)."""

    HELP = """
## Parse timing

One bar per parse, oldest left, stacked load / validate / build. `S` under a bar: the parse
used the snapshot (database unreachable); `=`: the database had not changed. `l` runs the
simulated DAG processor so new parses appear live.
"""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timing-chart--load",
        "timing-chart--validate",
        "timing-chart--build",
        "timing-chart--axis",
        "timing-chart--snapshot",
        "timing-chart--unchanged",
        "timing-chart--empty",
    }

    DEFAULT_CSS = """
    TimingChart {
        height: 1fr;
        min-height: 7;
        padding: 0 1;
        & > .timing-chart--load { color: $success; }
        & > .timing-chart--validate { color: $warning; }
        & > .timing-chart--build { color: $primary; }
        & > .timing-chart--axis { color: $text-muted; }
        & > .timing-chart--snapshot { color: $text-error; text-style: bold; }
        & > .timing-chart--unchanged { color: $text-muted; }
        & > .timing-chart--empty { color: $text-muted; text-style: italic; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        """Create the chart; it is empty until :meth:`set_reports`.

        Args:
            id: The ID of the widget in the DOM.
            classes: The CSS classes of the widget.
        """
        super().__init__(id=id, classes=classes)
        self._reports: list[dict[str, Any]] = []

    @property
    def reports(self) -> list[dict[str, Any]]:
        """The reports drawn, oldest first."""
        return self._reports

    def set_reports(self, newest_first: Sequence[dict[str, Any]]) -> None:
        """Draw these parse reports.

        Args:
            newest_first: Parse reports as the database gives them, newest first.
        """
        self._reports = list(reversed(newest_first))
        self.refresh()

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"timing-chart--{name}", partial=True)

    def render(self) -> Text:
        width, height = self.content_region.width, self.content_region.height
        styles = {name: self._style(name) for name in (*PHASES, "axis", "snapshot", "unchanged", "empty")}
        legend = Text.assemble(
            ("█", styles["load"]),
            " load  ",
            ("█", styles["validate"]),
            " validate  ",
            ("█", styles["build"]),
            " build     ",
            ("S", styles["snapshot"]),
            " from snapshot  ",
            ("=", styles["unchanged"]),
            " database unchanged (reused)",
        )
        legend.truncate(width)
        if not self._reports:
            return Text.assemble(
                legend, "\n\n", ("No parse reports yet. Press l to run the parse loop.", styles["empty"])
            )
        rows = max(2, height - 4)
        plot = max(1, width - AXIS_WIDTH - 1)
        step = max(1, min(4, plot // max(1, len(self._reports))))  # columns per parse
        bar = max(1, step - 1)  # bar width; one column of gap when there is room
        shown = self._reports[-(plot // step) :]
        top = nice_ceiling(axis_maximum([float(r["total_ms"]) for r in shown]))
        cell = top / rows
        lines: list[Text] = [legend]
        half_line = int((top / 2) // cell)
        for line in range(rows - 1, -1, -1):
            low = line * cell
            if line == rows - 1:
                label = f"{_ms_label(top):>{AXIS_WIDTH - 2}} ┤"
            elif line == 0:
                label = f"{'0':>{AXIS_WIDTH - 2}} ┤"
            elif line == half_line and rows >= 5:
                label = f"{_ms_label(top / 2):>{AXIS_WIDTH - 2}} ┤"
            else:
                label = " " * (AXIS_WIDTH - 1) + "│"
            text = Text(label + " ", style=styles["axis"])
            for report in shown:
                if line == rows - 1 and float(report["total_ms"]) > top:
                    char, style = "↑", styles["build"]  # clipped: taller than the axis
                else:
                    char, style = self._cell(report, low, cell, styles)
                text.append(char * bar, style)
                if step > 1:
                    text.append(" ")
            lines.append(text)
        lines.append(Text(" " * (AXIS_WIDTH - 1) + "└" + "─" * (len(shown) * step + 1), style=styles["axis"]))
        marks = Text(" " * AXIS_WIDTH + " ")
        for report in shown:
            source = report.get("source")
            if source == Source.SNAPSHOT:
                marks.append("S".ljust(bar), styles["snapshot"])
            elif source == Source.UNCHANGED:
                marks.append("=".ljust(bar), styles["unchanged"])
            else:
                marks.append(" " * bar)
            if step > 1:
                marks.append(" ")
        lines.append(marks)
        first, last = shown[0]["parsed_at"], shown[-1]["parsed_at"]
        span = len(shown) * step - (1 if step > 1 else 0)
        left, right = f"{first:%H:%M:%S}", f"{last:%H:%M:%S}"
        if len(shown) == 1:
            axis = left
        elif span >= len(left) + len(right) + 2:
            axis = left + " " * (span - len(left) - len(right)) + right
        else:
            axis = f"{left} → {right}"
        lines.append(Text(" " * (AXIS_WIDTH + 1) + axis, style=styles["axis"]))
        return Text("\n").join(lines)

    @staticmethod
    def _cell(report: dict[str, Any], low: float, cell: float, styles: dict[str, Style]) -> tuple[str, Style]:
        """The character for one bar in the cell covering [low, low + cell)."""
        bounds = []
        total = 0.0
        for phase in PHASES:
            total += max(0.0, float(report.get(f"{phase}_ms") or 0.0))
            bounds.append((total, phase))
        if total <= low:
            return " ", Style()
        high = low + cell
        if total < high:  # the top of the bar ends inside this cell
            eighths = max(1, min(8, round((total - low) / cell * 8)))
            top_phase = next(phase for bound, phase in bounds if bound > low)
            return EIGHTHS[eighths], styles[top_phase]
        # A full cell: the colour of the phase that fills most of it.
        shares = []
        start = 0.0
        for bound, phase in bounds:
            shares.append((max(0.0, min(bound, high) - max(start, low)), phase))
            start = bound
        phase = max(shares, key=lambda item: item[0])[1]
        return "█", styles[phase]
