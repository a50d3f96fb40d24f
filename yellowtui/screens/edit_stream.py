"""EditStreamScreen: edit one stream's config and see, as you type, what the factory makes of it.

A moment after each edit (debounced) a worker validates and builds the text with the factory's own
:func:`factory.operations.changes.plan.simulate_edit`, the builder Airflow runs, and the screen
shows the problems at their JSON paths (and tints their lines), the DAG it would build, the build
time, the config diff against the stored row field by field, and the DAG diff against the stored
row's DAG task by task. ``ctrl+s`` stages the edit in the platform's changeset; nothing is written
until the plan screen applies it.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static, TabbedContent, TabPane, TextArea

from factory.enums import RowStatus
from factory.errors import DatabaseUnavailable
from factory.operations.changes.changeset import ChangeBase, Upsert
from factory.operations.changes.plan import simulate_edit
from yellowtui.change_messages import EditRowLoaded, EditSimulated
from yellowtui.presenters.dag_preview import DagPreview
from yellowtui.presenters.json_text import problem_line
from yellowtui.presenters.plan_view import (
    ACTION_SIGN,
    ACTION_WORDS,
    Role,
    dag_diff_lines,
    json_diff_lines,
    line,
    pretty_config,
)
from yellowtui.presenters.safe_text import visible
from yellowtui.screens.base import DashboardScreen
from yellowtui.screens.confirm import ConfirmScreen
from yellowtui.widgets.config_editor import ConfigEditor
from yellowtui.widgets.dag_tree import DagTree
from yellowtui.widgets.diff_view import ROLE_STYLE, DiffView

if TYPE_CHECKING:
    from factory.operations.changes.plan import EditVerdict
    from factory.rules import Rules
    from factory.store import ConfigRow

#: Seconds of quiet after a keystroke before the edit is simulated.
DEBOUNCE_S = 0.3
TABS = ("problems", "dag", "json-diff", "dag-diff")


class EditStreamScreen(DashboardScreen):
    """Edit one stream's config and see, as you type, what the factory makes of it.

    The user edits the JSON on the left; the tabs on the right show the problems, the DAG it
    builds, the config diff and the DAG diff (F2 to F5). ``ctrl+s`` stages the edit in the
    platform's changeset, ``ctrl+e`` hands the text to ``$EDITOR``, esc leaves (asking first when
    the edit is not staged). Nothing is written to the database here.
    """

    CSS_PATH = "edit_stream.tcss"
    AUTO_FOCUS = "ConfigEditor"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "stage", "Stage", priority=True),
        Binding("ctrl+e", "external_editor", "$EDITOR", priority=True),
        Binding("ctrl+l", "app.plan", "Plan", priority=True),
        Binding("escape", "back", "Back", priority=True),
        Binding("f2", "show_tab('problems')", "Problems"),
        Binding("f3", "show_tab('dag')", "DAG"),
        Binding("f4", "show_tab('json-diff')", "JSON diff"),
        Binding("f5", "show_tab('dag-diff')", "DAG diff"),
    ]

    def __init__(self, platform: str, stream_key: str, *, copy_of: str | None = None) -> None:
        """Edit a stream, or start a new one as a copy of another.

        Args:
            platform: The stream's platform.
            stream_key: The stream to edit; with ``copy_of``, the new stream's key.
            copy_of: The stream a new stream starts as a copy of (its ``stream_key`` field set to the
                new key); None edits ``stream_key`` itself.
        """
        super().__init__()
        self.platform = platform
        self.stream_key = stream_key
        self.copy_of = copy_of
        #: The stored row the edit is based on (None: a new stream, or not read yet).
        self.stored: ConfigRow | None = None
        #: The platform's policy and other platforms, read with the row (None: not read yet).
        self.rules: Rules | None = None
        self.loaded = False
        #: The text as opened and as last staged: leaving with other text asks first.
        self.opened_text = ""
        self.staged_text: str | None = None
        self.verdict: EditVerdict | None = None
        self.verdict_text: str | None = None
        self._debounce: Timer | None = None

    @property
    def is_new(self) -> bool:
        """True for a new stream (a copy of ``copy_of``), False for an edit of a stored row."""
        return self.copy_of is not None

    def compose(self) -> ComposeResult:
        yield from self.furniture_top()
        yield Static(self._title("loading…"), id="edit-title")
        yield Static(Content.styled(" reading the row…", "$text-muted"), id="edit-verdict")
        with Horizontal(id="edit-body"):
            yield ConfigEditor(id="edit-text")
            with TabbedContent(id="edit-tabs", initial="problems"):
                with TabPane("Problems", id="problems"), VerticalScroll():
                    yield DiffView(id="edit-problems")
                with TabPane("DAG", id="dag"):
                    yield DagTree(id="edit-dag")
                with TabPane("JSON diff", id="json-diff"), VerticalScroll():
                    yield DiffView(id="edit-json-diff")
                with TabPane("DAG diff", id="dag-diff"), VerticalScroll():
                    yield DiffView(id="edit-dag-diff")
        yield from self.furniture_bottom()

    def on_mount(self) -> None:
        self.query_one(ConfigEditor).read_only = True
        self.load()

    @property
    def editor(self) -> ConfigEditor:
        """The config editor, on the left."""
        return self.query_one(ConfigEditor)

    def _title(self, state: str | Content) -> Content:
        what = f"new stream, a copy of {self.copy_of}" if self.is_new else "edit"
        return Content.assemble(
            (f" {self.platform} / {self.stream_key} ", "bold reverse $primary"),
            ("  ", ""),
            (what, "$text-accent bold"),
            "  ",
            state if isinstance(state, Content) else Content.styled(state, "$text-muted"),
        )

    # ---- loading --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="edit-load", exit_on_error=False)
    def load(self) -> None:
        """Read the row, and the platform's rules so the edit is judged as the apply will judge it.

        Runs in a worker and posts :class:`EditRowLoaded`, whose row is None when the stream (or the
        one to copy) does not exist, or when a new stream's key is taken already.
        """
        service = self.yellow.changes
        try:
            row = service.row(self.platform, self.copy_of or self.stream_key)
            if self.is_new and row is not None and service.row(self.platform, self.stream_key) is not None:
                self.post_message(EditRowLoaded(self.platform, self.stream_key, None))
                return
            self.rules = service.rules(self.platform)  # the edit is judged as the apply will judge it
        except DatabaseUnavailable as exc:
            self.database_unavailable(exc)
            return
        self.post_message(EditRowLoaded(self.platform, self.copy_of or self.stream_key, row))

    @on(EditRowLoaded)
    def _row_loaded(self, message: EditRowLoaded) -> None:
        row = message.row
        if row is None:
            what = (
                f"{self.stream_key} already exists on {self.platform}"
                if self.is_new and message.stream_key == self.stream_key
                else f"{message.stream_key} does not exist on {self.platform} (deleted?)"
            )
            self.notify(what, title="Cannot edit", severity="error")
            self.dismiss_screen()
            return
        staged = self.yellow.pending.get(self.platform, self.stream_key)
        if self.is_new:
            self.stored = None
            text = _with_key(row.config_json, self.stream_key)
        else:
            self.stored = row
            text = pretty_config(row.config_json)
        if isinstance(staged, Upsert):  # carry on from what was staged
            text = pretty_config(staged.config)
            self.staged_text = text
        self.opened_text = text
        self.loaded = True
        editor = self.editor
        editor.load_text(text)
        editor.read_only = False
        status = row.status if not self.is_new else "active (new)"
        updated = f" · based on the row updated {row.updated_at:%Y-%m-%d %H:%M:%S}" if not self.is_new else ""
        note = " · continuing the staged edit" if self.staged_text is not None else ""
        self.query_one("#edit-title", Static).update(self._title(f"status {status}{updated}{note}"))
        self.simulate(text)

    def dismiss_screen(self) -> None:
        """Leave the editor, only if it is the screen on top (a late answer never closes another screen)."""
        if self.app.screen is self:
            self.app.pop_screen()

    # ---- simulating -----------------------------------------------------------------------------

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        if not self.loaded:
            return
        if self._debounce is not None:
            self._debounce.stop()
        self.query_one("#edit-verdict", Static).update(Content.styled(" checking…", "$text-muted italic"))
        self._debounce = self.set_timer(DEBOUNCE_S, self._simulate_now)

    def _simulate_now(self) -> None:
        self.simulate(self.editor.text)

    @work(thread=True, exclusive=True, group="edit-simulate", exit_on_error=False)
    def simulate(self, text: str) -> None:
        """Validate and build ``text`` with the factory (never raises for bad input).

        Runs in a worker and posts :class:`EditSimulated`; a result for text typed over since is ignored.

        Args:
            text: The config text to judge.
        """
        verdict = simulate_edit(self.platform, self.stored, text, rules=self.rules)
        self.post_message(EditSimulated(text, verdict))

    @on(EditSimulated)
    def _simulated(self, message: EditSimulated) -> None:
        if message.text != self.editor.text:
            return  # typed since: a newer simulation is on its way
        self.verdict, self.verdict_text = message.verdict, message.text
        self._show(message.text, message.verdict)

    def _show(self, text: str, verdict: EditVerdict) -> None:
        marks: list[tuple[int, bool]] = [problem_line(text, p.path, p.message) for p in verdict.problems]
        self.editor.mark({m[0] for m in marks})
        self.query_one("#edit-verdict", Static).update(self._verdict_line(verdict))
        problems = self.query_one("#edit-problems", DiffView)
        if verdict.problems:
            rows = []
            for (n, exact), p in zip(marks, verdict.problems, strict=True):
                where = p.path if exact else f"{p.path} (absent)"
                rows.append(line((f"line {n + 1:<4} ", Role.MUTED), (where, Role.PROBLEM), f": {p.message}"))
            problems.show(rows)
        else:
            problems.show([], empty=Content.styled("No problems: the factory builds this config.", "$text-success"))
        tree = self.query_one(DagTree)
        key = verdict.stream_key or self.stream_key
        tree.show(DagPreview(self.platform, key, verdict.spec, [p.to_dict() for p in verdict.problems]))
        self.query_one("#edit-json-diff", DiffView).show(
            json_diff_lines(verdict.json_diff, indent=""),
            empty="A new stream: every field is new."
            if self.is_new
            else "No change against the stored row (the stored form: keys sorted, nulls dropped).",
        )
        self.query_one("#edit-dag-diff", DiffView).show(
            dag_diff_lines(verdict.dag_diff, indent="") if verdict.dag_diff is not None else (),
            intro=self._dag_diff_intro(verdict),
            empty=self._dag_diff_empty(verdict),
        )

    def _dag_diff_intro(self, verdict: EditVerdict) -> Content | None:
        if verdict.dag_diff is None or verdict.dag_diff.empty or verdict.spec is None:
            return None
        return Content.assemble(
            ("DAG ", "$text-muted"), (verdict.spec.dag_id, "bold"), ("  task.argument: old -> new", "$text-muted")
        )

    def _dag_diff_empty(self, verdict: EditVerdict) -> str:
        if not verdict.builds:
            return "No DAG to compare: the edit does not build."
        if self.is_new or self.stored is None:
            return "A new stream: its whole DAG is new (see the DAG tab)."
        if verdict.dag_diff is None and verdict.json_diff:
            status = self.stored.status
            if status != RowStatus.ACTIVE:
                # It builds: it is not active, so Airflow has no DAG of it to compare with.
                return f"The stored row is {visible(status)}: Airflow has no DAG of it to compare with (the DAG tab shows what this edit builds)."
            return "The stored row does not build: nothing to compare with."
        return "Same DAG as the stored row's."

    def _verdict_line(self, verdict: EditVerdict) -> Content:
        sign, role = ACTION_SIGN[str(verdict.action)]
        plan = Content.assemble(
            ("  plan: ", "$text-muted"), (f"{sign} {ACTION_WORDS[str(verdict.action)]}", ROLE_STYLE[role])
        )
        if verdict.builds:
            ms = self.yellow.format_ms(verdict.build_ms)
            head = Content.assemble((" ✓ builds", "$text-success bold"), (f" in {ms}", "$text-muted"))
        else:
            n = len(verdict.problems)
            head = Content.styled(f" ✗ {n} problem{'s' if n != 1 else ''}: does not build", "$text-error bold")
        fields = len(verdict.json_diff)
        diff = Content.styled(f"  · {fields} field(s) changed", "$text-muted") if not self.is_new else Content("")
        staged = (
            Content.styled("  · staged", "$text-success")
            if self.staged_text is not None and self.staged_text == self.editor.text
            else Content.styled("  · ctrl+s stages", "$text-muted")
        )
        return Content.assemble(head, plan, diff, staged)

    # ---- keys -----------------------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        """Show one of the tabs on the right.

        Args:
            tab: ``problems``, ``dag``, ``json-diff`` or ``dag-diff``.
        """
        self.query_one(TabbedContent).active = tab

    def action_stage(self) -> None:
        """Stage the text as this stream's change in the platform's changeset; nothing is written yet.

        An edit that does not build is staged with a warning: the plan shows it failing and the apply
        refuses it. Does nothing until the row has been read.
        """
        if not self.loaded:
            return
        text = self.editor.text
        base = ChangeBase.of(self.stored)
        try:
            change = Upsert(stream_key=self.stream_key, config=text, base=base)
        except ValueError as exc:
            self.notify(str(exc), title="Cannot stage", severity="error")
            return
        self.yellow.stage(self.platform, change, keep_base=True)
        self.staged_text = text
        verdict = self.verdict if self.verdict_text == text else None
        if verdict is not None and not verdict.builds:
            self.notify(
                f"Staged {self.stream_key}, but it does not build: the plan shows it as fails and apply refuses it.",
                title="Staged (fails)",
                severity="warning",
            )
        else:
            self.notify(f"Staged the edit of {self.stream_key}. {self.yellow.pending_hint()}", title="Staged")
        if self.verdict is not None and self.verdict_text == text:
            self.query_one("#edit-verdict", Static).update(self._verdict_line(self.verdict))

    def action_back(self) -> None:
        """Leave the editor; with an edit that is not staged, ask first whether to discard it."""
        text = self.editor.text
        if not self.loaded or text in (self.opened_text, self.staged_text):
            self.dismiss_screen()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss_screen()

        self.app.push_screen(
            ConfirmScreen(
                "Discard unstaged edits?",
                Content.assemble(
                    "The edit of ",
                    (self.stream_key, "bold"),
                    " is not staged. Leave and lose it? (ctrl+s stages it first.)",
                ),
                yes="Discard",
                no="Keep editing",
            ),
            answered,
        )

    def action_external_editor(self) -> None:
        """Hand the text to ``$VISUAL``/``$EDITOR`` (the dashboard is suspended meanwhile).

        The text comes back into the editor and is checked again.
        """
        command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not command:
            self.notify("Set $EDITOR (or $VISUAL) to edit in your own editor.", title="No $EDITOR", severity="warning")
            return
        from textual.app import SuspendNotSupported

        with tempfile.NamedTemporaryFile("w", suffix=f"-{self.stream_key}.json", delete=False) as handle:
            handle.write(self.editor.text)
        path = Path(handle.name)
        try:
            with self.app.suspend():
                subprocess.run([*shlex.split(command), str(path)], check=False)
            text = path.read_text(encoding="utf-8")
        except SuspendNotSupported:
            self.notify("This terminal cannot hand over to another program.", severity="error")
            return
        except OSError as exc:
            self.notify(f"{command}: {exc}", title="$EDITOR failed", severity="error")
            return
        finally:
            path.unlink(missing_ok=True)
        if text != self.editor.text:
            self.editor.load_text(text)
            self.simulate(text)


def _with_key(config_json: str, stream_key: str) -> str:
    """A copy of a config for a new stream: pretty-printed, its ``stream_key`` set to the new key."""
    try:
        data = json.loads(config_json)
    except ValueError:
        return config_json
    if isinstance(data, dict):
        data["stream_key"] = stream_key
    return pretty_config(data)


__all__ = ["TABS", "EditStreamScreen"]
