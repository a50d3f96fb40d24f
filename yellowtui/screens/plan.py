"""PlanScreen: what a platform's staged changes would do, like ``terraform plan``, and apply them.

A worker lays the staged changeset over the platform's rows and builds every active stream with the
factory's builder (:func:`factory.operations.changes.plan.simulate`, what
``yellowtui simulate --with`` runs): the DAGs that would be created (+), changed (~), removed (-) or
fail to build (!), with counts and, per stream, the config diff, the DAG diff and the problems.
``a`` applies the changeset in one transaction (conflict-checked, recorded in the history with the
actor); a conflict opens the conflict view with theirs beside yours.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from factory.errors import ChangesetConflict, ChangesetRejected, DatabaseUnavailable, FactoryError
from yellowtui.change_messages import (
    ChangesApplied,
    ChangesConflicted,
    ChangesetSaved,
    ChangesRejected,
    LiveLooked,
    PlanSimulated,
)
from yellowtui.presenters.plan_view import (
    ACTION_SIGN,
    Role,
    counts_line,
    entry_lines,
    line,
    problem_lines,
)
from yellowtui.presenters.safe_text import visible
from yellowtui.screens.base import DashboardScreen
from yellowtui.screens.confirm import ConfirmScreen
from yellowtui.screens.conflict import ConflictScreen
from yellowtui.screens.prompt import PromptScreen
from yellowtui.services.live_state import live_cell
from yellowtui.services.live_wait import ParseAgain, read_live
from yellowtui.services.parse_request import request_parses
from yellowtui.widgets.diff_view import ROLE_STYLE, DiffView, line_content, lines_content

#: How often the plan screen reads the applied streams' live status until they settle.
LOOK_EVERY_S = 1.0
#: Live cell roles as the plan's roles (colours shared with the diff view).
_LIVE_STYLE = {
    "success": "$text-success bold",
    "error": "$text-error bold",
    "warning": "$text-warning bold",
    "accent": "$text-accent bold",
    "muted": "$text-muted",
}

if TYPE_CHECKING:
    from pathlib import Path

    from factory.operations.changes.changeset import Changeset
    from factory.operations.changes.plan import Plan, PlanEntry
    from yellowtui.pending import PendingChanges
    from yellowtui.services.live_state import PlatformLive


class PlanScreen(DashboardScreen):
    """What a platform's staged changes would do to its DAGs, like ``terraform plan``; and the apply.

    The user sees the counts, the streams the changes touch (+ created, ~ changed, - removed,
    ! fails to build; failing streams that are not staged after them) and, for the highlighted
    one, its config diff, DAG diff and problems. ``a`` applies the changeset in one transaction
    (asks first; refused when read-only), ``s`` saves it to a file, ``u`` unstages the highlighted
    change, ``e`` edits it, esc goes back. After an apply a panel follows the written streams into
    Airflow until each has settled.
    """

    CSS_PATH = "plan.tcss"
    AUTO_FOCUS = "#plan-entries"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("a", "apply", "Apply"),
        Binding("s", "save", "Save"),
        Binding("u", "unstage", "Unstage"),
        Binding("e", "edit", "Edit"),
        Binding("r", "replan", "Re-plan", show=False),
    ]

    def __init__(self, platform: str) -> None:
        """Plan one platform's staged changes.

        Args:
            platform: The platform whose staged changes are planned.
        """
        super().__init__()
        self.platform = platform
        self.plan: Plan | None = None
        self.shown: list[PlanEntry] = []
        self.applying = False
        self._planned: tuple[object, ...] | None = None
        #: The streams of the last apply whose live status is followed until each has settled.
        self.following: tuple[str, ...] = ()
        self.live: PlatformLive | None = None
        self._again: ParseAgain | None = None

    def compose(self) -> ComposeResult:
        yield from self.furniture_top()
        yield Static(self._title("planning…"), id="plan-title")
        yield Static(id="plan-counts")
        yield Static(id="plan-live")
        with Horizontal(id="plan-body"):
            yield OptionList(id="plan-entries")
            with VerticalScroll(id="plan-detail-scroll"):
                yield DiffView(id="plan-detail")
        yield from self.furniture_bottom()

    def on_mount(self) -> None:
        self.watch(self.app, "pending", self._pending_changed)

    def _title(self, state: str) -> Content:
        return Content.assemble(
            (f" {self.platform} ", "bold reverse $primary"),
            ("  plan of the staged changes", "bold"),
            ("  " + state, "$text-muted"),
        )

    def _pending_changed(self, pending: PendingChanges) -> None:
        changes = pending.of(self.platform)
        if changes == self._planned:
            return
        self._planned = changes
        self.replan()

    def action_replan(self) -> None:
        """Plan again now, from the changes staged at this moment."""
        self.replan()

    def replan(self) -> None:
        """Plan the platform's staged changes again, or say that nothing is staged."""
        changes = self.yellow.pending.of(self.platform)
        if not changes:
            self.plan, self.shown = None, []
            self.query_one("#plan-title", Static).update(self._title(""))
            self.query_one("#plan-counts", Static).update(
                Content.styled(
                    " Nothing staged for this platform. From a stream: e edits it, P/R/X/D pause, resume, "
                    "retire or delete it; n on Streams starts a new stream.",
                    "$text-muted",
                )
            )
            self.query_one(OptionList).clear_options()
            self.query_one(DiffView).show([])
            return
        self.query_one("#plan-title", Static).update(self._title("planning…"))
        self.simulate(self.yellow.pending.changeset(self.platform, created_by=self.yellow.changes.actor))

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False)
    def simulate(self, changeset: Changeset) -> None:
        """Build every stream of the platform with the changeset laid over its rows.

        Runs in a worker and posts :class:`PlanSimulated`.

        Args:
            changeset: The platform's staged changes.
        """
        try:
            plan = self.yellow.changes.plan(changeset)
        except DatabaseUnavailable as exc:
            self.database_unavailable(exc)
            return
        self.post_message(PlanSimulated(self.platform, plan))

    @on(PlanSimulated)
    def _planned_now(self, message: PlanSimulated) -> None:
        plan = message.plan
        self.plan = plan
        touched = [e for e in plan.entries if e.touched]
        untouched = [e for e in plan.changes if not e.touched]
        self.shown = touched + untouched
        n = len(touched)
        ms = self.yellow.format_ms(plan.total_ms)
        self.query_one("#plan-title", Static).update(
            self._title(f"{n} staged change{'s' if n != 1 else ''} · {len(plan.entries)} stream(s) built in {ms}")
        )
        counts = Content.assemble(" ", line_content(counts_line(plan.counts())))
        if untouched:
            counts = Content.assemble(
                counts,
                Content.styled(
                    f"   ({len(untouched)} of the failing streams are not staged: they fail now)", "$text-muted"
                ),
            )
        self.query_one("#plan-counts", Static).update(counts)
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        for entry in self.shown:
            sign, role = ACTION_SIGN[str(entry.action)]
            label = Content.assemble(
                (f"{sign} ", ROLE_STYLE[role]),
                (entry.stream_key, "bold" if entry.touched else ""),
                (f"  {entry.action}", ROLE_STYLE[role]),
                ("" if entry.touched else "  (not staged)", "$text-muted"),
            )
            options.add_option(Option(label, id=entry.stream_key))
        if self.shown:
            options.highlighted = min(highlighted or 0, len(self.shown) - 1)
        self._show_detail()

    @on(OptionList.OptionHighlighted)
    def _show_detail(self, *_: object) -> None:
        entry = self.selected
        detail = self.query_one(DiffView)
        if entry is None:
            detail.show([])
            return
        lines = list(entry_lines(entry))
        if not entry.touched:
            lines.append(line(("      not in the changeset: this stream already fails to build", Role.MUTED)))
        elif entry.row_op.value == "none":
            lines.append(line(("      nothing to write: the row already holds this", Role.MUTED)))
        detail.show(lines)

    @property
    def selected(self) -> PlanEntry | None:
        """The plan entry highlighted in the list, or None."""
        index = self.query_one(OptionList).highlighted
        return self.shown[index] if index is not None and 0 <= index < len(self.shown) else None

    # ---- keys -----------------------------------------------------------------------------------

    def action_unstage(self) -> None:
        """Take the highlighted stream's change out of the staged changes."""
        entry = self.selected
        if entry is None or not entry.touched:
            self.notify("Highlight a staged change to unstage it.", severity="warning")
            return
        self.yellow.unstage(self.platform, entry.stream_key)
        self.notify(f"Unstaged {entry.stream_key}.")

    def action_edit(self) -> None:
        """Open the highlighted stream in the editor."""
        entry = self.selected
        if entry is not None:
            self.yellow.open_editor(self.platform, entry.stream_key)

    def action_save(self) -> None:
        """Ask for a file name, then save the staged changes there (to apply later: ``yellowtui apply FILE``)."""
        if not self.yellow.pending.of(self.platform):
            self.notify("Nothing staged to save.", severity="warning")
            return

        def chosen(path: str | None) -> None:
            if path:
                self.save(self.yellow.pending.changeset(self.platform, created_by=self.yellow.changes.actor), path)

        self.app.push_screen(
            PromptScreen(
                "Save the staged changes to a changeset file (apply it later: yellowtui apply FILE)",
                value=f"./{self.platform}-changeset.json",
            ),
            chosen,
        )

    @work(thread=True, exclusive=True, group="plan-save", exit_on_error=False)
    def save(self, changeset: Changeset, path: str) -> None:
        """Write the changeset to a file.

        Runs in a worker and posts :class:`ChangesetSaved`.

        Args:
            changeset: The staged changes.
            path: Where to write them.
        """
        from pathlib import Path

        written = self.yellow.changes.save(changeset, Path(path))
        self.post_message(ChangesetSaved(self.platform, written))

    @on(ChangesetSaved)
    def _saved(self, message: ChangesetSaved) -> None:
        path: Path = message.path
        self.notify(f"Saved to {path}. Apply it later with: yellowtui apply {path}", title="Changeset saved")

    def action_apply(self) -> None:
        """Apply the staged changes after asking: one transaction, refused when read-only."""
        if self.yellow.read_only:
            self.notify(
                "Read-only: nothing can be applied here (a read-only profile, --read-only, or yellowtui serve "
                "without --allow-writes). Save the changeset with s and apply it elsewhere.",
                title="Read-only",
                severity="error",
            )
            return
        changes = self.yellow.pending.of(self.platform)
        if not changes or self.applying:
            self.notify("Nothing staged to apply." if not changes else "Applying already.", severity="warning")
            return
        plan = self.plan
        body = [
            Content.assemble(
                "Write ",
                (f"{len(changes)} change(s)", "bold"),
                " to ",
                (self.platform, "bold"),
                " in one transaction, as ",
                (self.yellow.changes.actor, "bold"),
                ". If any row changed since it was read, nothing is written.",
            )
        ]
        if plan is not None:
            body += [Content(""), line_content(counts_line(plan.counts()))]
            failing = [e for e in plan.entries if e.touched and e.problems]
            if failing:
                body.append(
                    Content.styled(
                        f"{len(failing)} staged change(s) fail to build: the apply will refuse them.", "$text-error"
                    )
                )

        def answered(yes: bool | None) -> None:
            if yes:
                self.applying = True
                self.query_one("#plan-title", Static).update(self._title("applying…"))
                self.apply(self.yellow.pending.changeset(self.platform, created_by=self.yellow.changes.actor))

        self.app.push_screen(
            ConfirmScreen(f"Apply the plan to {self.platform}?", Content("\n").join(body), yes="Apply"), answered
        )

    @work(thread=True, exclusive=True, group="plan-apply", exit_on_error=False)
    def apply(self, changeset: Changeset) -> None:
        """Apply the changeset, then ask Airflow (when connected) to parse the written streams' files.

        Runs in a worker and posts :class:`ChangesApplied`, or, when nothing was written,
        :class:`ChangesConflicted` or :class:`ChangesRejected`.

        Args:
            changeset: The staged changes, as confirmed.
        """
        try:
            result = self.yellow.changes.apply(changeset)
        except ChangesetConflict as exc:
            self.post_message(ChangesConflicted(self.platform, exc.conflicts))
            return
        except ChangesetRejected as exc:
            self.post_message(ChangesRejected(self.platform, exc.problems))
            return
        except DatabaseUnavailable as exc:
            self.post_message(ChangesRejected(self.platform, {}))
            self.database_unavailable(exc)
            return
        parses = None
        airflow = self.yellow.airflow
        if airflow is not None and not result.dry_run:
            files = 1
            with contextlib.suppress(FactoryError):  # unread, only new streams' files go unnamed
                files = self.service.layout_files(self.platform)
            parses = request_parses(airflow, self.platform, result.written, files=files)
        self.post_message(ChangesApplied(self.platform, result, parses))

    @on(ChangesApplied)
    def _applied(self, message: ChangesApplied) -> None:
        self.applying = False
        result = message.result
        written = ", ".join(f"{key} ({op})" for key, op in sorted(result.written.items())) or "nothing"
        self.yellow.changes_applied(self.platform)
        self.notify(f"Applied as {result.actor}: {written}.", title="Changes applied", timeout=6)
        if message.parses is not None and result.written:
            for text in message.parses.lines():
                self.notify(text, title="Airflow", timeout=6)
            self.following = tuple(sorted(result.written))
            self.live = None
            airflow = self.yellow.airflow
            self._again = ParseAgain(airflow, self.platform) if airflow and not airflow.settings.read_only else None
            self._show_live()
            self.look_live()

    @work(thread=True, exclusive=True, group="plan-live", exit_on_error=False)
    def look_live(self) -> None:
        """Read the followed streams' live status again (one list of the platform's DAGs)."""
        airflow = self.yellow.airflow
        if airflow is None or not self.following:
            return
        state = read_live(self.service, airflow, self.platform, self.following, runs=False)
        if self._again is not None and not state.reason:
            self._again(state)  # a parse that ended without the change: ask again
        self.post_message(LiveLooked(self.platform, state))

    @on(LiveLooked)
    def _live_looked(self, message: LiveLooked) -> None:
        self.live = message.state
        self._show_live()
        if not message.state.settled and not message.state.reason:
            self.set_timer(LOOK_EVERY_S, self.look_live)

    def _show_live(self) -> None:
        """The applied streams: pending parse, then live (or failed to build, with the problem).
        Stays until each has settled."""
        panel = self.query_one("#plan-live", Static)
        panel.set_class(bool(self.following), "-following")
        if not self.following:
            panel.update("")
            return
        state = self.live
        if state is None:
            panel.update(Content.styled(" Applied: asking Airflow…", "$text-muted"))
            return
        settled = state.settled
        head = (
            " Applied: every change has settled in Airflow"
            if settled
            else f" Applied: waiting for Airflow ({state.reason})"
            if state.reason
            else " Applied: following the change into Airflow…"
        )
        lines = [Content.styled(head, "bold")]
        for s in state.streams:
            cell = live_cell(s)
            why = f"{s.problem}; {s.detail}" if s.problem else s.detail
            lines.append(
                Content.assemble(
                    "   ",
                    (f"{cell.text:<18}", _LIVE_STYLE.get(cell.role, "")),
                    (visible(s.stream_key), "bold"),
                    ("  " + visible(why), "$text-muted"),
                )
            )
        panel.update(Content("\n").join(lines))

    @on(ChangesRejected)
    def _rejected(self, message: ChangesRejected) -> None:
        self.applying = False
        self.query_one("#plan-title", Static).update(self._title("nothing written"))
        if not message.problems:
            return
        lines = []
        for key, problems in sorted(message.problems.items()):
            lines.append(line((key, Role.STRONG)))
            lines.extend(problem_lines(problems, indent="  "))
        self.notify(
            lines_content(lines).plain,
            title="Apply refused: nothing written",
            severity="error",
            timeout=10,
            markup=False,
        )

    @on(ChangesConflicted)
    def _conflicted(self, message: ChangesConflicted) -> None:
        self.applying = False
        self.query_one("#plan-title", Static).update(self._title("conflict: nothing written"))

        def decided(choice: str | None) -> None:
            keys = [c.stream_key for c in message.conflicts]
            if choice == "drop":
                for key in keys:
                    self.yellow.unstage(self.platform, key)
                self.notify(f"Dropped the staged change(s) of {', '.join(keys)}.")
            elif choice == "rebase":
                self.yellow.rebase(self.platform, keys)

        self.app.push_screen(ConflictScreen(self.platform, message.conflicts), decided)
