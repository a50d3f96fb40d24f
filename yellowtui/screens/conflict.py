"""ConflictScreen: rows changed underneath the staged changes; theirs beside yours, then choose.

Shown after an apply found that rows changed since the staged changes were based on them (and
wrote nothing). Per stream: the row as it is now (theirs: status, updated_at, config) on the
left, the staged change (yours) on the right, and the fields where the two configs differ.
``r`` rebases the staged changes onto their rows (yours still win, now knowingly, and the plan
is simulated again), ``d`` drops them, esc keeps them as they are.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from factory.errors import RowConflict
from factory.json_diff import json_diff
from yellowtui.presenters.plan_view import json_or_text, pretty_config, value_text


class ConflictScreen(ModalScreen[str | None]):
    """Rows changed underneath the staged changes: theirs beside yours, then the user chooses.

    Per stream the user sees the row as it is now (theirs) beside the staged change (yours), and
    the fields where the two configs differ. Dismisses with ``"rebase"`` (``r``), ``"drop"``
    (``d``) or None (esc: keep the staged changes as they are).
    """

    CSS_PATH = "conflict.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "choose('rebase')", "Rebase onto theirs"),
        Binding("d", "choose('drop')", "Drop mine"),
        Binding("escape", "choose('')", "Keep staged"),
    ]

    def __init__(self, platform: str, conflicts: list[RowConflict]) -> None:
        """Show the conflicts of one refused apply.

        Args:
            platform: The platform the apply was for.
            conflicts: The streams whose rows changed since their changes were staged.
        """
        super().__init__()
        self.platform = platform
        self.conflicts = conflicts

    def compose(self) -> ComposeResult:
        with Vertical(id="conflict-box"):
            n = len(self.conflicts)
            yield Static(
                Content.assemble(
                    (" Conflict ", "bold reverse $error"),
                    "  ",
                    (f"{n} stream{'s' if n != 1 else ''} of {self.platform} changed since you staged; ", "bold"),
                    ("nothing was written.", "bold $text-error"),
                ),
                id="conflict-title",
            )
            with VerticalScroll(id="conflict-list"):
                for conflict in self.conflicts:
                    yield Static(
                        Content.assemble((f"{conflict.stream_key}", "bold"), ("  " + conflict.reason, "$text-warning")),
                        classes="conflict-stream",
                    )
                    yield Static(_differences(conflict), classes="conflict-diff")
                    with Horizontal(classes="conflict-sides"):
                        yield Static(_theirs(conflict), classes="conflict-side conflict-theirs")
                        yield Static(_yours(conflict), classes="conflict-side conflict-yours")
            yield Static(
                Content.assemble(
                    ("r", "bold"),
                    " rebase: base your staged changes on their rows and plan again (yours overwrite theirs)  ",
                    ("d", "bold"),
                    " drop your staged changes for these streams  ",
                    ("esc", "bold"),
                    " keep them staged",
                ),
                id="conflict-help",
            )
        yield Footer(compact=True)

    def action_choose(self, choice: str) -> None:
        """Close with the user's choice.

        Args:
            choice: ``"rebase"``, ``"drop"``, or empty to keep the staged changes (closes with None).
        """
        self.dismiss(choice or None)


def _side(title: str, style: str, facts: list[tuple[str, str]], config: Any) -> Content:
    head = Content.styled(title, style)
    rows = [Content.assemble((f"{k}: ", "$text-muted"), v) for k, v in facts]
    body = Content(pretty_config(config)) if config is not None else Content.styled("(no config)", "$text-muted")
    return Content("\n").join([head, *rows, body])


def _theirs(conflict: RowConflict) -> Content:
    row = conflict.theirs
    if row is None:
        return Content.assemble(("theirs (now in the database)\n", "bold $text-warning"), "no row: it was deleted")
    return _side(
        "theirs (now in the database)",
        "bold $text-warning",
        [("status", str(row.get("status"))), ("updated_at", str(row.get("updated_at")))],
        json_or_text(str(row.get("config_json", ""))),
    )


def _yours(conflict: RowConflict) -> Content:
    yours = conflict.yours
    raw_base = yours.get("base")
    base: dict[str, Any] = raw_base if isinstance(raw_base, dict) else {}
    facts = [("change", str(yours.get("op")))]
    if yours.get("status"):
        facts.append(("status", str(yours["status"])))
    facts.append(("based on", str(base.get("updated_at") or ("no row" if base.get("exists") is False else "-"))))
    config = yours.get("config")
    return _side(
        "yours (staged)", "bold $text-accent", facts, json_or_text(config) if isinstance(config, str) else config
    )


def _differences(conflict: RowConflict) -> Content:
    mine = conflict.yours.get("config")
    if conflict.theirs is None or mine is None:
        return Content("")
    theirs = json_or_text(str(conflict.theirs.get("config_json", "")))
    diffs = json_diff(theirs, json_or_text(mine) if isinstance(mine, str) else mine)
    if not diffs:
        return Content.styled("the configs are the same; only the row's version moved", "$text-muted")
    lines = [Content.styled(f"{len(diffs)} field(s) differ:", "$text-muted")]
    for d in diffs[:20]:
        lines.append(
            Content.assemble(
                "  ", (d.path, "bold"), ": theirs ", value_text(d.old, 60), ", yours ", value_text(d.new, 60)
            )
        )
    return Content("\n").join(lines)
