"""The dashboard benchmark: is the streams table as fast at 10,000 rows as at 100?

In one run, against a real (embedded) PostgreSQL seeded with the synthetic ecosystem at both
sizes, it drives the real app headless (Textual's pilot, 120x36) and measures, interleaved:

``first full frame``   from launching the app until the table has painted a full screen of rows
                       (the last visible line drawn with a row in it): what a person waits for
``keystroke``          a key sent to the filter box until the table has repainted with the new
                       filter applied (median, and slowest, over typing and erasing a query
                       three times: 36 keystrokes per round)
``max stall``          the longest gap between beats of a 5 ms heartbeat timer on the UI loop
                       while the rows load: how long the dashboard ever froze

Targets (issue 4): first frame and keystroke at 10,000 rows within 1.5x of 100 rows; no stall
over 100 ms. For context it also times Textual's DataTable adding and re-filtering the same rows
(the reason ConfigTable exists).

    python -m tools.tui_bench                     # 100 vs 10,000 rows, 3 rounds, updates docs
    python -m tools.tui_bench --rows 100 2000 --rounds 1 --no-docs
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform as platform_mod
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulators.bench_docs import DOCS_PATH, write_section

SECTION = "## Dashboard"
SIZE = (120, 36)
QUERY = "orders"
HEARTBEAT_S = 0.005
TARGET_RATIO = 1.5
TARGET_STALL_MS = 100.0


@dataclass
class Round:
    rows: int
    first_frame_ms: float
    keystrokes_ms: list[float]
    max_stall_ms: float
    load_ms: float
    beats: int

    @property
    def keystroke_ms(self) -> float:
        return statistics.median(self.keystrokes_ms)

    @property
    def worst_keystroke_ms(self) -> float:
        return max(self.keystrokes_ms)


@dataclass
class SizeResult:
    rows: int
    rounds: list[Round] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.rounds)

    @property
    def max_stall_ms(self) -> float:
        return max(r.max_stall_ms for r in self.rounds)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- one measured app run -------------------------------------------------------------------


class _Probe:
    """Timestamps of the ConfigTable's line paints (installed on the class for the run)."""

    def __init__(self) -> None:
        from textual.strip import Strip

        from yellowtui.widgets.config_table import ConfigTable

        self.cls = ConfigTable
        self.original = ConfigTable.render_line
        self.full_frame_at: float | None = None
        self.last_paint_at = 0.0
        probe = self

        def render_line(table: ConfigTable, y: int) -> Strip:
            strip = probe.original(table, y)
            now = time.perf_counter()
            probe.last_paint_at = now
            height = table.scrollable_content_region.height
            if probe.full_frame_at is None and height > 1 and y == height - 1 and table.shown_count >= height - 1:
                probe.full_frame_at = now
            return strip

        # Timing every paint of the real widget means replacing its method for the run.
        ConfigTable.render_line = render_line  # type: ignore[method-assign,assignment]

    def remove(self) -> None:
        self.cls.render_line = self.original  # type: ignore[method-assign]  # put the real method back


async def measure(url: str, rows: int, query: str = QUERY, repeats: int = 3) -> Round:
    from textual import events

    from yellowtui.app import make_app
    from yellowtui.widgets.config_table import ConfigTable

    probe = _Probe()
    beats: list[float] = []
    try:
        started = time.perf_counter()
        app = make_app(url, poll_interval=60.0)
        async with app.run_test(size=SIZE) as pilot:
            app.set_interval(HEARTBEAT_S, lambda: beats.append(time.perf_counter()))
            while app.rows.loading or probe.full_frame_at is None:
                if time.perf_counter() - started > 120:
                    raise TimeoutError(f"{rows} rows did not load within 120 s")
                await asyncio.sleep(0.001)
            loaded_at = time.perf_counter()
            await pilot.pause(0.2)
            stall_window = [b for b in beats if b <= loaded_at + 0.05]
            gaps = [b - a for a, b in itertools.pairwise(stall_window)]
            table = app.screen.query_one(ConfigTable)
            assert table.row_count == rows, f"expected {rows} rows, the table holds {table.row_count}"
            await pilot.press("slash")
            await pilot.pause(0.05)
            latencies: list[float] = []
            keys = [*query, *["backspace"] * len(query)] * repeats
            typed = ""
            for key in keys:
                typed = typed[:-1] if key == "backspace" else typed + key
                before = probe.last_paint_at
                sent = time.perf_counter()
                event = events.Key(key, key if len(key) == 1 else None)
                event.set_sender(app)
                app._driver.send_message(event)  # type: ignore[union-attr]
                while not (table.filter_text == typed and probe.last_paint_at > max(before, sent)):
                    if time.perf_counter() - sent > 10:
                        raise TimeoutError(f"no repaint after {key!r}")
                    await asyncio.sleep(0)
                latencies.append((probe.last_paint_at - sent) * 1000)
                await pilot.pause(0.02)
            return Round(
                rows,
                (probe.full_frame_at - started) * 1000,
                latencies,
                max(gaps) * 1000 if gaps else 0.0,
                (loaded_at - started) * 1000,
                len(stall_window),
            )
    finally:
        probe.remove()


