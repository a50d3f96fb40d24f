"""The command palette (ctrl+p): jump to a stream, switch platform, switch screen, and the
current screen's own commands (status filter and sort on Streams, the parse loop on Timing)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from yellowtui.access import YellowAccess
from yellowtui.presenters.safe_text import visible
from yellowtui.rows import COLUMNS, StatusFilter

MAX_STREAM_HITS = 40


class YellowCommands(YellowAccess, Provider):
    def _commands(self) -> Iterator[tuple[str, str, Callable[[], Any]]]:
        app = self.yellow
        yield "Screen: Streams", "All config rows, filterable (1)", partial(app.switch_mode, "streams")
        yield "Screen: Errors", "Why streams do not build, by cause (2)", partial(app.switch_mode, "errors")
        yield "Screen: Parse timing", "Parse durations, live (3)", partial(app.switch_mode, "timing")
        yield "Screen: Runs", "Airflow: DAGs, runs, task instances, logs (4)", partial(app.switch_mode, "runs")
        yield "Help: keys", "Every key of every screen (?)", app.action_help
        yield "Platform: all platforms", "Show every platform's rows", partial(app.set_platform, None)
        for platform in app.platforms:
            yield f"Platform: {platform}", f"Show only {platform}", partial(app.set_platform, platform)
        yield "Reload rows", "Read every row again now", app.action_reload
        for platform in app.platforms:
            staged = len(app.pending.of(platform))
            yield (
                f"Changes: plan {platform}",
                f"What the {staged} staged change(s) would do to the DAGs (5)",
                partial(app.action_plan, platform),
            )
            if staged:
                yield (
                    f"Changes: apply {platform}",
                    "Open the plan and apply it (asks first)",
                    partial(app.apply_staged, platform),
                )
                yield (
                    f"Changes: save {platform}",
                    "Save the staged changes to a file",
                    partial(app.save_staged, platform),
                )
                yield (
                    f"Changes: discard {platform}",
                    f"Forget the {staged} staged change(s)",
                    partial(app.discard_staged, platform),
                )
        screen = self.screen
        from yellowtui.screens.runs import RunsScreen
        from yellowtui.screens.streams import StreamsScreen
        from yellowtui.screens.timing import TimingScreen

        if isinstance(screen, StreamsScreen):
            for status in StatusFilter:
                yield (
                    f"Status filter: {status.value}",
                    "Only rows with this status",
                    partial(screen.set_status_filter, status),
                )
            for column in COLUMNS:
                yield (
                    f"Sort by: {column.label}",
                    f"Sort by {column.label} (again to reverse)",
                    partial(screen.sort_by, column.key),
                )
        if isinstance(screen, RunsScreen):
            yield "Airflow: trigger a run", "Trigger the highlighted DAG, optional conf (t)", screen.action_trigger
            yield "Airflow: pause / unpause", "Pause or unpause the highlighted DAG (u)", screen.action_toggle_pause
            yield (
                "Airflow: clear failed tasks",
                "Clear the highlighted run's failed tasks (c)",
                screen.action_clear_failed,
            )
            yield "Airflow: refresh now", "Read Airflow again now (r)", screen.action_refresh
        if isinstance(screen, TimingScreen):
            if screen.loop_running:
                yield "Parse loop: stop", "Stop the simulated DAG processor", screen.stop_loop
            else:
                yield "Parse loop: start", "Parse the factory file every few seconds, like Airflow", screen.start_loop

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
        # Streams: thousands of them, so a cheap substring test first, the fuzzy score after.
        needle = query.strip().lower()
        if len(needle) < 2:
            return
        app = self.yellow
        found = 0
        for view in app.rows.views:
            text = f"{view.platform}/{view.stream_key}"
            if needle in text.lower():
                label = f"Open {text}"
                score = matcher.match(label) or 0.5
                state = "valid" if view.valid else f"INVALID ({len(view.problems)} problem(s))"
                yield Hit(
                    score,
                    matcher.highlight(label),
                    partial(app.open_stream, view.platform, view.stream_key),
                    text=label,
                    help=escape(
                        visible(f"{view.status}, {state}, {view.ingestion_type or '?'}, {view.schedule or '-'}")
                    ),
                )
                found += 1
                if found >= MAX_STREAM_HITS:
                    return
