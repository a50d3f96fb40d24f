"""HelpScreen: every key of every screen (read from their bindings, so it cannot go stale),
the filter syntax, and what the marks on the screens mean."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

NOTES = (
    (
        "Filter",
        "Words match any column (all must match). name:value matches one column: "
        "status:paused  type:kafka  platform:live  build:error  valid:invalid  schedule:@daily.",
    ),
    (
        "Status filter",
        "f cycles all → active → paused → retired → invalid (does not validate) → "
        "failing (invalid, or its last build was not ok).",
    ),
    ("Valid", "✓ the row validates; ✗ n: n problems, shown at their JSON paths in the stream's Config tab."),
    (
        "Build",
        "the factory's last recorded outcome for the stream: ok, stale (the row is invalid "
        "but its last good config still builds), error (no DAG).",
    ),
    (
        "Timing",
        "bars split load (read rows) / validate / build; S under a bar: the parse used the "
        "last-known-good snapshot because the database could not be read; = : the database "
        "had not changed, validated configs were reused.",
    ),
    (
        "Database down",
        "a red banner says since when; the screens keep the last data and the "
        "dashboard reconnects by itself when the database answers again.",
    ),
    (
        "Runs",
        "recent runs newest first: ✔ success  ✘ failed  ▶ running  … queued  ↻ up for retry. "
        "Airflow column: the last run, or not in Airflow / stale in Airflow. Writes ask first; "
        "--read-only refuses them. Airflow away: a yellow banner, the last data kept.",
    ),
    (
        "Changes",
        "e edits a stream (checked by the factory as you type), n copies one into a new stream, "
        "P R X D stage pause, resume, retire, delete. Nothing is written until the plan (5) applies "
        "the platform's staged changes in one transaction; a row changed meanwhile is a conflict.",
    ),
    ("Secrets", "only the names of Kubernetes secrets ever appear; there are no values to show."),
)


def _keys(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    out = []
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            keys = ", ".join(_key_name(k) for k in b.key.split(","))
            out.append((keys, b.description))
    return out


def _key_name(key: str) -> str:
    return {
        "question_mark": "?",
        "slash": "/",
        "escape": "esc",
        "enter": "enter",
        "pageup": "PgUp",
        "pagedown": "PgDn",
    }.get(key, key)


class HelpScreen(ModalScreen[None]):
    """Every key of every screen, the filter syntax, and what the marks on the screens mean.

    The keys are read from the screens' bindings, so the list cannot go stale. Esc, ``q`` or
    ``?`` closes it.
    """

    CSS_PATH = "help.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(self._content(), id="help-text")

    def _content(self) -> Content:
        from yellowtui.screens.conflict import ConflictScreen
        from yellowtui.screens.edit_stream import EditStreamScreen
        from yellowtui.screens.errors import ErrorsScreen
        from yellowtui.screens.plan import PlanScreen
        from yellowtui.screens.runs import RunsScreen
        from yellowtui.screens.stream_detail import StreamDetailScreen
        from yellowtui.screens.streams import StreamsScreen
        from yellowtui.screens.timing import TimingScreen
        from yellowtui.widgets.config_table import ConfigTable

        sections = [
            (
                "Everywhere",
                [
                    *_keys(type(self.app).BINDINGS),
                    ("ctrl+p", "Command palette: jump to a stream, platform, screen, theme"),
                ],
            ),
            ("Streams", _keys(StreamsScreen.BINDINGS) + _keys(ConfigTable.BINDINGS)),
            ("Stream detail", _keys(StreamDetailScreen.BINDINGS)),
            ("Edit a stream", _keys(EditStreamScreen.BINDINGS)),
            ("Plan (staged changes)", _keys(PlanScreen.BINDINGS)),
            ("Conflict", _keys(ConflictScreen.BINDINGS)),
            ("Errors", _keys(ErrorsScreen.BINDINGS)),
            ("Parse timing", _keys(TimingScreen.BINDINGS)),
            ("Runs (Airflow)", _keys(RunsScreen.BINDINGS)),
        ]
        lines: list[Content] = [Content.styled("yellowtui: keys", "bold $text-primary"), Content("")]
        for title, keys in sections:
            lines.append(Content.styled(title, "bold $text-accent"))
            for key, description in keys:
                lines.append(Content.assemble(("  " + f"{key:<18}", "bold"), description))
            lines.append(Content(""))
        lines.append(Content.styled("What you see", "bold $text-accent"))
        for title, text in NOTES:
            lines.append(Content.assemble(("  " + f"{title:<18}", "bold"), text))
        lines += [Content(""), Content.styled("esc, q or ? closes this help", "$text-muted italic")]
        return Content("\n").join(lines)