async def datatable_baseline(rows: int) -> tuple[float, float]:
    """Textual's DataTable: add ``rows`` rows, then re-filter by clearing and re-adding (ms)."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    data = [
        (
            f"Store{i:05d}_orders",
            "yellowlive",
            "active",
            "✓",
            "sql_source",
            "*/5 * * * *",
            str(i % 7),
            "ok",
            "0.81",
            "06-02 11:59:30",
            "25-06-01 09:00",
        )
        for i in range(rows)
    ]

    class Baseline(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

    app = Baseline()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(DataTable)
        table.add_columns(
            "Stream", "Platform", "Status", "Valid", "Type", "Schedule", "DS", "Build", "ms", "Built", "Updated"
        )
        began = time.perf_counter()
        table.add_rows(data)
        await pilot.pause()
        add_ms = (time.perf_counter() - began) * 1000
        began = time.perf_counter()
        table.clear()
        table.add_rows([r for r in data if "1" in r[0]])
        await pilot.pause()
        return add_ms, (time.perf_counter() - began) * 1000


# ---- the run --------------------------------------------------------------------------------


def seed(server: Any, rows: int) -> str:
    from simulators.ecosystem import generate_ecosystem, seed_database

    url = server.create_database(f"tui_bench_{rows}")
    began = time.perf_counter()
    per_platform = rows // 2
    seed_database(url, generate_ecosystem(2, per_platform, seed=0))
    _log(f"seeded {rows:,} rows in {time.perf_counter() - began:.1f} s")
    return url


def run(sizes: list[int], rounds: int, baseline: bool) -> dict[str, Any]:
    from factory.db import dispose_engines
    from simulators.postgres import start_postgres

    work = Path(tempfile.mkdtemp(prefix="yellow-tui-bench-"))
    server = start_postgres(work / "pgdata", delete_on_stop=True)
    began = time.perf_counter()
    try:
        urls = {n: seed(server, n) for n in sizes}
        results = {n: SizeResult(n) for n in sizes}
        asyncio.run(measure(urls[sizes[0]], sizes[0], repeats=1))  # warm-up: imports, CSS, caches
        for r in range(rounds):
            for n in sizes if r % 2 == 0 else list(reversed(sizes)):
                result = asyncio.run(measure(urls[n], n))
                results[n].rounds.append(result)
                _log(
                    f"round {r + 1}: {n:>6,} rows: first frame {result.first_frame_ms:7.1f} ms, keystroke median "
                    f"{result.keystroke_ms:5.1f} ms, max stall {result.max_stall_ms:5.1f} ms (load {result.load_ms:.0f} ms)"
                )
        datatable = {n: asyncio.run(datatable_baseline(n)) for n in sizes} if baseline else {}
    finally:
        dispose_engines()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {"results": results, "datatable": datatable, "seconds": time.perf_counter() - began}


def report(run_data: dict[str, Any], command: str) -> str:
    import textual

    results: dict[int, SizeResult] = run_data["results"]
    sizes = sorted(results)
    small, large = results[sizes[0]], results[sizes[-1]]
    frame_ratio = large.median("first_frame_ms") / small.median("first_frame_ms")
    key_ratio = large.median("keystroke_ms") / small.median("keystroke_ms")
    stall = max(r.max_stall_ms for r in results.values())
    ok = lambda good: "**met**" if good else "**NOT met**"  # noqa: E731
    lines = [
        SECTION,
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform_mod.machine()} ({os.cpu_count()} CPUs), "
        f"Python {platform_mod.python_version()}, Textual {textual.__version__}, embedded PostgreSQL over a Unix "
        f"socket; the app runs headless through Textual's pilot at {SIZE[0]}x{SIZE[1]}. "
        f"{len(small.rounds)} interleaved rounds per size after one warm-up; medians shown; the run took "
        f"{run_data['seconds']:.0f} s.",
        "",
        "```",
        command,
        "```",
        "",
        "| rows | first full frame (ms) | filter keystroke, median (ms) | slowest keystroke (ms) | max UI stall while loading (ms) | all rows loaded (ms) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        r = results[n]
        lines.append(
            f"| {n:,} | {r.median('first_frame_ms'):.0f} | {r.median('keystroke_ms'):.1f} | "
            f"{max(x.worst_keystroke_ms for x in r.rounds):.1f} | {r.max_stall_ms:.0f} | {r.median('load_ms'):.0f} |"
        )
    lines += [
        "",
        f"- First full frame at {sizes[-1]:,} rows: **{frame_ratio:.2f}x** the {sizes[0]:,}-row time "
        f"(target ≤ {TARGET_RATIO}x: {ok(frame_ratio <= TARGET_RATIO)}).",
        f"- Filter keystroke at {sizes[-1]:,} rows: **{key_ratio:.2f}x** (target ≤ {TARGET_RATIO}x: "
        f"{ok(key_ratio <= TARGET_RATIO)}).",
        f"- Longest UI stall while rows load (5 ms heartbeat): **{stall:.0f} ms** (target < {TARGET_STALL_MS:.0f} ms: "
        f"{ok(stall < TARGET_STALL_MS)}).",
        "",
        "How: rows stream in from a server-side cursor in batches (the first of 200), are validated and turned into "
        "table rows in a worker thread, and `ConfigTable` draws only the lines on screen (Textual's Line API), so the "
        "first screen does not wait for the 10,000th row (rows that sort earlier can still arrive after it; the header "
        "says `loading…` until the last batch). A keystroke re-tests one pre-lowered string per row, and only the rows "
        "still shown when the filter only grew. Full garbage collections stop every thread; the app moves the objects "
        "that live as long as it does out of the collector's reach at start-up (`gc.freeze()`), which took the "
        "longest stall at 10,000 rows from about 85 ms to about 45 ms.",
    ]
    if run_data["datatable"]:
        lines += [
            "",
            "For context, Textual's `DataTable` holding the same rows (why the dashboard does not use it "
            "for this table):",
            "",
            "| rows | add all rows (ms) | re-filter: clear and re-add (ms) |",
            "|---:|---:|---:|",
        ]
        for n, (add_ms, refilter_ms) in sorted(run_data["datatable"].items()):
            lines.append(f"| {n:,} | {add_ms:.0f} | {refilter_ms:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.tui_bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows",
        type=int,
        nargs=2,
        default=[100, 10000],
        metavar=("SMALL", "LARGE"),
        help="the two table sizes compared (default: 100 10000)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per size (default: 3)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the DataTable comparison")
    parser.add_argument("--docs", type=Path, default=DOCS_PATH, help="markdown file to update")
    parser.add_argument("--no-docs", action="store_true", help="print only; do not touch the markdown file")
    args = parser.parse_args(argv)
    command = (
        "python -m tools.tui_bench"
        + ("" if args.rows == [100, 10000] else f" --rows {args.rows[0]} {args.rows[1]}")
        + ("" if args.rounds == 3 else f" --rounds {args.rounds}")
    )
    data = run(sorted(args.rows), args.rounds, not args.no_baseline)
    section = report(data, command)
    print(section)
    if not args.no_docs:
        write_section(SECTION, section, args.docs)
        _log(f"updated {args.docs} ({SECTION})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
